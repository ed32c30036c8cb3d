package vrrp

import (
	"net/netip"
)

// onStartup implements RFC 5798 §6.4.1 (Initialize): the owner becomes
// master at once, everyone else waits Master_Down_Interval as backup. A
// faulted instance starts in Fault (keepalived), a promoted one as master.
func (in *Instance) onStartup() {
	if in.state != Initialize && in.state != Stopped {
		return
	}
	in.ownerYield = false
	in.enterRunning()
}

// enterRunning is shared by startup and leaving Fault.
func (in *Instance) enterRunning() {
	in.masterAdverInt = in.cfg.Interval
	in.masterAddr, in.masterPrio = netip.Addr{}, 0
	in.preemptArmed = false
	switch {
	case in.fault:
		in.setState(Fault)
	case in.priority() == PriorityOwner && in.delaying():
		// keepalived: the owner waits for the delay's end as a backup
		// whose timer is (almost) zero.
		in.stop(AdverTimer)
		in.armDown(0)
		in.setState(Backup)
	case in.priority() == PriorityOwner:
		in.becomeMaster(false)
	default:
		in.enterBackup()
	}
}

// enterBackup: RFC 5798 §6.4.1 second branch, and the tail of §6.4.3 where
// a master steps down: Master_Down_Timer = Master_Down_Interval.
func (in *Instance) enterBackup() {
	in.stop(AdverTimer)
	in.preemptArmed = false
	in.armDown(in.masterDownInterval())
	in.setState(Backup)
}

// becomeMaster: RFC 5798 §6.4.1 owner branch and §6.4.2 Master_Down_Timer
// expiry: send an advert, take the VIPs, announce them, arm Adver_Timer.
// The advert goes first so the old master can drop the VIPs before our
// announcements arrive (keepalived orders it the same way). displacing
// says a live master is being replaced: with a handover hold the VIPs then
// wait for its release (see Instance).
func (in *Instance) becomeMaster(displacing bool) {
	in.stop(MasterDownTimer)
	in.sendAdvert(in.priority())
	prev := in.masterAddr
	if displacing && in.cfg.Handover > 0 && prev.IsValid() && prev != in.cfg.Primary {
		in.pending, in.holdFrom = true, prev
		in.arm(HoldTimer, in.cfg.Handover)
	} else {
		in.takeVIPs()
	}
	in.arm(AdverTimer, in.cfg.Interval)
	in.masterAddr, in.masterPrio = in.cfg.Primary, in.priority()
	in.masterAdverInt = in.cfg.Interval
	in.setState(Master)
}

// takeVIPs adds and announces the VIPs, ending a handover hold.
func (in *Instance) takeVIPs() {
	in.endHold()
	in.emit(Action{Kind: ActionAddVIPs, Accept: in.accept()})
	in.emit(Action{Kind: ActionAnnounce})
}

// endHold ends a handover hold, if one runs.
func (in *Instance) endHold() {
	if in.pending {
		in.pending, in.holdFrom = false, netip.Addr{}
		in.stop(HoldTimer)
	}
}

// leaveMaster drops the VIPs; prio0 sends the priority-0 advert first
// (RFC 5798 §6.4.3 Shutdown). A valid releaseTo sends a priority 0 to that
// router alone once the VIPs are gone: a yielding master's signal to a
// successor holding for it. Unicast, so that no other backup takes it for
// a resignation (a backup that heard us last would start its Skew_Time).
func (in *Instance) leaveMaster(prio0 bool, releaseTo netip.Addr) {
	in.stop(AdverTimer)
	in.endHold()
	if prio0 {
		in.sendAdvert(PriorityStop)
	}
	in.emit(Action{Kind: ActionRemoveVIPs})
	if releaseTo.IsValid() && !prio0 {
		in.emit(Action{Kind: ActionSendAdvert, Priority: PriorityStop, Dst: releaseTo})
	}
}

// onShutdown: RFC 5798 §6.4.2/§6.4.3 Shutdown events.
func (in *Instance) onShutdown() {
	switch in.state {
	case Master:
		in.leaveMaster(true, netip.Addr{})
	case Backup:
		in.stop(MasterDownTimer)
	}
	in.setState(Stopped)
}

// onTimer dispatches a current (non-stale) timer expiry.
func (in *Instance) onTimer(k TimerKind, gen uint64) {
	if k != AdverTimer && k != MasterDownTimer && k != HoldTimer || gen == 0 || in.timerGen[k] != gen {
		return // stale or unknown: harmless by design
	}
	in.timerGen[k] = 0
	switch {
	case k == AdverTimer && in.state == Master:
		// RFC 5798 §6.4.3: Adver_Timer fired: send, reset.
		in.sendAdvert(in.priority())
		in.arm(AdverTimer, in.cfg.Interval)
	case k == MasterDownTimer && in.state == Backup:
		// RFC 5798 §6.4.2: Master_Down_Timer fired: become master. A
		// yielding owner has heard no other 255 for a whole interval.
		// When the master we follow advertised less than us, it is alive
		// and being preempted: a handover; otherwise it fell silent.
		in.ownerYield = false
		in.becomeMaster(in.masterPrio != 0 && in.masterPrio < in.priority())
	case k == HoldTimer && in.state == Master && in.pending:
		// The displaced master's release did not arrive (lost, or a peer
		// that does not send it): take the VIPs anyway.
		in.takeVIPs()
	}
}

// onAdvert dispatches a received advertisement.
func (in *Instance) onAdvert(src netip.Addr, a *Advertisement) {
	src = src.Unmap()
	if a == nil || a.VRID != in.cfg.VRID || a.Version != in.cfg.Version || src == in.cfg.Primary {
		return
	}
	switch in.state {
	case Backup:
		in.backupRx(src, a)
	case Master:
		in.masterRx(src, a)
	}
}

// backupRx implements RFC 5798 §6.4.2 "If an ADVERTISEMENT is received".
func (in *Instance) backupRx(src netip.Addr, a *Advertisement) {
	if a.Priority == PriorityStop {
		// The master resigned: wait only Skew_Time. A priority 0 from a
		// router other than the master we follow is stale (a delayed or
		// duplicated resignation arriving after the successor spoke) and
		// acting on it would make us a needless second master.
		if !in.masterAddr.IsValid() || src == in.masterAddr {
			in.armDown(in.skew())
		}
		return
	}
	if in.ownerYield && a.Priority < PriorityOwner {
		in.ownerYield = false // the other 255 is gone
	}
	mine := in.priority()
	lower := a.Priority < mine
	if lower && !in.override && in.cfg.PreemptDelay > 0 && !in.preemptArmed {
		in.preemptArmed, in.preemptAt = true, in.now+in.cfg.PreemptDelay
	}
	delaying := in.preemptArmed && in.now < in.preemptAt
	if !lower {
		in.preemptArmed = false
	}
	in.masterAddr, in.masterPrio = src, a.Priority
	if lower && !in.cfg.NoPreempt && !delaying || in.override {
		return // Preempt_Mode and a lower priority: discard; our timer runs out.
	}
	if in.cfg.Version == Version3 {
		in.masterAdverInt = a.Interval // adopt the master's interval
	}
	in.armDown(in.masterDownInterval())
}

// masterRx implements RFC 5798 §6.4.3 "If an ADVERTISEMENT is received".
func (in *Instance) masterRx(src netip.Addr, a *Advertisement) {
	if a.Priority == PriorityStop {
		// Another router resigned: answer at once so backups see us. If
		// it is the master we displaced, its VIPs are gone: take them.
		release := in.pending && src == in.holdFrom
		if release {
			in.takeVIPs()
		}
		if release || in.answerDue() { // the release is always answered
			in.sendAdvert(in.priority())
			in.arm(AdverTimer, in.cfg.Interval)
		}
		return
	}
	if !in.yieldsTo(src, a.Priority) {
		// keepalived: answer a lower-priority master at once (RFC: discard),
		// unless lower_prio_no_advert. A promoted master hearing another
		// 255 does not answer: two overrides would otherwise answer each
		// other without end.
		if (a.Priority < in.priority() || !in.override) && in.answerDue() {
			in.lowerHeard++
			if !in.cfg.LowerPrioNoAdvert {
				in.sendAdvert(in.priority())
			}
		}
		return
	}
	if in.cfg.HigherPrioSendAdvert {
		// keepalived's higher_prio_send_advert: one advert of ours
		// before stepping down (vrrp.c, vrrp_state_master_rx).
		in.sendAdvert(in.priority())
	}
	if in.cfg.Version == Version3 {
		in.masterAdverInt = a.Interval
	}
	var releaseTo netip.Addr
	if in.cfg.Handover > 0 {
		releaseTo = src
	}
	in.leaveMaster(false, releaseTo)
	in.enterBackup()
	in.masterAddr, in.masterPrio = src, a.Priority
}

// answerDue spaces the master's immediate answers (to a lower priority or
// a resignation) by a tenth of the interval. keepalived answers every
// such advert, so a flood of them from the segment, a random source each,
// made as many adverts again on the wire; one answer per spacing still
// answers every real router, which sends once per interval.
func (in *Instance) answerDue() bool {
	if in.answered && in.now-in.lastAnswer < in.cfg.Interval/10 {
		return false
	}
	in.answered, in.lastAnswer = true, in.now
	return true
}

// yieldsTo is the election of RFC 5798 §6.4.3: the higher priority wins,
// then the higher primary address. A promoted instance never yields; an
// owner yields to any other 255 (see Instance).
func (in *Instance) yieldsTo(src netip.Addr, prio uint8) bool {
	if in.override {
		return false
	}
	mine := in.priority()
	if prio == PriorityOwner && mine == PriorityOwner {
		in.ownerYield = true
		return true
	}
	return prio > mine || prio == mine && src.Compare(in.cfg.Primary) > 0
}

// onTrack applies a tracker update: fault transitions and priority changes.
func (in *Instance) onTrack(weight int, fault bool) {
	oldPrio, wasFault := in.priority(), in.fault
	in.weight, in.fault = weight, fault
	switch {
	case fault && !wasFault:
		switch in.state {
		case Master:
			in.leaveMaster(true, netip.Addr{})
			in.setState(Fault)
		case Backup:
			in.stop(MasterDownTimer)
			in.setState(Fault)
		}
	case !fault && wasFault && in.state == Fault:
		in.enterRunning()
	case in.state == Master && in.priority() != oldPrio:
		in.sendAdvert(in.priority())
		in.arm(AdverTimer, in.cfg.Interval)
		in.masterPrio = in.priority()
	}
}

// onPromote sets or clears the sticky override.
func (in *Instance) onPromote(on bool) {
	if in.override == on {
		return
	}
	in.override = on
	switch in.state {
	case Backup:
		switch {
		case on && in.delaying():
			in.armDown(0) // master once the startup delay ends
		case on:
			in.becomeMaster(true)
		}
	case Master:
		in.sendAdvert(in.priority())
		in.arm(AdverTimer, in.cfg.Interval)
		in.masterPrio = in.priority()
	}
}
