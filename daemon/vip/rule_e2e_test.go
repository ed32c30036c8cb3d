//go:build linux

package vip_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

func u8(v uint8) *uint8 { return &v }

// TestE2ERules adds keepalived's rule shapes and reads them back with
// ip rule: each line as iproute2 prints what keepalived's netlink_rule
// sends; removal leaves none.
func TestE2ERules(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ka := u8(18)
	rules := []struct {
		r    vip.Rule
		want string
	}{
		{vip.Rule{From: netip.MustParsePrefix("192.0.2.10/32"), Priority: 100, Action: vip.RuleToTable, Table: 100, Protocol: ka, SuppressPrefixLen: -1},
			"100:\tfrom 192.0.2.10 lookup 100 proto keepalived"},
		{vip.Rule{To: netip.MustParsePrefix("198.51.100.0/24"), Priority: 101, Action: vip.RuleToTable, Table: 1000, Tos: 0x10, HasFwmark: true, Fwmark: 0x10, HasFwmask: true, Fwmask: 0xff, Protocol: ka, SuppressPrefixLen: -1},
			"101:\tfrom all to 198.51.100.0/24 tos 0x10 fwmark 0x10/0xff lookup 1000 proto keepalived"},
		{vip.Rule{Invert: true, Iif: "eth0", Oif: "lo", Priority: 102, Action: vip.RuleProhibit, Protocol: ka, SuppressPrefixLen: -1},
			"102:\tnot from all iif eth0 oif lo prohibit proto keepalived"},
		{vip.Rule{From: netip.MustParsePrefix("192.0.2.0/24"), Priority: 103, Action: vip.RuleGoto, Goto: 110, Protocol: ka, SuppressPrefixLen: -1},
			"103:\tfrom 192.0.2.0/24 goto 110 [unresolved] proto keepalived"},
		{vip.Rule{Priority: 104, Action: vip.RuleToTable, L3mdev: true, Protocol: ka, SuppressPrefixLen: -1},
			"104:\tfrom all lookup [l3mdev-table] proto keepalived"},
		{vip.Rule{Priority: 105, Action: vip.RuleToTable, Table: 254, SuppressPrefixLen: 0, Protocol: ka},
			"105:\tfrom all lookup main suppress_prefixlength 0 proto keepalived"},
		{vip.Rule{Priority: 106, Action: vip.RuleToTable, Table: 100, IPProto: u8(6), Dport: &[2]uint16{443, 444}, Sport: &[2]uint16{80, 80}, UIDRange: &[2]uint32{10, 20}, TunID: 7, SuppressPrefixLen: -1},
			"106:\tfrom all uidrange 10-20 ipproto tcp sport 80 dport 443-444 tun_id 7 lookup 100"},
		{vip.Rule{Priority: 107, Action: vip.RuleBlackhole, Realms: 0, Protocol: ka, SuppressPrefixLen: -1},
			"107:\tfrom all blackhole proto keepalived"},
		{vip.Rule{V6: true, From: netip.MustParsePrefix("2001:db8::/32"), Priority: 108, Action: vip.RuleToTable, Table: 100, Protocol: ka, SuppressPrefixLen: -1},
			"108:\tfrom 2001:db8::/32 lookup 100 proto keepalived"},
	}
	for _, tc := range rules {
		if err := m.AddRule(tc.r); err != nil {
			t.Fatal(err)
		}
		if err := m.AddRule(tc.r); err != nil {
			t.Fatalf("adding %s twice: %v", tc.r, err)
		}
	}
	out4, _ := l.Node(1).Run(ctx, "ip", "-4", "rule")
	out6, _ := l.Node(1).Run(ctx, "ip", "-6", "rule")
	all := string(out4) + string(out6)
	for _, tc := range rules {
		if !strings.Contains(all, tc.want+"\n") && !strings.Contains(all, tc.want+" \n") {
			t.Errorf("ip rule lacks %q:\n%s", tc.want, all)
		}
	}
	for _, tc := range rules {
		if err := m.RemoveRule(tc.r); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveRule(tc.r); err != nil {
			t.Fatalf("removing %s twice: %v", tc.r, err)
		}
	}
	out4, _ = l.Node(1).Run(ctx, "ip", "-4", "rule")
	out6, _ = l.Node(1).Run(ctx, "ip", "-6", "rule")
	for _, line := range strings.Split(string(out4)+string(out6), "\n") {
		if p, _, _ := strings.Cut(line, ":"); p >= "100" && p <= "108" && len(p) == 3 {
			t.Errorf("rule left after RemoveRule: %s", line)
		}
	}
}

// TestE2EVIPOptions: peer, address flags, -nodad and preferred_lft as
// ip -d addr shows them.
func TestE2EVIPOptions(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zero, thirty := uint32(0), uint32(30)
	vips := []struct {
		v    vip.VIP
		want []string
	}{
		{vip.VIP{Prefix: netip.MustParsePrefix("192.0.2.151/32"), Dev: "eth0", Peer: netip.MustParseAddr("192.0.2.152")},
			[]string{"inet 192.0.2.151 peer 192.0.2.152/32 scope global eth0"}},
		{vip.VIP{Prefix: netip.MustParsePrefix("192.0.2.150/24"), Dev: "eth0", Flags: vip.FlagNoPrefixRoute | vip.FlagHome},
			// The kernel keeps IFA_F_HOMEADDRESS for IPv6 only.
			[]string{"inet 192.0.2.150/24 scope global noprefixroute eth0"}},
		{vip.VIP{Prefix: netip.MustParsePrefix("fd00:1::97/128"), Dev: "eth0", PreferredLft: &zero},
			[]string{"inet6 fd00:1::97/128 scope global nodad deprecated", "valid_lft forever preferred_lft 0sec"}},
		{vip.VIP{Prefix: netip.MustParsePrefix("fd00:1::98/64"), Dev: "eth0", PreferredLft: &thirty, Flags: vip.FlagMngTmpAddr},
			[]string{"inet6 fd00:1::98/64 scope global nodad mngtmpaddr", "valid_lft forever preferred_lft 30sec"}},
		{vip.VIP{Prefix: netip.MustParsePrefix("fd00:1::99/64"), Dev: "eth0", DAD: true},
			[]string{"inet6 fd00:1::99/64 scope global \n"}}, // no nodad
	}
	for _, tc := range vips {
		if err := m.Add(tc.v, 0); err != nil {
			t.Fatal(err)
		}
	}
	out, err := l.Node(1).Run(ctx, "ip", "-d", "addr", "show", "dev", "eth0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range vips {
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: ip -d addr lacks %q:\n%s", tc.v, w, out)
			}
		}
	}
	if strings.Contains(string(out), "192.0.2.150/24 brd") {
		t.Errorf("a VIP without brd got a broadcast address (keepalived sets none):\n%s", out)
	}
	for _, tc := range vips {
		if err := m.Remove(tc.v); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := m.Present(tc.v); ok {
			t.Errorf("%s still present after Remove", tc.v)
		}
	}
}

// TestE2ERouteOptions: route attributes, metrics and multipath as ip -d
// route shows them.
func TestE2ERouteOptions(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Add(vip.VIP{Prefix: netip.MustParsePrefix("10.77.0.100/24"), Dev: "eth0"}, 0); err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		r    vip.Route
		want string
	}{
		{vip.Route{Dest: netip.MustParsePrefix("198.51.100.0/24"), Via: netip.MustParseAddr("10.77.0.1"), Dev: "eth0", Protocol: 18, OnLink: true, Realms: 1<<16 | 2, Table: 100, Metric: 5,
			Metrics: []vip.Metric{{Name: "mtu", Value: 1400, Lock: true}, {Name: "advmss", Value: 1360}, {Name: "hoplimit", Value: 64}, {Name: "initcwnd", Value: 10}, {Name: "quickack", Value: 1}}, Congctl: "cubic"},
			"unicast 198.51.100.0/24 via 10.77.0.1 dev eth0 table 100 proto keepalived scope global metric 5 onlink realms 1/2 mtu lock 1400 advmss 1360 hoplimit 64 initcwnd 10 quickack 1 congctl cubic"},
		{vip.Route{Dest: netip.MustParsePrefix("198.51.101.0/24"), Dev: "eth0", Protocol: 18, Src: netip.MustParseAddr("10.77.0.100")},
			"unicast 198.51.101.0/24 dev eth0 table main proto keepalived scope global src 10.77.0.100"},
		{vip.Route{Dest: netip.MustParsePrefix("198.51.102.0/24"), Protocol: 18, Nexthops: []vip.Nexthop{{Via: netip.MustParseAddr("10.77.0.1"), Dev: "eth0", Weight: 1}, {Via: netip.MustParseAddr("10.77.0.2"), Dev: "eth0", Weight: 2}}},
			"unicast 198.51.102.0/24 table main proto keepalived scope global \n\tnexthop via 10.77.0.1 dev eth0 weight 1 \n\tnexthop via 10.77.0.2 dev eth0 weight 2"},
		// A local route needs scope host (keepalived sends universe
		// unless the line says scope host, and the kernel refuses it).
		{vip.Route{Type: "local", Dest: netip.MustParsePrefix("198.51.103.1/32"), Dev: "eth0", Protocol: 18, Table: 100, Scope: vip.ScopeHost},
			"local 198.51.103.1 dev eth0 table 100 proto keepalived scope host"},
		{vip.Route{Type: "unreachable", Dest: netip.MustParsePrefix("198.51.104.0/24"), Protocol: 18, Tos: 0x10},
			"unreachable 198.51.104.0/24 tos 0x10 table main proto keepalived scope global"},
	}
	for _, tc := range routes {
		if err := m.AddRoute(tc.r); err != nil {
			t.Fatal(err)
		}
		if err := m.AddRoute(tc.r); err != nil {
			t.Fatalf("adding %s twice: %v", tc.r, err)
		}
	}
	out, err := l.Node(1).Run(ctx, "ip", "-d", "route", "show", "table", "all")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range routes {
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("ip -d route lacks %q:\n%s", tc.want, out)
		}
	}
	for _, tc := range routes {
		if err := m.RemoveRoute(tc.r); err != nil {
			t.Fatal(err)
		}
	}
	out, _ = l.Node(1).Run(ctx, "ip", "route", "show", "table", "all")
	if strings.Contains(string(out), "198.51.10") {
		t.Errorf("routes left after RemoveRoute:\n%s", out)
	}
}
