package vip

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// DeletedRoute is a route the kernel reports deleted (RTM_DELROUTE), as
// far as keepalived's route_is_ours (keepalived_netlink.c) compares it
// with the routes it installs: family, table, destination, metric, TOS
// and output interface; with its protocol.
type DeletedRoute struct {
	Dest     netip.Prefix
	Table    int
	Metric   int
	Tos      uint8
	Protocol uint8
	// Oif is the output interface's index (0: none, a multipath route);
	// Dev its name, when the reader could still resolve it.
	Oif int
	Dev string
}

// rtmsg attribute types (linux/rtnetlink.h).
const (
	rtaDst      = 1
	rtaOif      = 4
	rtaPriority = 6
	rtaTable    = 15
)

// ParseRouteMessage reads an RTM_NEWROUTE/RTM_DELROUTE payload (rtmsg and
// RTA_* attributes) as far as DeletedRoute goes.
func ParseRouteMessage(b []byte) (DeletedRoute, error) {
	if len(b) < 12 {
		return DeletedRoute{}, fmt.Errorf("route message of %d bytes", len(b))
	}
	fam, dstLen := b[0], int(b[1])
	var d DeletedRoute
	d.Tos, d.Table, d.Protocol = b[3], int(b[4]), b[5]
	var dst []byte
	for rest := b[12:]; len(rest) >= 4; {
		n := int(binary.NativeEndian.Uint16(rest[0:2]))
		typ := binary.NativeEndian.Uint16(rest[2:4]) &^ 0xc000
		if n < 4 || n > len(rest) {
			return d, fmt.Errorf("route attribute of length %d in %d bytes", n, len(rest))
		}
		v := rest[4:n]
		u32 := func() int {
			if len(v) < 4 {
				return 0
			}
			return int(binary.NativeEndian.Uint32(v))
		}
		switch typ {
		case rtaDst:
			dst = v
		case rtaOif:
			d.Oif = u32()
		case rtaPriority:
			d.Metric = u32()
		case rtaTable:
			d.Table = u32()
		}
		rest = rest[min((n+3)&^3, len(rest)):]
	}
	switch {
	case fam == 2 && dst == nil:
		dst = make([]byte, 4)
	case fam == 10 && dst == nil:
		dst = make([]byte, 16)
	case fam != 2 && fam != 10:
		return d, fmt.Errorf("route of family %d", fam)
	}
	a, ok := netip.AddrFromSlice(dst)
	if !ok || (fam == 2) != a.Is4() {
		return d, fmt.Errorf("route destination of %d bytes", len(dst))
	}
	if d.Dest = netip.PrefixFrom(a, dstLen); !d.Dest.IsValid() {
		return d, fmt.Errorf("route destination length %d", dstLen)
	}
	return d, nil
}

// kernelMetric is the metric the kernel gives r: an IPv6 route added
// without one gets 1024 (IP6_RT_PRIO_USER).
func (r Route) kernelMetric() int {
	if r.Metric == 0 && r.Dest.Addr().Is6() {
		return 1024
	}
	return r.Metric
}

func (r Route) tableOrMain() int {
	if r.Table == 0 {
		return 254
	}
	return r.Table
}

// Matches reports whether d may be r: same destination, table, metric
// and TOS, and the same interface when both name one (an event for an
// interface already gone names none). It is the cheap test on every
// deletion; whether r is really gone is RoutePresent's to say.
func (r Route) Matches(d DeletedRoute) bool {
	if r.Dest.Masked() != d.Dest.Masked() || r.tableOrMain() != d.Table || r.kernelMetric() != d.Metric || r.Tos != d.Tos {
		return false
	}
	return r.Dev == "" || d.Dev == "" || r.Dev == d.Dev
}

// Deleted is the deletion event the kernel sends for r (on its
// interface, named): what a fake kernel reports.
func (r Route) Deleted() DeletedRoute {
	return DeletedRoute{Dest: r.Dest.Masked(), Table: r.tableOrMain(), Metric: r.kernelMetric(), Tos: r.Tos, Protocol: r.Protocol, Dev: r.Dev}
}
