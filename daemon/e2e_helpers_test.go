//go:build linux

package daemon_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
)

// hactlBin is the binary under test, built once by TestMain; not in
// -short mode, where every test that runs it skips (the loop tests need
// no binary, no root and no Go toolchain).
var hactlBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "hactl-daemon-e2e-")
	if err != nil {
		panic(err)
	}
	hactlBin = filepath.Join(dir, "hactl")
	if out, err := exec.Command("go", "build", "-o", hactlBin, "../cmd/hactl").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building hactl: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemonProc is one hactl daemon running in a lab node.
type daemonProc struct {
	*netlab.Proc
	node *netlab.Host
	conf string
}

// startDaemon writes conf into the node's directory and starts hactl
// daemon there (-v) with the node's own state file, socket and pid file.
func startDaemon(t *testing.T, n *netlab.Host, conf string) *daemonProc {
	t.Helper()
	return launchDaemon(t, n, conf, true, nil)
}

// launchDaemon is startDaemon's work: verbose adds -v; extra flags go
// after the node's own paths (an extra --state-file replaces the node's);
// wrap, when set, may change the whole argv (to run it under unshare, say).
// The cleanup stops the daemon and, when the test failed, logs the last
// lines of its log.
func launchDaemon(t *testing.T, n *netlab.Host, conf string, verbose bool, wrap func(argv []string) []string, extra ...string) *daemonProc {
	t.Helper()
	path := filepath.Join(n.Dir, "hactl.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{hactlBin, "daemon"}
	if verbose {
		argv = append(argv, "-v")
	}
	argv = append(argv, "-f", path, "--socket", n.Socket(), "--pid-file", filepath.Join(n.Dir, "hactl.pid"))
	argv = append(argv, extra...)
	if !contains(extra, "--state-file") {
		argv = append(argv, "--state-file", filepath.Join(n.Dir, "state"))
	}
	if wrap != nil {
		argv = wrap(argv)
	}
	p, err := n.Start("daemon", argv...)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{Proc: p, node: n, conf: path}
	t.Cleanup(func() {
		d.Stop(3 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(p.Log)
			t.Logf("%s daemon log:\n%s", n.Name, lastLines(string(b), 40))
		}
	})
	return d
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// holders watches which nodes hold an address, through netlink in each
// node's namespace.
type holders struct {
	t     *testing.T
	nodes []*netlab.Host
	mgrs  []*vip.Manager
	v     vip.VIP
}

func newHolders(t *testing.T, nodes []*netlab.Host, addr netip.Prefix) *holders {
	t.Helper()
	h := &holders{t: t, nodes: nodes, v: vip.VIP{Prefix: addr, Dev: "eth0"}}
	for _, n := range nodes {
		var m *vip.Manager
		if err := n.Do(func() (err error) { m, err = vip.New(nil); return err }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		h.mgrs = append(h.mgrs, m)
	}
	return h
}

// owners lists the nodes holding the address now.
func (h *holders) owners() []string {
	var out []string
	for i, m := range h.mgrs {
		if ok, _, err := m.Present(h.v); err == nil && ok {
			out = append(out, h.nodes[i].Name)
		}
	}
	return out
}

// waitOwner polls every 2 ms until exactly want holds the address (and no
// one else), for at most limit; it returns how long that took.
//
// The sole ownership must hold for settle (20 ms) so that a start-up race
// (two Master_Down timers firing within a millisecond, one node Master for
// a moment) is not taken for the outcome; the duration returned is when
// the settled ownership began.
func (h *holders) waitOwner(want string, limit time.Duration) (time.Duration, error) {
	const settle = 20 * time.Millisecond
	start := time.Now()
	var last []string
	var since time.Time
	for time.Since(start) < limit+settle {
		last = h.owners()
		if len(last) == 1 && last[0] == want {
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= settle {
				return since.Sub(start), nil
			}
		} else {
			since = time.Time{}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("after %v the VIP is held by %v, want only %s", limit, last, want)
}

// waitGone polls until node no longer holds the address.
func (h *holders) waitGone(node string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for time.Since(start) < limit {
		if !contains(h.owners(), node) {
			return time.Since(start), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return limit, fmt.Errorf("%s still holds the VIP after %v", node, limit)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// status asks a node's daemon through its control socket.
func status(t *testing.T, n *netlab.Host) *api.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := api.NewUnixClient(n.Socket()).Status(ctx)
	if err != nil {
		t.Fatalf("%s: status: %v", n.Name, err)
	}
	return st
}

// startDaemonQuiet is startDaemon without -v: the log holds what an
// operator's log would (INFO and up), for tests that measure its growth.
func startDaemonQuiet(t *testing.T, n *netlab.Host, conf string) *daemonProc {
	t.Helper()
	return launchDaemon(t, n, conf, false, nil)
}

// procSample is a process's resident memory and CPU time at one moment.
type procSample struct {
	at    time.Time
	rssKB int64
	cpu   time.Duration // utime + stime
}

// sampleProc reads /proc/PID/status (VmRSS) and /proc/PID/stat (utime,
// stime).
func sampleProc(t *testing.T, pid int) procSample {
	t.Helper()
	s := procSample{at: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			s.rssKB, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command (which may hold spaces) in parentheses:
	// utime and stime are the 14th and 15th of the whole line.
	rest := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(rest) > 12 {
		ut, _ := strconv.ParseInt(rest[11], 10, 64)
		st, _ := strconv.ParseInt(rest[12], 10, 64)
		s.cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
	}
	return s
}

// cpuPercent is the share of one core the process used between a and b.
func cpuPercent(a, b procSample) float64 {
	return 100 * (b.cpu - a.cpu).Seconds() / b.at.Sub(a.at).Seconds()
}

// fileSize is the size of a file, 0 when it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// timedStatus asks a node's daemon for its status (5 s timeout) and says
// how long the answer took, and how many bytes of JSON it was.
func timedStatus(n *netlab.Host) (*api.Status, time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	st, err := api.NewUnixClient(n.Socket()).Status(ctx)
	d := time.Since(start)
	if err != nil {
		return nil, d, 0, err
	}
	b, _ := json.Marshal(st)
	return st, d, len(b), nil
}

// startKeepalived runs keepalived 2.2.7 on n with conf; its log is shown
// when the test fails.
func startKeepalived(t *testing.T, n *netlab.Host, conf string) *netlab.Proc {
	t.Helper()
	path := filepath.Join(n.Dir, "keepalived.conf")
	write(t, path, conf, 0o644)
	kp, err := n.Start("keepalived", netlab.KeepalivedArgv(n, path)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kp.Stop(3 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(kp.Log)
			t.Logf("keepalived log:\n%s", lastLines(string(b), 40))
		}
	})
	return kp
}
