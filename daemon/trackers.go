package daemon

import (
	"context"

	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// startTrackers starts the tracker monitor and the notifier for cfg.
func (r *runtime) startTrackers(ctx context.Context, cfg *config.Config, previous map[track.Key]track.State) error {
	so := scripts.FromGlobal(cfg.Global, r.log)
	so.Observe = func(label string, res scripts.Result) {
		kind, name := metrics.ScriptLabel(label)
		r.metrics.ScriptRun(kind, name, res.OK(), res.Duration)
	}
	r.runner = scripts.New(so)
	mon, err := track.New(cfg, track.Options{Logger: r.log, Runner: r.runner, Reload: previous != nil, Previous: previous, Interfaces: r.vmacList})
	if err != nil {
		return err
	}
	if err := mon.Start(ctx); err != nil {
		return err
	}
	r.mon = mon
	if r.notifier == nil {
		if r.notifier, err = notify.New(notify.Options{Logger: r.log, Runner: r.runner, Bus: r.bus, Now: r.clock.Now}); err != nil {
			return err
		}
	}
	// A notify script (or FIFO) that cannot run is logged and skipped;
	// the daemon runs without it rather than not at all.
	if err := r.notifier.Apply(cfg); err != nil {
		r.log.Error("notify scripts", "err", err)
	}
	for _, in := range r.insts {
		in.refs = append(track.InstanceRefs(cfg, in.c), r.vmacRefs(in.c)...)
	}
	return nil
}

// trackersChanged re-evaluates every instance after tracker events.
func (r *runtime) trackersChanged() {
	evs := r.mon.Drain()
	for _, ev := range evs {
		r.log.Info("tracker", "tracker", ev.Key.String(), "status", ev.State.Status.String(), "detail", ev.State.Detail)
	}
	for _, in := range r.insts {
		r.feedTrackers(in)
	}
	for _, ev := range evs { // after the fault, as keepalived: a VMAC deleted under us is made again (vmacs.go)
		r.vmacLinkEvent(ev)
	}
}

// feedTrackers gives the state machine the instance's tracker sum. The
// configured priority may differ from the one the machine was built with
// (a reload changed it); the difference travels as part of the weight.
// An instance whose unweighted scripts have not all reported yet stays in
// INIT, as in keepalived; it starts once they have.
func (r *runtime) feedTrackers(in *instance) {
	eff := r.mon.Effective(in.c.Priority, in.refs)
	in.tracker.trackers = in.tracker.trackers[:0]
	for _, c := range eff.Trackers {
		in.tracker.trackers = append(in.tracker.trackers, api.Tracker{Name: c.Key.Name, Kind: kindName(c.Key.Kind), OK: !c.Failing, Weight: c.Delta})
	}
	weight := eff.Priority - int(in.m.Config().Priority)
	// A config fault (unicast_fault_no_peer without peers) is the
	// instance's own fault for good, as keepalived's num_config_faults.
	// The etcd guard's (no lease, key lost while master) is its own too,
	// while it lasts (guard.go).
	own := eff.Fault || in.c.ConfigFault != ""
	if in.gd != nil {
		in.gd.fault = r.guardFault(in)
		own = own || in.gd.fault
		if t, ok := guardTracker(in); ok {
			in.tracker.trackers = append(in.tracker.trackers, t)
		}
	}
	ownChanged := own != in.tracker.ownFault
	in.tracker.ownFault = own
	fault := own || r.groupFault(in)
	changed := weight != in.tracker.weight || fault != in.tracker.fault
	in.tracker.weight, in.tracker.fault = weight, fault
	if ownChanged && in.started {
		defer r.refeedGroup(in)
	}
	if !in.started {
		if eff.Pending || guardPending(in) {
			return
		}
		in.started = true
		in.since = r.clock.Now()
		if in.c.ConfigFault != "" {
			r.log.Warn("cannot use unicast without any peers: going to fault state", "instance", in.c.Name, "reason", in.c.ConfigFault)
		}
		r.step(in, vrrp.TrackersChanged(weight, fault))
		r.step(in, vrrp.Startup())
		if in.m.State() != vrrp.Master {
			r.removeLeftovers(in)
		}
		return
	}
	if changed {
		if len(eff.Failing) > 0 {
			r.log.Info("trackers", "instance", in.c.Name, "effective_priority", eff.Priority, "fault", fault, "failing", eff.Failing)
		} else if in.gd != nil && in.gd.fault {
			r.log.Warn("guard fault: no etcd lease, or the key was lost while master", "instance", in.c.Name, "guard", in.gd.run.cfg.Name)
		} else if fault && !eff.Fault {
			r.log.Info("sync group: fault of another member", "instance", in.c.Name, "group", in.c.SyncGroup)
		}
		from, before := in.m.State(), in.m.Status().Priority
		r.step(in, vrrp.TrackersChanged(weight, fault))
		r.notifyPriority(in, from, before)
	}
}

// refeedGroup re-evaluates the other members after in's own fault changed.
func (r *runtime) refeedGroup(in *instance) {
	for _, o := range r.members(in) {
		if o.started {
			r.feedTrackers(o)
		}
	}
}

func kindName(k track.Kind) string {
	switch k {
	case track.KindScript:
		return "script"
	case track.KindInterface:
		return "interface"
	case track.KindFile:
		return "file"
	case track.KindProcess:
		return "process"
	}
	return "unknown"
}

// notifyState hands a transition to the notifier; it never blocks.
func (r *runtime) notifyState(in *instance, to vrrp.State) {
	if s, ok := notifyStateOf(to); ok {
		r.notifier.Notify(notify.Change{Kind: notify.Instance, Name: in.c.Name, State: s, Priority: int(in.m.Status().Priority)})
	}
}

// notifyStateOf is the notify state of a protocol state; Initialize has
// none.
func notifyStateOf(s vrrp.State) (notify.State, bool) {
	switch s {
	case vrrp.Master:
		return notify.Master, true
	case vrrp.Backup:
		return notify.Backup, true
	case vrrp.Fault:
		return notify.Fault, true
	case vrrp.Stopped:
		return notify.Stop, true
	}
	return "", false
}
