package config

import "time"

// keepalived's timing knobs (global_parser.c and vrrp_parser.c, 2.2.7):
// vrrp_down_timer_adverts / down_timer_adverts, vrrp_lower_prio_no_advert
// / lower_prio_no_advert, vrrp_higher_prio_send_advert /
// higher_prio_send_advert, and vrrp_min_garp. vrrp_startup_delay is read
// with the other global durations (build_global.go).

// timingDraft is what an instance says, before the global defaults and
// strict mode.
type timingDraft struct {
	downTimer                   *int
	downTimerPos                Pos
	lowerNoAdvert, higherSend   *bool
	lowerNoAdvPos, higherSndPos Pos
}

func (b *builder) globalTimingHandlers(g *GlobalDefs) map[string]handler {
	return map[string]handler{
		"vrrp_down_timer_adverts": func(s *Statement) {
			var n int
			if b.uintInto(s, &n, 1, 100) {
				g.Timing.DownTimerAdverts = n
			}
		},
		"vrrp_lower_prio_no_advert":    func(s *Statement) { b.flag(s, &g.Timing.LowerPrioNoAdvert) },
		"vrrp_higher_prio_send_advert": func(s *Statement) { b.flag(s, &g.Timing.HigherPrioSendAdvert) },
		"vrrp_min_garp": func(s *Statement) {
			var on bool
			if !b.flag(s, &on) || !on {
				return
			}
			// One gratuitous ARP/NA, no repeat, no refresh, no second
			// burst, without overwriting what was set already (keepalived
			// compares with the defaults: vrrp_min_garp_handler).
			gr := &g.GARP
			if gr.MasterRepeat == 5 {
				gr.MasterRepeat = 1
			}
			if gr.MasterRefreshRepeat == 1 {
				gr.MasterRefreshRepeat = 0
			}
			if gr.MasterDelay == 5*time.Second {
				gr.MasterDelay = 0
			}
		},
	}
}

func (b *builder) instanceTimingHandlers(d *instDraft) map[string]handler {
	t := &d.timing
	return map[string]handler{
		"down_timer_adverts": func(s *Statement) {
			var n int
			if b.uintInto(s, &n, 1, 100) {
				t.downTimer, t.downTimerPos = &n, s.Pos
			}
		},
		"lower_prio_no_advert": func(s *Statement) {
			var v bool
			if b.flag(s, &v) {
				t.lowerNoAdvert, t.lowerNoAdvPos = &v, s.Pos
			}
		},
		"higher_prio_send_advert": func(s *Statement) {
			var v bool
			if b.flag(s, &v) {
				t.higherSend, t.higherSndPos = &v, s.Pos
			}
		},
	}
}

// resolveTiming applies the global defaults and strict mode's rules
// (vrrp.c, vrrp_complete_instance): strict mode keeps down_timer_adverts
// at 3, lower_prio_no_advert on and higher_prio_send_advert off, and
// reports a setting that says otherwise.
func (b *builder) resolveTiming(d *instDraft) {
	in, g, t := d.in, b.global.g.Timing, d.timing
	n := g.DownTimerAdverts
	if n == 0 {
		n = 3
	}
	where := d.pos
	if t.downTimer != nil {
		n, where = *t.downTimer, t.downTimerPos
	}
	if n != 3 && in.Strict {
		b.diag.correctf(where, "(%s) down_timer_adverts %d is incompatible with strict mode: keepalived reports it and uses 3, and so does hactl", in.Name, n)
		n = 3
	}
	in.Timing.DownTimerAdverts = n

	switch {
	case t.lowerNoAdvert == nil:
		in.Timing.LowerPrioNoAdvert = in.Strict || g.LowerPrioNoAdvert
	case in.Strict && !*t.lowerNoAdvert:
		b.diag.correctf(t.lowerNoAdvPos, "(%s) strict mode requires lower_prio_no_advert: keepalived reports it and sets it, and so does hactl", in.Name)
		in.Timing.LowerPrioNoAdvert = true
	default:
		in.Timing.LowerPrioNoAdvert = *t.lowerNoAdvert
	}

	switch {
	case t.higherSend == nil:
		in.Timing.HigherPrioSendAdvert = !in.Strict && g.HigherPrioSendAdvert
	case in.Strict && *t.higherSend:
		b.diag.correctf(t.higherSndPos, "(%s) strict mode requires higher_prio_send_advert off: keepalived reports it and clears it, and so does hactl", in.Name)
		in.Timing.HigherPrioSendAdvert = false
	default:
		in.Timing.HigherPrioSendAdvert = *t.higherSend
	}
}
