package config

import (
	"strings"
	"testing"
)

// classOf is the worst class of a list of diagnostics: "error",
// "corrected", "warning" or "ok".
func classOf(ds Diagnostics) string {
	switch {
	case ds.HasErrors():
		return "error"
	case ds.HasCorrected():
		return "corrected"
	case len(ds) > 0:
		return "warning"
	}
	return "ok"
}

// TestKeepalivedClasses: each anomaly keepalived 2.2.7 runs with gets its
// class (corrected: keepalived reports it and corrects it; warning:
// keepalived ignores or only notes it) and the model holds keepalived's
// interpretation. Each row was read from keepalived's source: the
// handler in vrrp_parser.c or global_parser.c, alloc_track_if and
// alloc_track_script in vrrp_track.c, process_stream and
// alloc_value_block in lib/parser.c.
func TestKeepalivedClasses(t *testing.T) {
	const script = "vrrp_script chk {\n  script /bin/true\n}\n"
	tests := []struct {
		name  string
		src   string
		class string
		msg   string // a substring of the first diagnostic of that class
		get   func(in *Instance, cfg *Config) any
		want  string
	}{
		// Extra words: handlers read the slots they know (no report).
		{"nopreempt 1", withInst("  nopreempt 1\n"), "warning", `nopreempt takes no value: keepalived ignores "1" and sets nopreempt all the same`,
			func(in *Instance, _ *Config) any { return in.Preempt }, "false"},
		{"nopreempt false still sets nopreempt", withInst("  nopreempt false\n"), "warning", `ignores "false" and sets nopreempt all the same`,
			func(in *Instance, _ *Config) any { return in.Preempt }, "false"},
		{"vrrp_strict true", "global_defs {\n  vrrp_strict true\n}\n" + withInst(""), "warning", `vrrp_strict takes no value`,
			func(in *Instance, _ *Config) any { return in.Strict }, "true"},
		{"enable_script_security true", "global_defs {\n  enable_script_security true\n}\n" + withInst(""), "warning", `enable_script_security takes no value`,
			func(_ *Instance, cfg *Config) any { return cfg.Global.EnableScriptSecurity }, "true"},
		{"accept true", withInst("  accept true\n"), "warning", `accept takes no value`,
			func(in *Instance, _ *Config) any { return in.Accept }, "true"},
		{"no_accept false", withInst("  no_accept false\n"), "warning", `no_accept takes no value`,
			func(in *Instance, _ *Config) any { return in.Accept }, "false"},
		{"dont_track_primary yes", withInst("  dont_track_primary yes\n"), "warning", `dont_track_primary takes no value`,
			func(in *Instance, _ *Config) any { return in.DontTrackPrimary }, "true"},
		{"advert_int 1 1", withInst("  advert_int 2 1\n"), "warning", `advert_int takes one value: keepalived ignores "1"`,
			func(in *Instance, _ *Config) any { return in.AdvertInt }, "2s"},
		{"priority 100 100", withInst("  priority 120 100\n"), "warning", `priority takes one value`,
			func(in *Instance, _ *Config) any { return in.Priority }, "120"},
		{"router_id a b", "global_defs {\n  router_id a b\n}\n" + withInst(""), "warning", `router_id takes one value: keepalived ignores "b"`,
			func(_ *Instance, cfg *Config) any { return cfg.Global.RouterID }, "a"},
		// One line, several interfaces: keepalived reads "eth1" with an
		// unknown option "eth2" and tracks nothing.
		{"track_interface on one line", withInst("  track_interface { eth1 eth2 weight -10 }\n"), "corrected",
			`track_interface eth1: unknown option "eth2" (want weight; one tracker a line): keepalived reports it and does not track it`,
			func(in *Instance, _ *Config) any { return len(in.TrackInterfaces) }, "0"},
		{"track_interface invalid weight", withInst("  track_interface {\n    eth1 weight x\n  }\n"), "corrected", `tracks it with weight 0`,
			func(in *Instance, _ *Config) any { return sp(in.TrackInterfaces[0].Name, in.TrackInterfaces[0].Weight) }, "eth1 0"},
		// Unknown state: strcmp, so "Master" is unknown too.
		{"state SLAVE", withInst("  state SLAVE\n"), "corrected", `unknown state "SLAVE" (keepalived knows MASTER and BACKUP, in capitals): keepalived reports it and uses BACKUP`,
			func(in *Instance, _ *Config) any { return sp(in.State, in.Priority) }, "BACKUP 100"},
		{"state Master", withInst("  state Master\n"), "corrected", `unknown state "Master"`,
			func(in *Instance, _ *Config) any { return sp(in.State, in.Priority) }, "BACKUP 100"},
		// Invalid numbers.
		{"priority 300", withInst("  state MASTER\n  priority 300\n"), "corrected", `uses the default 100`,
			func(in *Instance, _ *Config) any { return sp(in.State, in.Priority) }, "MASTER 100"},
		{"advert_int x", withInst("  advert_int x\n"), "corrected", `advert_int: invalid number "x": keepalived reports it and keeps the default`,
			func(in *Instance, _ *Config) any { return in.AdvertInt }, "1s"},
		{"vrrp_version 4", "global_defs {\n  vrrp_version 4\n}\n" + withInst(""), "corrected", `keeps the default`,
			func(in *Instance, _ *Config) any { return in.Version }, "2"},
		{"script interval 0", "vrrp_script chk {\n  script /bin/true\n  interval 0\n}\n" + withInst("  track_script {\n    chk\n  }\n"), "corrected", `uses 1`,
			func(_ *Instance, cfg *Config) any { return cfg.Scripts[0].Interval }, "1s"},
		// Unknown keywords are skipped; what follows still counts.
		{"unknown keyword", withInst("  garp_master_delai 1\n  priority 90\n"), "corrected", `unknown keyword "garp_master_delai" in vrrp_instance VI_1: keepalived reports it and skips it`,
			func(in *Instance, _ *Config) any { return in.Priority }, "90"},
		// An unknown keyword with a block: keepalived ignores the '{',
		// reads the lines as keywords of the instance and the '}' as the
		// instance's end, so "priority 90" lands at the top level.
		{"unknown keyword with a block", withInst("  virtual_ipaddres {\n    192.0.2.99\n  }\n  priority 90\n"), "corrected",
			`'{' after the unknown keyword virtual_ipaddres: keepalived ignores it and reads the lines of the block as keywords of vrrp_instance VI_1`,
			func(in *Instance, _ *Config) any { return sp(in.Priority, len(in.VIPs)) }, "100 1"},
		{"unknown block at top level", "vrrp_instanse X {\n  priority 5\n}\n" + withInst(""), "corrected", `unknown keyword "priority" at top level`,
			func(in *Instance, _ *Config) any { return in.Priority }, "100"},
		// A '{' with no keyword before it (process_stream: "Unexpected
		// '{' - ignoring"): its lines are keywords of the block it is in,
		// and its '}' ends that block.
		{"'{' with no keyword in an instance", withInst("  {\n    priority 90\n  }\n  advert_int 3\n"), "corrected",
			`'{' with no keyword before it: keepalived reports "Unexpected '{' - ignoring", reads the lines of the block as keywords of vrrp_instance VI_1`,
			func(in *Instance, _ *Config) any { return sp(in.Priority, in.AdvertInt) }, "90 1s"},
		{"'{' with no keyword at top level", "{\n  global_defs {\n    router_id lb1\n  }\n}\n" + withInst(""), "corrected",
			`'{' with no keyword before it: keepalived reports "Unexpected '{' - ignoring", reads the lines of the block as keywords of the top level`,
			func(_ *Instance, cfg *Config) any { return cfg.Global.RouterID }, "lb1"},
		// A block after a keyword that takes none: keepalived reads the
		// line, then the '{' as above.
		{"'{' after a value", withInst("  priority 90\n  {\n    advert_int 2\n  }\n  advert_int 3\n"), "corrected",
			`'{' after priority, which takes no block: keepalived reads the line, reports "Unexpected '{' - ignoring"`,
			func(in *Instance, _ *Config) any { return sp(in.Priority, in.AdvertInt) }, "90 2s"},
		// An unterminated double quote (read_line, alloc_strvec_r): the
		// line is dropped from the quote on.
		{"unterminated quote", withInst("  priority 90 \"x\n  advert_int 2\n"), "corrected", `unterminated " quote: keepalived reports it and drops the line from the quote on`,
			func(in *Instance, _ *Config) any { return sp(in.Priority, in.AdvertInt) }, "90 2s"},
		// ... so a value in the quote is missing: keepalived exits.
		{"unterminated quote takes the value", withInst("  priority \"90\n"), "error", `priority needs a value (keepalived exits on a missing parameter)`, nil, ""},
		{"lone single quote", "global_defs {\n  router_id it's\n}\n" + withInst(""), "warning", `unterminated ' quote: keepalived takes ' as a character here`,
			func(_ *Instance, cfg *Config) any { return cfg.Global.RouterID }, "it's"},
		// Missing '{': keepalived reads the following lines as the block.
		{"section without '{'", "vrrp_instance VI_1\n" + base + "  priority 90\n}\n", "corrected", `'{' is missing after vrrp_instance`,
			func(in *Instance, _ *Config) any { return sp(in.Name, in.Priority, len(in.VIPs)) }, "VI_1 90 1"},
		{"value block without '{'", withInst("  virtual_ipaddress_excluded\n    192.0.2.99\n  }\n  priority 90\n"), "corrected", `'{' is missing after virtual_ipaddress_excluded: keepalived reports an extra '}' at its end`,
			func(in *Instance, _ *Config) any { return sp(len(in.ExcludedVIPs), in.Priority) }, "1 90"},
		// References are resolved as they are read.
		{"track_script defined further down", withInst("  track_script {\n    chk\n  }\n") + script, "corrected",
			`(VI_1) track_script chk: vrrp_script chk is defined further down (test.conf:11:1), and keepalived looks names up as it reads them: it reports "not found, ignoring" and does not track it, and so does hactl (move vrrp_script chk above the reference to track it)`,
			func(in *Instance, _ *Config) any { return len(in.TrackScripts) }, "0"},
		{"track_script defined above", script + withInst("  track_script {\n    chk\n  }\n"), "warning", `enable_script_security is not set`,
			func(in *Instance, _ *Config) any { return len(in.TrackScripts) }, "1"},
		{"track_script in a sync group, defined further down",
			withInst("") + "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  track_script {\n    chk\n  }\n}\n" + script, "corrected", `(G) track_script chk: vrrp_script chk is defined further down`,
			func(_ *Instance, cfg *Config) any { return len(cfg.SyncGroups[0].TrackScripts) }, "0"},
		{"track_script with no script", "vrrp_script chk {\n  interval 2\n}\n" + withInst("  track_script {\n    chk\n  }\n"), "corrected", `vrrp_script chk has no script: keepalived reports it and removes it`,
			func(in *Instance, _ *Config) any { return len(in.TrackScripts) }, "0"},
		// Dropped VIPs and routes.
		{"invalid VIP", withInst("  virtual_ipaddress {\n    192.0.2.300\n    192.0.2.11\n  }\n"), "corrected", `skips the address`,
			func(in *Instance, _ *Config) any { return len(in.VIPs) }, "2"},
		{"unknown VIP option", withInst("  virtual_ipaddress {\n    192.0.2.11 frobnicate\n  }\n"), "corrected", `ignores the option`,
			func(in *Instance, _ *Config) any { return len(in.VIPs) }, "2"},
		// keepalived parses a peer without a prefix length: the peer is
		// ignored, the address kept (parse_ipaddress, allow_subnet_mask false).
		{"peer with a prefix length", withInst("  virtual_ipaddress {\n    192.0.2.155 peer 192.0.2.156/24\n  }\n"), "corrected", `invalid peer address "192.0.2.156/24" (a peer takes no prefix length): keepalived reports it and ignores the option`,
			func(in *Instance, _ *Config) any { return sp(in.VIPs[1].Prefix, in.VIPs[1].Peer.IsValid()) }, "192.0.2.155/32 false"},
		// native_ipv6 (vrrp_native_ipv6_handler): the instance is IPv6
		// and VRRPv3; an IPv4 VIP after it is dropped (alloc_vrrp_vip:
		// "address family must match"), and with none left the instance
		// has no VIP, which VRRPv3 refuses (vrrp_complete_instance). After
		// an IPv4 address, the line is refused and ignored.
		{"native_ipv6 drops IPv4 VIPs", strings.Replace(withInst(""), "  virtual_router_id 51\n", "  virtual_router_id 51\n  native_ipv6\n", 1) +
			"vrrp_instance VI_6 {\n  interface eth0\n  virtual_router_id 52\n  native_ipv6\n  virtual_ipaddress {\n    192.0.2.12\n    fe80::12\n  }\n}\n",
			"error", `(VI_1) no virtual_ipaddress; at least one is required`, nil, ""},
		{"native_ipv6 keeps IPv6 VIPs", "vrrp_instance VI_6 {\n  interface eth0\n  virtual_router_id 52\n  native_ipv6\n  virtual_ipaddress {\n    192.0.2.12\n    fe80::12\n  }\n}\n",
			"corrected", `(VI_6) 192.0.2.12/32: native_ipv6 (line 4) makes the instance IPv6: keepalived reports "address family must match VRRP instance" and skips the address`,
			func(in *Instance, _ *Config) any { return sp(in.Family, in.Version, len(in.VIPs), in.VIPs[0].Prefix) }, "inet6 3 1 fe80::12/128"},
		{"native_ipv6 after an IPv4 VIP", withInst("  native_ipv6\n"), "corrected", `(VI_1) native_ipv6 after an IPv4 address: keepalived reports "Cannot specify native_ipv6 with IPv4 addresses" and ignores the line`,
			func(in *Instance, _ *Config) any { return sp(in.Family, in.Version, len(in.VIPs)) }, "inet 2 1"},
		// Build-dependent: Debian's and Ubuntu's keepalived 2.2.7 is
		// built without iptables (global_parser.c: vrrp_iptables_handler
		// under !_WITH_IPTABLES_ reports "iptables not supported, using
		// nftables instead"; vrrp_ipsets is not installed, so it is an
		// unknown keyword). keepalived -t fails there, so config check
		// follows that build; hactl installs no firewall rule either way.
		{"vrrp_iptables on a build without iptables", "global_defs {\n  vrrp_iptables\n}\n" + withInst(""), "corrected",
			`vrrp_iptables: not implemented in hactl: keepalived 2.2.7 as Debian and Ubuntu build it (without iptables) reports "iptables not supported, using nftables instead"`, nil, ""},
		{"vrrp_ipsets on a build without iptables", "global_defs {\n  vrrp_ipsets\n}\n" + withInst(""), "corrected",
			`vrrp_ipsets: not implemented in hactl: keepalived 2.2.7 as Debian and Ubuntu build it (without iptables) does not know this keyword`, nil, ""},
		{"nftables stays a warning", "global_defs {\n  nftables\n}\n" + withInst(""), "warning",
			`nftables: not implemented in hactl`, nil, ""},
		// What keepalived only notes.
		{"auth_pass truncated", withInst("  authentication {\n    auth_type PASS\n    auth_pass 123456789\n  }\n"), "warning", `keepalived truncates it to "12345678"`,
			func(in *Instance, _ *Config) any { return in.Auth.Password }, "12345678"},
		{"nopreempt with state MASTER", withInst("  state MASTER\n  priority 100\n  nopreempt\n"), "warning", `nopreempt does not work with state MASTER`,
			func(in *Instance, _ *Config) any { return in.Preempt }, "true"},
		{"sync group of one", withInst("") + "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n}\n", "warning", `has only one instance`,
			func(in *Instance, _ *Config) any { return in.SyncGroup }, "G"},
		{"router_id without a value", "global_defs {\n  router_id\n}\n" + withInst(""), "corrected", `router_id needs a value: keepalived reports it and ignores the line`,
			func(_ *Instance, cfg *Config) any { return cfg.Global.RouterID == "" }, "true"},
		// Errors: keepalived exits.
		{"missing parameter", withInst("  priority\n"), "error", `priority needs a value (keepalived exits on a missing parameter)`, nil, ""},
		{"invalid vrid", strings.Replace(withInst(""), "51", "0", 1), "error", `refuses to start without a virtual router id`, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := parseString(t, tc.src)
			if got := classOf(diags); got != tc.class {
				t.Errorf("class %s, want %s:\n%s", got, tc.class, diags)
			}
			found := false
			for _, d := range diags {
				if d.Severity.String() == tc.class && strings.Contains(d.Message, tc.msg) {
					found = true
				}
				if !d.Pos.IsValid() || strings.Contains(d.Message, "\n") {
					t.Errorf("not one line at file:line:col: %q", d.String())
				}
			}
			if !found {
				t.Errorf("no %s diagnostic with %q:\n%s", tc.class, tc.msg, diags)
			}
			if tc.get == nil {
				return
			}
			if len(cfg.Instances) != 1 {
				t.Fatalf("%d instances, want 1:\n%s", len(cfg.Instances), diags)
			}
			if got := sp(tc.get(cfg.Instances[0], cfg)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestScriptUserBeforeScript: keepalived's vrrp_script takes its user
// line wherever it is in the block; hactl used to drop a user given
// before the script line, so the script ran as the default user.
func TestScriptUserBeforeScript(t *testing.T) {
	for _, src := range []string{
		"vrrp_script chk {\n  user nobody nogroup\n  script /bin/true\n}\n",
		"vrrp_script chk {\n  script /bin/true\n  user nobody nogroup\n}\n",
	} {
		cfg, diags := parseString(t, src+withInst("  track_script {\n    chk\n  }\n"))
		if diags.HasErrors() || len(cfg.Scripts) != 1 {
			t.Fatalf("%s", diags)
		}
		if c := cfg.Scripts[0].Command; c.User != "nobody" || c.Group != "nogroup" || c.Args[0] != "/bin/true" {
			t.Errorf("%q: command %+v, want /bin/true as nobody:nogroup", src, c)
		}
	}
}
