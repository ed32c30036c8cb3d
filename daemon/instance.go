package daemon

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// instance is the runtime of one vrrp_instance: the state machine and what
// the loop keeps beside it.
type instance struct {
	c      *config.Instance
	m      *vrrp.Instance
	expect vrrp.Expect
	// ah is the IPsec-AH state of an auth_type AH instance, else nil.
	ah   *ahState
	sock *sock
	// base is the socket it was built on (receives for it); sock differs
	// when it sends from its own VMAC.
	base *sock
	// dsts are where adverts go: the group, or every unicast peer.
	dsts []netip.Addr
	// peers limits unicast sources and their TTLs (receive.go,
	// unicastSource); nil for multicast instances.
	peers   map[netip.Addr]peerTTL
	src     netip.Addr
	vips    []vip.VIP // VIPs and excluded VIPs, as installed
	routes  []vip.Route
	rules   []vip.Rule
	advert  []netip.Addr
	lease   vip.Lifetime
	garp    announcer
	timers  map[vrrp.TimerKind]*timer
	since   time.Time
	holding bool
	// lastRefresh is when the VIP leases were last renewed.
	lastRefresh time.Time
	promotion   *api.Promotion
	promoTimer  stopper
	counters    api.Counters
	// lastVIPDeleted is when a VIP was last deleted by hand while master
	// (and restored: vipwatch.go).
	lastVIPDeleted *time.Time
	tracker        trackState
	refs           []track.Ref
	// started: Startup has been stepped (trackers permitting).
	started bool
	// announcing is the current schedule of announcement rounds.
	announcing *announcement
	// lowerPrio are the re-announcements after lower-priority adverts
	// (reannounce): a burst runs until lowerBurstEnd, a delayed one
	// waits until lowerLaterAt.
	lowerPrio                   *announcement
	lowerBurstEnd, lowerLaterAt time.Time
	// ours is our own advert as hactl watch compares adverts; conflicts
	// are the sources that advertise our VRID differently.
	ours      watch.Advert
	conflicts *conflictTable

	// trackedRules are the rules without no_track: one deleted by hand
	// while master makes the instance leave MASTER (rulewatch.go).
	trackedRules []vip.Rule
	// trackedRoutes are the virtual routes with dev and without
	// no_track: one deleted by hand while master is added back
	// (routewatch.go).
	trackedRoutes []vip.Route

	// gd is the etcd guard's key of a guarded instance, else nil
	// (guard.go).
	gd *guardInst
}

// trackState is the sum of the instance's tracker results.
type trackState struct {
	weight int
	// fault is what the state machine was told: ownFault, or a fault of
	// another member of the sync group.
	fault    bool
	ownFault bool
	trackers []api.Tracker
}

// buildInstances builds the configured instances on their sockets, one
// per interface and family, which listen opens (the kernel's in
// openSockets, a fake segment's in the loop tests), and on one announcer
// per interface from newAnnouncer. Both are kept for the instances a
// reload adds (reload.go, addInstance).
func (r *runtime) buildInstances(listen func(c *config.Instance, key sockKey) (*sock, error), newAnnouncer func(ifname string) announcer) error {
	r.listen = listen
	// One announcer per interface, shared by its instances: each opens
	// a packet socket (which the kernel hands every ARP on the link)
	// and looks up the interface's addresses, which with one VIP per
	// instance made a 100-instance start parse 100 address dumps.
	// The interface is the VIPs' (a VMAC's, vmacs.go).
	r.announcerOf = func(ifname string) announcer {
		if r.garps[ifname] == nil {
			r.garps[ifname] = newAnnouncer(ifname)
		}
		return r.garps[ifname]
	}
	for _, c := range r.cfg.Instances {
		in, err := r.buildInstance(c, true)
		if err != nil {
			return err
		}
		r.insts = append(r.insts, in)
		r.byName[c.Name] = in
	}
	return nil
}

// buildInstance builds one instance on its socket (opened or shared) and
// announcer; atStart applies vrrp_startup_delay, which a reload does not.
// A socket it opened for nothing is closed again when it fails.
func (r *runtime) buildInstance(c *config.Instance, atStart bool) (*instance, error) {
	s, err := r.joinedSock(c, sockKey{c.Interface, famOf(c), isAH(c)}, r.listen)
	if err != nil {
		return nil, err
	}
	in, err := newInstance(c, s)
	if err != nil {
		r.releaseSock(s)
		return nil, err
	}
	if atStart {
		r.delayStartup(in)
	}
	if other, dup := s.byVRID[uint8(c.VRID)]; dup {
		r.releaseSock(s)
		return nil, fmt.Errorf("%s: VRID %d on %s is also used by %s", c.Name, c.VRID, c.Interface, other.c.Name)
	}
	s.byVRID[uint8(c.VRID)] = in
	in.base = s
	if err := r.attachVMAC(in, r.listen, r.announcerOf); err != nil {
		delete(s.byVRID, uint8(c.VRID))
		r.releaseSock(s)
		return nil, err
	}
	return in, nil
}

// joinedSock is the socket of key (opened with listen when the daemon has
// none yet), joined to c's multicast group unless c is unicast.
func (r *runtime) joinedSock(c *config.Instance, key sockKey, listen func(c *config.Instance, key sockKey) (*sock, error)) (*sock, error) {
	s, ok := r.socks[key]
	if !ok {
		var err error
		if s, err = listen(c, key); err != nil {
			return nil, err
		}
		r.socks[key] = s
	}
	if !c.Unicast && !s.joined[c.McastGroup] {
		if err := s.conn.JoinGroup(c.McastGroup); err != nil {
			return nil, fmt.Errorf("%s: join %s on %s: %w", c.Name, c.McastGroup, key.ifname, err)
		}
		s.joined[c.McastGroup] = true
	}
	return s, nil
}

// releaseSock closes a socket no instance uses any more (a reload
// removed its last one) and forgets it.
func (r *runtime) releaseSock(s *sock) {
	if len(s.byVRID) > 0 || r.socks[s.key] != s {
		return
	}
	delete(r.socks, s.key)
	s.conn.Close() // its reader ends
}

func newInstance(c *config.Instance, s *sock) (*instance, error) {
	src, err := sourceAddr(c, s)
	if err != nil {
		return nil, err
	}
	vc := vrrp.Config{
		VRID:         uint8(c.VRID),
		Version:      vrrp.Version(c.Version),
		Priority:     uint8(c.Priority),
		Interval:     c.AdvertInt,
		Primary:      src,
		NoPreempt:    !c.Preempt,
		PreemptDelay: c.PreemptDelay,
		Accept:       c.Accept,
		Handover:     handoverHold(c.AdvertInt),
		// keepalived's timing knobs (timing.go).
		DownTimerAdverts:     c.Timing.DownTimerAdverts,
		LowerPrioNoAdvert:    c.Timing.LowerPrioNoAdvert,
		HigherPrioSendAdvert: c.Timing.HigherPrioSendAdvert,
	}
	m, err := vrrp.New(vc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	in := &instance{c: c, m: m, sock: s, src: src, timers: map[vrrp.TimerKind]*timer{}, lease: vip.Lifetime(c.VIPLease)}
	in.expect = vrrp.Expect{Version: vc.Version, Family: vrrp.FamilyOf(src), Interval: c.AdvertInt}
	if isAH(c) {
		if in.ah, err = newAHState(c); err != nil {
			return nil, err
		}
		in.expect.AuthType = vrrp.AuthAH
	} else if c.Auth != nil {
		pw, err := vrrp.Password(c.Auth.Password)
		if err != nil {
			return nil, fmt.Errorf("%s: authentication: %w", c.Name, err)
		}
		in.expect.AuthType, in.expect.Password = vrrp.AuthSimple, pw
	}
	if c.Unicast {
		in.peers = map[netip.Addr]peerTTL{}
		for _, p := range c.UnicastPeers {
			in.dsts = append(in.dsts, p.Addr)
			in.peers[p.Addr.Unmap()] = peerTTL{min: p.MinTTL, max: p.MaxTTL}
		}
	} else {
		in.dsts = []netip.Addr{c.McastGroup}
	}
	for _, list := range [][]config.VIP{c.VIPs, c.ExcludedVIPs} {
		for _, v := range list {
			dev := v.Dev
			if dev == "" {
				dev = c.Interface
			}
			x, err := installedVIP(v, dev)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			in.vips = append(in.vips, x)
		}
	}
	for _, v := range c.VIPs {
		in.advert = append(in.advert, v.Prefix.Addr())
	}
	in.ours = watch.Advert{Version: vc.Version, Interval: c.AdvertInt, VIPs: in.advert}
	if vc.Version == vrrp.Version2 {
		in.ours.AuthType, in.ours.AuthData = in.expect.AuthType, in.expect.Password
	}
	in.conflicts = newConflictTable()
	for _, rt := range c.Routes {
		r, err := routeOf(rt)
		if err != nil {
			return nil, fmt.Errorf("%s: virtual_routes: %w", c.Name, err)
		}
		in.routes = append(in.routes, r)
		if !rt.NoTrack {
			in.trackedRoutes = append(in.trackedRoutes, r)
		}
	}
	for _, ru := range c.Rules {
		r, err := ruleOf(ru)
		if err != nil {
			return nil, fmt.Errorf("%s: virtual_rules: %w", c.Name, err)
		}
		in.rules = append(in.rules, r)
		if !ru.NoTrack {
			in.trackedRules = append(in.trackedRules, r)
		}
	}
	return in, nil
}

// sourceAddr picks the adverts' source: unicast_src_ip / mcast_src_ip, else
// the interface's first IPv4 address, or its IPv6 link-local address
// (RFC 5798 §5.1.2.1).
func sourceAddr(c *config.Instance, s *sock) (netip.Addr, error) {
	if c.SrcIP.IsValid() {
		return c.SrcIP.Unmap(), nil
	}
	addrs, err := s.ifi.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, _ := netip.AddrFromSlice(ipn.IP)
		ip = ip.Unmap()
		if s.family == 4 && ip.Is4() {
			return ip, nil
		}
		if s.family == 6 && ip.Is6() && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s: interface %s has no %s to send adverts from (set unicast_src_ip or mcast_src_ip)", c.Name, c.Interface, map[int]string{4: "IPv4 address", 6: "IPv6 link-local address"}[s.family])
}

func apiState(s vrrp.State) api.State {
	switch s {
	case vrrp.Master:
		return api.StateMaster
	case vrrp.Backup:
		return api.StateBackup
	case vrrp.Fault:
		return api.StateFault
	case vrrp.Stopped:
		return api.StateStop
	}
	return api.StateInit
}

// status renders the instance for the API and the state file. It runs on
// the loop: it copies, and leaves sorting to the caller.
func (in *instance) status(now time.Time) api.Instance {
	st := in.m.Status()
	out := api.Instance{
		Name: in.c.Name, Interface: in.c.Interface, VRID: in.c.VRID, Family: string(in.c.Family), Version: in.c.Version,
		State: apiState(st.State), Since: in.since, BasePriority: in.c.Priority, EffectivePriority: int(st.EffectivePriority),
		AdvertIntervalMS: in.c.AdvertInt.Milliseconds(), Preempt: in.c.Preempt, Holding: in.holding,
		LeaseSeconds: int(time.Duration(in.lease) / time.Second), Promotion: in.promotion, Trackers: in.tracker.trackers,
		SyncGroup: in.c.SyncGroup, Counters: in.counters, VIPs: []string{}, LastVIPDeleted: in.lastVIPDeleted,
	}
	if out.Trackers == nil {
		out.Trackers = []api.Tracker{}
	}
	// Copied, bounded by conflictCap; sorted by the caller (sortStatus).
	out.Conflicts, out.ConflictCounts = in.conflicts.snapshot()
	out.ConflictSourcesEvicted = in.conflicts.evicted
	for _, v := range in.vips {
		out.VIPs = append(out.VIPs, v.Prefix.String())
	}
	out.Guard = in.guardStatus(now)
	if st.MasterAddr.IsValid() {
		out.Master = &api.Peer{Address: st.MasterAddr.String(), Priority: int(st.MasterPriority), LastSeen: now}
	}
	return out
}

// handoverHold is how long a node that displaces a live master (promotion,
// preemption) waits for that master's release before taking the VIPs
// anyway (vrrp.Config.Handover): a tenth of the advert interval, within
// 2..20 ms. A hactl master releases within about a millisecond of hearing
// its successor when the host is idle, 5-10 ms when it is loaded (seen in
// CI-like runs), so the hold rarely runs out; against a keepalived master
// (which sends no release) it is the gap without an owner that replaces
// keepalived's overlap with two.
func handoverHold(interval time.Duration) time.Duration {
	return min(max(interval/10, 2*time.Millisecond), 20*time.Millisecond)
}
