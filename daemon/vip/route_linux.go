//go:build linux

package vip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
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
	if r.VRF != "" {
		t, err := m.vrfTable(r)
		if err != nil {
			return nil, err
		}
		nr.Table = int(t)
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
// rto_min, one of them at a time: a route with other locks goes out as
// Message builds it (Route.raw).
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

// vrfTable is the table of r's VRF device, as keepalived's alloc_route
// takes it (vrf_tb_id).
func (m *Manager) vrfTable(r Route) (uint32, error) {
	l, err := m.h.LinkByName(r.VRF)
	if err != nil {
		return 0, fmt.Errorf("route %s: VRF %s not found: %w", r, r.VRF, err)
	}
	v, ok := l.(*netlink.Vrf)
	if !ok {
		return 0, fmt.Errorf("route %s: %s is not a VRF", r, r.VRF)
	}
	return v.Table, nil
}

// RouteHeader is struct rtmsg.
type RouteHeader struct {
	Family, DstLen, SrcLen, Tos, Table, Protocol, Scope, Type uint8
	Flags                                                     uint32
}

func (h *RouteHeader) Len() int { return unix.SizeofRtMsg }

func (h *RouteHeader) Serialize() []byte {
	b := []byte{h.Family, h.DstLen, h.SrcLen, h.Tos, h.Table, h.Protocol, h.Scope, h.Type}
	return binary.NativeEndian.AppendUint32(b, h.Flags)
}

// rtaxIDs are the RTAX_* numbers of the route metrics.
var rtaxIDs = map[string]uint16{"mtu": unix.RTAX_MTU, "window": unix.RTAX_WINDOW, "rtt": unix.RTAX_RTT,
	"rttvar": unix.RTAX_RTTVAR, "ssthresh": unix.RTAX_SSTHRESH, "cwnd": unix.RTAX_CWND, "advmss": unix.RTAX_ADVMSS,
	"reordering": unix.RTAX_REORDERING, "hoplimit": unix.RTAX_HOPLIMIT, "initcwnd": unix.RTAX_INITCWND,
	"rto_min": unix.RTAX_RTO_MIN, "initrwnd": unix.RTAX_INITRWND, "quickack": unix.RTAX_QUICKACK,
	"fastopen_no_cookie": unix.RTAX_FASTOPEN_NO_COOKIE}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// attr is one netlink attribute, padded to 4 bytes.
func attr(typ uint16, data []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(unix.SizeofRtAttr+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// Message is the header and attributes keepalived's netlink_route sends
// for r (RTM_NEWROUTE, or RTM_DELROUTE with del), in its order; ifindex
// and table resolve r's interfaces and VRF. The netlink library sends
// neither RTA_SRC, RTA_PREF, RTA_EXPIRES, RTA_TTL_PROPAGATE nor a next
// hop's RTA_FLOW: a route with one of them goes out as built here.
func (r Route) Message(del bool, ifindex func(string) (int, error), vrfTable func() (uint32, error)) (RouteHeader, []byte, error) {
	typ, ok := routeType(r.Type)
	if !ok {
		return RouteHeader{}, nil, fmt.Errorf("route %s: unknown type %q", r, r.Type)
	}
	h := RouteHeader{Family: unix.AF_INET, DstLen: uint8(r.Dest.Bits()), Tos: r.Tos, Protocol: r.Protocol,
		Scope: uint8(r.Scope), Type: uint8(typ)}
	if r.Dest.Addr().Is6() {
		h.Family = unix.AF_INET6
	}
	if r.OnLink {
		h.Flags |= unix.RTNH_F_ONLINK
	}
	if del {
		// keepalived deletes with scope nowhere, and the type only when
		// the line gives one.
		h.Scope = unix.RT_SCOPE_NOWHERE
		if r.Type == "" {
			h.Type = 0
		}
	}
	table := uint32(r.Table)
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	if r.VRF != "" {
		t, err := vrfTable()
		if err != nil {
			return h, nil, err
		}
		table = t
	}
	var b []byte
	if table < 256 {
		h.Table = uint8(table)
	} else {
		b = append(b, attr(unix.RTA_TABLE, u32(table))...)
	}
	b = append(b, attr(unix.RTA_DST, r.Dest.Addr().AsSlice())...)
	if r.From.IsValid() {
		h.SrcLen = uint8(r.From.Bits())
		b = append(b, attr(unix.RTA_SRC, r.From.Addr().AsSlice())...)
	}
	if r.Src.IsValid() {
		b = append(b, attr(unix.RTA_PREFSRC, r.Src.AsSlice())...)
	}
	if r.Via.IsValid() {
		b = append(b, attr(unix.RTA_GATEWAY, r.Via.AsSlice())...)
	}
	if r.Encap != nil {
		e, err := r.Encap.attrs()
		if err != nil {
			return h, nil, fmt.Errorf("route %s: %w", r, err)
		}
		b = append(b, e...)
	}
	if r.Dev != "" {
		i, err := ifindex(r.Dev)
		if err != nil {
			return h, nil, err
		}
		b = append(b, attr(unix.RTA_OIF, u32(uint32(i)))...)
	}
	if r.Metric != 0 {
		b = append(b, attr(unix.RTA_PRIORITY, u32(uint32(r.Metric)))...)
	}
	if r.Realms != 0 {
		b = append(b, attr(unix.RTA_FLOW, u32(r.Realms))...)
	}
	if r.Expires != nil {
		b = append(b, attr(unix.RTA_EXPIRES, u32(*r.Expires))...)
	}
	var mx []byte
	var lock uint32
	if r.Congctl != "" {
		mx = append(mx, attr(unix.RTAX_CC_ALGO, []byte(r.Congctl))...)
		if r.CongctlLock {
			lock |= 1 << unix.RTAX_CC_ALGO
		}
	}
	if r.Features != 0 {
		mx = append(mx, attr(unix.RTAX_FEATURES, u32(r.Features))...)
	}
	for _, mt := range r.Metrics {
		id, ok := rtaxIDs[mt.Name]
		if !ok {
			return h, nil, fmt.Errorf("route %s: unknown route metric %q", r, mt.Name)
		}
		mx = append(mx, attr(id, u32(mt.Value))...)
		if mt.Lock {
			lock |= 1 << id
		}
	}
	if r.Pref != nil {
		b = append(b, attr(unix.RTA_PREF, []byte{*r.Pref})...)
	}
	if r.TTLPropagate != nil {
		b = append(b, attr(unix.RTA_TTL_PROPAGATE, []byte{*r.TTLPropagate})...)
	}
	if len(mx) > 0 {
		if lock != 0 {
			mx = append(mx, attr(unix.RTAX_LOCK, u32(lock))...)
		}
		b = append(b, attr(unix.RTA_METRICS, mx)...)
	}
	if len(r.Nexthops) > 0 {
		var mp []byte
		for _, nh := range r.Nexthops {
			var na []byte
			if nh.Via.IsValid() {
				na = append(na, attr(unix.RTA_GATEWAY, nh.Via.AsSlice())...)
			}
			if nh.Realms != 0 {
				na = append(na, attr(unix.RTA_FLOW, u32(nh.Realms))...)
			}
			if nh.Encap != nil {
				e, err := nh.Encap.attrs()
				if err != nil {
					return h, nil, fmt.Errorf("route %s: nexthop: %w", r, err)
				}
				na = append(na, e...)
			}
			idx := 0
			if nh.Dev != "" {
				i, err := ifindex(nh.Dev)
				if err != nil {
					return h, nil, err
				}
				idx = i
			}
			var flags, hops uint8
			if nh.OnLink {
				flags = unix.RTNH_F_ONLINK
			}
			if nh.Weight > 0 {
				hops = uint8(nh.Weight - 1)
			}
			mp = binary.NativeEndian.AppendUint16(mp, uint16(unix.SizeofRtNexthop+len(na)))
			mp = append(mp, flags, hops)
			mp = binary.NativeEndian.AppendUint32(mp, uint32(int32(idx)))
			mp = append(mp, na...)
		}
		b = append(b, attr(unix.RTA_MULTIPATH, mp)...)
	}
	return h, b, nil
}

// Lightweight tunnel attributes (linux/lwtunnel.h; golang.org/x/sys
// names only the MPLS one).
const (
	lwtIPID, lwtIPDst, lwtIPSrc, lwtIPTTL, lwtIPTos, lwtIPFlags = 1, 2, 3, 4, 5, 6
	lwtIP6HopLimit, lwtIP6TC                                    = 4, 5
	ilaAttrLocator                                              = 1 // linux/ila.h
)

// attrs is RTA_ENCAP (nested, without NLA_F_NESTED, as keepalived's
// rta_nest sends it) then RTA_ENCAP_TYPE, each tunnel's attributes in
// add_encap_ip / add_encap_ip6 / add_encap_mpls / add_encap_ila's order.
func (e *Encap) attrs() ([]byte, error) {
	var in []byte
	var typ uint16
	switch e.Type {
	case "mpls":
		typ = unix.LWTUNNEL_ENCAP_MPLS
		if len(e.Labels) == 0 {
			return nil, errors.New("encap mpls: no label")
		}
		var ls []byte
		for i, l := range e.Labels {
			v := l << 12 // MPLS_LS_LABEL_SHIFT
			if i == len(e.Labels)-1 {
				v |= 1 << 8 // bottom of stack (MPLS_LS_S_SHIFT)
			}
			ls = binary.BigEndian.AppendUint32(ls, v)
		}
		in = attr(unix.MPLS_IPTUNNEL_DST, ls)
	case "ila":
		typ = unix.LWTUNNEL_ENCAP_ILA
		if e.Locator == nil {
			return nil, errors.New("encap ila: no locator")
		}
		in = attr(ilaAttrLocator, binary.BigEndian.AppendUint64(nil, *e.Locator))
	case "ip", "ip6":
		typ = unix.LWTUNNEL_ENCAP_IP
		tos, ttl := uint16(lwtIPTos), uint16(lwtIPTTL)
		if e.Type == "ip6" {
			typ, tos, ttl = unix.LWTUNNEL_ENCAP_IP6, lwtIP6TC, lwtIP6HopLimit
		}
		if e.ID != nil {
			in = append(in, attr(lwtIPID, binary.BigEndian.AppendUint64(nil, *e.ID))...)
		}
		if e.Dst.IsValid() {
			in = append(in, attr(lwtIPDst, e.Dst.AsSlice())...)
		}
		if e.Src.IsValid() {
			in = append(in, attr(lwtIPSrc, e.Src.AsSlice())...)
		}
		if e.Tos != nil {
			in = append(in, attr(tos, []byte{*e.Tos})...)
		}
		if e.TTL != nil {
			in = append(in, attr(ttl, []byte{*e.TTL})...)
		}
		if e.Flags != nil {
			in = append(in, attr(lwtIPFlags, binary.NativeEndian.AppendUint16(nil, *e.Flags))...)
		}
	default:
		return nil, fmt.Errorf("unknown encap type %q", e.Type)
	}
	out := attr(unix.RTA_ENCAP, in)
	return append(out, attr(unix.RTA_ENCAP_TYPE, binary.NativeEndian.AppendUint16(nil, typ))...), nil
}

// rawAttrs is a block of serialised attributes for nl.NetlinkRequest.
type rawAttrs []byte

func (a rawAttrs) Len() int          { return len(a) }
func (a rawAttrs) Serialize() []byte { return a }

// routeRequest sends r as Message builds it, on the rule socket.
func (m *Manager) routeRequest(r Route, del bool, flags int) error {
	h, attrs, err := r.Message(del, func(dev string) (int, error) { return m.ifindex("route "+r.String(), dev) },
		func() (uint32, error) { return m.vrfTable(r) })
	if err != nil {
		return err
	}
	typ := unix.RTM_NEWROUTE
	if del {
		typ = unix.RTM_DELROUTE
	}
	req := nl.NewNetlinkRequest(typ, flags|unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: m.rs}
	req.AddData(&h)
	req.AddData(rawAttrs(attrs))
	_, err = req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// AddRoute installs the route as keepalived does: NLM_F_CREATE alone by
// default (the kernel's prepend), NLM_F_EXCL with "add", NLM_F_APPEND
// with "append". A route already there is not an error.
func (m *Manager) AddRoute(r Route) error {
	if r.raw() {
		flags := unix.NLM_F_CREATE
		switch r.Mode {
		case "add":
			flags |= unix.NLM_F_EXCL
		case "append":
			flags |= unix.NLM_F_APPEND
		}
		err := m.routeRequest(r, false, flags)
		if err != nil && !errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("route %s: add: %w", r, err)
		}
		return nil
	}
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
	var err error
	if r.raw() {
		err = m.routeRequest(r, true, 0)
	} else {
		var nr *netlink.Route
		if nr, err = m.route(r); err != nil {
			return err
		}
		err = m.h.RouteDel(nr)
	}
	if err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("route %s: remove: %w", r, err)
	}
	return nil
}
