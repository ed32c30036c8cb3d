package daemon

import (
	"slices"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/config"
)

// static_ipaddress, static_routes and static_rules, as keepalived's
// vrrp_daemon.c handles them: at start the leftovers of an earlier run
// are deleted and the entries added (start_vrrp); a reload deletes the
// entries the new configuration no longer has and adds the new list
// (clear_diff_static_*, then the adds); a stop deletes them all
// (vrrp_terminate_phase2). Addresses first and rules last on the way in,
// the reverse on the way out.

// installStatic deletes what an earlier run may have left, then adds the
// configuration's static entries.
func (r *runtime) installStatic(cfg *config.Config) error {
	s, err := staticsOf(cfg)
	if err != nil {
		return err
	}
	r.removeStaticSet(s)
	r.addStaticSet(s)
	r.static = s
	return nil
}

func (r *runtime) addStaticSet(s statics) {
	for _, v := range s.vips {
		if err := r.vips.Add(v, 0); err != nil {
			r.log.Error("static address not added", "err", err)
		}
	}
	for _, rt := range s.routes {
		if err := r.vips.AddRoute(rt); err != nil {
			r.log.Error("static route not added", "err", err)
		}
	}
	for _, ru := range s.rules {
		if err := r.vips.AddRule(ru); err != nil {
			r.log.Error("static rule not added", "err", err)
		}
	}
	if n := len(s.vips) + len(s.routes) + len(s.rules); n > 0 {
		r.log.Info("static addresses, routes and rules added", "addresses", len(s.vips), "routes", len(s.routes), "rules", len(s.rules))
	}
}

func (r *runtime) removeStaticSet(s statics) {
	for _, ru := range s.rules {
		if err := r.vips.RemoveRule(ru); err != nil {
			r.log.Error("static rule not removed", "err", err)
		}
	}
	for _, rt := range s.routes {
		if err := r.vips.RemoveRoute(rt); err != nil {
			r.log.Error("static route not removed", "err", err)
		}
	}
	for _, v := range s.vips {
		if err := r.vips.Remove(v); err != nil {
			r.log.Error("static address not removed", "err", err)
		}
	}
}

// removeStatic deletes every static entry, at stop.
func (r *runtime) removeStatic() {
	s := r.static
	r.static = statics{} // first: our own deletions are not restored
	r.removeStaticSet(s)
}

// reloadStatic deletes the static entries cfg no longer has and adds
// cfg's (those still there are added again: one deleted by hand comes
// back, as with keepalived's reload).
func (r *runtime) reloadStatic(cfg *config.Config) {
	s, err := staticsOf(cfg)
	if err != nil {
		r.log.Error("reload: static entries unchanged", "err", err)
		return
	}
	gone := statics{
		vips:   without(r.static.vips, s.vips, func(a, b vip.VIP) bool { return a.Prefix == b.Prefix && a.Dev == b.Dev }),
		routes: without(r.static.routes, s.routes, func(a, b vip.Route) bool { return a.String() == b.String() }),
		rules:  without(r.static.rules, s.rules, func(a, b vip.Rule) bool { return a.String() == b.String() && a.V6 == b.V6 }),
	}
	r.static = s // first: the deletions of entries gone are not restored
	r.removeStaticSet(gone)
	r.addStaticSet(s)
}

// without is old less the entries in new (by eq).
func without[T any](old, new []T, eq func(a, b T) bool) []T {
	var out []T
	for _, o := range old {
		if !slices.ContainsFunc(new, func(n T) bool { return eq(o, n) }) {
			out = append(out, o)
		}
	}
	return out
}

// staticGone re-adds a tracked static address the kernel reports deleted
// (by hand: our own removals clear r.static first), as keepalived's
// netlink_if_address_filter does.
func (r *runtime) staticGone(g addrGone) {
	for _, v := range r.static.tracked {
		if v.Prefix.Addr() != g.addr || g.dev != "" && v.Dev != g.dev {
			continue
		}
		if ok, _, err := r.vips.Present(v); err == nil && ok {
			continue
		}
		if err := r.vips.Add(v, 0); err != nil {
			r.log.Error("static address deleted, not restored", "vip", v.String(), "err", err)
			continue
		}
		r.log.Warn("static address deleted, restored", "vip", v.String(), "gone_at", g.at.Format(time.RFC3339Nano))
		// A static route through it (its src) went with it (routewatch.go).
		r.restoreMissingRoutes(r.static.tracked, r.static.trackedRoutes, g.at, r.restoreStaticRoute)
	}
}
