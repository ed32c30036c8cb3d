//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// electionCase is one run of the three-node election test.
type electionCase struct {
	name     string
	family   string // inet or inet6
	version  int
	interval time.Duration
	vip      netip.Prefix
}

func (c electionCase) conf(priority int) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version %d
    priority %d
    advert_int %g
    virtual_ipaddress {
        %s
    }
}
`, c.version, priority, c.interval.Seconds(), c.vip)
}

// masterDown is Master_Down_Interval for a backup of priority p.
func (c electionCase) masterDown(p int) time.Duration {
	return 3*c.interval + c.skew(p)
}

func (c electionCase) skew(p int) time.Duration {
	return time.Duration(256-p) * c.interval / 256
}

// TestE2EElectionAndFailover: three hactl nodes elect the highest
// priority; SIGKILL of the master moves the VIP to the next within
// Master_Down_Interval + 50 ms and the killed node's VIP vanishes within
// its lease; SIGTERM of the new master moves it within skew time + 50 ms.
// Once over IPv4 with VRRPv2, once over IPv6 with VRRPv3.
func TestE2EElectionAndFailover(t *testing.T) {
	labtest.Require(t)
	for _, c := range []electionCase{
		{"ipv4-v2", "inet", 2, time.Second, netip.MustParsePrefix("10.77.0.100/24")},
		{"ipv6-v3", "inet6", 3, 200 * time.Millisecond, netip.MustParsePrefix("fd77::100/64")},
	} {
		t.Run(c.name, func(t *testing.T) { testElection(t, c) })
	}
}

func testElection(t *testing.T, c electionCase) {
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	prio := map[string]int{"node1": 101, "node2": 102, "node3": 103}
	procs := map[string]*daemonProc{}
	for _, n := range l.Nodes {
		procs[n.Name] = startDaemon(t, n, c.conf(prio[n.Name]))
	}
	h := newHolders(t, l.Nodes, c.vip)
	// Startup: a backup waits Master_Down_Interval before it may claim.
	if d, err := h.waitOwner("node3", c.masterDown(101)+2*time.Second); err != nil {
		t.Fatalf("election: %v", err)
	} else {
		t.Logf("node3 elected after %v", d.Round(time.Millisecond))
	}
	for _, n := range l.Nodes {
		want := api.StateBackup
		if n.Name == "node3" {
			want = api.StateMaster
		}
		if st := status(t, n); len(st.Instances) != 1 || st.Instances[0].State != want {
			t.Errorf("%s: state %+v, want %s", n.Name, st.Instances, want)
		}
	}
	lease := time.Duration(status(t, l.Node(3)).Instances[0].LeaseSeconds) * time.Second
	if lease == 0 {
		t.Fatal("lease-bound VIPs are off by default")
	}
	// Let a couple of adverts pass, so the backups' timers are steady, and
	// kill mid-interval rather than just after an advert (the phase of a
	// real crash is arbitrary; the bound below is measured from the kill).
	time.Sleep(2*c.interval + c.interval/2)

	killed := time.Now()
	if err := procs["node3"].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	bound := c.masterDown(102) + 50*time.Millisecond
	d, err := h.waitOwnerOrDual("node2", "node3", bound+2*time.Second)
	if err != nil {
		t.Fatalf("after SIGKILL of node3: %v", err)
	}
	t.Logf("SIGKILL: node2 holds the VIP %v after the kill (bound %v)", d.Round(time.Millisecond), bound)
	if d > bound {
		t.Errorf("takeover after SIGKILL took %v, want <= Master_Down_Interval + 50 ms = %v", d, bound)
	}
	// The failover shows in node2's metrics (what curl --unix-socket SOCK
	// http://hactl/metrics prints): a transition to MASTER, and MASTER now.
	mctx, mcancel := context.WithTimeout(context.Background(), 5*time.Second)
	text, err := api.NewUnixClient(l.Node(2).Socket()).Metrics(mctx)
	mcancel()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`hactl_vrrp_transitions_total\{[^}]*state="MASTER"[^}]*\} [1-9]`).MatchString(text) ||
		!regexp.MustCompile(`hactl_vrrp_state\{[^}]*state="MASTER"[^}]*\} 1`).MatchString(text) {
		t.Errorf("node2's metrics do not show its takeover:\n%s", grepLines(text, "hactl_up", "hactl_vrrp_transitions_total", "hactl_vrrp_state{"))
	}
	gone, err := h.waitGone("node3", lease+time.Second)
	if err != nil {
		t.Errorf("killed master's VIP: %v (lease %v)", err, lease)
	}
	t.Logf("SIGKILL: node3's VIP vanished %v after the kill (lease %v)", (time.Since(killed) - 0).Round(time.Millisecond), lease)
	_ = gone

	time.Sleep(2 * c.interval)
	if err := procs["node2"].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bound = c.skew(101) + 50*time.Millisecond
	d, err = h.waitOwner("node1", bound+2*time.Second)
	if err != nil {
		t.Fatalf("after SIGTERM of node2: %v", err)
	}
	t.Logf("SIGTERM: node1 holds the VIP %v after the signal (bound %v)", d.Round(time.Millisecond), bound)
	if d > bound {
		t.Errorf("takeover after SIGTERM took %v, want <= skew time + 50 ms = %v", d, bound)
	}
	select {
	case <-procs["node2"].Done():
	case <-time.After(5 * time.Second):
		t.Error("node2 did not exit within 5 s of SIGTERM")
	}
	if _, err := os.Stat(l.Node(2).Socket()); !os.IsNotExist(err) {
		t.Errorf("node2 left its control socket behind: %v", err)
	}
}

// waitOwnerOrDual is waitOwner that tolerates the dead node still holding
// its (leased) VIP: it returns once want holds the VIP.
func (h *holders) waitOwnerOrDual(want, dead string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	var last []string
	for time.Since(start) < limit {
		last = h.owners()
		if contains(last, want) {
			return time.Since(start), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("after %v the VIP is held by %v, want %s", limit, last, want)
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}
