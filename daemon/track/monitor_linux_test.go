//go:build linux

package track

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A real vrrp_script: failing lowers the priority by its weight, recovering
// restores it; a run that overruns its timeout is killed and counts as
// failed.
func TestMonitorRealScript(t *testing.T) {
	d := t.TempDir()
	flag := filepath.Join(d, "fail")
	pidFile := filepath.Join(d, "child.pid")
	// Fails while the flag exists; hangs (with a child) while it says "hang".
	body := `if [ -e ` + flag + ` ]; then
  if grep -q hang ` + flag + `; then sleep 30 & echo $! > ` + pidFile + `; wait; fi
  exit 1
fi
exit 0`
	s := &config.Script{Name: "chk", Command: config.Command{Args: []string{writeScript(t, d, "chk", body)}},
		Interval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, Rise: 1, Fall: 1}
	cfg := scriptConfig(s, -20)
	runner := scripts.New(scripts.Options{Logger: testLogger(t), KillGrace: 100 * time.Millisecond})
	m, err := New(cfg, Options{Logger: testLogger(t), Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	key := Key{KindScript, "chk"}
	refs := InstanceRefs(cfg, cfg.Instances[0])
	waitEvent(t, m, key, StatusOK, 2*time.Second)
	if p := m.Effective(100, refs); p.Priority != 100 {
		t.Errorf("healthy: %d", p.Priority)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, m, key, StatusFailed, 2*time.Second)
	if !strings.Contains(ev.State.Detail, "status 1") {
		t.Errorf("detail %q", ev.State.Detail)
	}
	if p := m.Effective(100, refs); p.Priority != 80 || len(p.Failing) != 1 {
		t.Errorf("failing: %+v", p)
	}
	os.Remove(flag)
	waitEvent(t, m, key, StatusOK, 2*time.Second)

	if err := os.WriteFile(flag, []byte("hang"), 0o644); err != nil {
		t.Fatal(err)
	}
	ev = waitEvent(t, m, key, StatusFailed, 2*time.Second)
	if !strings.Contains(ev.State.Detail, "timed out") {
		t.Errorf("detail %q, want a timeout", ev.State.Detail)
	}
	m.Stop()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for processRunning(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the timed-out script survived", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func processRunning(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestMonitorRefusedScriptDropped: a script the Runner refuses (unsafe,
// or run as a user that does not exist) is dropped, as keepalived drops
// it: the instance tracking it, even unweighted, is neither faulted nor
// held in INIT; its other trackers still count.
func TestMonitorRefusedScriptDropped(t *testing.T) {
	d := t.TempDir()
	unsafe := writeScript(t, d, "chk", "exit 0")
	if err := os.Chmod(unsafe, 0o777); err != nil {
		t.Fatal(err)
	}
	safe := writeScript(t, d, "ok", "exit 0")
	for _, tc := range []struct {
		name string
		cmd  config.Command
		want string
	}{
		{"unsafe", config.Command{Args: []string{unsafe}}, "writable by every user"},
		{"unknown user", config.Command{Args: []string{safe}, User: "hactl-no-such-user"}, "hactl-no-such-user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &config.Script{Name: "chk", Command: tc.cmd, Interval: time.Second}
			cfg := scriptConfig(s, 0)
			cfg.Instances[0].TrackFiles = nil
			m, err := New(cfg, Options{Logger: testLogger(t), Runner: scripts.New(scripts.Options{})})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Stop()
			key := Key{KindScript, "chk"}
			if why, ok := m.Dropped()[key]; !ok || !strings.Contains(why, tc.want) {
				t.Errorf("dropped %v, want chk with %q", m.Dropped(), tc.want)
			}
			p := m.Effective(100, InstanceRefs(cfg, cfg.Instances[0]))
			if p.Fault || p.Pending || p.Priority != 100 || len(p.Trackers) != 0 {
				t.Errorf("effective %+v: want priority 100, no fault, nothing pending, no tracker", p)
			}
		})
	}
}

// track_interface from netlink link updates, in a lab node's namespace.
func TestE2ETrackInterface(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	node := l.Node(1)
	cfg := &config.Config{Instances: []*config.Instance{{Name: "VI_1", Interface: "eth0", Priority: 100,
		TrackInterfaces: []config.TrackInterface{{Name: "ghost", Weight: -10}}}}}
	m, err := New(cfg, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Do(func() error { return m.Start(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	refs := InstanceRefs(cfg, cfg.Instances[0])
	eth0 := Key{KindInterface, "eth0"}
	// The veth may get its carrier (IFF_RUNNING) just after the lab is up.
	if st := m.State(eth0); st.Status != StatusOK {
		waitEvent(t, m, eth0, StatusOK, 3*time.Second)
	}
	if p := m.Effective(100, refs); p.Fault || p.Priority != 90 {
		t.Errorf("eth0 up, ghost missing: %+v", p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := node.Run(ctx, "ip", "link", "set", "eth0", "down"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, m, eth0, StatusFailed, 3*time.Second)
	if p := m.Effective(100, refs); !p.Fault {
		t.Errorf("eth0 down: %+v, want fault", p)
	}
	if _, err := node.Run(ctx, "ip", "link", "set", "eth0", "up"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, m, eth0, StatusOK, 3*time.Second)
	// A new link with the tracked name comes up.
	if _, err := node.Run(ctx, "ip", "link", "add", "ghost", "type", "veth", "peer", "name", "ghostp"); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Run(ctx, "ip", "link", "set", "ghost", "up"); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Run(ctx, "ip", "link", "set", "ghostp", "up"); err != nil {
		t.Fatal(err)
	}
	ghost := Key{KindInterface, "ghost"}
	waitEvent(t, m, ghost, StatusOK, 3*time.Second)
	if p := m.Effective(100, refs); p.Priority != 100 || p.Fault {
		t.Errorf("all up: %+v", p)
	}
	if _, err := node.Run(ctx, "ip", "link", "del", "ghost"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, m, ghost, StatusFailed, 3*time.Second)
}
