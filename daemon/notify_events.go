package daemon

import (
	"fmt"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// keepalived's notifications beyond the state changes (notifyState,
// trackers.go): every one goes through the Notifier, which writes the
// notify FIFOs, feeds GET /v1/events and runs the scripts, in one order.

// notifyPriority notifies a change of in's effective priority
// (notify_priority_changes): MASTER_PRIORITY when it happened while
// master, else BACKUP_PRIORITY, as keepalived's
// send_instance_priority_notifies words it (vrrp_notify.c).
func (r *runtime) notifyPriority(in *instance, from vrrp.State, before uint8) {
	p := in.m.Status().Priority
	if p == before || !in.started || !r.cfg.NotifiesPriority(in.c) {
		return
	}
	st := notify.BackupPriority
	if from == vrrp.Master {
		st = notify.MasterPriority
	}
	r.notifier.Notify(notify.Change{Kind: notify.Instance, Name: in.c.Name, State: st, Priority: int(p)})
}

// notifyLowerPrio notifies that in, master, heard and answered a lower
// priority (keepalived's notify_master_rx_lower_pri and its FIFO line
// MASTER_RX_LOWER_PRI). keepalived notifies every such advert; hactl the
// ones the machine answers, at most one per tenth of the interval.
func (r *runtime) notifyLowerPrio(in *instance) {
	r.notifier.Notify(notify.Change{Kind: notify.Instance, Name: in.c.Name, State: notify.MasterRxLowerPri, Priority: int(in.m.Status().Priority)})
}

// replayStates writes every sync group's and instance's current state to
// the FIFOs and the event stream after a reload, with
// fifo_write_vrrp_states_on_reload (keepalived's vrrp_init_state: groups
// first, then instances); a state that the reload then changes is
// notified as a change after these lines.
func (r *runtime) replayStates(cfg *config.Config) {
	if !cfg.Global.Notify.WriteStatesOnReload {
		return
	}
	for _, g := range cfg.SyncGroups {
		if s, ok := notifyStateOf(r.sync.notified[g.Name]); ok {
			r.notifier.Notify(notify.Change{Kind: notify.Group, Name: g.Name, State: s, Replay: true})
		}
	}
	for _, in := range r.insts {
		if s, ok := notifyStateOf(in.m.State()); ok && in.started {
			r.notifier.Notify(notify.Change{Kind: notify.Instance, Name: in.c.Name, State: s, Priority: int(in.m.Status().Priority), Replay: true})
		}
	}
}

// Events subscribes a GET /v1/events stream to the notifications.
func (b backend) Events() (control.EventStream, error) {
	s, err := b.r.bus.Subscribe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", control.ErrUnavailable, err)
	}
	return s, nil
}
