package daemon

import (
	"errors"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/vrrp"
)

// A route deleted by hand (ip route del, a network manager flushing
// routes it did not make). keepalived's netlink_route_filter
// (keepalived_netlink.c) watches the routes it tracks (with dev, without
// no_track: the config's NoTrack): a static one is added again
// (reinstate_static_route), a virtual one deleted while master makes the
// instance leave MASTER (set_vrrp_backup). hactl re-adds the static ones
// as keepalived does and restores the virtual ones too, as it restores a
// VIP deleted by hand (vipwatch.go; docs/daemon.md says why).
//
// Only a deletion by someone else while the route should be there
// restores anything: our own removals come after holding was cleared
// (leaving mastership, stopping) or r.static changed (static.go); an
// event for a route already back (a re-election, a VIP restored with its
// routes) finds it present; a route the kernel removed with an address
// of ours (a VIP or static address deleted by hand: a route with that
// src) is left to the address's restore, which adds the routes back
// after it (vipGone, staticGone), counted once; a route whose interface
// went down cannot be added and is left to interface tracking. The edge
// (routewatch_linux.go) posts every deletion of a route of keepalived's
// protocol the kernel reports.

// routeGone is a route the kernel reports deleted.
type routeGone struct {
	d vip.DeletedRoute
	// at is when the event was read.
	at time.Time
}

func (r *runtime) routeGone(g routeGone) {
	r.restoreGoneRoutes(func(rt vip.Route) bool { return rt.Matches(g.d) }, g.at)
}

// restoreGoneRoutes restores the tracked routes that match and are
// missing while they should be there.
func (r *runtime) restoreGoneRoutes(match func(vip.Route) bool, at time.Time) {
	for _, rt := range r.static.trackedRoutes {
		if !match(rt) || r.routeThere(rt) || !r.vipsThere(r.static.tracked) {
			continue
		}
		r.restoreStaticRoute(rt, at)
	}
	for _, in := range r.insts {
		if !in.holding || in.m.State() != vrrp.Master {
			continue
		}
		for _, rt := range in.trackedRoutes {
			if !match(rt) || r.routeThere(rt) || !r.vipsThere(in.vips) {
				continue
			}
			r.restoreRoute(in, rt, at)
		}
	}
}

// routeThere reports whether the kernel has rt; when it cannot tell, yes
// (nothing is added on a guess).
func (r *runtime) routeThere(rt vip.Route) bool {
	ok, err := r.vips.RoutePresent(rt)
	return err != nil || ok
}

// vipsThere reports whether every address of vs is on its interface.
func (r *runtime) vipsThere(vs []vip.VIP) bool {
	for _, v := range vs {
		if ok, _, err := r.vips.Present(v); err == nil && !ok {
			return false
		}
	}
	return true
}

// restoreRoute adds back a virtual route of in that someone else
// deleted, logged once and counted.
func (r *runtime) restoreRoute(in *instance, rt vip.Route, gone time.Time) {
	if err := r.vips.AddRoute(rt); err != nil {
		if errors.Is(err, syscall.ENETDOWN) {
			r.log.Info("virtual route deleted with its interface, back when the interface is up", "instance", in.c.Name, "route", rt.String())
			return
		}
		r.log.Warn("virtual route deleted while master, not restored", "instance", in.c.Name, "route", rt.String(),
			"gone_at", gone.Format(time.RFC3339Nano), "err", err)
		return
	}
	in.counters.RoutesRestored++
	r.log.Warn("virtual route deleted while master, restored", "instance", in.c.Name, "route", rt.String(),
		"gone_at", gone.Format(time.RFC3339Nano), "restored_after", r.clock.Now().Sub(gone))
	r.writeState()
}

// restoreStaticRoute adds back a static route someone else deleted,
// as keepalived's reinstate_static_route, logged once and counted.
func (r *runtime) restoreStaticRoute(rt vip.Route, gone time.Time) {
	if err := r.vips.AddRoute(rt); err != nil {
		if errors.Is(err, syscall.ENETDOWN) {
			r.log.Info("static route deleted with its interface, back when the interface is up", "route", rt.String())
			return
		}
		r.log.Warn("static route deleted, not restored", "route", rt.String(), "gone_at", gone.Format(time.RFC3339Nano), "err", err)
		return
	}
	r.daemon.StaticRoutesRestored++
	r.log.Warn("static route deleted, restored", "route", rt.String(), "gone_at", gone.Format(time.RFC3339Nano),
		"restored_after", r.clock.Now().Sub(gone))
}

// restoreMissingRoutes adds back the routes of rts that are missing,
// once every address of vs is there: after an address they went with
// was restored (vipGone, staticGone).
func (r *runtime) restoreMissingRoutes(vs []vip.VIP, rts []vip.Route, gone time.Time, restore func(vip.Route, time.Time)) {
	if !r.vipsThere(vs) {
		return // another address is still to come back; its restore adds them
	}
	for _, rt := range rts {
		if ok, err := r.vips.RoutePresent(rt); err == nil && !ok {
			restore(rt, gone)
		}
	}
}

// linkUp restores the tracked routes on dev that are missing when it
// comes up, as keepalived's interface_up re-adds the static ones
// (vrrp_static_track.c:static_track_group_reinstate_config): the kernel
// deleted them when it went down, for IPv4 without a word. A master's
// virtual routes on it come back too, when the instance is still master
// (it left mastership otherwise, and adds them when it is master again).
func (r *runtime) linkUp(dev string, at time.Time) {
	r.restoreGoneRoutes(func(rt vip.Route) bool { return rt.Dev == dev }, at)
}

// checkHeldRoutes restores every tracked route missing: after route
// events were lost (the kernel's buffer overflowed).
func (r *runtime) checkHeldRoutes(at time.Time) {
	r.restoreGoneRoutes(func(vip.Route) bool { return true }, at)
}
