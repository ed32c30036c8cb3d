package vip

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// rtMessage builds an rtmsg with attributes as the kernel sends it.
func rtMessage(fam, dstLen, tos, table, proto byte, attrs ...[]byte) []byte {
	b := []byte{fam, dstLen, 0, tos, table, proto, 0, 1, 0, 0, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func rta(typ uint16, v []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(v)))
	return append(binary.NativeEndian.AppendUint16(b, typ), v...)
}

func le32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func TestParseRouteMessage(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want DeletedRoute
		err  bool
	}{
		{"ipv4 main", rtMessage(2, 24, 0, 254, 18, rta(rtaDst, []byte{10, 70, 0, 0}), rta(rtaOif, le32(3)), rta(rtaTable, le32(254))),
			DeletedRoute{Dest: netip.MustParsePrefix("10.70.0.0/24"), Table: 254, Protocol: 18, Oif: 3}, false},
		{"table over 255", rtMessage(2, 16, 0x10, 252, 18, rta(rtaDst, []byte{10, 1, 0, 0}), rta(rtaTable, le32(1000)), rta(rtaPriority, le32(7))),
			DeletedRoute{Dest: netip.MustParsePrefix("10.1.0.0/16"), Table: 1000, Metric: 7, Tos: 0x10, Protocol: 18}, false},
		{"ipv4 default", rtMessage(2, 0, 0, 100, 18, rta(rtaTable, le32(100))),
			DeletedRoute{Dest: netip.MustParsePrefix("0.0.0.0/0"), Table: 100, Protocol: 18}, false},
		{"ipv6", rtMessage(10, 48, 0, 254, 18, rta(rtaDst, netip.MustParseAddr("2001:db8:5::").AsSlice()), rta(rtaPriority, le32(1024))),
			DeletedRoute{Dest: netip.MustParsePrefix("2001:db8:5::/48"), Table: 254, Metric: 1024, Protocol: 18}, false},
		{"short", []byte{2, 24}, DeletedRoute{}, true},
		{"bad attribute length", append(rtMessage(2, 24, 0, 254, 18), 40, 0, 1, 0), DeletedRoute{}, true},
		{"family 7", rtMessage(7, 0, 0, 254, 18), DeletedRoute{}, true},
		{"ipv4 with a 16-byte destination", rtMessage(2, 24, 0, 254, 18, rta(rtaDst, make([]byte, 16))), DeletedRoute{}, true},
		{"length over the address", rtMessage(2, 40, 0, 254, 18, rta(rtaDst, []byte{10, 0, 0, 0})), DeletedRoute{}, true},
	}
	for _, tc := range tests {
		got, err := ParseRouteMessage(tc.b)
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v (error %v)", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestRouteMatches: keepalived's route_is_ours keys (destination, table,
// metric, TOS, interface), with the kernel's defaults (main table, IPv6
// metric 1024); a route's own deletion event matches it.
func TestRouteMatches(t *testing.T) {
	r := Route{Dest: netip.MustParsePrefix("10.70.0.0/24"), Dev: "eth0", Protocol: 18}
	r6 := Route{Dest: netip.MustParsePrefix("2001:db8::/48"), Dev: "eth0", Protocol: 18}
	d := DeletedRoute{Dest: r.Dest, Table: 254, Protocol: 18, Dev: "eth0"}
	tests := []struct {
		name string
		r    Route
		d    DeletedRoute
		want bool
	}{
		{"same", r, d, true},
		{"own event", r, r.Deleted(), true},
		{"ipv6 own event", r6, r6.Deleted(), true},
		{"ipv6 metric 1024", r6, DeletedRoute{Dest: r6.Dest, Table: 254, Metric: 1024}, true},
		{"ipv6 metric 0", r6, DeletedRoute{Dest: r6.Dest, Table: 254}, false},
		{"interface unknown", r, DeletedRoute{Dest: r.Dest, Table: 254}, true},
		{"other interface", r, DeletedRoute{Dest: r.Dest, Table: 254, Dev: "eth1"}, false},
		{"other table", r, DeletedRoute{Dest: r.Dest, Table: 100, Dev: "eth0"}, false},
		{"other length", r, DeletedRoute{Dest: netip.MustParsePrefix("10.70.0.0/25"), Table: 254}, false},
		{"other metric", r, DeletedRoute{Dest: r.Dest, Table: 254, Metric: 5}, false},
		{"other tos", r, DeletedRoute{Dest: r.Dest, Table: 254, Tos: 0x10}, false},
	}
	for _, tc := range tests {
		if got := tc.r.Matches(tc.d); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
