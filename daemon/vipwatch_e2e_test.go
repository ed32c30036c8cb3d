//go:build linux

package daemon_test

import (
	"context"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EVIPDeletedByHandRestored: the VIP deleted on the master (through
// netlink, as ip addr del does, then with ip addr del itself) is back
// within 50 ms, measured by a poll every millisecond; each deletion is
// counted once in the status and logged once; the backup never takes it.
func TestE2EVIPDeletedByHandRestored(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	addr := netip.MustParsePrefix("10.77.0.100/24")
	d2 := startDaemon(t, l.Node(2), plainConf(150, addr))
	startDaemon(t, l.Node(1), plainConf(100, addr))
	h := newHolders(t, l.Nodes, addr)
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatalf("election: %v", err)
	}
	const bound = 50 * time.Millisecond
	// back polls every millisecond, for at most a second, until node2
	// holds the VIP again.
	back := func(from time.Time) time.Duration {
		for range 1000 {
			if contains(h.owners(), "node2") {
				return time.Since(from)
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("the VIP is not back on node2 a second after its deletion (holders %v)", h.owners())
		return 0
	}
	deletions := []struct {
		how string
		del func() error
	}{
		{"netlink RTM_DELADDR", func() error { return h.mgrs[1].Remove(h.v) }},
		{"ip addr del", func() error {
			_, err := l.Node(2).Run(context.Background(), "ip", "addr", "del", addr.String(), "dev", "eth0")
			return err
		}},
	}
	for i, c := range deletions {
		time.Sleep(300 * time.Millisecond) // an advert or so between
		start := time.Now()
		if err := c.del(); err != nil {
			t.Fatalf("%s: %v", c.how, err)
		}
		took := back(start)
		t.Logf("deleted with %s: back on the master after %v", c.how, took.Round(10*time.Microsecond))
		if took > bound {
			t.Errorf("deleted with %s: back after %v, want within %v", c.how, took, bound)
		}
		st := status(t, l.Node(2)).Instances[0]
		if st.Counters.VIPsRestored != uint64(i+1) || st.LastVIPDeleted == nil {
			t.Errorf("after deletion %d: vips_restored %d, last_vip_deleted %v", i+1, st.Counters.VIPsRestored, st.LastVIPDeleted)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if o := h.owners(); len(o) != 1 || o[0] != "node2" {
		t.Errorf("holders %v, want [node2]", o)
	}
	if st := status(t, l.Node(2)).Instances[0]; st.Counters.VIPsRestored != 2 || st.State != "MASTER" {
		t.Errorf("in the end: %s, vips_restored %d, want MASTER and 2", st.State, st.Counters.VIPsRestored)
	}
	// The operator sees it in hactl status' RESTORED column.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := l.Node(2).Run(ctx, hactlBin, "status", "--local", "--socket", l.Node(2).Socket())
	if err != nil || !regexp.MustCompile(`(?m)^\S+\s.*\sMASTER\s.*\s2, \d+s ago\s`).Match(out) {
		t.Errorf("hactl status --local: %v; want a MASTER row with RESTORED \"2, Ns ago\":\n%s", err, out)
	}
	b, _ := os.ReadFile(d2.Log)
	if n := strings.Count(string(b), "VIP deleted while master, restored"); n != 2 {
		t.Errorf("logged %d times, want 2 (once a deletion):\n%s", n, lastLines(string(b), 20))
	}
	if !strings.Contains(string(b), "interface=eth0") {
		t.Errorf("the log names no interface:\n%s", lastLines(string(b), 20))
	}
}
