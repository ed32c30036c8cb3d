package vrrp

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestValidationRules crafts one packet per receive check of RFC 5798 §7.1
// and RFC 3768 §7.1 and asserts the typed error each produces.
func TestValidationRules(t *testing.T) {
	mc4, mc6 := MulticastIPv4(), MulticastIPv6()
	good4 := PacketContext{Src: v4src, Dst: mc4, TTL: 255}
	v2 := func() []byte {
		return mustEncode(t, mustAdvert(t, Version2, 100, time.Second, "198.51.100.10"), v4src, mc4)
	}
	v3 := func() []byte {
		return mustEncode(t, mustAdvert(t, Version3, 100, time.Second, "198.51.100.10"), v4src, mc4)
	}
	v3u := func() []byte {
		return mustEncode(t, mustAdvert(t, Version3, 100, time.Second, "198.51.100.10"), v4src, v4ucast)
	}
	pw, _ := Password("hvsecret")
	v2pass := func(p string) []byte {
		a := mustAdvert(t, Version2, 100, time.Second, "198.51.100.10")
		a.AuthType = AuthSimple
		a.AuthData, _ = Password(p)
		return mustEncode(t, a, v4src, mc4)
	}
	tests := []struct {
		name string
		pkt  []byte
		pc   PacketContext
		exp  *Expect // nil: package-level Decode only
		want Reason
	}{
		{"ttl multicast 254", v3(), PacketContext{Src: v4src, Dst: mc4, TTL: 254}, nil, ErrTTL},
		{"ttl v6 multicast 1", mustEncode(t, mustAdvert(t, Version3, 1, time.Second, "fe80::51"), v6src, mc6),
			PacketContext{Src: v6src, Dst: mc6, TTL: 1}, nil, ErrTTL},
		{"ttl unicast checked", v3u(), PacketContext{Src: v4src, Dst: v4ucast, TTL: 64},
			&Expect{Version: Version3, CheckUnicastTTL: true}, ErrTTL},
		{"version 1", func() []byte { b := v3(); b[0] = 0x11; return refix(b, Version2, v4src, mc4) }(), good4, nil, ErrVersion},
		{"version mismatch", v2(), good4, &Expect{Version: Version3}, ErrVersion},
		{"type 2", func() []byte { b := v3(); b[0] = 0x32; return refix(b, Version3, v4src, mc4) }(), good4, nil, ErrType},
		{"checksum flipped", func() []byte { b := v3(); b[7] ^= 1; return b }(), good4, nil, ErrChecksum},
		{"checksum v2 addr", func() []byte { b := v2(); b[9] ^= 0x80; return b }(), good4, nil, ErrChecksum},
		{"checksum v3 wrong pseudo dst", v3u(), good4, nil, ErrChecksum},
		{"length short header", []byte{0x31, 51, 100}, good4, nil, ErrLength},
		{"length count too big", func() []byte { b := v3(); b[3] = 2; return refix(b, Version3, v4src, mc4) }(), good4, nil, ErrLength},
		{"length trailing", func() []byte { b := append(v3(), 0, 0, 0, 0); return refix(b, Version3, v4src, mc4) }(), good4, nil, ErrLength},
		{"length v2 no auth data", func() []byte { b := v2()[:12]; return refix(b, Version2, v4src, mc4) }(), good4, nil, ErrLength},
		{"addr-count v6 over cap", func() []byte {
			b := make([]byte, headerLen+16*(MaxAddrsIPv6+1))
			b[0], b[3], b[5] = 0x31, MaxAddrsIPv6+1, 100
			return refix(b, Version3, v6src, mc6)
		}(), PacketContext{Src: v6src, Dst: mc6, TTL: 255}, nil, ErrAddrCount},
		{"auth-type unknown", func() []byte { b := v2(); b[4] = 7; return refix(b, Version2, v4src, mc4) }(), good4, nil, ErrAuthType},
		{"auth-type 3", func() []byte { b := v2(); b[4] = 3; return refix(b, Version2, v4src, mc4) }(), good4, nil, ErrAuthType},
		{"auth-type AH for a no-auth instance", func() []byte { b := v2(); b[4] = 2; return refix(b, Version2, v4src, mc4) }(), good4, &Expect{Version: Version2}, ErrAuthType},
		{"auth-type none for an AH instance", v2(), good4, &Expect{Version: Version2, AuthType: AuthAH}, ErrAuthType},
		{"auth-type mismatch", v2(), good4, &Expect{Version: Version2, AuthType: AuthSimple, Password: pw}, ErrAuthType},
		{"auth-type expected none", v2pass("hvsecret"), good4, &Expect{Version: Version2}, ErrAuthType},
		{"auth wrong password", v2pass("hvsecreX"), good4, &Expect{Version: Version2, AuthType: AuthSimple, Password: pw}, ErrAuth},
		{"interval v2 mismatch", v2(), good4, &Expect{Version: Version2, Interval: 2 * time.Second}, ErrInterval},
		{"interval v3 zero", func() []byte { b := v3(); b[4], b[5] = 0xf0, 0; return refix(b, Version3, v4src, mc4) }(), good4, nil, ErrInterval},
		{"family v2 over v6", func() []byte {
			b := v3()
			b[0] = 0x21
			return refix(b, Version2, v6src, mc6)
		}(), PacketContext{Src: v6src, Dst: mc6, TTL: 255}, nil, ErrFamily},
		{"family mixed endpoints", v3(), PacketContext{Src: v4src, Dst: mc6, TTL: 255}, nil, ErrFamily},
		{"family no source", v3(), PacketContext{Dst: mc4, TTL: 255}, nil, ErrFamily},
		{"family instance v6", v3(), good4, &Expect{Version: Version3, Family: IPv6}, ErrFamily},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Advertisement
			var err error
			if tt.exp == nil {
				err = Decode(&a, tt.pkt, tt.pc)
			} else {
				err = tt.exp.Decode(&a, tt.pkt, tt.pc)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v (%q)", err, tt.want, tt.want.Name())
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Reason != tt.want {
				t.Fatalf("err %v is not a *ValidationError with reason %v", err, tt.want)
			}
		})
	}
}

// TestValidationAccepts covers the cases that must pass: unknown TTL,
// unicast with keepalived's IPv6 hop limit 64, the right password, v3 with
// an interval different from ours (the backup adopts it).
func TestValidationAccepts(t *testing.T) {
	mc4 := MulticastIPv4()
	pw, _ := Password("hvsecret")
	a2 := mustAdvert(t, Version2, 100, time.Second, "198.51.100.10")
	a2.AuthType, a2.AuthData = AuthSimple, pw
	ucast6 := netip.MustParseAddr("2001:db8:5::2")
	src6 := netip.MustParseAddr("2001:db8:5::1")
	tests := []struct {
		name string
		pkt  []byte
		pc   PacketContext
		exp  Expect
	}{
		{"ttl unknown", mustEncode(t, a2, v4src, mc4), PacketContext{Src: v4src, Dst: mc4, TTL: -1},
			Expect{Version: Version2, AuthType: AuthSimple, Password: pw, Interval: time.Second}},
		{"v6 unicast hop 64", mustEncode(t, mustAdvert(t, Version3, 100, time.Second, "2001:db8::10"), src6, ucast6),
			PacketContext{Src: src6, Dst: ucast6, TTL: 64}, Expect{Version: Version3, Family: IPv6}},
		{"v3 other interval", mustEncode(t, mustAdvert(t, Version3, 100, 3*time.Second), v4src, mc4),
			PacketContext{Src: v4src, Dst: mc4, TTL: 255}, Expect{Version: Version3, Interval: time.Second}},
		{"v4-mapped context", mustEncode(t, mustAdvert(t, Version3, 100, time.Second), v4src, mc4),
			PacketContext{Src: netip.AddrFrom16(v4src.As16()), Dst: netip.AddrFrom16(mc4.As16()), TTL: 255}, Expect{Version: Version3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Advertisement
			if err := tt.exp.Decode(&a, tt.pkt, tt.pc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDecodeIPRejects(t *testing.T) {
	var a Advertisement
	golden := readGolden(t)
	var v4pkt, v6pkt []byte
	for _, g := range golden {
		switch g.name {
		case "v3-ipv4-mcast":
			v4pkt = g.pkt
		case "v3-ipv6-mcast":
			v6pkt = g.pkt
		}
	}
	mut := func(p []byte, i int, v byte) []byte { q := append([]byte(nil), p...); q[i] = v; return q }
	tests := []struct {
		name string
		pkt  []byte
		want Reason
	}{
		{"empty", nil, ErrLength},
		{"ip version 5", mut(v4pkt, 0, 0x55), ErrFamily},
		{"ihl 4", mut(v4pkt, 0, 0x44), ErrLength},
		{"total too long", mut(v4pkt, 3, 0xff), ErrLength},
		{"proto tcp", mut(v4pkt, 9, 6), ErrProtocol},
		{"ttl 64", mut(v4pkt, 8, 64), ErrTTL},
		{"v6 next header", mut(v6pkt, 6, 0), ErrProtocol},
		{"v6 truncated", v6pkt[:30], ErrLength},
		{"v6 payload length", mut(v6pkt, 5, 0xff), ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := DecodeIP(&a, tt.pkt); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
