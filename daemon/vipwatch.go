package daemon

import (
	"net/netip"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/vrrp"
)

// A VIP deleted by hand (ip addr del, a network manager's reset) while we
// are master comes back at once, instead of at the next lease renewal.
// The kernel's address events are the input: the edge (vipwatch_linux.go,
// netlink's RTNLGRP_*_IFADDR in the daemon's namespace) posts every
// deletion to the loop as an addrGone; the loop tests post them from the
// fake kernel (fakekernel_test.go).

// addrGone is an address the kernel reports removed.
type addrGone struct {
	addr netip.Addr
	// dev is the interface it went from; "" when unknown (the interface
	// went too).
	dev string
	// at is when the event was read: the moment it went, within the
	// event's delivery.
	at time.Time
}

// vipGone handles one deletion: a VIP of an instance that is master and
// holds it, and that is not back already, is added again, logged and
// counted. Our own removals (leaving mastership, stopping, leftovers at
// start) come after holding was cleared, or find the VIP back (a
// re-election in between), and do nothing.
func (r *runtime) vipGone(g addrGone) {
	r.staticGone(g) // static_ipaddress (static.go)
	for _, in := range r.insts {
		if !in.holding || in.m.State() != vrrp.Master {
			continue
		}
		for _, v := range in.vips {
			if v.Prefix.Addr() != g.addr || g.dev != "" && v.Dev != g.dev {
				continue
			}
			if ok, _, err := r.vips.Present(v); err == nil && ok {
				continue
			}
			lt, ok := r.vipLease(in)
			if !ok {
				continue // guarded, and too close to the deadline: the gate removes them
			}
			err := r.vips.Add(v, lt)
			in.counters.VIPsRestored++
			restored, gone := r.clock.Now(), g.at
			in.lastVIPDeleted = &gone
			if err != nil {
				r.log.Error("VIP deleted while master, not restored", "instance", in.c.Name, "vip", v.String(), "interface", v.Dev,
					"gone_at", g.at.Format(time.RFC3339Nano), "err", err)
				continue
			}
			r.log.Warn("VIP deleted while master, restored", "instance", in.c.Name, "vip", v.String(), "interface", v.Dev,
				"gone_at", g.at.Format(time.RFC3339Nano), "restored_after", restored.Sub(g.at))
			// A route through the VIP (its src) went with it (routewatch.go).
			r.restoreMissingRoutes(in.vips, in.routes, g.at, func(rt vip.Route, at time.Time) { r.restoreRoute(in, rt, at) })
			r.writeState()
		}
	}
}

// checkHeldVIPs restores every held VIP that is missing: after the address
// events were lost (the kernel's buffer overflowed) and resubscribed.
func (r *runtime) checkHeldVIPs(at time.Time) {
	for _, in := range r.insts {
		if !in.holding || in.m.State() != vrrp.Master {
			continue
		}
		for _, v := range in.vips {
			if ok, _, err := r.vips.Present(v); err == nil && !ok {
				r.vipGone(addrGone{addr: v.Prefix.Addr(), dev: v.Dev, at: at})
			}
		}
	}
}
