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

func TestE2ERoutes(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v := vip.VIP{Prefix: netip.MustParsePrefix("10.77.0.100/24"), Dev: "eth0"}
	if err := m.Add(v, 0); err != nil {
		t.Fatal(err)
	}
	routes := []vip.Route{
		{Dest: netip.MustParsePrefix("192.0.2.0/24"), Via: netip.MustParseAddr("10.77.0.12"), Src: netip.MustParseAddr("10.77.0.100"), Dev: "eth0"},
		{Type: "blackhole", Dest: netip.MustParsePrefix("198.51.100.0/24")},
		{Dest: netip.MustParsePrefix("203.0.113.0/24"), Dev: "eth0", Table: 100},
	}
	want := []string{"192.0.2.0/24 via 10.77.0.12 dev eth0 src 10.77.0.100", "blackhole 198.51.100.0/24", "203.0.113.0/24 dev eth0"}
	for _, r := range routes {
		if err := m.AddRoute(r); err != nil {
			t.Fatal(err)
		}
		if err := m.AddRoute(r); err != nil {
			t.Fatalf("adding %s twice: %v", r, err)
		}
	}
	out, err := l.Node(1).Run(ctx, "ip", "route", "show", "table", "all")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("ip route lacks %q:\n%s", w, out)
		}
	}
	for _, r := range routes {
		if err := m.RemoveRoute(r); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveRoute(r); err != nil {
			t.Fatalf("removing %s twice: %v", r, err)
		}
	}
	out, _ = l.Node(1).Run(ctx, "ip", "route", "show", "table", "all")
	for _, w := range []string{"192.0.2.0", "198.51.100.0", "203.0.113.0"} {
		if strings.Contains(string(out), w) {
			t.Errorf("route %s left after RemoveRoute:\n%s", w, out)
		}
	}
	if _, err := vip.ParseTable("nosuch"); err == nil {
		t.Error("ParseTable(nosuch): no error")
	}
}

// TestE2ERouteRawOptions installs the route options the netlink library
// cannot send (route_linux.go builds their messages): an IPv6 source
// prefix (from), a router preference and a lifetime, a next hop's realms,
// ttl-propagate, locks and lightweight tunnels (encap ip, ip6, on a route
// and on a next hop), and reads them back with ip -d route. The lab kernel
// has no VRF driver: a vrf naming a non-VRF device is refused.
func TestE2ERouteRawOptions(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.Node(1).Run(ctx, "ip", "-6", "addr", "add", "2001:db8:77::1/64", "dev", "eth0", "nodad"); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(vip.VIP{Prefix: netip.MustParsePrefix("10.77.0.100/24"), Dev: "eth0"}, 0); err != nil {
		t.Fatal(err)
	}
	high, low, exp, ttl := uint8(1), uint8(3), uint32(300), uint8(1)
	id5, tos16, ttl9 := uint64(5), uint8(16), uint8(9)
	routes := []vip.Route{
		{Dest: netip.MustParsePrefix("2001:db8:1::/64"), From: netip.MustParsePrefix("2001:db8:2::/64"),
			Via: netip.MustParseAddr("2001:db8:77::2"), Dev: "eth0", Protocol: 18},
		{Dest: netip.MustParsePrefix("2001:db8:3::/64"), Via: netip.MustParseAddr("2001:db8:77::2"), Dev: "eth0",
			Pref: &high, Expires: &exp, Protocol: 18, Metrics: []vip.Metric{{Name: "mtu", Value: 1400, Lock: true}, {Name: "advmss", Value: 1300, Lock: true}}},
		{Dest: netip.MustParsePrefix("2001:db8:4::/64"), Dev: "eth0", Pref: &low, Table: 100, Metric: 7, Protocol: 18},
		{Dest: netip.MustParsePrefix("192.0.2.0/24"), Protocol: 18, Nexthops: []vip.Nexthop{
			{Via: netip.MustParseAddr("10.77.0.12"), Dev: "eth0", Realms: 5, Weight: 2},
			{Via: netip.MustParseAddr("10.77.0.13"), Dev: "eth0", Realms: 1<<16 | 6}}},
		{Dest: netip.MustParsePrefix("198.51.100.0/24"), Via: netip.MustParseAddr("10.77.0.12"), Dev: "eth0", TTLPropagate: &ttl, Table: 1000, Protocol: 18},
		// Lightweight tunnels (the lab kernel has no MPLS: encap mpls is
		// tested by its bytes, route_linux_test.go).
		{Dest: netip.MustParsePrefix("198.51.98.0/24"), Dev: "eth0", Protocol: 18, Encap: &vip.Encap{Type: "ip", ID: &id5,
			Dst: netip.MustParseAddr("10.1.1.1"), Src: netip.MustParseAddr("10.2.2.2"), Tos: &tos16, TTL: &ttl9}},
		{Dest: netip.MustParsePrefix("2001:db8:5::/64"), Dev: "eth0", Protocol: 18, Encap: &vip.Encap{Type: "ip6", ID: &id5,
			Dst: netip.MustParseAddr("2001:db8::9"), Tos: &ttl, TTL: &ttl9}},
		{Dest: netip.MustParsePrefix("198.51.97.0/24"), Protocol: 18, Nexthops: []vip.Nexthop{
			{Via: netip.MustParseAddr("10.77.0.12"), Dev: "eth0", Encap: &vip.Encap{Type: "ip", Dst: netip.MustParseAddr("10.1.1.1")}},
			{Via: netip.MustParseAddr("10.77.0.13"), Dev: "eth0"}}},
		// Locks the library cannot send: any but one of mtu and rto_min.
		{Dest: netip.MustParsePrefix("198.51.99.0/24"), Dev: "eth0", Protocol: 18, Metrics: []vip.Metric{{Name: "reordering", Value: 5, Lock: true}},
			Congctl: "cubic", CongctlLock: true},
	}
	for _, r := range routes {
		if err := m.AddRoute(r); err != nil {
			t.Fatal(err)
		}
		if err := m.AddRoute(r); err != nil {
			t.Fatalf("adding %s twice: %v", r, err)
		}
	}
	out6, err := l.Node(1).Run(ctx, "ip", "-6", "-d", "route", "show", "table", "all")
	if err != nil {
		t.Fatal(err)
	}
	out4, err := l.Node(1).Run(ctx, "ip", "-d", "route", "show", "table", "all")
	if err != nil {
		t.Fatal(err)
	}
	out := string(out6) + string(out4)
	for _, w := range []string{
		"unicast 2001:db8:1::/64 from 2001:db8:2::/64 via 2001:db8:77::2 dev eth0 table main proto keepalived scope global metric 1024 pref medium",
		"unicast 2001:db8:3::/64 via 2001:db8:77::2 dev eth0 table main proto keepalived scope global metric 1024 expires ",
		"sec mtu lock 1400 advmss lock 1300 pref high",
		"unicast 2001:db8:4::/64 dev eth0 table 100 proto keepalived scope global metric 7 pref low",
		"unicast 192.0.2.0/24 table main proto keepalived scope global \n\tnexthop via 10.77.0.12 realm 5 dev eth0 weight 2 \n\tnexthop via 10.77.0.13 realms 1/6 dev eth0 weight 1",
		// The kernel takes RTA_TTL_PROPAGATE only on MPLS routes and
		// ignores it on an IPv4 one, as on keepalived's.
		"unicast 198.51.100.0/24 via 10.77.0.12 dev eth0 table 1000 proto keepalived scope global",
		"unicast 198.51.99.0/24 dev eth0 table main proto keepalived scope global reordering lock 5 congctl lock cubic",
		"unicast 198.51.98.0/24  encap ip id 5 src 10.2.2.2 dst 10.1.1.1 ttl 9 tos 16 dev eth0 table main proto keepalived scope global",
		"unicast 2001:db8:5::/64  encap ip6 id 5 src :: dst 2001:db8::9 hoplimit 9 tc 1 dev eth0 table main proto keepalived",
		"unicast 198.51.97.0/24 table main proto keepalived scope global \n\tnexthop  encap ip id 0 src 0.0.0.0 dst 10.1.1.1 ttl 0 tos 0 via 10.77.0.12 dev eth0 weight 1 \n\tnexthop via 10.77.0.13 dev eth0 weight 1",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("ip -d route lacks %q:\n%s", w, out)
		}
	}
	for _, r := range routes {
		if err := m.RemoveRoute(r); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveRoute(r); err != nil {
			t.Fatalf("removing %s twice: %v", r, err)
		}
	}
	out6, _ = l.Node(1).Run(ctx, "ip", "-6", "route", "show", "table", "all")
	out4, _ = l.Node(1).Run(ctx, "ip", "route", "show", "table", "all")
	out = string(out6) + string(out4)
	for _, w := range []string{"2001:db8:1::", "2001:db8:3::", "2001:db8:4::", "192.0.2.0", "198.51.100.0", "198.51.99.0", "198.51.98.0", "2001:db8:5::", "198.51.97.0"} {
		if strings.Contains(out, w) {
			t.Errorf("route %s left after RemoveRoute:\n%s", w, out)
		}
	}
	if err := m.AddRoute(vip.Route{Dest: netip.MustParsePrefix("203.0.113.0/24"), Dev: "eth0", VRF: "eth0"}); err == nil || !strings.Contains(err.Error(), "not a VRF") {
		t.Errorf("vrf eth0 (not a VRF): %v", err)
	}
	if err := m.AddRoute(vip.Route{Dest: netip.MustParsePrefix("203.0.113.0/24"), Dev: "eth0", VRF: "nosuch"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("vrf nosuch: %v", err)
	}
}
