//go:build linux

package daemon

import (
	"net/netip"
	"time"
)

// announce sends the takeover announcements keepalived sends: a burst of
// garp_master_repeat rounds spaced by vrrp_garp_interval, a second burst
// garp_master_delay later, and, with garp_master_refresh, a burst of
// garp_master_refresh_repeat every refresh period while master. Sending
// happens off the loop; leaving Master stops the schedule.
func (r *runtime) announce(in *instance) {
	in.stopAnnouncing()
	stop := make(chan struct{})
	in.announceStop = stop
	g := in.c.GARP
	gap := r.cfg.Global.GARPInterval
	if in.c.Family == "inet6" {
		gap = r.cfg.Global.GNAInterval
	}
	burst := func(n int) bool {
		for i := range max(n, 1) {
			if i > 0 && !wait(stop, gap) {
				return false
			}
			if err := in.garp.Announce(in.advertAndExcluded()); err != nil {
				r.log.Warn("announcement", "instance", in.c.Name, "err", err)
			}
		}
		return true
	}
	go func() {
		if !burst(g.MasterRepeat) {
			return
		}
		if g.MasterDelay > 0 && (!wait(stop, g.MasterDelay) || !burst(g.MasterRepeat)) {
			return
		}
		for g.MasterRefresh > 0 && wait(stop, g.MasterRefresh) && burst(g.MasterRefreshRepeat) {
		}
	}()
}

func (in *instance) stopAnnouncing() {
	if in.announceStop != nil {
		close(in.announceStop)
		in.announceStop = nil
	}
}

func (in *instance) advertAndExcluded() []netip.Addr {
	out := make([]netip.Addr, 0, len(in.vips))
	for _, v := range in.vips {
		out = append(out, v.Prefix.Addr())
	}
	return out
}

// wait sleeps d unless stop closes first; it reports whether to go on.
func wait(stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}
