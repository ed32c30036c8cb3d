package config

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// globalDraft collects global_defs before defaults are applied.
type globalDraft struct {
	g GlobalDefs
	// set records which keywords were given, for defaults.
	set map[string]Pos
}

func (gd *globalDraft) mark(kw string, p Pos) {
	if gd.set == nil {
		gd.set = map[string]Pos{}
	}
	gd.set[kw] = p
}

// globalIgnored are keepalived's global_defs keywords outside the VRRP
// subset hactl implements.
var globalIgnored = set(
	"process_names", "process_name", "vrrp_process_name", "checker_process_name",
	"lvs_process_name", "bfd_process_name", "notification_email_from", "smtp_server",
	"smtp_helo_name", "smtp_connect_timeout", "notification_email", "smtp_alert",
	"startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout",
	"max_auto_priority", "min_auto_priority_delay", "smtp_alert_vrrp", "smtp_alert_checker",
	"checker_log_all_failures", "dynamic_interfaces", "no_email_faults", "default_interface",
	"disable_local_igmp", "lvs_timeouts", "lvs_flush", "lvs_flush_on_stop", "lvs_flush_onstop",
	"lvs_sync_daemon",
	"vrrp_iptables", "vrrp_ipsets", "nftables", "nftables_priority", "nftables_ifindex",
	"nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_counters",
	"vrrp_priority", "vrrp_no_swap",
	"vrrp_rt_priority", "vrrp_cpu_affinity", "vrrp_rlimit_rttime", "vrrp_rlimit_rtime",
	"lvs_notify_fifo",
	"lvs_notify_fifo_script", "checker_priority", "checker_no_swap", "checker_rt_priority",
	"checker_cpu_affinity", "checker_rlimit_rttime", "checker_rlimit_rtime", "bfd_priority",
	"bfd_no_swap", "bfd_rt_priority", "bfd_cpu_affinity", "bfd_rlimit_rttime", "bfd_rlimit_rtime",
	"snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived",
	"enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_checker",
	"enable_dbus", "dbus_service_name", "vrrp_netlink_cmd_rcv_bufs",
	"vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
	"vrrp_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs",
	"process_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force",
	"lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force", "rs_init_notifies",
	"no_checker_emails", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "log_unknown_vrids",
	"umask", "random_seed", "reload_check_config",
	"reload_time_file", "reload_repeat", "reload_file", "include_check", "config_save_dir",
	"tmp_config_directory", "data_use_instance",
)

// maxDelaySeconds is keepalived's bound for whole-second delays
// (UINT_MAX / TIMER_HZ).
const maxDelaySeconds = math.MaxUint32 / 1000000

func (b *builder) globalSpec() blockSpec {
	gd := &b.global
	g := &gd.g
	h := map[string]handler{
		"router_id": func(s *Statement) {
			if b.optionalValue(s) && b.nargs(s, 1, 1) {
				g.RouterID = s.Args[0].Text
			}
		},
		"vrrp_version": func(s *Statement) {
			if !b.nargs(s, 1, 1) {
				return
			}
			v, err := parseInt(s.Args[0].Text, 2, 3)
			if err != nil {
				b.badValue(s, s.Args[0].Pos, "vrrp_version must be 2 or 3, not %q", s.Args[0].Text)
				return
			}
			g.VRRPVersion = int(v)
			gd.mark(s.Keyword, s.Pos)
		},
		"vrrp_mcast_group4": func(s *Statement) { b.mcastGroup(s, &g.McastGroup4, FamilyIPv4) },
		"vrrp_mcast_group6": func(s *Statement) { b.mcastGroup(s, &g.McastGroup6, FamilyIPv6) },
		"script_user": func(s *Statement) {
			if b.optionalValue(s) && b.nargs(s, 1, 2) {
				g.ScriptUser = s.Args[0].Text
				if len(s.Args) > 1 {
					g.ScriptGroup = s.Args[1].Text
				}
			}
		},
		"enable_script_security": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				g.EnableScriptSecurity = true
			}
		},
		"vrrp_check_unicast_src": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				g.CheckUnicastSrc = true
			}
		},
		"vrrp_skip_check_adv_addr": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				g.SkipCheckAdvAddr = true
			}
		},
		"vrrp_strict": func(s *Statement) {
			if b.nargs(s, 0, 0) {
				g.Strict = true
			}
		},
		"vrrp_garp_master_delay": func(s *Statement) {
			b.secondsInt(s, &g.GARP.MasterDelay, 0, maxDelaySeconds)
			gd.mark(s.Keyword, s.Pos)
		},
		"vrrp_garp_master_repeat": func(s *Statement) {
			b.repeat(s, &g.GARP.MasterRepeat)
			gd.mark(s.Keyword, s.Pos)
		},
		"vrrp_garp_master_refresh": func(s *Statement) {
			b.secondsInt(s, &g.GARP.MasterRefresh, 0, math.MaxUint32)
		},
		"vrrp_garp_master_refresh_repeat": func(s *Statement) {
			b.repeat(s, &g.GARP.MasterRefreshRepeat)
			gd.mark(s.Keyword, s.Pos)
		},
		"vrrp_garp_lower_prio_delay": func(s *Statement) {
			b.secondsInt(s, &g.GARP.LowerPrioDelay, 0, maxDelaySeconds)
			gd.mark(s.Keyword, s.Pos)
		},
		"vrrp_garp_lower_prio_repeat": func(s *Statement) {
			b.uintInto(s, &g.GARP.LowerPrioRepeat, 0, math.MaxInt32)
			gd.mark(s.Keyword, s.Pos)
		},
		"vrrp_garp_interval": func(s *Statement) {
			b.seconds(s, &g.GARPInterval, time.Microsecond, math.MaxUint32*time.Microsecond)
		},
		"vrrp_gna_interval": func(s *Statement) {
			b.seconds(s, &g.GNAInterval, time.Microsecond, math.MaxUint32*time.Microsecond)
		},
		"vrrp_startup_delay": func(s *Statement) {
			b.seconds(s, &g.StartupDelay, time.Millisecond, math.MaxUint32*time.Microsecond)
		},
		"vrrp_garp_extra_if":   func(s *Statement) { b.garpExtraIf(s, &g.GARP, 1) },
		"vrrp_vmac_garp_intvl": func(s *Statement) { b.garpExtraIf(s, &g.GARP, 1) },
		"vmac_prefix":          func(s *Statement) { b.vmacPrefix(s, &g.VMACPrefix) },
		"vmac_addr_prefix":     func(s *Statement) { b.vmacPrefix(s, &g.VMACAddrPrefix) },
		// hactl's own keywords.
		"state_file": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				g.StateFile = s.Args[0].Text
			}
		},
		"control_socket": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				g.ControlSocket = s.Args[0].Text
			}
		},
		"notify_master_dir": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				g.NotifyMasterDir = s.Args[0].Text
				b.noteScript(s.Pos)
			}
		},
		"vip_lease": func(s *Statement) { b.seconds(s, &g.VIPLease, 0, maxVIPLease) },
		"control_ssh": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				if err := checkListenAddr(s.Args[0].Text); err != nil {
					b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
					return
				}
				g.ControlSSH.Addr, g.ControlSSH.Pos = s.Args[0].Text, s.Pos
			}
		},
		"control_ssh_authorized_keys": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				g.ControlSSH.AuthorizedKeys = s.Args[0].Text
			}
		},
		"control_ssh_host_key": func(s *Statement) {
			if b.nargs(s, 1, 1) {
				g.ControlSSH.HostKeys = append(g.ControlSSH.HostKeys, s.Args[0].Text)
				g.ControlSSH.HostKeyPos = append(g.ControlSSH.HostKeyPos, s.Pos)
			}
		},
	}
	maps.Copy(h, b.globalNotifyHandlers(g))
	maps.Copy(h, b.globalTimingHandlers(g))
	return blockSpec{name: "global_defs", ctx: CtxGlobal, handlers: h, ignored: globalIgnored}
}

// optionalValue handles a keyword whose keepalived handler checks for its
// value before reading it (router_id, script_user): without one keepalived
// reports it and ignores the line instead of exiting.
func (b *builder) optionalValue(s *Statement) bool {
	if len(s.Args) == 0 && !s.HasBlock {
		b.diag.correctf(s.Pos, "%s needs a value: keepalived reports it and ignores the line, and so does hactl", s.Keyword)
		return false
	}
	return true
}

// maxVIPLease bounds vip_lease; the kernel's finite lifetimes are 32-bit
// seconds.
const maxVIPLease = (math.MaxUint32 - 1) * time.Second

func (b *builder) mcastGroup(s *Statement, dst *netip.Addr, fam Family) {
	if !b.nargs(s, 1, 1) {
		return
	}
	a, err := parseAddr(s.Args[0].Text)
	switch {
	case err != nil:
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
	case familyOf(a) != fam:
		b.badValue(s, s.Args[0].Pos, "%s: %s is not an %s address", s.Keyword, a, familyName(fam))
	case !a.IsMulticast():
		b.badValue(s, s.Args[0].Pos, "%s: %s is not a multicast address", s.Keyword, a)
	case fam == FamilyIPv6 && !a.IsLinkLocalMulticast():
		b.badValue(s, s.Args[0].Pos, "%s: %s is not a link-local multicast address", s.Keyword, a)
	default:
		*dst = a
	}
}

func familyName(f Family) string {
	if f == FamilyIPv4 {
		return "IPv4"
	}
	return "IPv6"
}

// secondsInt reads whole seconds.
func (b *builder) secondsInt(s *Statement, dst *time.Duration, lo, hi uint64) {
	if !b.nargs(s, 1, 1) {
		return
	}
	v, err := parseUint(s.Args[0].Text, lo, hi)
	if err != nil {
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
		return
	}
	*dst = time.Duration(v) * time.Second
}

// seconds reads a <TIMER>: seconds with up to six decimals.
func (b *builder) seconds(s *Statement, dst *time.Duration, lo, hi time.Duration) bool {
	if !b.nargs(s, 1, 1) {
		return false
	}
	d, note, err := parseSeconds(s.Args[0].Text, lo, hi)
	if err != nil {
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
		return false
	}
	if note != "" {
		b.diag.warnf(s.Args[0].Pos, "%s: %s", s.Keyword, note)
	}
	*dst = d
	return true
}

// repeat reads a repeat count; 0 is raised to 1 as keepalived does.
func (b *builder) repeat(s *Statement, dst *int) {
	if !b.nargs(s, 1, 1) {
		return
	}
	v, err := parseUint(s.Args[0].Text, 0, math.MaxUint32)
	if err != nil {
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
		return
	}
	if v == 0 {
		b.diag.warnf(s.Args[0].Pos, "%s must be greater than 0; using 1", s.Keyword)
		v = 1
	}
	*dst = int(v)
}

func (b *builder) uintInto(s *Statement, dst *int, lo, hi uint64) bool {
	if !b.nargs(s, 1, 1) {
		return false
	}
	v, err := parseUint(s.Args[0].Text, lo, hi)
	if err != nil {
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
		return false
	}
	*dst = int(v)
	return true
}

// vmacPrefix reads vmac_prefix / vmac_addr_prefix: keepalived keeps the
// first and reports a second.
func (b *builder) vmacPrefix(s *Statement, dst *string) {
	if !b.nargs(s, 1, 1) {
		return
	}
	if *dst != "" {
		b.diag.correctf(s.Pos, "%s is already set: keepalived reports it and keeps the first, and so does hactl", s.Keyword)
		return
	}
	*dst = s.Args[0].Text
}

// garpExtraIf reads garp_extra_if / vrrp_garp_extra_if SECS [all] (the
// words in any order) as keepalived's handlers do: vmac_garp_intvl and
// vrrp_vmac_garp_intvl are their deprecated names; seconds lo..86400; a
// line without a time, or with a bad word, is reported and ignored.
func (b *builder) garpExtraIf(s *Statement, g *GARP, lo uint64) {
	if !b.noBlock(s) {
		return
	}
	if s.Keyword == "vmac_garp_intvl" || s.Keyword == "vrrp_vmac_garp_intvl" {
		b.diag.warnf(s.Pos, "%s is deprecated (use %s): keepalived reports it and reads it, and so does hactl", s.Keyword, strings.Replace(s.Keyword, "vmac_garp_intvl", "garp_extra_if", 1))
	}
	var delay *time.Duration
	all := false
	for _, a := range s.Args {
		if a.Text == "all" {
			all = true
			continue
		}
		v, err := parseUint(a.Text, lo, 86400)
		if err != nil {
			b.diag.correctf(a.Pos, "%s %q invalid: keepalived reports it and ignores the line, and so does hactl", s.Keyword, a.Text)
			return
		}
		d := time.Duration(v) * time.Second
		delay = &d
	}
	if delay == nil || lo > 0 && *delay == 0 {
		b.diag.correctf(s.Pos, "%s is given without a time: keepalived reports it and ignores it, and so does hactl", s.Keyword)
		return
	}
	g.ExtraIf = *delay
	g.ExtraIfAll = g.ExtraIfAll || all
}

// checkListenAddr checks control_ssh's HOST:PORT (HOST may be empty or a
// bracketed IPv6 address; PORT 1-65535).
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want HOST:PORT, e.g. 0.0.0.0:922 or [::]:922", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q: want 1-65535", addr, port)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: %q is not an IP address (the listener binds an address, not a name)", addr, host)
		}
	}
	return nil
}
