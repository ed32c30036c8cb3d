//go:build linux

package daemon_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// correctedConf has what keepalived 2.2.7 reports and runs anyway, each
// corrected the way keepalived's parser does:
//
//   - "state Master": keepalived compares with strcmp, so it is an unknown
//     state and becomes BACKUP; nopreempt then works (with MASTER it
//     would be ignored and the node would preempt);
//   - "priority 150 150": the second word is ignored;
//   - "garp_master_delai 1": an unknown keyword, skipped;
//   - "track_script { chk_down }" naming a vrrp_script defined further
//     down: keepalived looks it up as it reads the line, does not find it
//     and drops it, so /bin/false never faults the instance.
const correctedConf = `vrrp_instance VI_1 {
    interface eth0
    state Master
    virtual_router_id 63
    version 3
    priority 150 150
    advert_int 0.2
    nopreempt
    garp_master_delai 1
    track_script {
        chk_down
    }
    virtual_ipaddress {
        10.77.0.100/24
    }
}
vrrp_script chk_down {
    script /bin/false
    interval 1
}
`

// TestE2EKeepalivedCorrections: the daemon starts on a config keepalived
// runs with corrections and runs it as keepalived would: node1 (priority
// 150, "state Master" read as BACKUP, nopreempt) joins a cluster whose
// master is node2 (priority 100) and does not preempt; it is BACKUP, not
// FAULT, since the forward track_script is dropped; each correction is
// logged once with file:line:col. With --strict the same config is
// refused, naming each correction.
func TestE2EKeepalivedCorrections(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	other := strings.NewReplacer("virtual_router_id 62", "virtual_router_id 63").Replace(plainConf(100, vipAddr))
	startDaemon(t, n2, other)
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	d1 := startDaemon(t, n1, correctedConf)
	// Let node1 hear several adverts; a preempting node1 would take over
	// within a second (priority 150 against 100).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(n1.Socket()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node1's control socket did not appear")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	st := status(t, n1)
	if len(st.Instances) != 1 {
		t.Fatalf("node1 instances: %+v", st.Instances)
	}
	in := st.Instances[0]
	scripts := 0
	for _, tr := range in.Trackers {
		if tr.Kind == "script" {
			scripts++
		}
	}
	if in.State != "BACKUP" || in.Preempt || in.BasePriority != 150 || scripts != 0 {
		t.Errorf("node1 VI_1: state %s preempt %v base priority %d trackers %+v; want BACKUP, no preempt, 150, no script (chk_down dropped)",
			in.State, in.Preempt, in.BasePriority, in.Trackers)
	}
	if got := h.owners(); len(got) != 1 || got[0] != "node2" {
		t.Errorf("VIP held by %v, want node2 only (nopreempt)", got)
	}

	log, _ := os.ReadFile(d1.Log)
	for _, want := range []string{
		"hactl.conf:3:11: corrected: unknown state",
		"hactl.conf:6:18: warning: priority takes one value",
		"hactl.conf:9:5: corrected: unknown keyword",
		"hactl.conf:11:9: corrected: (VI_1) track_script chk_down: vrrp_script chk_down is defined further down",
	} {
		if n := strings.Count(string(log), want); n != 1 {
			t.Errorf("node1's log has %q %d times, want once:\n%s", want, n, lastLines(string(log), 30))
		}
	}

	// --strict refuses the same file at start.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	out, err := n1.Run(ctx, hactlBin, "daemon", "--strict", "-f", d1.conf,
		"--socket", filepath.Join(dir, "s.sock"), "--pid-file", filepath.Join(dir, "p.pid"), "--state-file", filepath.Join(dir, "state"))
	if err == nil || !strings.Contains(string(out), "--strict") || !strings.Contains(string(out), "corrected: unknown state") ||
		!strings.Contains(string(out), "is defined further down") {
		t.Errorf("daemon --strict: %v\n%s\nwant a refusal naming the corrections", err, out)
	}
}
