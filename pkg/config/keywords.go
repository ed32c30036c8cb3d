package config

import (
	"fmt"
	"strings"
)

// KeywordStatus says what hactl does with a keyword it parses.
type KeywordStatus string

// The keyword statuses. Only Implemented and Hactl keywords are silent:
// every other status is warned about, by name, where a configuration uses
// the keyword (Ignored ones in the one "hactl ignores ..." warning, the
// others each in a warning of their own that says how hactl differs).
const (
	// KeywordImplemented: hactl does what keepalived does.
	KeywordImplemented KeywordStatus = "implemented"
	// KeywordPartial: hactl implements part of it; the difference is
	// warned about.
	KeywordPartial KeywordStatus = "partial"
	// KeywordNotImplemented: parsed and checked, then without effect; the
	// difference is warned about.
	KeywordNotImplemented KeywordStatus = "not implemented"
	// KeywordIgnored: outside hactl's VRRP subset (LVS, SMTP, SNMP, BFD,
	// process tuning): parsed for syntax, skipped, and listed in the one
	// "hactl ignores what is outside its VRRP subset" warning.
	KeywordIgnored KeywordStatus = "ignored"
	// KeywordDeprecated: an old spelling, read as its replacement with a
	// warning.
	KeywordDeprecated KeywordStatus = "deprecated"
	// KeywordHactl: hactl's own keyword; keepalived does not know it.
	KeywordHactl KeywordStatus = "hactl only"
)

// Keyword contexts: the block (or, for options, the line) a keyword is
// read in.
const (
	CtxTop         = "top level"
	CtxGlobal      = "global_defs"
	CtxScript      = "vrrp_script"
	CtxTrackFile   = "track_file"
	CtxInstance    = "vrrp_instance"
	CtxAuth        = "authentication"
	CtxSyncGroup   = "vrrp_sync_group"
	CtxVIP         = "virtual_ipaddress option"
	CtxRoute       = "virtual_routes option"
	CtxNexthop     = "virtual_routes nexthop option"
	CtxRule        = "virtual_rules option"
	CtxUnicastPeer = "unicast_peer option"
	CtxTrackOption = "track_* option"
)

// CtxTrackProcess is a vrrp_track_process block.
const CtxTrackProcess = "vrrp_track_process"

// CtxEtcdGuard is an etcd_guard block (hactl's own).
const CtxEtcdGuard = "etcd_guard"

// Keyword is one keyword hactl's parser knows, with what hactl does with
// it. Diff says, for every status but Implemented, how hactl's behaviour
// differs from keepalived's; it is the text of the warning.
type Keyword struct {
	Context string
	Name    string
	Status  KeywordStatus
	Diff    string
	// Values is how many words follow an option keyword (CtxVIP,
	// CtxRoute, CtxUnicastPeer), for the walk that finds options.
	Values int
	// Corrected marks a keyword that keepalived 2.2.7 as Debian and
	// Ubuntu build it (without iptables) reports as a configuration
	// error: its use is a corrected diagnostic (config check exits 1, as
	// keepalived -t does there), not a warning. Diff says what each
	// build does.
	Corrected bool
}

// Keywords lists every keyword hactl's parser knows, by context. A test
// checks it against the parser's own tables and docs/config.md against it.
var Keywords = keywordTable()

func keywordTable() []Keyword {
	var t []Keyword
	add := func(ctx string, st KeywordStatus, diff string, names ...string) {
		for _, n := range names {
			t = append(t, Keyword{Context: ctx, Name: n, Status: st, Diff: diff})
		}
	}
	opt := func(ctx string, values int, st KeywordStatus, diff string, names ...string) {
		for _, n := range names {
			t = append(t, Keyword{Context: ctx, Name: n, Status: st, Diff: diff, Values: values})
		}
	}
	corrected := func(ctx, diff string, names ...string) {
		for _, n := range names {
			t = append(t, Keyword{Context: ctx, Name: n, Status: KeywordNotImplemented, Diff: diff, Corrected: true})
		}
	}
	const impl = KeywordImplemented
	const ni = KeywordNotImplemented
	const ign = KeywordIgnored
	const lvs = "keepalived's LVS/IPVS side (virtual servers, health checkers); hactl is VRRP only"
	const mail = "keepalived sends e-mail alerts; hactl sends none (use notify scripts)"
	const snmp = "keepalived serves SNMP/D-Bus; hactl serves its control socket and metrics instead"
	const tuning = "keepalived's process tuning (scheduling, memory, buffers, names); hactl uses the Go runtime's defaults"
	const bfd = "keepalived's BFD daemon; hactl has no BFD"

	// Top level.
	add(CtxTop, impl, "", "global_defs", "vrrp_script", "track_file", "vrrp_instance", "vrrp_sync_group", "include")
	add(CtxTop, KeywordDeprecated, "read as track_file", "vrrp_track_file")
	add(CtxTop, ign, lvs, "virtual_server", "virtual_server_group", "SSL")
	add(CtxTop, ign, bfd, "bfd_instance")
	add(CtxTop, ign, "keepalived's process layout (pid directory, instance name, namespaces, child wait); hactl is one process", "use_pid_dir", "instance", "child_wait_time", "net_namespace_ipvs", "namespace_with_ipsets")
	// static_*: added at start (after removing leftovers), re-added on
	// reload (those gone from the file removed), removed at exit; a
	// static address or rule deleted by hand comes back (unless no_track).
	add(CtxTop, impl, "", "static_ipaddress", "static_rules")
	// A static route with dev and without no_track deleted by hand comes
	// back, as keepalived's reinstate_static_route (daemon/routewatch.go).
	add(CtxTop, impl, "", "static_routes")
	add(CtxTop, ni, "keepalived runs its VRRP side in that network namespace; hactl runs in the namespace it is started in", "net_namespace")
	add(CtxTop, impl, "", "vrrp_track_process", "interface_up_down_delays")
	add(CtxTop, ni, "keepalived applies track_group's interface tracking to its instances; hactl does not", "track_group")
	add(CtxTop, ni, "keepalived sends gratuitous ARPs with these per-interface settings; hactl uses the instances' and global_defs' settings", "garp_group")
	add(CtxTop, ni, "keepalived polls link state as configured; hactl follows netlink's link events", "linkbeat_interfaces", "linkbeat_use_polling")

	// global_defs.
	add(CtxGlobal, impl, "", "router_id", "vrrp_version", "vrrp_mcast_group4", "vrrp_mcast_group6",
		"script_user", "enable_script_security", "vrrp_garp_master_delay", "vrrp_garp_master_repeat",
		"vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat", "vrrp_garp_interval", "vrrp_gna_interval",
		"vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat")
	add(CtxGlobal, impl, "", "vrrp_strict")
	add(CtxGlobal, impl, "", "vrrp_startup_delay")
	add(CtxGlobal, KeywordHactl, "", "state_file", "control_socket", "notify_master_dir", "vip_lease")
	add(CtxGlobal, KeywordHactl, "", "control_ssh", "control_ssh_authorized_keys", "control_ssh_host_key")
	add(CtxGlobal, ign, mail, "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout",
		"notification_email", "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker", "no_email_faults", "no_checker_emails")
	add(CtxGlobal, ign, lvs, "checker_log_all_failures", "lvs_timeouts", "lvs_flush", "lvs_flush_on_stop", "lvs_flush_onstop",
		"lvs_sync_daemon", "lvs_notify_fifo", "lvs_notify_fifo_script", "nftables_ipvs", "nftables_ipvs_priority",
		"nftables_ipvs_start_fwmark", "rs_init_notifies")
	add(CtxGlobal, ign, snmp, "snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived",
		"enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_checker", "enable_dbus", "dbus_service_name")
	add(CtxGlobal, ign, tuning, "process_names", "process_name", "vrrp_process_name", "checker_process_name",
		"lvs_process_name", "bfd_process_name", "max_auto_priority", "min_auto_priority_delay",
		"vrrp_priority", "vrrp_no_swap", "vrrp_rt_priority", "vrrp_cpu_affinity", "vrrp_rlimit_rttime", "vrrp_rlimit_rtime",
		"checker_priority", "checker_no_swap", "checker_rt_priority", "checker_cpu_affinity", "checker_rlimit_rttime", "checker_rlimit_rtime",
		"bfd_priority", "bfd_no_swap", "bfd_rt_priority", "bfd_cpu_affinity", "bfd_rlimit_rttime", "bfd_rlimit_rtime",
		"vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
		"vrrp_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force",
		"lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
		"lvs_netlink_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "umask", "random_seed")
	add(CtxGlobal, ign, "keepalived's reload and config-file housekeeping; hactl reloads on SIGHUP and reads the files as they are",
		"reload_check_config", "reload_time_file", "reload_repeat", "reload_file", "include_check", "config_save_dir",
		"tmp_config_directory", "data_use_instance")
	add(CtxGlobal, ni, "keepalived runs this script when it starts (or stops); hactl runs none", "startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout")
	add(CtxGlobal, ni, "keepalived copes with interfaces that come and go (or defaults a missing interface); hactl needs each instance's interface when it starts", "dynamic_interfaces", "default_interface")
	add(CtxGlobal, ni, "keepalived then lets its VMAC interfaces send their own IGMP/MLD reports (with the VMAC as source); hactl joins the VRRP group on the base interface, so its reports always leave with the base's MAC, as keepalived's nftables rules arrange without this keyword", "disable_local_igmp")
	add(CtxGlobal, impl, "", "vrrp_down_timer_adverts", "vrrp_min_garp", "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert")
	add(CtxGlobal, impl, "", "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl")
	add(CtxGlobal, ni, "keepalived names its nftables table, sets its chains' priority, matches link-local VIPs by interface index, counts; hactl's no_accept table is always inet hactl, chains at priority -1, no counters", "nftables", "nftables_priority", "nftables_ifindex", "nftables_counters")
	// Build-dependent: Debian's and Ubuntu's keepalived 2.2.7 is built
	// with nftables and without iptables, and judges these as below; a
	// build with iptables takes them silently. hactl follows the
	// distributions' build, which is what keepalived -t says to a user of
	// it.
	corrected(CtxGlobal, "keepalived 2.2.7 as Debian and Ubuntu build it (without iptables) reports \"iptables not supported, using nftables instead\" and installs its nftables rules (table keepalived) instead; a build with iptables installs iptables rules; hactl installs its own nftables table (inet hactl, for no_accept) either way", "vrrp_iptables")
	corrected(CtxGlobal, "keepalived 2.2.7 as Debian and Ubuntu build it (without iptables) does not know this keyword: it reports an unknown keyword and skips the line; a build with iptables and ipset uses ipsets for its iptables rules; hactl installs its own nftables table (inet hactl, for no_accept) either way", "vrrp_ipsets")
	// hactl always applies check_unicast_src (a deliberate difference:
	// config warns on a unicast instance without it).
	add(CtxGlobal, impl, "", "vrrp_check_unicast_src")
	// keepalived's address check of adverts, and its skip for the master
	// a backup follows (daemon/receive.go, advertAddrsDrop).
	add(CtxGlobal, impl, "", "vrrp_skip_check_adv_addr")
	add(CtxGlobal, impl, "", "notify_fifo", "notify_fifo_script", "vrrp_notify_fifo", "vrrp_notify_fifo_script", "vrrp_notify_priority_changes", "fifo_write_vrrp_states_on_reload")
	add(CtxGlobal, ni, "keepalived logs adverts for VRIDs it does not run; hactl does not", "log_unknown_vrids")
	add(CtxGlobal, impl, "", "vmac_prefix", "vmac_addr_prefix")

	// vrrp_script.
	add(CtxScript, impl, "", "script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail")

	// track_file.
	add(CtxTrackFile, impl, "", "file", "weight", "init_file")

	// vrrp_track_process.
	add(CtxTrackProcess, impl, "", "process", "param_match", "weight", "quorum", "quorum_max", "delay",
		"terminate_delay", "fork_delay", "full_command")

	// vrrp_instance.
	add(CtxInstance, impl, "", "interface", "state", "virtual_router_id", "priority", "version", "advert_int",
		"nopreempt", "preempt", "preempt_delay", "accept", "mcast_src_ip", "unicast_src_ip", "mcast_dst_ip",
		"unicast_peer", "authentication", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes",
		"track_interface", "track_script", "track_file", "track_process", "dont_track_primary", "notify_master", "notify_backup",
		"notify_fault", "notify_stop", "notify", "garp_master_delay", "garp_master_repeat", "garp_master_refresh",
		"garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat")
	add(CtxInstance, impl, "", "no_accept")
	add(CtxInstance, impl, "", "strict_mode")
	add(CtxInstance, impl, "", "use_vmac")
	add(CtxInstance, impl, "", "use_vmac_addr", "vmac_xmit_base")
	add(CtxInstance, ni, "keepalived puts the VIPs on an ipvlan interface; hactl adds them to the interface itself", "use_ipvlan")
	add(CtxInstance, impl, "", "unicast_fault_no_peer", "check_unicast_src")
	add(CtxInstance, impl, "", "skip_check_adv_addr")
	// native_ipv6: the instance is IPv6 (VRRPv3) and its IPv4 addresses
	// are dropped, as keepalived does.
	add(CtxInstance, impl, "", "native_ipv6")
	add(CtxInstance, ni, "keepalived computes the old (pre-2.0) unicast checksum; hactl computes RFC 5798's", "old_unicast_checksum")
	add(CtxInstance, ni, "keepalived binds the instance to that VRF; hactl does not", "vrf")
	add(CtxInstance, ni, "keepalived moves the priority (or faults) on this tracker; hactl does not track it, so it never counts", "track_bfd", "track_src_ip")
	add(CtxInstance, impl, "", "unicast_ttl")
	add(CtxInstance, ni, "keepalived sets the interface's promote_secondaries sysctl, so that removing a VIP that is the primary address keeps the other addresses of its subnet; hactl leaves the sysctl as it is", "promote_secondaries")
	add(CtxInstance, ni, "keepalived polls the interface's link state; hactl follows netlink's link events", "linkbeat_use_polling")
	// A rule without no_track deleted by hand comes back (keepalived's
	// netlink_rule_filter re-adds a static one but makes a master leave
	// MASTER over a virtual one: a deliberate difference, docs/daemon.md).
	add(CtxInstance, impl, "", "virtual_rules")
	add(CtxInstance, impl, "", "notify_master_rx_lower_pri", "notify_priority_changes")
	// A reload that removes an instance notifies DELETED with it, else
	// FAULT, as keepalived (daemon/reload.go, deletedState).
	add(CtxInstance, impl, "", "notify_deleted")
	add(CtxInstance, impl, "", "down_timer_adverts", "lower_prio_no_advert", "higher_prio_send_advert")
	add(CtxInstance, impl, "", "garp_extra_if", "vmac_garp_intvl")
	add(CtxInstance, ign, "keepalived's debug level for the instance; hactl logs by --log-level", "debug")
	add(CtxInstance, ign, mail, "smtp_alert")
	add(CtxInstance, ign, lvs, "lvs_sync_daemon_interface")
	add(CtxInstance, ign, tuning, "kernel_rx_buf_size")
	add(CtxInstance, KeywordHactl, "", "notify_master_dir", "vip_lease")
	// The etcd guard (docs/guard.md): keepalived reports these as unknown
	// keywords and runs unguarded.
	add(CtxTop, KeywordHactl, "", "etcd_guard")
	add(CtxEtcdGuard, KeywordHactl, "", "endpoints", "ttl", "key_prefix", "ca_file", "cert_file", "key_file", "username", "password")
	add(CtxInstance, KeywordHactl, "", "guard")
	add(CtxSyncGroup, KeywordHactl, "", "guard")

	// authentication.
	add(CtxAuth, impl, "", "auth_type", "auth_pass")

	// vrrp_sync_group.
	add(CtxSyncGroup, impl, "", "group", "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify",
		"track_interface", "track_script", "track_file", "track_process", "sync_group_tracking_weight", "notify_priority_changes")
	add(CtxSyncGroup, KeywordDeprecated, "read as sync_group_tracking_weight", "global_tracking")
	add(CtxSyncGroup, ni, "keepalived moves the group (or faults it) on this tracker; hactl does not track it, so it never counts", "track_bfd")
	add(CtxSyncGroup, ign, mail, "smtp_alert")

	// virtual_ipaddress / virtual_ipaddress_excluded line options.
	opt(CtxVIP, 1, impl, "", "brd", "broadcast", "scope", "label")
	opt(CtxVIP, 1, impl, "", "dev")
	opt(CtxVIP, 0, impl, "", "no_track")
	opt(CtxVIP, 1, impl, "", "peer", "preferred_lft")
	opt(CtxVIP, 0, impl, "", "-nodad", "home", "noprefixroute", "autojoin", "mngtmpaddr")
	opt(CtxVIP, 0, impl, "", "use_vmac")

	// virtual_routes line options.
	opt(CtxRoute, 1, impl, "", "dev", "oif")
	opt(CtxRoute, 1, impl, "", "src", "via", "gw", "scope", "table", "metric", "priority", "preference",
		"tos", "dsfield", "protocol", "realms", "hoplimit", "window", "initcwnd", "initrwnd", "quickack",
		"fastopen_no_cookie", "features", "or")
	// "lock" is taken before the values of these; hactl's netlink locks
	// only mtu and rto_min and warns about the others.
	opt(CtxRoute, 1, impl, "", "mtu", "rto_min", "advmss", "rtt", "rttvar", "reordering", "cwnd", "ssthresh", "congctl")
	opt(CtxRoute, 0, impl, "", "to", "no_track", "inet", "inet6", "onlink", "add", "prepend", "append", "nexthop")
	opt(CtxRoute, 0, impl, "", "unicast", "blackhole", "unreachable", "prohibit", "throw", "local", "broadcast",
		"brd", "anycast", "multicast", "nat", "xresolve")
	// keepalived reports "as to" as MPLS only and ignores it.
	opt(CtxRoute, 1, impl, "", "as")
	opt(CtxRoute, 1, impl, "", "from", "pref", "expires", "ttl-propagate", "vrf", "encap")
	opt(CtxNexthop, 1, impl, "", "via", "dev", "weight")
	opt(CtxNexthop, 0, impl, "", "onlink", "nexthop")
	opt(CtxNexthop, 1, impl, "", "realms", "encap")

	// virtual_rules / static_rules line options.
	opt(CtxRule, 1, impl, "", "from", "to", "table", "lookup", "preference", "order", "priority", "tos", "dsfield",
		"fwmark", "realms", "suppress_prefixlength", "sup_pl", "suppress_ifgroup", "sup_group", "dev", "iif", "oif",
		"tunnel-id", "uidrange", "protocol", "ipproto", "sport", "dport", "goto", "type")
	opt(CtxRule, 0, impl, "", "inet", "inet6", "not", "l3mdev", "no_track", "nop", "blackhole", "unreachable", "prohibit")

	// unicast_peer line options.
	// min_ttl/max_ttl: checked always (keepalived: only with
	// check_unicast_src), dropped as ttl_range.
	opt(CtxUnicastPeer, 1, impl, "", "min_ttl", "max_ttl")

	// track_interface / track_script / track_file line options.
	opt(CtxTrackOption, 1, impl, "", "weight")
	opt(CtxTrackOption, 0, impl, "", "reverse", "noreverse")
	return t
}

// lookupKeyword returns the table's entry for name in ctx.
func lookupKeyword(ctx, name string) (Keyword, bool) {
	for _, k := range Keywords {
		if k.Context == ctx && k.Name == name {
			return k, true
		}
	}
	return Keyword{}, false
}

// KeywordMarkdown renders the table for docs/config.md.
func KeywordMarkdown() string {
	var sb strings.Builder
	sb.WriteString("| context | keyword | status | how hactl differs from keepalived |\n| --- | --- | --- | --- |\n")
	for _, k := range Keywords {
		diff := k.Diff
		if diff == "" {
			diff = "—"
		}
		st := string(k.Status)
		if k.Corrected {
			st += " (corrected)"
		}
		fmt.Fprintf(&sb, "| %s | `%s` | %s | %s |\n", k.Context, k.Name, st, diff)
	}
	return sb.String()
}
