//go:build linux

package vip

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var routeTypes = map[string]int{
	"":            unix.RTN_UNICAST,
	"unicast":     unix.RTN_UNICAST,
	"local":       unix.RTN_LOCAL,
	"broadcast":   unix.RTN_BROADCAST,
	"brd":         unix.RTN_BROADCAST,
	"anycast":     unix.RTN_ANYCAST,
	"multicast":   unix.RTN_MULTICAST,
	"blackhole":   unix.RTN_BLACKHOLE,
	"unreachable": unix.RTN_UNREACHABLE,
	"prohibit":    unix.RTN_PROHIBIT,
	"throw":       unix.RTN_THROW,
	"nat":         unix.RTN_NAT,
	"xresolve":    unix.RTN_XRESOLVE,
}

// routeType is the RTN_* number of a type name (or number).
func routeType(s string) (int, bool) {
	if t, ok := routeTypes[s]; ok {
		return t, true
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return int(n), err == nil
}

func (m *Manager) ifindex(what, dev string) (int, error) {
	l, err := m.h.LinkByName(dev)
	if err != nil {
		return 0, fmt.Errorf("%s: interface %s: %w", what, dev, err)
	}
	return l.Attrs().Index, nil
}

// route is r as keepalived's netlink_route (vrrp_iproute.c) sends it.
func (m *Manager) route(r Route) (*netlink.Route, error) {
	typ, ok := routeType(r.Type)
	if !ok {
		return nil, fmt.Errorf("route %s: unknown type %q", r, r.Type)
	}
	nr := &netlink.Route{
		Dst:      &net.IPNet{IP: r.Dest.Addr().AsSlice(), Mask: net.CIDRMask(r.Dest.Bits(), r.Dest.Addr().BitLen())},
		Type:     typ,
		Table:    r.Table,
		Priority: r.Metric,
		Scope:    netlink.Scope(r.Scope),
		Protocol: netlink.RouteProtocol(r.Protocol),
		Tos:      int(r.Tos),
		Realm:    int(r.Realms),
		Congctl:  r.Congctl,
		Features: int(r.Features),
	}
	if nr.Table == 0 {
		nr.Table = unix.RT_TABLE_MAIN
	}
	if r.OnLink {
		nr.Flags |= unix.RTNH_F_ONLINK
	}
	if r.Via.IsValid() {
		nr.Gw = r.Via.AsSlice()
	}
	if r.Src.IsValid() {
		nr.Src = r.Src.AsSlice()
	}
	if r.Dev != "" {
		i, err := m.ifindex("route "+r.String(), r.Dev)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex = i
	}
	if err := setMetrics(nr, r.Metrics); err != nil {
		return nil, fmt.Errorf("route %s: %w", r, err)
	}
	for _, nh := range r.Nexthops {
		ni := &netlink.NexthopInfo{}
		if nh.Via.IsValid() {
			ni.Gw = nh.Via.AsSlice()
		}
		if nh.Dev != "" {
			i, err := m.ifindex("route "+r.String()+" nexthop", nh.Dev)
			if err != nil {
				return nil, err
			}
			ni.LinkIndex = i
		}
		if nh.Weight > 0 {
			ni.Hops = nh.Weight - 1
		}
		if nh.OnLink {
			ni.Flags |= unix.RTNH_F_ONLINK
		}
		nr.MultiPath = append(nr.MultiPath, ni)
	}
	return nr, nil
}

// setMetrics puts the RTAX_* metrics on nr. netlink locks only mtu and
// rto_min, one of them at a time.
func setMetrics(nr *netlink.Route, ms []Metric) error {
	locks := 0
	for _, mt := range ms {
		v := int(mt.Value)
		switch mt.Name {
		case "mtu":
			nr.MTU, nr.MTULock = v, mt.Lock
		case "rto_min":
			nr.RtoMin, nr.RtoMinLock = v, mt.Lock
		case "advmss":
			nr.AdvMSS = v
		case "hoplimit":
			nr.Hoplimit = v
		case "rtt":
			nr.Rtt = v
		case "rttvar":
			nr.RttVar = v
		case "reordering":
			nr.Reordering = v
		case "window":
			nr.Window = v
		case "cwnd":
			nr.Cwnd = v
		case "ssthresh":
			nr.Ssthresh = v
		case "initcwnd":
			nr.InitCwnd = v
		case "initrwnd":
			nr.InitRwnd = v
		case "quickack":
			nr.QuickACK = v
		case "fastopen_no_cookie":
			nr.FastOpenNoCookie = v
		default:
			return fmt.Errorf("unknown route metric %q", mt.Name)
		}
		if mt.Lock && (mt.Name == "mtu" || mt.Name == "rto_min") {
			locks++
		}
	}
	if locks > 1 {
		return errors.New("mtu lock and rto_min lock together: netlink sends only one lock")
	}
	return nil
}

// AddRoute installs the route as keepalived does: NLM_F_CREATE alone by
// default (the kernel's prepend), NLM_F_EXCL with "add", NLM_F_APPEND
// with "append". A route already there is not an error.
func (m *Manager) AddRoute(r Route) error {
	nr, err := m.route(r)
	if err != nil {
		return err
	}
	switch r.Mode {
	case "add":
		err = m.h.RouteAdd(nr)
	case "append":
		err = m.h.RouteAppend(nr)
	default:
		err = m.h.RouteAddEcmp(nr) // NLM_F_CREATE without EXCL, REPLACE or APPEND
	}
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("route %s: add: %w", r, err)
	}
	return nil
}

// RemoveRoute deletes the route; a route already gone is not an error.
func (m *Manager) RemoveRoute(r Route) error {
	nr, err := m.route(r)
	if err != nil {
		return err
	}
	err = m.h.RouteDel(nr)
	if err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("route %s: remove: %w", r, err)
	}
	return nil
}
