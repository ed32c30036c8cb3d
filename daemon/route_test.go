package daemon

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/vrrp"
)

// routesConf is one instance with tracked and untracked virtual routes
// (one through the VIP: its src) and static routes.
func routesConf(prio int, src string) string {
	return "static_routes {\n  10.60.0.0/24 dev eth0\n  10.61.0.0/24 dev eth0 no_track\n}\n" +
		vrrpInstance("VI_1", 51, prio, src, `virtual_routes {
        10.70.0.0/24 dev eth0
        10.71.0.0/24 dev eth0 src 10.0.0.52
        10.72.0.0/24 dev eth0 no_track
    }`)
}

func testRoute(dst string) vip.Route {
	return vip.Route{Dest: netip.MustParsePrefix(dst), Dev: "eth0", Protocol: 18}
}

func (n *node) hasRoute(dst string) bool { return n.vips.routes[dst] }

// TestLoopRouteDeletedByHand: routes deleted by hand, as keepalived's
// netlink_route_filter sees them. A tracked static route comes back at
// once (reinstate_static_route), an untracked one stays deleted; a
// tracked virtual route deleted on the master comes back (hactl's
// difference: keepalived leaves MASTER), logged and counted once, with
// no change of state; an untracked one stays deleted; on the backup,
// nothing. The daemon's own removals (a takeover, a stop) restore
// nothing, and a stop leaves no route.
func TestLoopRouteDeletedByHand(t *testing.T) {
	cl, a, b := pair(t)
	a.start(routesConf(200, "10.0.0.201"))
	b.start(routesConf(100, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	cl.advance(2 * time.Second)
	for _, d := range []string{"10.60.0.0/24", "10.61.0.0/24", "10.70.0.0/24", "10.71.0.0/24", "10.72.0.0/24"} {
		if !a.hasRoute(d) {
			t.Fatalf("master a has no route %s", d)
		}
	}
	logged := func(n *node, what string) int { return strings.Count(n.logs.String(), what) }

	tests := []struct {
		n      *node
		dst    string
		back   bool
		static bool
	}{
		{a, "10.60.0.0/24", true, true},   // static, tracked
		{a, "10.61.0.0/24", false, true},  // static, no_track
		{a, "10.70.0.0/24", true, false},  // virtual, tracked, master
		{a, "10.72.0.0/24", false, false}, // virtual, no_track
		{b, "10.60.0.0/24", true, true},   // static routes are every node's
	}
	for _, tc := range tests {
		tc.n.vips.delRoute(testRoute(tc.dst))
		cl.settle() // the event, handled; no time passes
		if got := tc.n.hasRoute(tc.dst); got != tc.back {
			t.Errorf("%s: %s deleted by hand: back %v, want %v", tc.n.name, tc.dst, got, tc.back)
		}
	}
	// A virtual route of the backup's (not held) deleted: nothing.
	b.vips.routes["10.70.0.0/24"] = true
	b.vips.delRoute(testRoute("10.70.0.0/24"))
	cl.settle()
	if b.hasRoute("10.70.0.0/24") {
		t.Error("the backup added a virtual route")
	}
	in := a.in("VI_1")
	if in.counters.RoutesRestored != 1 || a.r.daemon.StaticRoutesRestored != 1 || b.r.daemon.StaticRoutesRestored != 1 {
		t.Errorf("restored: a virtual %d, a static %d, b static %d, want 1 each", in.counters.RoutesRestored,
			a.r.daemon.StaticRoutesRestored, b.r.daemon.StaticRoutesRestored)
	}
	if st := a.r.status(); st.Instances[0].Counters.RoutesRestored != 1 || st.Daemon.StaticRoutesRestored != 1 {
		t.Errorf("status: %+v, %+v", st.Instances[0].Counters, st.Daemon)
	}
	if n := logged(a, "virtual route deleted while master, restored"); n != 1 {
		t.Errorf("virtual restore logged %d times, want once:\n%s", n, a.logs.String())
	}
	if n := logged(a, "static route deleted, restored"); n != 1 {
		t.Errorf("static restore logged %d times, want once:\n%s", n, a.logs.String())
	}
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	if in.counters.BecameMaster != 1 {
		t.Errorf("a became master %d times, want 1 (no step down)", in.counters.BecameMaster)
	}

	// b takes over: a removes its virtual routes itself; the events
	// restore nothing. Then both stop: no route left, nothing restored.
	b.reload(routesConf(250, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return b.state("VI_1") == vrrp.Master })
	cl.advance(3 * time.Second)
	if a.hasRoute("10.70.0.0/24") || !b.hasRoute("10.70.0.0/24") {
		t.Errorf("after b's takeover: a has 10.70 %v, b %v", a.hasRoute("10.70.0.0/24"), b.hasRoute("10.70.0.0/24"))
	}
	b.stop()
	a.stop()
	for _, n := range []*node{a, b} {
		if len(n.vips.routes) != 0 {
			t.Errorf("%s: routes left after stop: %v", n.name, n.vips.routes)
		}
	}
	if in.counters.RoutesRestored != 1 || logged(a, "route deleted") != 2 || logged(b, "route deleted") != 1 {
		t.Errorf("after our own removals: restored %d, a logged %d, b logged %d", in.counters.RoutesRestored,
			logged(a, "route deleted"), logged(b, "route deleted"))
	}
}

// TestLoopVIPDeletedWithItsRoute: a VIP deleted by hand takes the route
// whose src it is with it (the kernel deletes that route too, and says
// so). Whichever event the loop handles first, the VIP and the route are
// back, each counted and logged once, with no step down and no loop; a
// route restore is never tried while the VIP is missing.
func TestLoopVIPDeletedWithItsRoute(t *testing.T) {
	for _, routeFirst := range []bool{false, true} {
		cl, a, b := pair(t)
		a.start(routesConf(200, "10.0.0.201"))
		b.start(routesConf(100, "10.0.0.202"))
		cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
		cl.advance(2 * time.Second)
		v := a.vipOf(t, 51)
		rt := testRoute("10.71.0.0/24")
		rt.Src = netip.MustParseAddr("10.0.0.52")
		if routeFirst {
			// The route's event reaches the loop first (two sockets):
			// delete both before the events go out.
			fire := a.vips.gone
			a.vips.gone = nil
			a.vips.delByHand(v)
			a.vips.gone = fire
			a.vips.delRoute(rt)
			fire(v)
		} else {
			a.vips.delByHand(v)
			a.vips.delRoute(rt)
		}
		cl.settle()
		in := a.in("VI_1")
		if !a.vips.holds(vipOf(51)) || !a.hasRoute("10.71.0.0/24") {
			t.Errorf("route first %v: VIP back %v, route back %v", routeFirst, a.vips.holds(vipOf(51)), a.hasRoute("10.71.0.0/24"))
		}
		if in.counters.VIPsRestored != 1 || in.counters.RoutesRestored != 1 {
			t.Errorf("route first %v: counted VIPs %d, routes %d, want 1 and 1", routeFirst, in.counters.VIPsRestored, in.counters.RoutesRestored)
		}
		l := a.logs.String()
		if strings.Count(l, "VIP deleted while master, restored") != 1 || strings.Count(l, "virtual route deleted while master, restored") != 1 ||
			strings.Contains(l, "not restored") {
			t.Errorf("route first %v: log:\n%s", routeFirst, l)
		}
		cl.advance(5 * time.Second)
		wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
		if in.counters.BecameMaster != 1 || in.counters.VIPsRestored != 1 || in.counters.RoutesRestored != 1 {
			t.Errorf("route first %v: later: became master %d, restored %d/%d", routeFirst, in.counters.BecameMaster,
				in.counters.VIPsRestored, in.counters.RoutesRestored)
		}
	}
}

// TestLoopRoutesCheckedAfterLostEvents: route events lost (the kernel's
// buffer overflowed) are made up by a check of every tracked route that
// should be there: the missing ones come back, counted once.
func TestLoopRoutesCheckedAfterLostEvents(t *testing.T) {
	cl, a, b := pair(t)
	a.start(routesConf(200, "10.0.0.201"))
	b.start(routesConf(100, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	for _, n := range []*node{a, b} {
		n.vips.routeGone = nil // lost
		for _, d := range []string{"10.60.0.0/24", "10.61.0.0/24", "10.70.0.0/24", "10.72.0.0/24"} {
			n.vips.delRoute(testRoute(d))
		}
		n.r.post(func(r *runtime) { r.checkHeldRoutes(cl.clock.Now()) })
	}
	cl.settle()
	want := map[*node]map[string]bool{
		a: {"10.60.0.0/24": true, "10.61.0.0/24": false, "10.70.0.0/24": true, "10.72.0.0/24": false},
		b: {"10.60.0.0/24": true, "10.61.0.0/24": false, "10.70.0.0/24": false, "10.72.0.0/24": false},
	}
	for n, routes := range want {
		for d, back := range routes {
			if n.hasRoute(d) != back {
				t.Errorf("%s: %s back %v, want %v", n.name, d, n.hasRoute(d), back)
			}
		}
	}
	if a.in("VI_1").counters.RoutesRestored != 1 || a.r.daemon.StaticRoutesRestored != 1 || b.r.daemon.StaticRoutesRestored != 1 {
		t.Errorf("counted: a %d/%d, b static %d", a.in("VI_1").counters.RoutesRestored, a.r.daemon.StaticRoutesRestored, b.r.daemon.StaticRoutesRestored)
	}
}

// TestLoopRoutesBackWhenLinkUp: the routes the kernel deleted with their
// interface (for IPv4 without an event) come back when it is up again,
// as keepalived's interface_up re-adds the static ones; only those on
// that interface, only tracked ones, and a backup's virtual ones never.
func TestLoopRoutesBackWhenLinkUp(t *testing.T) {
	cl, a, b := pair(t)
	a.start(routesConf(200, "10.0.0.201"))
	b.start(routesConf(100, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	for _, n := range []*node{a, b} {
		fire := n.vips.routeGone
		n.vips.routeGone = nil // the kernel says nothing
		for _, d := range []string{"10.60.0.0/24", "10.61.0.0/24", "10.70.0.0/24", "10.72.0.0/24"} {
			n.vips.delRoute(testRoute(d))
		}
		n.vips.routeGone = fire
		n.r.post(func(r *runtime) { r.linkUp("eth1", cl.clock.Now()) })
	}
	cl.settle()
	if a.hasRoute("10.60.0.0/24") || a.hasRoute("10.70.0.0/24") {
		t.Fatal("another interface coming up restored eth0's routes")
	}
	for _, n := range []*node{a, b} {
		n.r.post(func(r *runtime) { r.linkUp("eth0", cl.clock.Now()) })
	}
	cl.settle()
	for n, want := range map[*node][]bool{a: {true, false, true, false}, b: {true, false, false, false}} {
		for i, d := range []string{"10.60.0.0/24", "10.61.0.0/24", "10.70.0.0/24", "10.72.0.0/24"} {
			if n.hasRoute(d) != want[i] {
				t.Errorf("%s: %s back %v, want %v", n.name, d, n.hasRoute(d), want[i])
			}
		}
	}
}

// TestLoopStaticRouteThroughStaticAddress: a static address deleted by
// hand takes the static route whose src it is with it; both come back
// (the route once the address is), in either event order, and an
// untracked static address that stays deleted holds nothing up.
func TestLoopStaticRouteThroughStaticAddress(t *testing.T) {
	conf := "static_ipaddress {\n  10.0.9.1/24 dev eth0\n  10.0.8.1/24 dev eth0 no_track\n}\n" +
		"static_routes {\n  10.60.0.0/24 dev eth0 src 10.0.9.1\n  10.62.0.0/24 dev eth0\n}\n" + vrrpInstance("VI_1", 51, 200, "10.0.0.201")
	for _, routeFirst := range []bool{false, true} {
		cl := newCluster(t)
		a := cl.addNode("a", "10.0.0.201")
		a.start(conf)
		addr := vip.VIP{Prefix: netip.MustParsePrefix("10.0.9.1/24"), Dev: "eth0"}
		untracked := vip.VIP{Prefix: netip.MustParsePrefix("10.0.8.1/24"), Dev: "eth0"}
		a.vips.delByHand(untracked)
		cl.settle()
		rt := testRoute("10.60.0.0/24")
		rt.Src = addr.Prefix.Addr()
		if routeFirst {
			fire := a.vips.gone
			a.vips.gone = nil
			a.vips.delByHand(addr)
			a.vips.gone = fire
			a.vips.delRoute(rt)
			fire(addr)
		} else {
			a.vips.delByHand(addr)
			a.vips.delRoute(rt)
		}
		cl.settle()
		a.vips.delRoute(testRoute("10.62.0.0/24")) // on its own
		cl.settle()
		if !a.vips.holds("10.0.9.1/24") || !a.hasRoute("10.60.0.0/24") || !a.hasRoute("10.62.0.0/24") || a.vips.holds("10.0.8.1/24") {
			t.Errorf("route first %v: address %v, its route %v, the other route %v, the untracked address %v", routeFirst,
				a.vips.holds("10.0.9.1/24"), a.hasRoute("10.60.0.0/24"), a.hasRoute("10.62.0.0/24"), a.vips.holds("10.0.8.1/24"))
		}
		if n := a.r.daemon.StaticRoutesRestored; n != 2 || strings.Contains(a.logs.String(), "not restored") {
			t.Errorf("route first %v: static routes restored %d, want 2; log:\n%s", routeFirst, n, a.logs.String())
		}
	}
}
