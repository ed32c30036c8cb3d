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
	burst := r.burst(in, a)
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
	r.extraAnnounce(in, a) // garp_extra_if (vmacs.go)
}

// burst returns a function that sends n announcement rounds (at least one)
// of in's VIPs on schedule a, vrrp_garp_interval (vrrp_gna_interval for
// IPv6) apart, then runs then.
func (r *runtime) burst(in *instance, a *announcement) func(n int, then func()) {
	gap := r.announceGap(in)
	addrs := in.advertAndExcluded()
	return func(n int, then func()) {
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
}

func (r *runtime) announceGap(in *instance) time.Duration {
	if in.c.Family == "inet6" {
		return r.cfg.Global.GNAInterval
	}
	return r.cfg.Global.GARPInterval
}

// reannounce is keepalived's answer to a lower-priority advert heard while
// master (vrrp.c, vrrp_state_master_rx, 2.2.7): garp_lower_prio_repeat
// rounds at once and, with garp_lower_prio_delay, as many again that much
// later (both default to the garp_master_* values; 0 under strict mode).
// The loop calls it only when the machine answered that advert, which
// pkg/vrrp spaces by a tenth of the interval (answerDue), and bounds it
// further: a burst already running is not started again, and at most one
// delayed burst waits, so a flood of lower-priority adverts costs at most
// one burst per spacing and one delayed burst per delay, where keepalived
// queues a burst and a timer for every advert.
func (r *runtime) reannounce(in *instance) {
	g := in.c.GARP
	if g.LowerPrioRepeat <= 0 || !in.holding {
		return
	}
	a := in.lowerPrio
	if a == nil || !a.live() {
		a = &announcement{clock: r.clock}
		in.lowerPrio = a
		in.lowerBurstEnd, in.lowerLaterAt = time.Time{}, time.Time{}
	}
	burst := r.burst(in, a)
	now := r.clock.Now()
	if !now.Before(in.lowerBurstEnd) {
		in.lowerBurstEnd = now.Add(time.Duration(g.LowerPrioRepeat-1)*r.announceGap(in) + time.Nanosecond)
		a.after(0, func() { burst(g.LowerPrioRepeat, nil) })
	}
	if g.LowerPrioDelay > 0 && !now.Before(in.lowerLaterAt) {
		in.lowerLaterAt = now.Add(g.LowerPrioDelay)
		a.after(g.LowerPrioDelay, func() { burst(g.LowerPrioRepeat, nil) })
	}
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
	if in.lowerPrio != nil {
		in.lowerPrio.stop()
		in.lowerPrio = nil
	}
}

func (in *instance) advertAndExcluded() []netip.Addr {
	out := make([]netip.Addr, 0, len(in.vips))
	for _, v := range in.vips {
		out = append(out, v.Prefix.Addr())
	}
	return out
}
