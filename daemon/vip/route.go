package vip

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Route is a virtual route: installed with the VIPs on becoming master,
// removed with them (keepalived's virtual_routes).
type Route struct {
	// Type is "" (unicast), a type name (blackhole, unreachable,
	// prohibit, throw, local, broadcast, brd, anycast, multicast, nat,
	// xresolve) or its number.
	Type string
	Dest netip.Prefix
	Src  netip.Addr
	// From is the IPv6 source prefix (RTA_SRC, a source-specific route).
	From netip.Prefix
	Via  netip.Addr
	Dev  string
	// Scope is the route scope; keepalived sends universe (0) unless the
	// line gives one, with or without a gateway.
	Scope Scope
	Table int // 0: main
	// VRF names a VRF device: the route goes in its table (keepalived's
	// vrf option), looked up when the route is installed.
	VRF    string
	Metric int
	// Protocol is the route's protocol (keepalived's 18 by default).
	Protocol uint8
	Tos      uint8
	Realms   uint32
	OnLink   bool
	// Mode is "" (NLM_F_CREATE alone: the kernel's prepend, keepalived's
	// default), "add" (NLM_F_EXCL) or "append" (NLM_F_APPEND).
	Mode string
	// Metrics are RTAX_* values by keyword (mtu, advmss, ...).
	Metrics     []Metric
	Congctl     string
	CongctlLock bool
	// Features is RTAX_FEATURES.
	Features uint32
	// Pref is the IPv6 router preference (RTA_PREF: 0 medium, 1 high,
	// 3 low), Expires the IPv6 route's lifetime in seconds (RTA_EXPIRES),
	// TTLPropagate RTA_TTL_PROPAGATE (MPLS); nil: not sent.
	Pref         *uint8
	Expires      *uint32
	TTLPropagate *uint8
	// Encap is the route's lightweight tunnel (RTA_ENCAP); nil: none.
	Encap    *Encap
	Nexthops []Nexthop
}

// Encap is a lightweight tunnel as keepalived's add_encap sends it:
// Type "ip" (LWTUNNEL_ENCAP_IP), "ip6", "mpls" or "ila"; nil fields not
// sent.
type Encap struct {
	Type  string
	ID    *uint64
	Dst   netip.Addr
	Src   netip.Addr
	Tos   *uint8 // ip's tos, ip6's tc
	TTL   *uint8 // ip's ttl, ip6's hoplimit
	Flags *uint16
	// Labels are the MPLS label stack, outermost first.
	Labels []uint32
	// Locator is the ILA locator (Type "ila").
	Locator *uint64
}

// raw reports whether r needs an attribute or a lock the netlink library
// cannot send, so that route_linux.go builds the message itself.
func (r Route) raw() bool {
	if r.From.IsValid() || r.Pref != nil || r.Expires != nil || r.TTLPropagate != nil || r.Encap != nil {
		return true
	}
	for _, nh := range r.Nexthops {
		if nh.Realms != 0 || nh.Encap != nil {
			return true
		}
	}
	// netlink locks only mtu and rto_min, one of them at a time.
	locks := 0
	for _, mt := range r.Metrics {
		if mt.Lock {
			if mt.Name != "mtu" && mt.Name != "rto_min" {
				return true
			}
			locks++
		}
	}
	return r.CongctlLock || locks > 1
}

// Metric is one route metric in the kernel's units.
type Metric struct {
	Name  string
	Value uint32
	Lock  bool
}

// Nexthop is one hop of a multipath route.
type Nexthop struct {
	Via    netip.Addr
	Dev    string
	Weight int // 1-256; 0: the kernel's 1
	OnLink bool
	// Realms is the hop's RTA_FLOW ([FROM<<16|]TO).
	Realms uint32
	Encap  *Encap
}

func (r Route) String() string {
	s := r.Dest.String()
	if r.Type != "" {
		s = r.Type + " " + s
	}
	if r.From.IsValid() {
		s += " from " + r.From.String()
	}
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	if r.Src.IsValid() {
		s += " src " + r.Src.String()
	}
	if r.Table != 0 {
		s += " table " + strconv.Itoa(r.Table)
	}
	if r.VRF != "" {
		s += " vrf " + r.VRF
	}
	for _, nh := range r.Nexthops {
		s += " nexthop"
		if nh.Via.IsValid() {
			s += " via " + nh.Via.String()
		}
		if nh.Dev != "" {
			s += " dev " + nh.Dev
		}
	}
	return s
}

// ParseTable reads a routing table as `ip route` does: a number, or one
// of the names every system has (main, local, default).
func ParseTable(s string) (int, error) {
	switch s {
	case "", "main":
		return 254, nil
	case "local":
		return 255, nil
	case "default":
		return 253, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("routing table %q: want a number, main, local or default", s)
	}
	return n, nil
}
