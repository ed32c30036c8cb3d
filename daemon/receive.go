package daemon

import (
	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/vrrp"
)

// receive validates a packet and hands it to its instance.
func (r *runtime) receive(s *sock, p vrrpsock.Packet) {
	a := &r.scratch.advert
	if err := vrrp.Decode(a, p.Payload, vrrp.PacketContext{Src: p.Src, Dst: p.Dst, TTL: p.TTL}); err != nil {
		r.drop(nil, err, p)
		return
	}
	in := s.byVRID[a.VRID]
	if in == nil {
		s.otherVRID++ // another router's VRID on our segment: normal, counted only
		return
	}
	src := p.Src.Unmap()
	if in.peers != nil && !in.peers[src] {
		r.countDrop(in, "unknown_peer")
		r.log.Debug("advert from an unlisted unicast source dropped", "instance", in.c.Name, "src", p.Src)
		return
	}
	var seq uint32
	if in.ah != nil {
		var err error
		if seq, err = in.ah.verify(p); err != nil {
			r.drop(in, err, p)
			return
		}
	}
	// Authenticate first: only an advert that passes the instance's checks
	// (or fails on what comes after authentication) is tracked as a
	// conflict; a wrong password is a drop and nothing more.
	err := in.expect.Check(a, vrrp.PacketContext{Src: p.Src, Dst: p.Dst, TTL: p.TTL})
	if err == nil || conflictEligible(in, err) {
		r.checkConflict(in, src, a)
	}
	if err != nil {
		r.drop(in, err, p)
		return
	}
	in.counters.AdvertsReceived++
	if in.ah != nil {
		in.ah.heard(in, src, a, seq)
	}
	master, heard := in.m.State() == vrrp.Master, in.m.LowerHeard()
	prio := a.Priority
	r.step(in, vrrp.AdvertReceived(p.Src, a))
	// A master that answered a lower priority (not a resignation)
	// re-announces its VIPs, and so does every member of its sync group
	// that holds its own, as keepalived does (announce.go).
	if master && prio != vrrp.PriorityStop && in.m.LowerHeard() != heard && in.m.State() == vrrp.Master {
		r.notifyLowerPrio(in)
		r.reannounce(in)
		for _, o := range r.members(in) {
			r.reannounce(o)
		}
	}
}

func (r *runtime) drop(in *instance, err error, p vrrpsock.Packet) {
	reason := "malformed"
	if rs, ok := vrrp.ReasonOf(err); ok {
		reason = rs.Name()
	}
	r.countDrop(in, reason)
	r.log.Debug("advert dropped", "src", p.Src, "reason", reason, "err", err)
}

func (r *runtime) countDrop(in *instance, reason string) {
	r.drops[reason]++
	if in != nil {
		in.counters.Dropped++
		r.metrics.Drop(in.c.Name, reason)
	}
}
