package config

import (
	"net/netip"
	"time"
)

// Defaults hactl uses where keepalived has none.
const (
	DefaultStateFile     = "/run/hactl/state"
	DefaultControlSocket = "/run/hactl/hactl.sock"
)

// keepalived's defaults.
var (
	DefaultMcastGroup4 = netip.MustParseAddr("224.0.0.18")
	DefaultMcastGroup6 = netip.MustParseAddr("ff02::12")
)

const (
	defaultPriority   = 100
	ownerPriority     = 255
	defaultAdvertInt  = time.Second
	defaultMTU        = 1500
	maxAdvertAddrs    = 255
	v3MaxAdvertInt    = 4095 * 10 * time.Millisecond
	v2AdvertIntMaxSec = 255
)

// defaultGlobals returns global_defs as they are before any keyword.
func defaultGlobals() GlobalDefs {
	return GlobalDefs{
		VRRPVersion: 2,
		McastGroup4: DefaultMcastGroup4,
		McastGroup6: DefaultMcastGroup6,
		GARP: GARP{
			MasterDelay:         5 * time.Second,
			MasterRepeat:        5,
			MasterRefreshRepeat: 1,
		},
		VIPLease: VIPLeaseAuto,
	}
}

// VIPLeaseAuto, as a global vip_lease, asks for the default lease: the
// instance's Master_Down_Interval plus VIPLeaseMargin, rounded up to whole
// seconds (the kernel's unit). Instances always carry the resolved value.
const VIPLeaseAuto time.Duration = -1

// VIPLeaseMargin is how long a lease outlives Master_Down_Interval: long
// enough that a live master's renewal is never late, short enough that a
// dead master's VIPs are gone soon after a backup has taken over.
const VIPLeaseMargin = 2 * time.Second

// autoLease is Master_Down_Interval (3 x interval + skew at this
// priority) plus the margin, rounded up to a whole second. The skew is
// VRRPv3's (256 - priority) x interval / 256, or for VRRPv2 RFC 3768's
// (256 - priority) / 256 seconds, as vrrp.SkewTime computes it (this
// package imports nothing of the project, so the formula is repeated
// here and a test holds the two equal).
func autoLease(version int, advert time.Duration, priority int) time.Duration {
	skew := time.Duration(256-priority) * advert / 256
	if version == 2 {
		skew = time.Duration(256-priority) * time.Second / 256
	}
	d := 3*advert + skew + VIPLeaseMargin
	return (d + time.Second - 1) / time.Second * time.Second
}

// resolve fills in defaults and runs the checks that need the whole file.
func (b *builder) resolve() {
	g := &b.global.g
	if _, ok := b.global.set["vrrp_garp_lower_prio_delay"]; !ok {
		g.GARP.LowerPrioDelay = g.GARP.MasterDelay
	}
	if _, ok := b.global.set["vrrp_garp_lower_prio_repeat"]; !ok {
		g.GARP.LowerPrioRepeat = g.GARP.MasterRepeat
	}
	if g.StateFile == "" {
		g.StateFile = DefaultStateFile
	}
	if g.ControlSocket == "" {
		g.ControlSocket = DefaultControlSocket
	}
	b.cfg.Global = *g
	for _, sc := range b.cfg.Scripts {
		if sc.Timeout == 0 {
			sc.Timeout = sc.Interval
		}
	}
	for _, d := range b.insts {
		b.resolveInstance(d)
		b.cfg.Instances = append(b.cfg.Instances, d.in)
	}
	b.checkVRIDs()
	b.resolveGroups()
	b.resolveGuards()
	if b.scriptsUsed && !g.EnableScriptSecurity {
		b.diag.warnf(b.firstScript, "scripts are configured but enable_script_security is not set in global_defs: keepalived reports a SECURITY VIOLATION and runs them, and so does hactl (set enable_script_security)")
	}
	b.reportIgnored()
}

func (b *builder) resolveInstance(d *instDraft) {
	in := d.in
	g := b.cfg.Global
	in.Strict = g.Strict
	if d.strict != nil {
		in.Strict = *d.strict
	}
	b.resolveFamily(d)

	// Version.
	if in.Version == 0 {
		in.Version = g.VRRPVersion
		if in.Family == FamilyIPv6 {
			in.Version = 3
		}
	} else if in.Family == FamilyIPv6 && in.Version == 2 {
		b.diag.warnf(d.version, "(%s) VRRP version 2 does not support IPv6; using version 3", in.Name)
		in.Version = 3
	}

	if d.vrid == (Pos{}) {
		b.diag.errorf(d.pos, "(%s) virtual_router_id is required: keepalived refuses to start, and so does hactl", in.Name)
	}

	// Unicast.
	in.Unicast = len(in.UnicastPeers) > 0
	in.CheckUnicastSrc = in.CheckUnicastSrc || g.CheckUnicastSrc
	in.SkipCheckAdvAddr = in.SkipCheckAdvAddr || g.SkipCheckAdvAddr
	switch {
	case d.unicastKw == (Pos{}) || in.Unicast:
	case in.UnicastFaultNoPeer:
		// keepalived: vrrp_complete_instance counts a config fault.
		in.ConfigFault = "unicast_fault_no_peer without unicast peers"
		b.diag.warnf(d.unicastKw, "(%s) unicast_fault_no_peer and no unicast_peer: the instance stays in FAULT (keepalived: \"Cannot use unicast without any peers - going to fault state\"), and so does hactl", in.Name)
	default:
		b.diag.warnf(d.unicastKw, "(%s) a unicast keyword is given without unicast_peer; using multicast (deprecated in keepalived)", in.Name)
	}
	if in.Unicast && !in.CheckUnicastSrc {
		// A deliberate difference (daemon/receive.go, unicastSource):
		// keepalived's default lets any host that can route a packet here
		// send adverts.
		b.diag.warnf(d.unicastKw, "(%s) no check_unicast_src: keepalived 2.2.7 then accepts unicast adverts from any source at any TTL; hactl still drops those from a source not in unicast_peer (unknown_peer) or outside its min_ttl/max_ttl (ttl_range), as with check_unicast_src; add check_unicast_src to have both do the same", in.Name)
	}
	if d.unicastTTL != (Pos{}) && !in.Unicast {
		// keepalived resets it ("Cannot use unicast_ttl without unicast
		// peers - resetting"), to 0 (vrrp_parser.c), and its multicast
		// adverts then reach no one (a capture beside keepalived 2.2.7
		// hears none); hactl's keep TTL 255.
		b.diag.correctf(d.unicastTTL, "(%s) unicast_ttl without unicast peers: keepalived reports \"Cannot use unicast_ttl without unicast peers - resetting\" (it resets the TTL to 0, and its multicast adverts are then heard by no one); hactl ignores the line and its multicast adverts go out with TTL 255", in.Name)
		in.UnicastTTL = nil
	}
	if in.Interface == "" && !(in.Unicast && in.SrcIP.IsValid()) {
		b.diag.errorf(d.pos, "(%s) interface is required (unicast instances may give unicast_src_ip instead): keepalived refuses to start, and so does hactl", in.Name)
	}
	if in.Interface == "" && in.SrcIP.IsValid() && in.SrcIP.Is6() && in.SrcIP.IsLinkLocalUnicast() {
		b.diag.errorf(d.srcIP, "(%s) a link-local unicast_src_ip needs an interface: keepalived refuses to start, and so does hactl", in.Name)
	}
	if in.Strict && in.Unicast {
		b.diag.warnf(d.unicastKw, "(%s) unicast peers are not allowed in strict mode on multicast-capable interfaces", in.Name)
	}
	if !in.Unicast {
		in.McastGroup = g.McastGroup4
		if in.Family == FamilyIPv6 {
			in.McastGroup = g.McastGroup6
		}
		if d.mcastDst.IsValid() {
			in.McastGroup = d.mcastDst
		}
	} else if d.mcastDst.IsValid() {
		b.diag.warnf(d.mcastDstPos, "(%s) mcast_dst_ip is ignored with unicast peers", in.Name)
	}

	// VIPs.
	if len(in.VIPs) == 0 {
		if in.Version == 3 || in.Strict {
			b.diag.errorf(d.pos, "(%s) no virtual_ipaddress; at least one is required: keepalived refuses to start, and so does hactl", in.Name)
		} else {
			b.diag.warnf(d.pos, "(%s) no virtual_ipaddress; at least one is sensible", in.Name)
		}
	}
	if in.Family == FamilyIPv6 && !in.Unicast && len(in.VIPs) > 0 && in.Strict &&
		!in.VIPs[0].Prefix.Addr().IsLinkLocalUnicast() {
		b.diag.warnf(in.VIPs[0].Pos, "(%s) in strict mode the first IPv6 virtual address must be link-local", in.Name)
	}
	if max := maxVIPs(in); len(in.VIPs) > max {
		b.diag.warnf(in.VIPs[max].Pos, "(%s) %d virtual addresses do not fit in an advertisement (at most %d); the rest move to virtual_ipaddress_excluded",
			in.Name, len(in.VIPs), max)
		in.ExcludedVIPs = append(append([]VIP(nil), in.VIPs[max:]...), in.ExcludedVIPs...)
		in.VIPs = in.VIPs[:max]
	}

	// Priority and state.
	if d.priority == (Pos{}) {
		in.Priority = defaultPriority
		if in.State == StateMaster {
			in.Priority = ownerPriority
		}
	}
	if in.State == "" {
		in.State = StateBackup
		if in.Priority == ownerPriority {
			in.State = StateMaster
		}
	} else if in.Strict && (in.State == StateMaster) != (in.Priority == ownerPriority) {
		b.diag.warnf(d.state, "(%s) in strict mode state MASTER goes with priority 255 only; state set from the priority", in.Name)
		in.State = StateBackup
		if in.Priority == ownerPriority {
			in.State = StateMaster
		}
	}

	b.resolveAuth(d)

	// Preemption.
	in.Preempt = true
	if d.nopreempt != (Pos{}) {
		switch {
		case in.Priority == ownerPriority:
			b.diag.warnf(d.nopreempt, "(%s) nopreempt does not go with priority 255: keepalived clears it, and so does hactl", in.Name)
		case in.State == StateMaster:
			b.diag.warnf(d.nopreempt, "(%s) nopreempt does not work with state MASTER: keepalived reports it and clears nopreempt, and so does hactl (use state BACKUP on every node)", in.Name)
		default:
			in.Preempt = false
		}
	}
	if in.PreemptDelay > 0 {
		switch {
		case in.State == StateMaster:
			b.diag.warnf(d.preemptDelay, "(%s) preempt_delay does not work with state MASTER; ignored", in.Name)
			in.PreemptDelay = 0
		case in.Strict:
			b.diag.warnf(d.preemptDelay, "(%s) preempt_delay is not allowed in strict mode; ignored", in.Name)
			in.PreemptDelay = 0
		case !in.Preempt:
			b.diag.warnf(d.preemptDelay, "(%s) preempt_delay does not go with nopreempt; ignored", in.Name)
			in.PreemptDelay = 0
		}
	}

	// Accept mode.
	if d.accept != nil {
		in.Accept = *d.accept
	} else {
		in.Accept = in.Priority == ownerPriority || !in.Strict
	}
	if in.Accept && in.Priority != ownerPriority && in.Strict && in.Version == 2 {
		b.diag.warnf(d.pos, "(%s) accept mode with VRRP version 2 does not comply with RFC 3768 in strict mode; disabled", in.Name)
		in.Accept = false
	}

	b.resolveGARP(d)
	b.resolveAdvert(d)
	b.resolveVMAC(d)
	b.resolveTiming(d)
	for _, r := range in.Routes {
		if !r.NoTrack && r.Dev == "" {
			b.diag.warnf(r.Pos, "(%s) virtual route %s: cannot track a route with no interface specified: keepalived warns and does not track it, and neither does hactl", in.Name, r.Dest)
		}
	}

	// Trackers.
	in.TrackScripts = b.resolveRefs(in.Name, "track_script", d.scriptRefs, b.scriptLookup)
	in.TrackFiles = b.resolveRefs(in.Name, "track_file", d.fileRefs, b.fileLookup)
	in.TrackProcesses = b.resolveRefs(in.Name, "track_process", d.procRefs, b.procLookup)

	// hactl's own keywords.
	if in.NotifyMasterDir == "" {
		in.NotifyMasterDir = g.NotifyMasterDir
	}
	in.VIPLease = g.VIPLease
	where := d.pos
	if d.vipLease != nil {
		in.VIPLease, where = *d.vipLease, d.vipLeasePos
	}
	if in.VIPLease == VIPLeaseAuto {
		in.VIPLease = autoLease(in.Version, in.AdvertInt, in.Priority)
	}
	if in.VIPLease > 0 && in.VIPLease < 3*in.AdvertInt {
		b.diag.warnf(where, "(%s) vip_lease %s is shorter than three advert intervals (%s); VIPs may expire between renewals",
			in.Name, in.VIPLease, 3*in.AdvertInt)
	}
}

// resolveFamily sets the instance's family from its first VIP, else its
// source address, unicast peer or multicast destination, and reports
// addresses of the other family.
func (b *builder) resolveFamily(d *instDraft) {
	in := d.in
	switch {
	case d.native6.IsValid():
		in.Family = FamilyIPv6
	case len(in.VIPs) > 0:
		in.Family = familyOf(in.VIPs[0].Prefix.Addr())
	case in.SrcIP.IsValid():
		in.Family = familyOf(in.SrcIP)
	case len(in.UnicastPeers) > 0:
		in.Family = familyOf(in.UnicastPeers[0].Addr)
	case d.mcastDst.IsValid():
		in.Family = familyOf(d.mcastDst)
	default:
		in.Family = FamilyIPv4
	}
	var vips []VIP
	for _, v := range in.VIPs {
		if familyOf(v.Prefix.Addr()) != in.Family && d.native6.IsValid() {
			b.diag.correctf(v.Pos, "(%s) %s: native_ipv6 (line %d) makes the instance IPv6: keepalived reports \"address family must match VRRP instance\" and skips the address, and so does hactl (remove native_ipv6, or give IPv6 addresses)",
				in.Name, v.Prefix, d.native6.Line)
			continue
		}
		if familyOf(v.Prefix.Addr()) != in.Family {
			b.diag.correctf(v.Pos, "(%s) %s: every virtual_ipaddress must be of one address family (%s here; put the others in virtual_ipaddress_excluded or another instance): keepalived reports it and skips the address, and so does hactl",
				in.Name, v.Prefix, familyName(in.Family))
			continue
		}
		vips = append(vips, v)
	}
	in.VIPs = vips
	if in.SrcIP.IsValid() && familyOf(in.SrcIP) != in.Family {
		b.diag.correctf(d.srcIP, "(%s) source address %s is not of the instance's family (%s): keepalived reports it and ignores it, and so does hactl", in.Name, in.SrcIP, familyName(in.Family))
		in.SrcIP = netip.Addr{}
	}
	var peers []UnicastPeer
	for _, p := range in.UnicastPeers {
		if familyOf(p.Addr) != in.Family {
			b.diag.correctf(p.Pos, "(%s) unicast_peer %s is not of the instance's family (%s): keepalived reports it and skips the peer, and so does hactl", in.Name, p.Addr, familyName(in.Family))
			continue
		}
		peers = append(peers, p)
	}
	in.UnicastPeers = peers
	if d.mcastDst.IsValid() && familyOf(d.mcastDst) != in.Family {
		b.diag.correctf(d.mcastDstPos, "(%s) mcast_dst_ip %s is not of the instance's family (%s): keepalived reports it and ignores it, and so does hactl", in.Name, d.mcastDst, familyName(in.Family))
		d.mcastDst = netip.Addr{}
	}
}

// familySoFar is the family the addresses read so far give the
// instance (resolveFamily's order), if any.
func familySoFar(d *instDraft) (Family, bool) {
	in := d.in
	switch {
	case len(in.VIPs) > 0:
		return familyOf(in.VIPs[0].Prefix.Addr()), true
	case in.SrcIP.IsValid():
		return familyOf(in.SrcIP), true
	case len(in.UnicastPeers) > 0:
		return familyOf(in.UnicastPeers[0].Addr), true
	case d.mcastDst.IsValid():
		return familyOf(d.mcastDst), true
	}
	return "", false
}

// maxVIPs is how many addresses fit in one advertisement on a 1500-byte
// MTU, as keepalived computes it.
func maxVIPs(in *Instance) int {
	const ether, vrrpHdr = 14, 8
	var n int
	if in.Family == FamilyIPv6 {
		n = (defaultMTU - ether - 40 - vrrpHdr) / 16
	} else {
		hdr := ether + 20 + vrrpHdr
		if in.Version == 2 {
			hdr += 8 // authentication data
		}
		n = (defaultMTU - hdr) / 4
	}
	return min(n, maxAdvertAddrs)
}

func (b *builder) resolveAuth(d *instDraft) {
	in := d.in
	if in.Auth == nil {
		return
	}
	switch {
	case d.authType == "":
		if d.authTypePos == (Pos{}) && d.in.Auth.Password != "" {
			b.diag.warnf(d.auth, "(%s) authentication without auth_type; ignored", in.Name)
		}
		in.Auth = nil
	case in.Strict:
		b.diag.warnf(d.auth, "(%s) strict mode does not support authentication; ignored", in.Name)
		in.Auth = nil
	case in.Version == 3:
		b.diag.warnf(d.auth, "(%s) VRRP version 3 does not support authentication; ignored", in.Name)
		in.Auth = nil
	case in.Auth.Password == "":
		b.diag.warnf(d.auth, "(%s) authentication without auth_pass; ignored", in.Name)
		in.Auth = nil
	case in.Family == FamilyIPv6 && d.authType == "AH":
		// Not reached while IPv6 means VRRPv3 (above); kept in
		// keepalived's order (vrrp.c: vrrp_complete_instance).
		b.diag.warnf(d.auth, "(%s) AH authentication does not work with IPv6; ignored", in.Name)
		in.Auth = nil
	default:
		in.Auth.Type = d.authType
		if d.authType == "AH" && in.State == StateMaster && in.Priority != ownerPriority {
			// A node must hear an advert, and its AH sequence number,
			// before it takes over.
			b.diag.correctf(d.state, "(%s) initial state MASTER does not go with AH authentication unless priority is 255: keepalived starts the instance as BACKUP, and so does hactl", in.Name)
			in.State = StateBackup
		}
	}
}

func (b *builder) resolveGARP(d *instDraft) {
	in := d.in
	g := b.cfg.Global.GARP
	set := d.garpSet
	if !set["delay"] {
		in.GARP.MasterDelay = g.MasterDelay
	}
	if !set["repeat"] {
		in.GARP.MasterRepeat = g.MasterRepeat
	}
	if !set["refresh"] {
		in.GARP.MasterRefresh = g.MasterRefresh
	}
	if !set["refresh_repeat"] {
		in.GARP.MasterRefreshRepeat = g.MasterRefreshRepeat
	}
	if !set["extra_if"] { // keepalived takes the global interval and its "all" together
		in.GARP.ExtraIf, in.GARP.ExtraIfAll = g.ExtraIf, g.ExtraIfAll
	}
	switch {
	case !set["lower_delay"] && in.Strict:
		in.GARP.LowerPrioDelay = 0
	case !set["lower_delay"]:
		in.GARP.LowerPrioDelay = g.LowerPrioDelay
	case in.Strict && in.GARP.LowerPrioDelay != 0:
		b.diag.warnf(d.pos, "(%s) strict mode requires garp_lower_prio_delay 0; reset", in.Name)
		in.GARP.LowerPrioDelay = 0
	}
	switch {
	case !set["lower_repeat"] && in.Strict:
		in.GARP.LowerPrioRepeat = 0
	case !set["lower_repeat"]:
		in.GARP.LowerPrioRepeat = g.LowerPrioRepeat
	case in.Strict && in.GARP.LowerPrioRepeat != 0:
		b.diag.warnf(d.pos, "(%s) strict mode requires garp_lower_prio_repeat 0; reset", in.Name)
		in.GARP.LowerPrioRepeat = 0
	}
}

// resolveAdvert applies keepalived's rounding: whole seconds for VRRPv2,
// centiseconds (at most 40.95 s) for VRRPv3.
func (b *builder) resolveAdvert(d *instDraft) {
	in := d.in
	in.AdvertInt = defaultAdvertInt
	if d.advert == (Pos{}) {
		return
	}
	a := d.advertInt
	if in.Version == 2 {
		if a%time.Second != 0 {
			r := (a + time.Second/2).Truncate(time.Second)
			if r == 0 {
				r = time.Second
			}
			b.diag.warnf(d.advert, "(%s) VRRPv2 advert_int %s must be whole seconds; rounded to %s", in.Name, fmtSeconds(a), fmtSeconds(r))
			a = r
		}
	} else {
		const centi = 10 * time.Millisecond
		if a > v3MaxAdvertInt {
			b.diag.warnf(d.advert, "(%s) VRRPv3 advert_int %s is above 40.95; using 40.95", in.Name, fmtSeconds(a))
			a = v3MaxAdvertInt
		} else if a%centi != 0 {
			r := (a + centi/2).Truncate(centi)
			if r == 0 {
				r = centi
			}
			b.diag.warnf(d.advert, "(%s) VRRPv3 advert_int %s must be in units of 0.01; rounded to %s", in.Name, fmtSeconds(a), fmtSeconds(r))
			a = r
		}
	}
	in.AdvertInt = a
}

// resolveRefs checks track_script/track_file names and applies weight
// overrides. keepalived looks each name up when it reads the reference:
// one that names nothing defined above it is reported ("not found,
// ignoring") and dropped, even when the definition comes further down.
func (b *builder) resolveRefs(owner, kw string, refs []refDraft, lookup func(string) (int, bool, Pos, bool)) []TrackRef {
	var out []TrackRef
	seen := map[string]bool{}
	what := "vrrp_script"
	switch kw {
	case "track_file":
		what = "track_file"
	case "track_process":
		what = "vrrp_track_process"
	}
	for _, r := range refs {
		w, rev, at, ok := lookup(r.name)
		if !ok && b.invalid[r.name] {
			continue // the definition's own error says enough
		}
		if !ok {
			b.diag.correctf(r.pos, "(%s) %s %s: no %s of that name is defined: keepalived reports it (not found, ignoring) and does not track it, and so does hactl",
				owner, kw, r.name, what)
			continue
		}
		if !r.known {
			b.diag.correctf(r.pos, "(%s) %s %s: %s %s is defined further down (%s), and keepalived looks names up as it reads them: it reports \"not found, ignoring\" and does not track it, and so does hactl (move %s %s above the reference to track it)",
				owner, kw, r.name, what, r.name, at, what, r.name)
			continue
		}
		if seen[r.name] {
			b.diag.correctf(r.pos, "(%s) duplicate %s %s: keepalived reports it and ignores it, and so does hactl", owner, kw, r.name)
			continue
		}
		seen[r.name] = true
		if r.weight != nil {
			w = *r.weight
		}
		if r.reverse != nil {
			rev = *r.reverse
		}
		out = append(out, TrackRef{Name: r.name, Weight: w, Reverse: rev, Pos: r.pos})
	}
	return out
}

// scriptLookup and fileLookup find definitions for resolveRefs.
func (b *builder) scriptLookup(n string) (int, bool, Pos, bool) {
	sc, ok := b.scripts[n]
	if !ok {
		return 0, false, Pos{}, false
	}
	return sc.Weight, sc.WeightReverse, sc.Pos, true
}

func (b *builder) fileLookup(n string) (int, bool, Pos, bool) {
	tf, ok := b.tfiles[n]
	if !ok {
		return 0, false, Pos{}, false
	}
	return tf.Weight, tf.WeightReverse, tf.Pos, true
}

// resolveVMAC makes vrrp_complete_instance's use_vmac checks: a MAC and
// vmac_xmit_base are cleared in strict mode, vmac_xmit_base without
// use_vmac is cleared, unicast with use_vmac sets vmac_xmit_base, and a
// VIP's use_vmac on the instance's interface and family is redundant.
func (b *builder) resolveVMAC(d *instDraft) {
	in := d.in
	if in.Strict && in.VMACAddr != "" {
		b.diag.correctf(d.vmacMAC, "(%s) use_vmac: a MAC address cannot be given in strict mode: keepalived reports it and clears it, and so does hactl", in.Name)
		in.VMACAddr, in.VMACAddrVRID = "", false
	}
	if in.VMACXmitBase && !in.UseVMAC {
		b.diag.correctf(d.xmitBase, "(%s) vmac_xmit_base is only valid with use_vmac: keepalived reports it and clears it, and so does hactl", in.Name)
		in.VMACXmitBase = false
	}
	if in.UseVMAC && in.Interface == "" {
		b.diag.correctf(d.vmac, "(%s) use_vmac needs an interface (unicast with no interface): keepalived reports it and clears use_vmac, and so does hactl", in.Name)
		in.UseVMAC, in.VMACName, in.VMACXmitBase = false, "", false
	}
	if in.UseVMAC && in.Unicast && !in.VMACXmitBase {
		b.diag.correctf(d.vmac, "(%s) unicast with use_vmac requires vmac_xmit_base: keepalived reports it and sets it, and so does hactl", in.Name)
		in.VMACXmitBase = true
	}
	if in.UseVMAC && in.Strict && in.VMACXmitBase {
		b.diag.correctf(d.xmitBase, "(%s) vmac_xmit_base is incompatible with strict mode: keepalived reports it and clears it, and so does hactl", in.Name)
		in.VMACXmitBase = false
	}
	fam4 := in.Family != FamilyIPv6
	for _, list := range [][]VIP{in.VIPs, in.ExcludedVIPs} {
		for _, v := range list {
			if v.UseVMAC() && in.UseVMAC && (v.Dev == "" || v.Dev == in.Interface) && v.Prefix.Addr().Is4() == fam4 {
				b.diag.warnf(v.Pos, "(%s) use_vmac is given for VIP %s and for the instance: keepalived reports it and puts the VIP on the instance's VMAC, and so does hactl", in.Name, v.Prefix)
			} else if v.UseVMAC() && in.UseVMACAddr {
				b.diag.warnf(v.Pos, "(%s) use_vmac_addr and the VIP's use_vmac are both given for %s: keepalived reports it, and so does hactl", in.Name, v.Prefix)
			}
		}
	}
}
