package config

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// ruleOf parses one virtual_rules line; ok is false when it was dropped.
func ruleOf(t *testing.T, line string) (Rule, bool, Diagnostics) {
	t.Helper()
	cfg, diags := parseString(t, withInst("  virtual_rules {\n    "+line+"\n  }\n"))
	if len(cfg.Instances) != 1 {
		t.Fatalf("%q: no instance:\n%s", line, diags)
	}
	rs := cfg.Instances[0].Rules
	if len(rs) == 0 {
		return Rule{}, false, diags
	}
	return rs[0], true, diags
}

func u8(v uint8) *uint8 { return &v }

// TestRuleLines follows vrrp_iprule.c: alloc_rule, one row a behaviour.
func TestRuleLines(t *testing.T) {
	tests := []struct {
		line string
		want Rule // compared on the fields set here (Pos ignored)
		drop string
	}{
		{line: "from 192.0.2.10 table 100 priority 100", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.10/32"), Action: "table", Table: 100, Priority: 100, Protocol: u8(18), SuppressPrefixLen: -1}},
		{line: "to 2001:db8::/32 lookup main preference 7", want: Rule{Family: FamilyIPv6, To: netip.MustParsePrefix("2001:db8::/32"), Action: "table", Table: 254, Priority: 7, Protocol: u8(18), SuppressPrefixLen: -1}},
		{line: "not from all fwmark 0x10/0xff iif eth0 oif eth1 order 9 type prohibit", want: Rule{Family: FamilyIPv4, Invert: true, Fwmark: 16, Fwmask: 255, HasFwmark: true, HasFwmask: true, Iif: "eth0", Oif: "eth1", Priority: 9, Action: "prohibit", Protocol: u8(18), SuppressPrefixLen: -1}},
		{line: "from 192.0.2.0/24 priority 5 goto 10", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.0/24"), Priority: 5, Action: "goto", Goto: 10, Protocol: u8(18), SuppressPrefixLen: -1}},
		{line: "l3mdev priority 1000", want: Rule{Family: FamilyIPv4, L3mdev: true, Action: "table", Priority: 1000, Protocol: u8(18), SuppressPrefixLen: -1}},
		{line: "from 192.0.2.1 table 100 priority 3 suppress_prefixlength 0 realms 1/2 tos 0x10", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.1/32"), Action: "table", Table: 100, Priority: 3, SuppressPrefixLen: 0, Realms: 1<<16 | 2, Tos: 16, Protocol: u8(18)}},
		{line: "from 192.0.2.1 table 100 priority 3 no_track protocol 4 ipproto tcp sport 80-80 dport 1000-2000 uidrange 10-20", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.1/32"), Action: "table", Table: 100, Priority: 3, SuppressPrefixLen: -1, NoTrack: true, Protocol: u8(4), IPProto: u8(6), Sport: &[2]uint16{80, 80}, Dport: &[2]uint16{1000, 2000}, UIDRange: &[2]uint32{10, 20}}},
		// keepalived 2.2.7 refuses a single port (and keeps the rule).
		{line: "from 192.0.2.1 table 100 priority 3 dport 443", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.1/32"), Action: "table", Table: 100, Priority: 3, SuppressPrefixLen: -1, Protocol: u8(18)}},
		// No preference: keepalived counts down from 16384, per family.
		{line: "from 192.0.2.1 table 100", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.1/32"), Action: "table", Table: 100, Priority: 16384, Protocol: u8(18), SuppressPrefixLen: -1}},
		// keepalived steps over the word after inet/inet6.
		{line: "from 192.0.2.1 table 100 priority 4 inet", want: Rule{Family: FamilyIPv4, From: netip.MustParsePrefix("192.0.2.1/32"), Action: "table", Table: 100, Priority: 4, Protocol: u8(18), SuppressPrefixLen: -1}},
		{line: "inet from 192.0.2.1 table 100 priority 4", drop: `unknown rule option "192.0.2.1"`},
		{line: "from 192.0.2.1 priority 4", drop: "no action"},
		{line: "from 192.0.2.1 table 100 nop priority 4", drop: "more than one"},
		{line: "from 192.0.2.1 goto 10", drop: "without preference"},
		{line: "from 192.0.2.1 priority 10 goto 10", drop: ">= goto target"},
		{line: "from 192.0.2.1 to 2001:db8::1 table 1 priority 1", drop: "mixed IPv4 and IPv6"},
		{line: "from 192.0.2.1 table 0 priority 1", drop: "table 0"},
		{line: "from 192.0.2.1 blackhole realms 1 priority 1", drop: "non-table action"},
		{line: "l3mdev table 10 priority 1", drop: "more than one"},
		{line: "from 192.0.2.1 table nosuch priority 1", drop: "not found"},
		{line: "from 192.0.2.1 table 1 priority 1 bogus", drop: `unknown rule option "bogus"`},
	}
	for _, tc := range tests {
		r, ok, diags := ruleOf(t, tc.line)
		if tc.drop != "" {
			if ok || !strings.Contains(diags.String(), tc.drop) || !diags.HasCorrected() {
				t.Errorf("%q: want it dropped (%q), got %+v\n%s", tc.line, tc.drop, r, diags)
			}
			continue
		}
		if !ok {
			t.Errorf("%q: dropped\n%s", tc.line, diags)
			continue
		}
		r.Pos = Pos{}
		got, _ := json.Marshal(r)
		want, _ := json.Marshal(tc.want)
		if string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", tc.line, got, want)
		}
	}
}

// TestRouteLines follows vrrp_iproute.c: alloc_route and parse_nexthops.
func TestRouteLines(t *testing.T) {
	tests := []struct {
		line  string
		check func(r Route) bool
		drop  string
	}{
		{line: "192.0.2.0/24 dev eth0", check: func(r Route) bool { return r.Protocol == 18 && r.Family == FamilyIPv4 && !r.NoTrack }},
		{line: "192.0.2.0/24 via 10.0.0.1", check: func(r Route) bool { return r.NoTrack }}, // no dev: not tracked
		{line: "192.0.2.0/24 dev eth0 protocol static no_track", check: func(r Route) bool { return r.Protocol == 4 }},
		{line: "192.0.2.0/24 dev eth0 protocol static", check: func(r Route) bool { return r.Protocol == 18 }},
		{line: "default via 2001:db8::1", check: func(r Route) bool { return r.Dest == netip.MustParsePrefix("::/0") && r.Family == FamilyIPv6 }},
		{line: "default via 10.0.0.1", check: func(r Route) bool { return r.Dest == netip.MustParsePrefix("0.0.0.0/0") }},
		{line: "blackhole 192.0.2.0/24", check: func(r Route) bool { return r.Type == "blackhole" }},
		{line: "to 192.0.2.0/24 dev eth0", check: func(r Route) bool { return r.Type == "" && r.Dest.Bits() == 24 }},
		{line: "to blackhole 192.0.2.0/24", drop: `"blackhole"`},
		{line: "192.0.2.0/24 via 10.0.0.1 mtu lock 1400 advmss 1360 hoplimit 64 rtt 1s rto_min 300ms", check: func(r Route) bool {
			return len(r.Metrics) == 5 && r.Metrics[0] == RouteMetric{"mtu", 1400, true} && r.Metrics[1].Value == 1360 &&
				r.Metrics[2].Value == 64 && r.Metrics[3].Value == 8000 && r.Metrics[4].Value == 300
		}},
		{line: "192.0.2.0/24 via 10.0.0.1 rtt 1", check: func(r Route) bool { return r.Metrics[0].Value == 1600 }}, // raw, clamped to 200 ms
		{line: "192.0.2.0/24 via 10.0.0.1 onlink tos 0x10 realms 2/3 table 100 metric 5 append", check: func(r Route) bool {
			return r.OnLink && *r.Tos == 16 && r.Realms == 2<<16|3 && r.Table == "100" && *r.Metric == 5 && r.Mode == "append"
		}},
		{line: "192.0.2.0/24 nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.0.2 onlink", check: func(r Route) bool {
			return len(r.Nexthops) == 2 && r.Nexthops[0].Weight == 2 && r.Nexthops[0].Dev == "eth0" && r.Nexthops[1].OnLink
		}},
		{line: "192.0.2.0/24 via 10.0.0.1 or 10.0.0.2", check: func(r Route) bool {
			return len(r.Nexthops) == 2 && !r.Via.IsValid() && r.Nexthops[1].Via == netip.MustParseAddr("10.0.0.2")
		}},
		{line: "192.0.2.0/24 dev eth0 inet", check: func(r Route) bool { return r.Family == FamilyIPv4 }},
		{line: "inet6 2001:db8::/64 dev eth0", drop: "no destination"},
		{line: "192.0.2.0/24 via 2001:db8::1", drop: "cannot mix"},
		{line: "192.0.2.0/24 nexthop via 10.0.0.1 weight 0", drop: "weight"},
		{line: "192.0.2.0/24 nexthop via 10.0.0.1 bogus", drop: "trailing"},
		{line: "192.0.2.0/24 expires 10", drop: "cannot mix"},
		{line: "192.0.2.0/24 table nosuch", drop: "not found"},
		{line: "2001:db8:1::/64 from 2001:db8:2::/56 via 2001:db8::2 pref high expires 300", check: func(r Route) bool {
			return r.From == netip.MustParsePrefix("2001:db8:2::/56") && *r.Pref == 1 && *r.Expires == 300 && r.Family == FamilyIPv6
		}},
		{line: "2001:db8:1::/64 dev eth0 pref low", check: func(r Route) bool { return *r.Pref == 3 }},
		{line: "2001:db8:1::/64 dev eth0 pref 7", check: func(r Route) bool { return *r.Pref == 7 }},
		{line: "192.0.2.0/24 dev eth0 pref high", drop: "cannot mix"},
		{line: "192.0.2.0/24 from 192.0.2.0/24 dev eth0", drop: "only an IPv6 prefix"},
		{line: "192.0.2.0/24 dev eth0 ttl-propagate enabled", check: func(r Route) bool { return *r.TTLPropagate == 1 }},
		{line: "192.0.2.0/24 dev eth0 ttl-propagate bogus", check: func(r Route) bool { return *r.TTLPropagate == 0 }},
		// The later of vrf and table wins, as keepalived's alloc_route
		// overwrites its table.
		{line: "192.0.2.0/24 dev eth0 table 100 vrf blue", check: func(r Route) bool { return r.VRF == "blue" && r.Table == "" }},
		{line: "192.0.2.0/24 dev eth0 vrf blue table 100", check: func(r Route) bool { return r.VRF == "" && r.Table == "100" }},
		// After encap ip, src and tos are the tunnel's as long as the pairs
		// go on (the later src wins), as in keepalived's parse_encap_ip.
		{line: "192.0.2.0/24 dev eth0 encap ip id 7 dst 10.1.1.1 src 10.2.2.2 tos 16 ttl 9 flags 1 src 10.0.0.5 metric 3", check: func(r Route) bool {
			e := r.Encap
			return e != nil && e.Type == "ip" && *e.ID == 7 && e.Dst == netip.MustParseAddr("10.1.1.1") && e.Src == netip.MustParseAddr("10.0.0.5") &&
				*e.Tos == 16 && *e.TTL == 9 && *e.Flags == 1 && !r.Src.IsValid() && r.Dev == "eth0" && *r.Metric == 3
		}},
		{line: "2001:db8:1::/64 dev eth0 encap ip6 dst 2001:db8::9 tc 1 hoplimit 3", check: func(r Route) bool {
			e := r.Encap
			return e != nil && e.Type == "ip6" && e.ID == nil && e.Dst == netip.MustParseAddr("2001:db8::9") && *e.Tos == 1 && *e.TTL == 3
		}},
		{line: "192.0.2.0/24 encap mpls 100/200 via 10.0.0.1", check: func(r Route) bool {
			return r.Encap != nil && r.Encap.Type == "mpls" && len(r.Encap.Labels) == 2 && r.Encap.Labels[1] == 200 && r.Via.IsValid()
		}},
		{line: "2001:db8::/64 encap ila 1:2:3:ffff dev eth0", check: func(r Route) bool {
			return r.Encap != nil && r.Encap.Type == "ila" && *r.Encap.Locator == 0x000100020003ffff && r.Dev == "eth0"
		}},
		{line: "2001:db8::/64 encap ila 1:2:3 dev eth0", drop: "invalid locator"},
		{line: "2001:db8::/64 encap ila 1:2:3:10000 dev eth0", drop: "invalid locator"},
		{line: "192.0.2.0/24 nexthop via 10.0.0.1 encap ip id 3 nexthop via 10.0.0.2", check: func(r Route) bool {
			return r.Nexthops[0].Encap != nil && *r.Nexthops[0].Encap.ID == 3 && r.Nexthops[1].Encap == nil
		}},
		{line: "192.0.2.0/24 encap ip ttl 3 dev eth0", drop: "address or id missing"},
		{line: "192.0.2.0/24 encap ip dst 2001:db8::1", drop: "not valid for ip encapsulation"},
		{line: "192.0.2.0/24 encap mpls 1/2/3", drop: "invalid mpls address"},
		{line: "192.0.2.0/24 encap mpls 1048576", drop: "invalid mpls address"},
		{line: "192.0.2.0/24 encap gre", drop: "unknown encap type"},
		{line: "192.0.2.0/24 nexthop via 10.0.0.1 realms 2/5 nexthop via 10.0.0.2 realms 9", check: func(r Route) bool {
			return r.Nexthops[0].Realms == 2<<16|5 && r.Nexthops[1].Realms == 9
		}},
	}
	for _, tc := range tests {
		cfg, diags := parseString(t, withInst("  virtual_routes {\n    "+tc.line+"\n  }\n"))
		rs := cfg.Instances[0].Routes
		if tc.drop != "" {
			if len(rs) != 0 || !strings.Contains(diags.String(), tc.drop) {
				t.Errorf("%q: want it dropped (%q), got %+v\n%s", tc.line, tc.drop, rs, diags)
			}
			continue
		}
		if len(rs) != 1 || !tc.check(rs[0]) {
			got, _ := json.Marshal(rs)
			t.Errorf("%q: %s\n%s", tc.line, got, diags)
		}
	}
}

// TestStaticSections: static_ipaddress, static_routes and static_rules
// land in Config; an address without dev goes on eth0, keepalived's
// default interface.
func TestStaticSections(t *testing.T) {
	cfg, diags := parseString(t, `static_ipaddress {
  10.1.0.1/24
  10.1.0.2/24 dev eth1 noprefixroute
}
static_routes {
  10.2.0.0/16 via 10.1.0.254 no_track
}
static_rules {
  from 10.1.0.1 table 10 priority 10
  from 10.1.0.2 table 10
  from fd00::/64 table 10
}
`+withInst(""))
	if diags.HasCorrected() || diags.HasErrors() {
		t.Fatalf("%s", diags)
	}
	if len(cfg.StaticVIPs) != 2 || cfg.StaticVIPs[0].Dev != "eth0" || cfg.StaticVIPs[1].Options[0] != "noprefixroute" {
		t.Errorf("static_ipaddress: %+v", cfg.StaticVIPs)
	}
	if len(cfg.StaticRoutes) != 1 || cfg.StaticRoutes[0].Via != netip.MustParseAddr("10.1.0.254") {
		t.Errorf("static_routes: %+v", cfg.StaticRoutes)
	}
	if len(cfg.StaticRules) != 3 || cfg.StaticRules[1].Priority != 16384 || cfg.StaticRules[2].Priority != 16384 {
		t.Errorf("static_rules: %+v", cfg.StaticRules)
	}
	// static_ipaddress, static_routes and static_rules are implemented.
	for _, d := range diags {
		if strings.Contains(d.Message, "static_") || strings.Contains(d.Message, "not implemented") {
			t.Errorf("unexpected warning: %s", d)
		}
	}
}

// TestWatchedBlocksWarnedWhenTracked: the blocks whose lines keepalived
// watches for deletions by hand (static_routes, static_rules,
// virtual_rules) are watched by hactl too: tracked or not, no warning.
func TestWatchedBlocksWarnedWhenTracked(t *testing.T) {
	tests := []struct {
		src  string
		warn string
	}{
		{"static_routes {\n  10.2.0.0/16 via 10.1.0.254\n}\n" + withInst(""), ""}, // no dev: untracked
		{"static_routes {\n  10.2.0.0/16 via 10.1.0.254 dev eth0 no_track\n}\n" + withInst(""), ""},
		// Routes are watched as keepalived watches them: no warning.
		{"static_routes {\n  10.2.0.0/16 via 10.1.0.254 dev eth0\n}\n" + withInst(""), ""},
		// Rules are watched as keepalived watches them: no warning.
		{"static_rules {\n  from 10.1.0.1 table 10 priority 10\n}\n" + withInst(""), ""},
		{withInst("  virtual_rules {\n    from 10.1.0.1 table 10 priority 10\n  }\n"), ""},
	}
	for _, tc := range tests {
		_, diags := parseString(t, tc.src)
		got := ""
		for _, d := range diags {
			if strings.Contains(d.Message, ": partial in hactl") && strings.Contains(d.Message, "watch") {
				got = d.Message
			}
		}
		if (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
			t.Errorf("%q: warning %q, want %q", tc.src, got, tc.warn)
		}
	}
}
