package daemon

import (
	"net/netip"
	"testing"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/config"
)

// TestNetItems: configuration lines translated as keepalived's
// netlink_ipaddress / netlink_route / netlink_rule send them.
func TestNetItems(t *testing.T) {
	cfg, diags := config.Parse("t.conf", []byte(`static_rules {
  from 10.0.0.1 table 10 priority 10 no_track
}
vrrp_instance V {
  interface eth0
  virtual_router_id 1
  priority 100
  virtual_ipaddress {
    192.0.2.1/24 noprefixroute autojoin
    192.0.2.2 peer 192.0.2.3
  }
  virtual_ipaddress_excluded {
    2001:db8::1
    2001:db8::2/64
    2001:db8::3/64 preferred_lft 20 -nodad
  }
  virtual_routes {
    198.51.100.0/24 dev eth0 mtu lock 1400 nexthop via 192.0.2.9 weight 3 onlink
  }
  virtual_rules {
    to 198.51.100.0/24 lookup 100 priority 5 type blackhole
    to 198.51.100.0/24 priority 6 prohibit
  }
}
`), config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := cfg.Instances[0]
	var vs []vip.VIP
	for _, v := range append(c.VIPs[:1:1], append(c.ExcludedVIPs, c.VIPs[1])...) {
		x, err := installedVIP(v, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, x)
	}
	if vs[0].Flags != vip.FlagNoPrefixRoute|vip.FlagAutoJoin || vs[0].DAD || vs[0].PreferredLft != nil {
		t.Errorf("flags: %+v", vs[0])
	}
	if vs[1].PreferredLft == nil || *vs[1].PreferredLft != 0 {
		t.Errorf("an IPv6 /128 without preferred_lft: want 0 (keepalived's default), got %+v", vs[1].PreferredLft)
	}
	if vs[2].PreferredLft != nil {
		t.Errorf("an IPv6 /64 without preferred_lft: want forever, got %d", *vs[2].PreferredLft)
	}
	if vs[3].PreferredLft == nil || *vs[3].PreferredLft != 20 || !vs[3].DAD {
		t.Errorf("preferred_lft 20 -nodad: %+v", vs[3])
	}
	if vs[4].Peer != netip.MustParseAddr("192.0.2.3") || vs[4].Prefix.Bits() != 32 {
		t.Errorf("peer: %+v", vs[4])
	}
	rt, err := routeOf(c.Routes[0])
	if err != nil {
		t.Fatal(err)
	}
	if rt.Protocol != 18 || len(rt.Metrics) != 1 || !rt.Metrics[0].Lock || len(rt.Nexthops) != 1 || rt.Nexthops[0].Weight != 3 || !rt.Nexthops[0].OnLink || rt.Table != 254 {
		t.Errorf("route: %+v", rt)
	}
	if len(c.Rules) != 1 {
		t.Fatalf("two actions on a line drop it: rules %+v", c.Rules)
	}
	ru, err := ruleOf(c.Rules[0])
	if err != nil {
		t.Fatal(err)
	}
	if ru.Action != vip.RuleProhibit || ru.Priority != 6 || *ru.Protocol != 18 {
		t.Errorf("rule: %+v", ru)
	}
	st, err := staticsOf(cfg)
	if err != nil || len(st.rules) != 1 || st.rules[0].Protocol != nil || st.rules[0].Table != 10 {
		t.Errorf("static rule (no_track: no protocol): %+v %v", st, err)
	}
}

// TestRouteOfOptions: the route options the vip package sends itself
// (from, pref, expires, ttl-propagate, vrf, encap, a next hop's realms
// and encap, locks)
// reach vip.Route.
func TestRouteOfOptions(t *testing.T) {
	cfg, diags := config.Parse("t.conf", []byte(`vrrp_instance V {
  interface eth0
  virtual_router_id 1
  priority 100
  virtual_routes {
    2001:db8:1::/64 from 2001:db8:2::/56 dev eth0 pref low expires 60 congctl lock cubic
    192.0.2.0/24 dev eth0 vrf blue ttl-propagate enabled encap mpls 16/17 nexthop via 10.0.0.1 realms 1/2 encap ip6 id 9 nexthop via 10.0.0.2
  }
}
`), config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rs := cfg.Instances[0].Routes
	if len(rs) != 2 {
		t.Fatalf("routes: %+v\n%s", rs, diags)
	}
	a, err := routeOf(rs[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.From != netip.MustParsePrefix("2001:db8:2::/56") || a.Pref == nil || *a.Pref != 3 || a.Expires == nil || *a.Expires != 60 ||
		a.Congctl != "cubic" || !a.CongctlLock || a.TTLPropagate != nil || a.VRF != "" {
		t.Errorf("route 1: %+v", a)
	}
	b, err := routeOf(rs[1])
	if err != nil {
		t.Fatal(err)
	}
	if b.VRF != "blue" || b.Table != 254 || b.TTLPropagate == nil || *b.TTLPropagate != 1 || len(b.Nexthops) != 2 ||
		b.Nexthops[0].Realms != 1<<16|2 || b.Nexthops[1].Realms != 0 || b.Pref != nil || b.Expires != nil ||
		b.Encap == nil || b.Encap.Type != "mpls" || len(b.Encap.Labels) != 2 || b.Encap.Labels[0] != 16 ||
		b.Nexthops[0].Encap == nil || b.Nexthops[0].Encap.Type != "ip6" || *b.Nexthops[0].Encap.ID != 9 || b.Nexthops[1].Encap != nil {
		t.Errorf("route 2: %+v", b)
	}
}
