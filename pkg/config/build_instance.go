package config

import (
	"maps"
	"math"
	"net/netip"
	"strings"
	"time"
)

// instDraft is a vrrp_instance as written, before defaults.
type instDraft struct {
	in  *Instance
	pos Pos

	state, priority, version, advert Pos // where set; zero when not
	advertInt                        time.Duration
	vrid                             Pos
	iface                            Pos
	nopreempt, preemptDelay          Pos
	accept                           *bool
	strict                           *bool
	unicastKw                        Pos // first unicast_* keyword
	srcIP                            Pos
	mcastDst                         netip.Addr
	mcastDstPos                      Pos
	auth                             Pos
	authType                         string
	authTypePos                      Pos
	vipLease                         *time.Duration
	vipLeasePos                      Pos
	garpSet                          map[string]bool
	// native6 is where native_ipv6 made the instance IPv6 (zero when
	// not): keepalived's vrrp_native_ipv6_handler sets the family then,
	// so IPv4 addresses are dropped whatever their order.
	native6              Pos
	unicastTTL           Pos
	scriptRefs, fileRefs []refDraft
	timing               timingDraft // build_timing.go
	procRefs             []refDraft
	// vmac, vmacMAC and xmitBase are where use_vmac, its MAC and
	// vmac_xmit_base were given (zero when not).
	vmac, vmacMAC, xmitBase Pos
}

// refDraft is a track_script or track_file line.
type refDraft struct {
	name      string
	weight    *int
	reverse   *bool
	pos       Pos
	weightPos Pos
	// known: the definition was read before the reference (keepalived
	// drops a reference to one defined further down).
	known bool
}

// instanceIgnored are keepalived's vrrp_instance keywords hactl skips.
var instanceIgnored = set(
	"use_ipvlan",
	"old_unicast_checksum", "vrf",
	"track_bfd", "track_src_ip", "promote_secondaries", "linkbeat_use_polling",
	"debug", "smtp_alert",
	"lvs_sync_daemon_interface", "kernel_rx_buf_size",
)

func (b *builder) instance(s *Statement) {
	name, ok := b.sectionName(s)
	if !ok {
		return
	}
	if o, dup := b.instByName[name]; dup {
		b.diag.correctf(s.Args[0].Pos, "vrrp_instance %s is already defined at %s: keepalived reports it and skips this block, and so does hactl", name, o.pos)
		return
	}
	d := &instDraft{in: &Instance{Name: name, Pos: s.Pos}, pos: s.Pos, garpSet: map[string]bool{}}
	b.insts = append(b.insts, d)
	b.instByName[name] = d
	b.walk(s, b.instanceSpec(d))
}

func (b *builder) instanceSpec(d *instDraft) blockSpec {
	in := d.in
	garp := func(kw string, f func(s *Statement)) handler {
		return func(s *Statement) {
			f(s)
			d.garpSet[kw] = true
		}
	}
	h := map[string]handler{
		"interface": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			if !validIfName(s.Args[0].Text) {
				b.diag.correctf(s.Args[0].Pos, "interface name %q is invalid or longer than 15 bytes: keepalived reports it and ignores the line, and so does hactl", s.Args[0].Text)
				return
			}
			in.Interface, d.iface, in.InterfacePos = s.Args[0].Text, s.Pos, s.Pos
		},
		"state": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			switch v := s.Args[0].Text; v {
			case "MASTER", "BACKUP":
				if v == "BACKUP" && in.State == StateMaster {
					b.diag.correctf(s.Pos, "state previously set to MASTER: keepalived reports it and ignores BACKUP, and so does hactl")
					return
				}
				in.State, d.state = State(v), s.Pos
			default:
				// keepalived compares with strcmp: "Master" is unknown too.
				b.diag.correctf(s.Args[0].Pos, "unknown state %q (keepalived knows MASTER and BACKUP, in capitals): keepalived reports it and uses BACKUP, and so does hactl", v)
				in.State, d.state = StateBackup, s.Pos
			}
		},
		"virtual_router_id": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			d.vrid = s.Pos // given, even if invalid: no "required" error too
			v, err := parseUint(s.Args[0].Text, 1, 255)
			if err != nil {
				b.diag.errorf(s.Args[0].Pos, "virtual_router_id %q is not valid; it must be between 1 and 255 (keepalived reports it and then refuses to start without a virtual router id, and so does hactl)", s.Args[0].Text)
				return
			}
			in.VRID, d.vrid = int(v), s.Pos
		},
		"priority": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			v, err := parseUint(s.Args[0].Text, 1, 255)
			if err != nil {
				b.diag.correctf(s.Args[0].Pos, "priority %q is not valid (1 to 255): keepalived reports it and uses the default %d, and so does hactl", s.Args[0].Text, defaultPriority)
				v = defaultPriority
			}
			in.Priority, d.priority = int(v), s.Pos
		},
		"version": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			v, err := parseInt(s.Args[0].Text, 2, 3)
			if err != nil {
				b.badValue(s, s.Args[0].Pos, "version must be 2 or 3, not %q", s.Args[0].Text)
				return
			}
			in.Version, d.version = int(v), s.Pos
		},
		"advert_int": func(s *Statement) {
			if b.seconds(s, &d.advertInt, 10*time.Millisecond, 255*time.Second) {
				d.advert = s.Args[0].Pos
			}
		},
		"nopreempt": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				d.nopreempt = s.Pos
			}
		},
		"preempt": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				d.nopreempt = Pos{}
			}
		},
		"preempt_delay": func(s *Statement) {
			if b.seconds(s, &in.PreemptDelay, 0, 1000*time.Second) {
				d.preemptDelay = s.Pos
			}
		},
		"accept":      func(s *Statement) { b.boolPtr(s, &d.accept, true) },
		"no_accept":   func(s *Statement) { b.boolPtr(s, &d.accept, false) },
		"strict_mode": func(s *Statement) { b.strictMode(s, d) },
		"mcast_src_ip": func(s *Statement) {
			b.srcIP(s, d)
		},
		"unicast_src_ip": func(s *Statement) {
			if d.unicastKw == (Pos{}) {
				d.unicastKw = s.Pos
			}
			b.srcIP(s, d)
		},
		"mcast_dst_ip": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			a, err := parseAddr(s.Args[0].Text)
			switch {
			case err != nil:
				b.badValue(s, s.Args[0].Pos, "mcast_dst_ip: %v", err)
			case a.Is4() && !a.IsMulticast(), a.Is6() && !a.IsLinkLocalMulticast():
				b.badValue(s, s.Args[0].Pos, "mcast_dst_ip %s is not a (link-local) multicast address", a)
			default:
				d.mcastDst, d.mcastDstPos = a, s.Args[0].Pos
			}
		},
		"unicast_peer": func(s *Statement) {
			if d.unicastKw == (Pos{}) {
				d.unicastKw = s.Pos
			}
			for _, line := range b.valueLines(s) {
				if p, ok := b.unicastPeer(line); ok {
					in.UnicastPeers = append(in.UnicastPeers, p)
				}
			}
		},
		"unicast_fault_no_peer": func(s *Statement) {
			// keepalived's handler marks the instance as unicast
			// configured, as unicast_peer does.
			if b.nargs(s, 0, 0) {
				d.unicastKw, in.UnicastFaultNoPeer = firstPos(d.unicastKw, s.Pos), true
			}
		},
		"check_unicast_src": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				d.unicastKw, in.CheckUnicastSrc = firstPos(d.unicastKw, s.Pos), true
			}
		},
		"skip_check_adv_addr": func(s *Statement) { b.skipCheckAdvAddr(s, &in.SkipCheckAdvAddr) },
		"unicast_ttl": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			v, err := parseUint(s.Args[0].Text, 0, 255)
			if err != nil {
				b.diag.correctf(s.Args[0].Pos, "(%s) unicast_ttl %q is not valid (0 to 255): keepalived reports it and ignores the line, and so does hactl", in.Name, s.Args[0].Text)
				return
			}
			ttl := int(v)
			in.UnicastTTL, d.unicastTTL = &ttl, s.Pos
		},
		"native_ipv6": func(s *Statement) {
			if !b.nargs(s, 0, 0) {
				return
			}
			// keepalived refuses it once an IPv4 address has set the
			// instance's family, and ignores the line.
			if f, ok := familySoFar(d); ok && f == FamilyIPv4 {
				b.diag.correctf(s.Pos, "(%s) native_ipv6 after an IPv4 address: keepalived reports \"Cannot specify native_ipv6 with IPv4 addresses\" and ignores the line, and so does hactl (the instance stays IPv4)", in.Name)
				return
			}
			d.native6 = s.Pos
		},
		"authentication": func(s *Statement) { b.authentication(s, d) },
		"virtual_ipaddress": func(s *Statement) {
			for _, line := range b.valueLines(s) {
				if v, ok := b.vip(line); ok {
					in.VIPs = append(in.VIPs, v)
				}
			}
		},
		"virtual_ipaddress_excluded": func(s *Statement) {
			for _, line := range b.valueLines(s) {
				if v, ok := b.vip(line); ok {
					in.ExcludedVIPs = append(in.ExcludedVIPs, v)
				}
			}
		},
		"virtual_routes": func(s *Statement) {
			for _, line := range b.valueLines(s) {
				if r, ok := b.route(line); ok {
					in.Routes = append(in.Routes, r)
				}
			}
		},
		"virtual_rules": func(s *Statement) { in.Rules = append(in.Rules, b.rules(s)...) },
		"track_interface": func(s *Statement) {
			in.TrackInterfaces = append(in.TrackInterfaces, b.trackInterfaces(s, in.TrackInterfaces)...)
		},
		"guard":        func(s *Statement) { b.guardRef(s, &in.Guard, &in.GuardPos) },
		"track_script": func(s *Statement) { d.scriptRefs = append(d.scriptRefs, b.trackRefs(s)...) },
		"track_file":   func(s *Statement) { d.fileRefs = append(d.fileRefs, b.trackRefs(s)...) },
		"track_process": func(s *Statement) {
			d.procRefs = append(d.procRefs, b.trackRefs(s)...)
		},
		"dont_track_primary": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				in.DontTrackPrimary = true
			}
		},
		"notify_master": func(s *Statement) { b.notify(s, &in.Notify.Master) },
		"notify_backup": func(s *Statement) { b.notify(s, &in.Notify.Backup) },
		"notify_fault":  func(s *Statement) { b.notify(s, &in.Notify.Fault) },
		"notify_stop":   func(s *Statement) { b.notify(s, &in.Notify.Stop) },
		"notify":        func(s *Statement) { b.notify(s, &in.Notify.Any) },
		"garp_master_delay": garp("delay", func(s *Statement) {
			b.secondsInt(s, &in.GARP.MasterDelay, 0, maxDelaySeconds)
		}),
		"garp_master_repeat": garp("repeat", func(s *Statement) { b.repeat(s, &in.GARP.MasterRepeat) }),
		"garp_master_refresh": garp("refresh", func(s *Statement) {
			b.secondsInt(s, &in.GARP.MasterRefresh, 0, math.MaxUint32)
		}),
		"garp_master_refresh_repeat": garp("refresh_repeat", func(s *Statement) {
			b.repeat(s, &in.GARP.MasterRefreshRepeat)
		}),
		"garp_lower_prio_delay": garp("lower_delay", func(s *Statement) {
			b.secondsInt(s, &in.GARP.LowerPrioDelay, 0, maxDelaySeconds)
		}),
		"garp_lower_prio_repeat": garp("lower_repeat", func(s *Statement) {
			b.uintInto(s, &in.GARP.LowerPrioRepeat, 0, math.MaxInt32)
		}),
		"use_vmac": func(s *Statement) {
			if !b.noBlock(s) {
				return
			}
			in.UseVMAC, d.vmac = true, s.Pos
			// keepalived reads at most two words, a name or a MAC each
			// (a MAC has a ':', a name cannot), and warns of the rest.
			for i, a := range s.Args {
				if i >= 2 {
					b.diag.warnf(a.Pos, "use_vmac: keepalived ignores %q and what follows, and so does hactl", a.Text)
					break
				}
				if strings.Contains(a.Text, ":") {
					b.vmacAddr(d, a)
					continue
				}
				switch {
				case in.VMACName != "":
					b.diag.correctf(a.Pos, "use_vmac: the VMAC interface name is already given: keepalived reports it and ignores %q, and so does hactl", a.Text)
				case !validIfName(a.Text):
					b.diag.correctf(a.Pos, "use_vmac: VMAC interface name %q is too long or has invalid characters: keepalived reports it and ignores it, and so does hactl", a.Text)
				case b.vmacNames[a.Text] != "":
					b.diag.correctf(a.Pos, "(%s) use_vmac: instance %s already uses %s: keepalived reports it and ignores the name, and so does hactl", in.Name, b.vmacNames[a.Text], a.Text)
				default:
					in.VMACName = a.Text
					b.vmacNames[a.Text] = in.Name
				}
			}
		},
		"garp_extra_if":   garp("extra_if", func(s *Statement) { b.garpExtraIf(s, &in.GARP, 0) }),
		"vmac_garp_intvl": garp("extra_if", func(s *Statement) { b.garpExtraIf(s, &in.GARP, 0) }),
		"use_vmac_addr": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				in.UseVMACAddr = true
			}
		},
		"vmac_xmit_base": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				in.VMACXmitBase, d.xmitBase = true, s.Pos
			}
		},
		// hactl's own keywords.
		"notify_master_dir": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				in.NotifyMasterDir = s.Args[0].Text
				b.noteScript(s.Pos)
			}
		},
		"vip_lease": func(s *Statement) {
			var v time.Duration
			if b.seconds(s, &v, 0, maxVIPLease) {
				d.vipLease, d.vipLeasePos = &v, s.Args[0].Pos
			}
		},
	}
	maps.Copy(h, b.instanceNotifyHandlers(in))
	maps.Copy(h, b.instanceTimingHandlers(d))
	return blockSpec{
		name:     "vrrp_instance " + in.Name,
		ctx:      CtxInstance,
		handlers: h,
		ignored:  instanceIgnored,
	}
}

func (b *builder) boolPtr(s *Statement, dst **bool, v bool) {
	if b.nargs(s, 0, 0) {
		*dst = &v
	}
}

func (b *builder) strictMode(s *Statement, d *instDraft) {
	v := false
	if b.flag(s, &v) {
		d.strict = &v
	}
}

func (b *builder) srcIP(s *Statement, d *instDraft) {
	if !b.nargs(s, 1, 1) {
		return
	}
	a, err := parseAddr(s.Args[0].Text)
	if err != nil {
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
		return
	}
	d.in.SrcIP, d.srcIP = a, s.Args[0].Pos
}

func (b *builder) notify(s *Statement, dst **Command) {
	if *dst != nil {
		b.diag.errorf(s.Pos, "%s is already set", s.Keyword)
		return
	}
	if c, ok := b.command(s, true); ok {
		*dst = c
	}
}

func (b *builder) authentication(s *Statement, d *instDraft) {
	if !b.needBlock(s) {
		return
	}
	d.auth = s.Pos
	if d.in.Auth == nil {
		d.in.Auth = &Auth{}
	}
	for _, c := range s.Block {
		switch c.Keyword {
		case "auth_type":
			if !b.nargs(c, 1, 1) {
				continue
			}
			switch c.Args[0].Text {
			case "PASS":
				d.authType, d.authTypePos = "PASS", c.Args[0].Pos
			case "AH":
				d.authType, d.authTypePos = "AH", c.Args[0].Pos
			default:
				d.authTypePos = c.Args[0].Pos
				b.diag.correctf(c.Args[0].Pos, "unknown auth_type %q (want PASS or AH, in capitals): keepalived reports it and ignores the line, and so does hactl", c.Args[0].Text)
			}
		case "auth_pass":
			if !b.nargs(c, 1, 1) {
				continue
			}
			p := c.Args[0].Text
			if len(p) > 8 {
				b.diag.warnf(c.Args[0].Pos, "auth_pass is longer than 8 characters: keepalived truncates it to %q, and so does hactl", p[:8])
				p = p[:8]
			}
			d.in.Auth.Password = p
		default:
			if c.bare {
				b.diag.errorf(c.Open, "'{' with no keyword before it inside authentication: keepalived ignores it and reads its lines as authentication keywords, ending authentication at its '}'; hactl does not read this: remove the '{' and its '}'")
				continue
			}
			b.unknown(c, "in authentication")
		}
	}
}

// firstPos is have, or p when have is unset.
func firstPos(have, p Pos) Pos {
	if have == (Pos{}) {
		return p
	}
	return have
}

// skipCheckAdvAddr reads skip_check_adv_addr [<BOOL>]. keepalived 2.2.7
// sets the flag for any valid boolean, false included
// (vrrp_skip_check_adv_addr_handler tests only that the word parses);
// hactl does the same and says so.
func (b *builder) skipCheckAdvAddr(s *Statement, dst *bool) {
	var v bool
	if !b.flag(s, &v) {
		return
	}
	if !v {
		b.diag.warnf(s.Args[0].Pos, "skip_check_adv_addr %s: keepalived 2.2.7 sets skip_check_adv_addr for any valid value, false included (silently), and so does hactl; remove the line to check every advert's addresses", s.Args[0].Text)
	}
	*dst = true
}
