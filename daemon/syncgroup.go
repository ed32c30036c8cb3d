package daemon

import (
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/pkg/vrrp"
)

// Sync groups (vrrp_sync_group), as keepalived runs them: the members
// change state together, and a fault in one faults all.
//
//   - a member that becomes MASTER takes every BACKUP member with it;
//   - a MASTER member that goes back to BACKUP takes every master member
//     with it;
//   - a member in FAULT (its own trackers) puts every member in FAULT,
//     until no member has a fault of its own;
//   - the group's notify scripts run when all members share a new state.

// syncState is the loop's sync-group propagation.
type syncState struct {
	following bool                  // guards syncFollow against recursion
	notified  map[string]vrrp.State // each group's last notified state
}

// members lists the instances of in's sync group other than in.
func (r *runtime) members(in *instance) []*instance {
	if in.c.SyncGroup == "" {
		return nil
	}
	var out []*instance
	for _, o := range r.insts {
		if o != in && o.c.SyncGroup == in.c.SyncGroup {
			out = append(out, o)
		}
	}
	return out
}

// groupFault reports whether another member of in's group has a fault of
// its own.
func (r *runtime) groupFault(in *instance) bool {
	for _, o := range r.members(in) {
		if o.tracker.ownFault {
			return true
		}
	}
	return false
}

// syncFollow makes the other members follow in's transition.
func (r *runtime) syncFollow(in *instance, from, to vrrp.State) {
	if in.c.SyncGroup == "" || r.sync.following {
		return
	}
	r.sync.following = true
	defer func() { r.sync.following = false }()
	for _, o := range r.members(in) {
		switch {
		case to == vrrp.Master && o.m.State() == vrrp.Backup:
			r.log.Info("sync group: following to MASTER", "group", in.c.SyncGroup, "instance", o.c.Name, "because", in.c.Name)
			r.step(o, vrrp.SyncMaster())
		case to == vrrp.Backup && from == vrrp.Master && o.m.State() == vrrp.Master:
			r.log.Info("sync group: following to BACKUP", "group", in.c.SyncGroup, "instance", o.c.Name, "because", in.c.Name)
			r.step(o, vrrp.SyncBackup())
		}
	}
	r.notifyGroup(in)
}

// notifyGroup runs the group's notify scripts once all members share a
// state that differs from the last one notified.
func (r *runtime) notifyGroup(in *instance) {
	st := in.m.State()
	for _, o := range r.members(in) {
		if o.m.State() != st {
			return
		}
	}
	if r.sync.notified[in.c.SyncGroup] == st {
		return
	}
	r.sync.notified[in.c.SyncGroup] = st
	if s, ok := notifyStateOf(st); ok {
		r.notifier.Notify(notify.Change{Kind: notify.Group, Name: in.c.SyncGroup, State: s})
	}
}
