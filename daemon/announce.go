package daemon

import (
	"net/netip"
	"sync"
	"time"
)

// announce sends the takeover announcements keepalived sends: a burst of
// garp_master_repeat rounds spaced by vrrp_garp_interval, a second burst
// garp_master_delay later, and, with garp_master_refresh, a burst of
// garp_master_refresh_repeat every refresh period while master. Sending
// happens off the loop, on timers (clock.AfterFunc): nothing waits between
// rounds, so a hundred masters cost no goroutine (and no stack) each
// during the seconds until garp_master_delay. Leaving Master stops the
// schedule.
func (r *runtime) announce(in *instance) {
	in.stopAnnouncing()
	a := &announcement{clock: r.clock}
	in.announcing = a
	g := in.c.GARP
	gap := r.cfg.Global.GARPInterval
	if in.c.Family == "inet6" {
		gap = r.cfg.Global.GNAInterval
	}
	addrs := in.advertAndExcluded()
	// burst sends n rounds gap apart, then runs then.
	burst := func(n int, then func()) {
		var round func(i int)
		round = func(i int) {
			if !a.live() {
				return
			}
			if err := in.garp.Announce(addrs); err != nil {
				r.log.Warn("announcement", "instance", in.c.Name, "err", err)
			}
			if i+1 < max(n, 1) {
				a.after(gap, func() { round(i + 1) })
			} else if then != nil {
				then()
			}
		}
		round(0)
	}
	var refresh func()
	refresh = func() {
		if g.MasterRefresh > 0 {
			a.after(g.MasterRefresh, func() { burst(g.MasterRefreshRepeat, refresh) })
		}
	}
	second := func() {
		if g.MasterDelay > 0 {
			a.after(g.MasterDelay, func() { burst(g.MasterRepeat, refresh) })
			return
		}
		refresh()
	}
	a.after(0, func() { burst(g.MasterRepeat, second) })
}

// announcement is one master's schedule of announcement rounds.
type announcement struct {
	clock   clock
	mu      sync.Mutex
	stopped bool
	t       stopper
}

// after runs f in d unless the schedule has stopped.
func (a *announcement) after(d time.Duration, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.stopped {
		a.t = a.clock.AfterFunc(d, f)
	}
}

func (a *announcement) live() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.stopped
}

func (a *announcement) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopped = true
	if a.t != nil {
		a.t.Stop()
	}
}

func (in *instance) stopAnnouncing() {
	if in.announcing != nil {
		in.announcing.stop()
		in.announcing = nil
	}
}

func (in *instance) advertAndExcluded() []netip.Addr {
	out := make([]netip.Addr, 0, len(in.vips))
	for _, v := range in.vips {
		out = append(out, v.Prefix.Addr())
	}
	return out
}
