package vmac

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

func mac(s string) net.HardwareAddr {
	hw, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return hw
}

// RFC 5798 §7.3: the virtual router MAC is 00-00-5E-00-01-{VRID} for IPv4
// and 00-00-5E-00-02-{VRID} for IPv6.
func TestRFC5798Section7_3VirtualRouterMAC(t *testing.T) {
	for _, c := range []struct {
		vrid   uint8
		family int
		want   string
	}{
		{1, 4, "00:00:5e:00:01:01"},
		{51, 4, "00:00:5e:00:01:33"},
		{255, 4, "00:00:5e:00:01:ff"},
		{1, 6, "00:00:5e:00:02:01"},
		{200, 6, "00:00:5e:00:02:c8"},
	} {
		if got := DefaultMAC(c.vrid, c.family).String(); got != c.want {
			t.Errorf("DefaultMAC(%d, %d) = %s, want %s", c.vrid, c.family, got, c.want)
		}
	}
}

func TestMAC(t *testing.T) {
	for _, c := range []struct {
		conf    string
		useVRID bool
		vrid    uint8
		family  int
		want    string
	}{
		{"", false, 7, 4, "00:00:5e:00:01:07"},
		{"", false, 7, 6, "00:00:5e:00:02:07"},
		{"02:11:22:33:44:55", false, 7, 4, "02:11:22:33:44:55"},
		{"02:11:22:33:44:00", true, 7, 4, "02:11:22:33:44:07"},
	} {
		got, err := MAC(c.conf, c.useVRID, c.vrid, c.family)
		if err != nil || got.String() != c.want {
			t.Errorf("MAC(%q, %t, %d, %d) = %s, %v; want %s", c.conf, c.useVRID, c.vrid, c.family, got, err, c.want)
		}
	}
	if _, err := MAC("nonsense", false, 1, 4); err == nil {
		t.Error("MAC(nonsense): no error")
	}
}

// keepalived's create_vmac_name: PREFIX.VRID, else PREFIXn.VRID; IPv6
// tries PREFIX6.VRID first; the prefix is cut to fit 15 characters.
func TestName(t *testing.T) {
	for _, c := range []struct {
		prefix string
		vrid   uint8
		family int
		exists []string
		want   string
	}{
		{"", 51, 4, nil, "vrrp.51"},
		{"vmac", 51, 4, nil, "vmac.51"},
		{"", 51, 4, []string{"vrrp.51"}, "vrrp1.51"},
		{"", 51, 4, []string{"vrrp.51", "vrrp1.51"}, "vrrp2.51"},
		{"", 51, 6, []string{"vrrp.51"}, "vrrp6.51"},
		{"", 51, 6, []string{"vrrp.51", "vrrp6.51"}, "vrrp1.51"},
		{"", 51, 6, []string{"vrrp.51", "vrrp6.51", "vrrp1.51", "vrrp2.51", "vrrp3.51", "vrrp4.51", "vrrp5.51"}, "vrrp7.51"},
		{"averyveryverylongprefix", 255, 4, nil, "averyveryve.255"},
	} {
		got := Name(c.prefix, c.vrid, c.family, func(n string) bool { return slices.Contains(c.exists, n) })
		if got != c.want {
			t.Errorf("Name(%q, %d, %d, %v) = %s, want %s", c.prefix, c.vrid, c.family, c.exists, got, c.want)
		}
		if len(got) > 15 {
			t.Errorf("%s: longer than IFNAMSIZ-1", got)
		}
	}
}

func TestDecide(t *testing.T) {
	vm := DefaultMAC(51, 4)
	base := Link{Name: "eth0", Index: 2, MAC: mac("02:00:00:00:00:02")}
	w := Want{Base: "eth0", VRID: 51, Family: 4, MAC: vm}
	named := w
	named.Name = "vip51"
	for _, c := range []struct {
		name   string
		w      Want
		links  []Link
		taken  map[string]bool
		action Action
		ifname string
		index  int
	}{
		{"nothing there: create the default name", w, []Link{base}, nil, Create, "vrrp.51", 0},
		{"a crash's leftover: reuse it", w, []Link{base, {Name: "vrrp.51", Index: 9, Macvlan: true, Private: true, ParentIndex: 2, MAC: vm}}, nil, Reuse, "vrrp.51", 9},
		{"a leftover under another name: reuse it, its name too", named, []Link{base, {Name: "vrrp.51", Index: 9, Macvlan: true, Private: true, ParentIndex: 2, MAC: vm}}, nil, Reuse, "vrrp.51", 9},
		{"same MAC, bridge mode: not ours; the name is free", w, []Link{base, {Name: "other", Index: 9, Macvlan: true, ParentIndex: 2, MAC: vm}}, nil, Create, "vrrp.51", 0},
		{"same MAC, another base: the default name is taken, next one", w, []Link{base, {Name: "vrrp.51", Index: 9, Macvlan: true, Private: true, ParentIndex: 3, MAC: vm}}, nil, Create, "vrrp1.51", 0},
		{"configured name, a macvlan on another base: replace", named, []Link{base, {Name: "vip51", Index: 9, Macvlan: true, Private: true, ParentIndex: 3, MAC: vm}}, nil, Replace, "vip51", 9},
		{"configured name, a macvlan with another MAC: replace", named, []Link{base, {Name: "vip51", Index: 9, Macvlan: true, Private: true, ParentIndex: 2, MAC: mac("02:00:00:00:00:09")}}, nil, Replace, "vip51", 9},
		{"configured name, not a macvlan: never touched, default name", named, []Link{base, {Name: "vip51", Index: 9}}, nil, Create, "vrrp.51", 0},
		{"configured name free: create it", named, []Link{base}, nil, Create, "vip51", 0},
		{"a leftover another Want took already", w, []Link{base, {Name: "vrrp.51", Index: 9, Macvlan: true, Private: true, ParentIndex: 2, MAC: vm}}, map[string]bool{"vrrp.51": true}, Create, "vrrp1.51", 0},
	} {
		d := Decide(c.w, 2, c.links, c.taken)
		if d.Action != c.action || d.Name != c.ifname || d.Index != c.index {
			t.Errorf("%s: got %s %s #%d, want %s %s #%d", c.name, d.Action, d.Name, d.Index, c.action, c.ifname, c.index)
		}
	}
}

func TestSysctlPlan(t *testing.T) {
	paths := func(ss []Sysctl) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Path+"="+s.Value)
		}
		return out
	}
	v4 := paths(VMACSysctls("vrrp.51", Want{Family: 4}))
	want4 := []string{
		"net/ipv4/conf/vrrp.51/arp_ignore=1", "net/ipv4/conf/vrrp.51/accept_local=1",
		"net/ipv4/conf/vrrp.51/rp_filter=0", "net/ipv4/conf/vrrp.51/promote_secondaries=1",
		"net/ipv6/conf/vrrp.51/addr_gen_mode=1", "net/ipv6/conf/vrrp.51/disable_ipv6=1",
	}
	if !slices.Equal(v4, want4) {
		t.Errorf("IPv4 VMAC sysctls\n got %v\nwant %v", v4, want4)
	}
	v6 := paths(VMACSysctls("vrrp.51", Want{Family: 6, IPv6: true}))
	want6 := []string{"net/ipv4/conf/vrrp.51/arp_ignore=1", "net/ipv6/conf/vrrp.51/addr_gen_mode=1",
		"net/ipv6/conf/vrrp.51/router_solicitations=0", "net/ipv6/conf/vrrp.51/disable_ipv6=0"}
	if !slices.Equal(v6, want6) {
		t.Errorf("IPv6 VMAC sysctls\n got %v\nwant %v", v6, want6)
	}
	b4 := paths(BaseSysctls("eth0", 4))
	if !slices.Equal(b4, []string{"net/ipv4/conf/eth0/arp_ignore=1", "net/ipv4/conf/eth0/arp_filter=1"}) {
		t.Errorf("base sysctls: %v", b4)
	}
	if b6 := BaseSysctls("eth0", 6); b6 != nil {
		t.Errorf("an IPv6 VMAC changes its base: %v", b6)
	}
}

func TestLinkLocalFrom(t *testing.T) {
	got := LinkLocalFrom(mac("52:54:00:12:34:56"))
	if want := netip.MustParseAddr("fe80::5054:ff:fe12:3456"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestBaseSetting: a file of saved base values can only steer the two
// settings BaseSysctls changes, to one digit.
func TestBaseSetting(t *testing.T) {
	for _, c := range []struct {
		s    Sysctl
		want bool
	}{
		{Sysctl{"net/ipv4/conf/eth0/arp_ignore", "0"}, true},
		{Sysctl{"net/ipv4/conf/eth0/arp_filter", "1"}, true},
		{Sysctl{"net/ipv4/conf/eth0/rp_filter", "0"}, false},
		{Sysctl{"net/ipv4/conf/../../kernel/arp_ignore", "0"}, false},
		{Sysctl{"net/ipv4/conf/../arp_ignore", "0"}, false},
		{Sysctl{"kernel/core_pattern", "|/bin/sh"}, false},
		{Sysctl{"net/ipv4/conf/eth0/arp_ignore", "12"}, false},
		{Sysctl{"net/ipv4/conf/eth0/arp_ignore", "x"}, false},
	} {
		if got := BaseSetting(c.s); got != c.want {
			t.Errorf("BaseSetting(%v) = %t, want %t", c.s, got, c.want)
		}
	}
}
