package vrrp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// FuzzDecode feeds arbitrary whole IP packets to DecodeIP. Whatever decodes
// must re-encode, and the re-encoding must decode to the same value (and to
// the same bytes when the input had no ignored bits set). Seeds: the golden
// keepalived captures.
func FuzzDecode(f *testing.F) {
	for _, gv := range readGolden(f) {
		f.Add(gv.pkt)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var a Advertisement
		pc, payload, err := DecodeIP(&a, pkt)
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		re, err := a.Append(nil, pc.Src, pc.Dst)
		if err != nil {
			t.Fatalf("decoded %v but cannot re-encode: %v", &a, err)
		}
		var b Advertisement
		if err := Decode(&b, re, pc); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		// The checksum differs legitimately when ignored bits were set.
		a.Checksum, b.Checksum = 0, 0
		if a != b {
			t.Fatalf("round trip changed the value\n%v\n%v", &a, &b)
		}
		// VRRPv3 reserved bits are ignored on receipt, so only then may
		// bytes differ.
		if a.Version == Version2 || payload[4]&0xf0 == 0 {
			if !bytes.Equal(re, payload) {
				t.Fatalf("re-encoding differs\n got %x\nwant %x", re, payload)
			}
		}
	})
}

// FuzzRoundTrip builds advertisements from fuzzed fields; any that Append
// accepts must decode back to the same value.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(3), uint8(51), uint8(100), uint16(100), false, uint8(0), []byte("hvsecret"), []byte{198, 51, 100, 10})
	f.Add(uint8(2), uint8(1), uint8(255), uint16(1), false, uint8(1), []byte("pw"), []byte{198, 51, 100, 10, 198, 51, 100, 11})
	f.Add(uint8(3), uint8(9), uint8(0), uint16(4095), true, uint8(0), []byte{}, bytes.Repeat([]byte{0x20, 0x01, 0x0d, 0xb8}, 8))
	f.Fuzz(func(t *testing.T, ver, vrid, prio uint8, ivl uint16, v6 bool, auth uint8, pw, raw []byte) {
		a := Advertisement{Version: Version(ver), VRID: vrid, Priority: prio, AuthType: AuthType(auth)}
		a.Interval = time.Duration(ivl) * 10 * time.Millisecond
		if a.Version == Version2 {
			a.Interval = time.Duration(ivl) * time.Second
			copy(a.AuthData[:], pw)
		} else {
			a.AuthType = AuthNone
		}
		src, dst := netip.MustParseAddr("192.0.2.1"), MulticastIPv4()
		size := 4
		if v6 {
			src, dst, size = netip.MustParseAddr("fe80::1"), MulticastIPv6(), 16
		}
		var addrs []netip.Addr
		for len(raw) >= size && len(addrs) < 300 {
			if v6 {
				addrs = append(addrs, netip.AddrFrom16([16]byte(raw[:16])))
			} else {
				addrs = append(addrs, netip.AddrFrom4([4]byte(raw[:4])))
			}
			raw = raw[size:]
		}
		if err := a.SetAddrs(addrs...); err != nil {
			return
		}
		b, err := a.Append(nil, src, dst)
		if err != nil {
			return
		}
		var got Advertisement
		if err := Decode(&got, b, PacketContext{Src: src, Dst: dst, TTL: TTL}); err != nil {
			t.Fatalf("%v encoded to %x which does not decode: %v", &a, b, err)
		}
		got.Checksum = 0
		if got != a {
			t.Fatalf("round trip\n got %v\nwant %v", &got, &a)
		}
	})
}
