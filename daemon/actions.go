package daemon

import (
	"net/netip"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/vrrp"
)

// step feeds one event to an instance and performs its actions.
func (r *runtime) step(in *instance, ev vrrp.Event) {
	acts := in.m.Step(r.now(), ev)
	if in.ah != nil {
		in.ah.stepped(acts)
	}
	if in.gd != nil { // the etcd guard (guard.go)
		r.releaseBeforeLeaving(in, acts)
	}
	for _, a := range acts {
		r.perform(in, a)
	}
	if in.gd != nil {
		in.gd.removedEarly = false
		r.gateGroup(in)
	}
}

func (r *runtime) perform(in *instance, a vrrp.Action) {
	switch a.Kind {
	case vrrp.ActionSendAdvert:
		if r.sendAdvert(in, a.Priority, a.Dst) {
			r.renewLeases(in)
		}
	case vrrp.ActionAddVIPs:
		if in.gd != nil { // guarded: the VIPs wait for the key (gate)
			in.gd.want, in.gd.accept = true, a.Accept
			return
		}
		r.firewallAdd(in, a.Accept) // before the VIPs: nft runs off the loop
		r.addVIPs(in, in.lease)
	case vrrp.ActionRemoveVIPs:
		if in.gd != nil {
			in.gd.want = false
			if in.gd.removedEarly {
				return
			}
		}
		r.removeVIPs(in)
	case vrrp.ActionAnnounce:
		if in.gd != nil && !in.holding {
			return // gate announces when it adds them
		}
		r.announce(in)
	case vrrp.ActionStateChange:
		r.stateChanged(in, a.From, a.To)
	case vrrp.ActionArmTimer:
		r.arm(in, a.Timer, a.At, a.Gen)
	case vrrp.ActionStopTimer:
		r.disarm(in.timers[a.Timer])
	}
}

// sendAdvert sends an advert to the instance's destinations, or to only
// when it is valid (a handover release, see vrrp.Config.Handover). It
// reports whether the advert could be encoded (whether or not a send
// failed): only then does perform go on to renewLeases.
func (r *runtime) sendAdvert(in *instance, prio uint8, only netip.Addr) bool {
	adv := vrrp.Advertisement{Version: vrrp.Version(in.c.Version), VRID: uint8(in.c.VRID), Priority: prio, Interval: in.c.AdvertInt,
		AuthType: in.expect.AuthType}
	if adv.AuthType == vrrp.AuthSimple {
		adv.AuthData = in.expect.Password
	}
	if err := adv.SetAddrs(in.advert...); err != nil {
		r.log.Error("advert", "instance", in.c.Name, "err", err)
		return false
	}
	dsts := in.dsts
	if only.IsValid() {
		r.scratch.onlyDst[0] = only
		dsts = r.scratch.onlyDst[:]
	}
	if in.ah != nil {
		in.ah.round()
	}
	for _, dst := range dsts {
		b, err := adv.Append(r.scratch.out[:0], in.src, dst)
		if err != nil {
			r.log.Error("advert encode", "instance", in.c.Name, "err", err)
			return false
		}
		r.scratch.out = b
		if in.ah != nil { // the whole IPv4 packet around the message
			if b, err = in.ah.seal(b, in.src, dst); err != nil {
				r.log.Error("advert encode", "instance", in.c.Name, "err", err)
				return false
			}
		}
		if err := r.write(in, b, dst); err != nil {
			r.log.Warn("advert send", "instance", in.c.Name, "dst", dst, "err", err)
			continue
		}
		in.counters.AdvertsSent++
	}
	return true
}

// ttlConn is an advertConn that can also send with a given TTL
// (*vrrpsock.Conn): unicast_ttl.
type ttlConn interface {
	WriteToTTL(payload []byte, src, dst netip.Addr, ttl int) error
}

// write sends one advert to dst, with the instance's unicast_ttl when it
// has one (keepalived: vrrp_build_ip4's ip->ttl, and the IPv6 hop limit
// for unicast).
func (r *runtime) write(in *instance, b []byte, dst netip.Addr) error {
	if t := in.c.UnicastTTL; t != nil && in.c.Unicast {
		if c, ok := in.sock.conn.(ttlConn); ok {
			return c.WriteToTTL(b, in.src, dst, *t)
		}
	}
	return in.sock.conn.WriteTo(b, in.src, dst)
}

// renewLeases is the step after each advert a master sends: it renews
// the VIP leases once half the lease has passed since the last renewal.
// Tying it to the adverts is the point: a daemon that stops advertising
// (killed, frozen) also stops renewing, and the kernel drops the VIPs
// when the lease runs out.
func (r *runtime) renewLeases(in *instance) {
	if in.holding && in.lease > 0 && r.clock.Now().Sub(in.lastRefresh) >= time.Duration(in.lease)/2 {
		r.refreshVIPs(in)
	}
}

// addVIPs adds in's VIPs, routes and rules; lease is the VIPs' kernel
// lifetime (in.lease, or bounded by the guard's deadline).
func (r *runtime) addVIPs(in *instance, lease vip.Lifetime) {
	for _, v := range in.vips {
		if err := r.vips.Add(v, lease); err != nil {
			r.log.Error("VIP not added", "instance", in.c.Name, "err", err)
		}
	}
	for _, rt := range in.routes {
		if err := r.vips.AddRoute(rt); err != nil {
			r.log.Error("virtual route not added", "instance", in.c.Name, "err", err)
		}
	}
	for _, ru := range in.rules {
		if err := r.vips.AddRule(ru); err != nil {
			r.log.Error("virtual rule not added", "instance", in.c.Name, "err", err)
		}
	}
	in.holding, in.lastRefresh = true, r.clock.Now()
	r.log.Info("VIPs added", "instance", in.c.Name, "vips", len(in.vips), "lease", time.Duration(lease))
}

// refreshVIPs renews the VIPs' lifetimes (vipLease: a guarded instance's
// never beyond its deadline, and not at all under a second before it).
func (r *runtime) refreshVIPs(in *instance) {
	if lt, ok := r.vipLease(in); ok {
		r.refreshVIPsWith(in, lt)
	}
}

func (r *runtime) refreshVIPsWith(in *instance, lease vip.Lifetime) {
	for _, v := range in.vips {
		if err := r.vips.Refresh(v, lease); err != nil {
			r.log.Error("VIP lease not renewed", "instance", in.c.Name, "err", err)
		}
	}
	in.lastRefresh = r.clock.Now()
	r.metrics.LeaseRefresh(in.c.Name)
}

func (r *runtime) removeVIPs(in *instance) {
	// keepalived's order (vrrp_restore_interface): rules, routes, VIPs.
	for _, ru := range in.rules {
		if err := r.vips.RemoveRule(ru); err != nil {
			r.log.Error("virtual rule not removed", "instance", in.c.Name, "err", err)
		}
	}
	for _, rt := range in.routes {
		if err := r.vips.RemoveRoute(rt); err != nil {
			r.log.Error("virtual route not removed", "instance", in.c.Name, "err", err)
		}
	}
	for _, v := range in.vips {
		if err := r.vips.Remove(v); err != nil {
			r.log.Error("VIP not removed", "instance", in.c.Name, "err", err)
		}
	}
	if in.holding {
		r.log.Info("VIPs removed", "instance", in.c.Name)
	}
	in.holding = false
	in.stopAnnouncing()
	r.firewallRemove(in)
}

// removeLeftovers deletes configured VIPs an earlier run left on the host.
func (r *runtime) removeLeftovers(in *instance) {
	for _, v := range in.vips {
		if ok, _, err := r.vips.Present(v); err == nil && ok {
			r.log.Warn("removing a VIP left by an earlier run", "instance", in.c.Name, "vip", v.String())
			if err := r.vips.Remove(v); err != nil {
				r.log.Error("leftover VIP not removed", "instance", in.c.Name, "err", err)
			}
		}
	}
}

func (r *runtime) stateChanged(in *instance, from, to vrrp.State) {
	in.since = r.clock.Now()
	if to == vrrp.Master {
		in.counters.BecameMaster++
	}
	st := in.m.Status()
	r.log.Info("state change", "instance", in.c.Name, "from", apiState(from), "to", apiState(to), "priority", st.Priority, "master", st.MasterAddr)
	r.metrics.Transition(in.c.Name, apiState(from), apiState(to))
	r.notifyState(in, to)
	r.syncFollow(in, from, to)
	r.writeState()
}
