//go:build linux

package vip_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/hactl/hactl/daemon/vip"
)

// attrs splits a block of netlink attributes into type -> payload
// (nested RTA_METRICS and RTA_MULTIPATH left whole).
func attrs(t *testing.T, b []byte) (map[uint16][]byte, []uint16) {
	t.Helper()
	m := map[uint16][]byte{}
	var order []uint16
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			t.Fatalf("attribute %d: bad length %d of %d", typ, l, len(b))
		}
		m[typ] = b[4:l]
		order = append(order, typ)
		b = b[min((l+3)&^3, len(b)):]
	}
	return m, order
}

func TestRouteMessage(t *testing.T) {
	ifindex := func(dev string) (int, error) {
		if dev == "eth0" {
			return 7, nil
		}
		return 0, errors.New("no such interface")
	}
	vrf := func() (uint32, error) { return 1001, nil }
	pref, exp, ttl := uint8(3), uint32(600), uint8(1)
	id, flags, loc := uint64(0x102), uint16(2), uint64(0x000100020003ffff)
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	const (
		rtaDst, rtaSrc, rtaOif, rtaGateway, rtaPriority, rtaPrefsrc = 1, 2, 4, 5, 6, 7
		rtaMetrics, rtaMultipath, rtaFlow, rtaTable                 = 8, 9, 11, 15
		rtaPref, rtaExpires, rtaTTLPropagate                        = 20, 23, 26
		rtaEncapType, rtaEncap                                      = 21, 22
	)
	tests := []struct {
		name   string
		r      vip.Route
		del    bool
		hdr    vip.RouteHeader
		want   map[uint16][]byte
		order  []uint16
		errStr string
	}{
		{name: "from, pref, expires (IPv6)",
			r: vip.Route{Dest: netip.MustParsePrefix("2001:db8:1::/64"), From: netip.MustParsePrefix("2001:db8:2::/56"),
				Via: netip.MustParseAddr("2001:db8::2"), Dev: "eth0", Protocol: 18, Metric: 9, Pref: &pref, Expires: &exp},
			hdr: vip.RouteHeader{Family: 10, DstLen: 64, SrcLen: 56, Table: 254, Protocol: 18, Type: 1},
			want: map[uint16][]byte{rtaDst: netip.MustParseAddr("2001:db8:1::").AsSlice(), rtaSrc: netip.MustParseAddr("2001:db8:2::").AsSlice(),
				rtaGateway: netip.MustParseAddr("2001:db8::2").AsSlice(), rtaOif: u32(7), rtaPriority: u32(9),
				rtaExpires: u32(600), rtaPref: {3}},
			order: []uint16{rtaDst, rtaSrc, rtaGateway, rtaOif, rtaPriority, rtaExpires, rtaPref}},
		{name: "vrf table over 255, ttl-propagate, prefsrc",
			r:     vip.Route{Dest: netip.MustParsePrefix("192.0.2.0/24"), Src: netip.MustParseAddr("10.0.0.1"), Dev: "eth0", VRF: "blue", Protocol: 18, TTLPropagate: &ttl},
			hdr:   vip.RouteHeader{Family: 2, DstLen: 24, Protocol: 18, Type: 1},
			want:  map[uint16][]byte{rtaTable: u32(1001), rtaDst: {192, 0, 2, 0}, rtaPrefsrc: {10, 0, 0, 1}, rtaOif: u32(7), rtaTTLPropagate: {1}},
			order: []uint16{rtaTable, rtaDst, rtaPrefsrc, rtaOif, rtaTTLPropagate}},
		{name: "delete: scope nowhere, no type unless given",
			r:     vip.Route{Dest: netip.MustParsePrefix("2001:db8:1::/64"), Table: 100, Pref: &pref, Protocol: 18},
			del:   true,
			hdr:   vip.RouteHeader{Family: 10, DstLen: 64, Table: 100, Protocol: 18, Scope: 255},
			want:  map[uint16][]byte{rtaDst: netip.MustParseAddr("2001:db8:1::").AsSlice(), rtaPref: {3}},
			order: []uint16{rtaDst, rtaPref}},
		{name: "metrics with locks, next hop realms",
			r: vip.Route{Dest: netip.MustParsePrefix("192.0.2.0/24"), Protocol: 18, Metrics: []vip.Metric{{Name: "mtu", Value: 1400, Lock: true}, {Name: "advmss", Value: 1300, Lock: true}},
				Nexthops: []vip.Nexthop{{Via: netip.MustParseAddr("10.0.0.2"), Dev: "eth0", Weight: 3, OnLink: true, Realms: 5}, {Via: netip.MustParseAddr("10.0.0.3")}}},
			hdr: vip.RouteHeader{Family: 2, DstLen: 24, Table: 254, Protocol: 18, Type: 1},
			want: map[uint16][]byte{rtaDst: {192, 0, 2, 0},
				// RTAX_MTU 2, RTAX_ADVMSS 8, RTAX_LOCK 1: bits 2 and 8.
				rtaMetrics: slices.Concat([]byte{8, 0, 2, 0}, u32(1400), []byte{8, 0, 8, 0}, u32(1300), []byte{8, 0, 1, 0}, u32(1<<2|1<<8)),
				// rtnexthop{len 24, flags onlink 4, hops 2, ifindex 7} gateway flow; {len 16, 0, 0, 0} gateway.
				rtaMultipath: slices.Concat([]byte{24, 0, 4, 2}, u32(7), []byte{8, 0, 5, 0, 10, 0, 0, 2}, []byte{8, 0, 11, 0}, u32(5),
					[]byte{16, 0, 0, 0}, u32(0), []byte{8, 0, 5, 0, 10, 0, 0, 3})},
			order: []uint16{rtaDst, rtaMetrics, rtaMultipath}},
		// The lab kernel has no mpls_router: these bytes are what
		// keepalived's add_encap_mpls sends (labels 100 and 200, the
		// last with the bottom-of-stack bit), then RTA_ENCAP_TYPE 1.
		{name: "encap mpls",
			r:   vip.Route{Dest: netip.MustParsePrefix("192.0.2.0/24"), Via: netip.MustParseAddr("10.0.0.2"), Protocol: 18, Encap: &vip.Encap{Type: "mpls", Labels: []uint32{100, 200}}},
			hdr: vip.RouteHeader{Family: 2, DstLen: 24, Table: 254, Protocol: 18, Type: 1},
			want: map[uint16][]byte{rtaDst: {192, 0, 2, 0}, rtaGateway: {10, 0, 0, 2},
				rtaEncap:     slices.Concat([]byte{12, 0, 1, 0}, []byte{0x00, 0x06, 0x40, 0x00, 0x00, 0x0c, 0x81, 0x00}),
				rtaEncapType: {1, 0}},
			order: []uint16{rtaDst, rtaGateway, rtaEncap, rtaEncapType}},
		{name: "encap ip: id big-endian, then dst, src, tos, ttl, flags",
			r: vip.Route{Dest: netip.MustParsePrefix("192.0.2.0/24"), Dev: "eth0", Protocol: 18, Encap: &vip.Encap{Type: "ip", ID: &id,
				Dst: netip.MustParseAddr("10.1.1.1"), Src: netip.MustParseAddr("10.2.2.2"), Tos: &pref, TTL: &ttl, Flags: &flags}},
			hdr: vip.RouteHeader{Family: 2, DstLen: 24, Table: 254, Protocol: 18, Type: 1},
			want: map[uint16][]byte{rtaOif: u32(7),
				rtaEncap: slices.Concat([]byte{12, 0, 1, 0}, []byte{0, 0, 0, 0, 0, 0, 1, 2}, []byte{8, 0, 2, 0, 10, 1, 1, 1}, []byte{8, 0, 3, 0, 10, 2, 2, 2},
					[]byte{5, 0, 5, 0, 3, 0, 0, 0}, []byte{5, 0, 4, 0, 1, 0, 0, 0}, []byte{6, 0, 6, 0}, binary.NativeEndian.AppendUint16(nil, 2), []byte{0, 0}),
				rtaEncapType: {2, 0}},
			order: []uint16{rtaDst, rtaEncap, rtaEncapType, rtaOif}},
		// No ILA in the lab kernel either: keepalived's add_encap_ila sends
		// the locator's groups in network order, then type 3.
		{name: "encap ila",
			r:     vip.Route{Dest: netip.MustParsePrefix("2001:db8::/64"), Protocol: 18, Encap: &vip.Encap{Type: "ila", Locator: &loc}},
			hdr:   vip.RouteHeader{Family: 10, DstLen: 64, Table: 254, Protocol: 18, Type: 1},
			want:  map[uint16][]byte{rtaEncap: {12, 0, 1, 0, 0, 1, 0, 2, 0, 3, 0xff, 0xff}, rtaEncapType: {3, 0}},
			order: []uint16{rtaDst, rtaEncap, rtaEncapType}},
		{name: "unknown interface",
			r:      vip.Route{Dest: netip.MustParsePrefix("192.0.2.0/24"), Dev: "eth9", Pref: &pref},
			errStr: "no such interface"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, b, err := tc.r.Message(tc.del, ifindex, vrf)
			if tc.errStr != "" {
				if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.errStr)) {
					t.Fatalf("error %v, want %q", err, tc.errStr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.hdr {
				t.Errorf("header %+v, want %+v", h, tc.hdr)
			}
			got, order := attrs(t, b)
			if !slices.Equal(order, tc.order) {
				t.Errorf("attribute order %v, want %v", order, tc.order)
			}
			for typ, w := range tc.want {
				if !bytes.Equal(got[typ], w) {
					t.Errorf("attribute %d: % x, want % x", typ, got[typ], w)
				}
			}
		})
	}
}
