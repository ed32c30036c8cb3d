//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2ETrackScriptMovesMastership: a failing track script lowers
// node1's priority by its weight and node2 takes over; when the script
// recovers, node1 takes mastership back (preempt). notify scripts see the
// transitions with keepalived's arguments.
func TestE2ETrackScriptMovesMastership(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	n1 := l.Node(1)
	failFlag := filepath.Join(n1.Dir, "fail")
	for _, n := range l.Nodes {
		check := filepath.Join(n.Dir, "check.sh")
		notify := filepath.Join(n.Dir, "notify.sh")
		write(t, check, fmt.Sprintf("#!/bin/sh\ntest ! -e %s\n", filepath.Join(n.Dir, "fail")), 0o755)
		write(t, notify, fmt.Sprintf("#!/bin/sh\necho \"$@\" >> %s\n", filepath.Join(n.Dir, "notify.log")), 0o755)
		prio := 100
		if n == n1 {
			prio = 110
		}
		startDaemon(t, n, fmt.Sprintf(`vrrp_script chk {
    script "%s"
    interval 1
    fall 1
    rise 1
    weight -20
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
    track_script {
        chk
    }
    notify "%s"
}
`, check, prio, vipAddr, notify))
	}
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatalf("election: %v", err)
	}
	write(t, failFlag, "", 0o644)
	d, err := h.waitOwner("node2", 5*time.Second)
	if err != nil {
		t.Fatalf("after the script started failing: %v", err)
	}
	t.Logf("script failing: node2 took over after %v", d.Round(time.Millisecond))
	in := status(t, n1).Instances[0]
	chkFailing := false
	for _, tr := range in.Trackers {
		chkFailing = chkFailing || (tr.Name == "chk" && tr.Kind == "script" && !tr.OK && tr.Weight == -20)
	}
	if in.EffectivePriority != 90 || !chkFailing {
		t.Errorf("node1 with a failing script: effective %d, trackers %+v; want 90 and chk failing with weight -20", in.EffectivePriority, in.Trackers)
	}
	os.Remove(failFlag)
	d, err = h.waitOwner("node1", 5*time.Second)
	if err != nil {
		t.Fatalf("after the script recovered: %v", err)
	}
	t.Logf("script recovered: node1 took mastership back after %v", d.Round(time.Millisecond))
	mctx, mcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer mcancel()
	text, err := api.NewUnixClient(n1.Socket()).Metrics(mctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`hactl_script_runs_total\{kind="vrrp_script",name="chk"\} [1-9]`,
		`hactl_script_failures_total\{kind="vrrp_script",name="chk"\} [1-9]`,
		`hactl_script_runs_total\{kind="notify",name="VI_1"\} [1-9]`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("metrics lack %s", re)
		}
	}
	// notify runs asynchronously; give it a moment. An initial BACKUP (at
	// startup, before the election) may come first.
	want := "INSTANCE VI_1 MASTER 110|INSTANCE VI_1 BACKUP 90|INSTANCE VI_1 MASTER 110"
	var got string
	for range 50 {
		b, _ := os.ReadFile(filepath.Join(n1.Dir, "notify.log"))
		got = strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "|")
		if got == want || got == "INSTANCE VI_1 BACKUP 110|"+want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("node1 notify log %q, want %q (after an optional initial BACKUP)", got, want)
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
