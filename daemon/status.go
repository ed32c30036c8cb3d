package daemon

import (
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
)

// status copies the loop's state for the API, the metrics and the state
// file. It runs on the loop, so it only copies (each instance's conflicts
// are capped at conflictCap); the caller sorts, off the loop (sortStatus).
func (r *runtime) status() api.Status {
	now := r.clock.Now()
	st := api.Status{Daemon: r.daemon, Instances: make([]api.Instance, 0, len(r.insts)), Drops: make(map[string]uint64, len(r.drops)),
		Sockets: make([]api.Socket, 0, len(r.socks))}
	for k, v := range r.drops {
		st.Drops[k] = v
	}
	for _, in := range r.insts {
		st.Instances = append(st.Instances, in.status(now))
	}
	for _, s := range r.socks {
		fam := string(config.FamilyIPv4)
		if s.family == 6 {
			fam = string(config.FamilyIPv6)
		}
		st.Sockets = append(st.Sockets, api.Socket{Interface: s.key.ifname, Family: fam, OtherVRID: s.otherVRID, KernelDrops: s.queueDrops.Load()})
	}
	st.Guards = r.guardsStatus(now)
	return st
}
