package daemon

import (
	"net/netip"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
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
	if r.vmacDuplicate(s, in, src) { // heard on the base interface too (vmacs.go)
		return
	}
	if in.peers != nil && !r.unicastSource(in, src, p.TTL) {
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
	r.scratch.addrs = a.AppendAddrs(r.scratch.addrs[:0])
	// keepalived's address check (advertAddrsDrop) drops what passed
	// the rest; the conflict is recorded and logged all the same.
	addrDrop := err == nil && advertAddrsDrop(in.m.State(), in.c.SkipCheckAdvAddr, in.m.Status().MasterAddr, src, in.advert, r.scratch.addrs)
	if err == nil || conflictEligible(in, err) {
		r.checkConflict(in, src, a, addrDrop)
	}
	if err != nil {
		r.drop(in, err, p)
		return
	}
	if addrDrop {
		r.countDrop(in, dropAddrList)
		r.log.Debug("advert dropped: its addresses are not the instance's (keepalived's address check)", "instance", in.c.Name, "src", src,
			"state", apiState(in.m.State()), "skip_check_adv_addr", in.c.SkipCheckAdvAddr)
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

// dropAddrList is the drop reason of keepalived's address check
// (keepalived counts these in its addr_list_err).
const dropAddrList = "addr_list"

// advertAddrsDrop is keepalived 2.2.7's address check of an advert that
// passed every other (vrrp.c vrrp_check_packet with check_vip_addr): the
// advert must carry as many addresses as the instance has VIPs, each of
// them among its own, or it is dropped. keepalived makes the check in
// BACKUP and MASTER (it handles no advert in the other states): always
// in MASTER, and in BACKUP unless skip_check_adv_addr is set and the
// advert comes from the master it follows (vrrp_state_backup), so that
// a new master, or another router, is still checked.
func advertAddrsDrop(st vrrp.State, skip bool, master, src netip.Addr, ours, theirs []netip.Addr) bool {
	switch st {
	case vrrp.Backup:
		if skip && master.IsValid() && master.Unmap() == src.Unmap() {
			return false
		}
	case vrrp.Master:
	default:
		return false
	}
	return len(theirs) != len(ours) || !watch.Within(ours, theirs)
}

// peerTTL is a unicast peer's accepted TTL / hop limit range (min_ttl,
// max_ttl; 0 to 255 unless configured).
type peerTTL struct{ min, max int }

// unicastSource applies keepalived's check_unicast_src to an advert of a
// unicast instance: its source must be a unicast_peer ("unknown_peer"),
// and its TTL within that peer's min_ttl/max_ttl ("ttl_range"; an unknown
// TTL passes, as in keepalived). keepalived 2.2.7 makes both checks only
// with check_unicast_src (or vrrp_check_unicast_src) and otherwise accepts
// unicast adverts from anyone; hactl makes them always, on purpose: a
// unicast advert is routable and its TTL is not otherwise checked, so
// without them any host that can route a packet here could make the
// instance yield (docs/security.md). They come before authentication,
// so that a stranger's packet costs no HMAC.
func (r *runtime) unicastSource(in *instance, src netip.Addr, ttl int) bool {
	peer, ok := in.peers[src]
	if !ok {
		r.countDrop(in, "unknown_peer")
		r.log.Debug("advert from an unlisted unicast source dropped", "instance", in.c.Name, "src", src)
		return false
	}
	if ttl >= 0 && (ttl < peer.min || ttl > peer.max) {
		r.countDrop(in, "ttl_range")
		r.log.Debug("unicast advert with a TTL out of the peer's range dropped", "instance", in.c.Name, "src", src,
			"ttl", ttl, "min_ttl", peer.min, "max_ttl", peer.max)
		return false
	}
	return true
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
