package daemon

import "time"

// keepalived's timing knobs reach the state machine through vrrp.Config
// (newInstance: down_timer_adverts, lower_prio_no_advert,
// higher_prio_send_advert) and, for vrrp_startup_delay, DelayStartup:
// until the delay ends (counted from the daemon's start) no instance
// sends an advert or takes its VIPs; they enter BACKUP at once and their
// Master_Down_Timer runs from the delay's end, as keepalived's
// (vrrp_scheduler.c, vrrp_init_instance_sands). A reload does not start
// the delay again (keepalived: !reload).

// delayStartup applies vrrp_startup_delay to a new instance.
func (r *runtime) delayStartup(in *instance) {
	d := r.cfg.Global.StartupDelay
	if d <= 0 {
		return
	}
	in.m.DelayStartup(r.now() + d)
	if len(r.insts) == 0 { // once, as keepalived logs it
		r.log.Info("delaying startup", "seconds", d.Seconds(), "until", r.clock.Now().Add(d).Format(time.RFC3339Nano))
	}
}
