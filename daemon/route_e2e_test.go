//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// routeWatchConf has tracked and untracked static and virtual routes,
// one of them through the VIP (its src).
func routeWatchConf(prio int, addr netip.Prefix) string {
	return fmt.Sprintf(`static_routes {
    10.60.0.0/24 dev eth0
    10.61.0.0/24 dev eth0 no_track
    fd60::/64 dev eth0
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 63
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
    virtual_routes {
        10.70.0.0/24 dev eth0
        10.71.0.0/24 dev eth0 src %s
        10.72.0.0/24 dev eth0 no_track
        fd70::/64 dev eth0
    }
}
`, prio, addr, addr.Addr())
}

// TestE2ERouteDeletedByHand: on the master, a tracked static route and a
// tracked virtual route deleted by hand (through netlink, then with ip
// route del) are back within 50 ms, measured by a poll every millisecond;
// untracked ones stay deleted; the master stays master (hactl's
// difference: keepalived leaves MASTER for a virtual route). A VIP
// deleted by hand takes the route whose src it is with it: both come
// back, counted once each, and nothing more happens (no loop). A link
// flap: nothing tried while down, the static route back when up. A stop
// leaves no route of ours behind.
func TestE2ERouteDeletedByHand(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	addr := netip.MustParsePrefix("10.77.0.100/24")
	d2 := startDaemon(t, l.Node(2), routeWatchConf(150, addr))
	d1 := startDaemon(t, l.Node(1), routeWatchConf(100, addr))
	h := newHolders(t, l.Nodes, addr)
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatalf("election: %v", err)
	}
	m := h.mgrs[1]
	route := func(dst string) vip.Route {
		return vip.Route{Dest: netip.MustParsePrefix(dst), Dev: "eth0", Protocol: 18}
	}
	present := func(dst string) bool {
		ok, err := m.RoutePresent(route(dst))
		if err != nil {
			t.Fatalf("route %s: %v", dst, err)
		}
		return ok
	}
	waitRoutes := func(what string, dsts ...string) {
		t.Helper()
		for range 500 {
			all := true
			for _, d := range dsts {
				all = all && present(d)
			}
			if all {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: routes %v not all there after 5 s", what, dsts)
	}
	waitRoutes("master", "fd60::/64", "fd70::/64", "10.60.0.0/24", "10.61.0.0/24", "10.70.0.0/24", "10.71.0.0/24", "10.72.0.0/24")
	const bound = 50 * time.Millisecond
	// back polls every millisecond, for at most a second.
	back := func(dst string, from time.Time) time.Duration {
		for range 1000 {
			if present(dst) {
				return time.Since(from)
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("route %s is not back a second after its deletion", dst)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ipDel := func(dst string) func() error {
		return func() error {
			out, err := l.Node(2).Run(ctx, "ip", "route", "del", dst, "dev", "eth0")
			if err != nil {
				return fmt.Errorf("ip route del %s: %v: %s", dst, err, out)
			}
			return nil
		}
	}
	deletions := []struct {
		how, dst string
		del      func() error
	}{
		{"static, netlink RTM_DELROUTE", "10.60.0.0/24", func() error { return m.RemoveRoute(route("10.60.0.0/24")) }},
		{"static, ip route del", "10.60.0.0/24", ipDel("10.60.0.0/24")},
		{"virtual, netlink RTM_DELROUTE", "10.70.0.0/24", func() error { return m.RemoveRoute(route("10.70.0.0/24")) }},
		{"virtual, ip route del", "10.70.0.0/24", ipDel("10.70.0.0/24")},
		{"static IPv6 (metric 1024), ip route del", "fd60::/64", ipDel("fd60::/64")},
		{"virtual IPv6, ip route del", "fd70::/64", ipDel("fd70::/64")},
	}
	for _, c := range deletions {
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		if err := c.del(); err != nil {
			t.Fatalf("%s: %v", c.how, err)
		}
		took := back(c.dst, start)
		t.Logf("%s: back after %v", c.how, took.Round(10*time.Microsecond))
		if took > bound {
			t.Errorf("%s: back after %v, want within %v", c.how, took, bound)
		}
	}
	st := status(t, l.Node(2))
	in := st.Instances[0]
	if in.State != "MASTER" || in.Counters.BecameMaster != 1 || in.Counters.RoutesRestored != 3 || st.Daemon.StaticRoutesRestored != 3 {
		t.Errorf("after the route deletions: %s, became master %d, routes restored %d, static %d; want MASTER, 1, 3, 3",
			in.State, in.Counters.BecameMaster, in.Counters.RoutesRestored, st.Daemon.StaticRoutesRestored)
	}

	// The VIP deleted by hand: the kernel deletes 10.71 (its src) with
	// it; both come back, each counted once.
	start := time.Now()
	if out, err := l.Node(2).Run(ctx, "ip", "addr", "del", addr.String(), "dev", "eth0"); err != nil {
		t.Fatalf("ip addr del: %v: %s", err, out)
	}
	took := back("10.71.0.0/24", start)
	t.Logf("VIP deleted with ip addr del: its route back after %v", took.Round(10*time.Microsecond))
	if took > bound {
		t.Errorf("VIP deleted: its route back after %v, want within %v", took, bound)
	}
	time.Sleep(time.Second) // five adverts: a loop would show
	if o := h.owners(); len(o) != 1 || o[0] != "node2" {
		t.Errorf("holders %v, want [node2]", o)
	}
	st = status(t, l.Node(2))
	in = st.Instances[0]
	if in.State != "MASTER" || in.Counters.BecameMaster != 1 || in.Counters.VIPsRestored != 1 || in.Counters.RoutesRestored != 4 ||
		st.Daemon.StaticRoutesRestored != 3 {
		t.Errorf("after the VIP deletion: %s, became master %d, VIPs restored %d, routes %d, static %d; want MASTER, 1, 1, 4, 3",
			in.State, in.Counters.BecameMaster, in.Counters.VIPsRestored, in.Counters.RoutesRestored, st.Daemon.StaticRoutesRestored)
	}
	// Untracked routes deleted by hand stay deleted, as with keepalived.
	for _, dst := range []string{"10.61.0.0/24", "10.72.0.0/24"} {
		if err := ipDel(dst)(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // an untracked route is the operator's to delete
	if present("10.61.0.0/24") || present("10.72.0.0/24") {
		t.Error("an untracked route deleted by hand came back")
	}
	b, _ := os.ReadFile(d2.Log)
	for what, want := range map[string]int{"virtual route deleted while master, restored": 4, "static route deleted, restored": 3,
		"VIP deleted while master, restored": 1, "not restored": 0} {
		if n := strings.Count(string(b), what); n != want {
			t.Errorf("%q logged %d times, want %d:\n%s", what, n, want, lastLines(string(b), 30))
		}
	}

	// node2's eth0 down: the kernel deletes its IPv4 routes without an
	// event and the instance faults (interface tracking); node1 takes
	// over. Up again: the static route comes back at once (keepalived's
	// interface_up), node2 is master again with its virtual routes; no
	// restore was tried while it was down.
	for _, updown := range []string{"down", "up"} {
		if out, err := l.Node(2).Run(ctx, "ip", "link", "set", "eth0", updown); err != nil {
			t.Fatalf("ip link set eth0 %s: %v: %s", updown, err, out)
		}
		if updown == "down" {
			if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
				t.Fatalf("after eth0 down: %v", err)
			}
		}
	}
	start = time.Now()
	took = back("10.60.0.0/24", start)
	t.Logf("eth0 up: the static route back after %v", took.Round(10*time.Microsecond))
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatalf("after eth0 up: %v", err)
	}
	waitRoutes("master again", "fd60::/64", "fd70::/64", "10.60.0.0/24", "10.70.0.0/24", "10.71.0.0/24")
	st = status(t, l.Node(2))
	if in := st.Instances[0]; in.Counters.BecameMaster != 2 || in.Counters.RoutesRestored != 4 || st.Daemon.StaticRoutesRestored != 5 {
		t.Errorf("after the link flap: became master %d, routes restored %d, static %d; want 2, 4, 5 (both static routes back at up)",
			in.Counters.BecameMaster, in.Counters.RoutesRestored, st.Daemon.StaticRoutesRestored)
	}
	if b, _ := os.ReadFile(d2.Log); strings.Contains(string(b), "not restored") {
		t.Errorf("a restore was tried and failed:\n%s", lastLines(string(b), 30))
	}

	// Stops: node1 takes over, then stops too; no route of ours is left
	// on either node, and the own removals restored nothing.
	if err := d2.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatalf("takeover: %v", err)
	}
	if err := d1.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		out, err := n.Run(ctx, "ip", "route", "show", "proto", "18")
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("%s after stop: ip route show proto 18: %v\n%s", n.Name, err, out)
		}
	}
	for _, d := range []*daemonProc{d1, d2} {
		b, _ := os.ReadFile(d.Log)
		if n := strings.Count(string(b), `restored"`); d == d1 && n != 0 || d == d2 && n != 10 {
			t.Errorf("%s logged %d restores in the end:\n%s", d.node.Name, n, lastLines(string(b), 30))
		}
	}
}
