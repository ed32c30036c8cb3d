package vrrp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"
)

var (
	v4src   = netip.MustParseAddr("192.0.2.1")
	v4ucast = netip.MustParseAddr("192.0.2.2")
	v6src   = netip.MustParseAddr("fe80::1")
)

// mustAdvert builds an advertisement for tests.
func mustAdvert(t testing.TB, v Version, prio uint8, ivl time.Duration, addrs ...string) *Advertisement {
	t.Helper()
	a := &Advertisement{Version: v, VRID: 51, Priority: prio, Interval: ivl}
	var list []netip.Addr
	for _, s := range addrs {
		list = append(list, netip.MustParseAddr(s))
	}
	if err := a.SetAddrs(list...); err != nil {
		t.Fatal(err)
	}
	return a
}

func mustEncode(t testing.TB, a *Advertisement, src, dst netip.Addr) []byte {
	t.Helper()
	b, err := a.Marshal(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refix recomputes the checksum after a test mutated the message, so that
// the mutation, not the checksum, is what validation trips over.
func refix(b []byte, v Version, src, dst netip.Addr) []byte {
	binary.BigEndian.PutUint16(b[6:], 0)
	binary.BigEndian.PutUint16(b[6:], checksum(v, b, src, dst))
	return b
}

func TestRoundTripTable(t *testing.T) {
	pass, _ := Password("s3cret")
	tests := []struct {
		name     string
		adv      *Advertisement
		src, dst netip.Addr
	}{
		{"v2 no addrs", mustAdvert(t, Version2, 100, time.Second), v4src, MulticastIPv4()},
		{"v2 255 addrs", v2Many(t), v4src, MulticastIPv4()},
		{"v2 pass", func() *Advertisement {
			a := mustAdvert(t, Version2, 1, 255*time.Second, "198.51.100.1")
			a.AuthType, a.AuthData = AuthSimple, pass
			return a
		}(), v4src, MulticastIPv4()},
		{"v3 v4 max interval", mustAdvert(t, Version3, 255, 40950*time.Millisecond, "198.51.100.1"), v4src, v4ucast},
		{"v3 v6 two", mustAdvert(t, Version3, 7, 30*time.Millisecond, "fe80::51", "2001:db8::1"), v6src, MulticastIPv6()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustEncode(t, tt.adv, tt.src, tt.dst)
			if len(b) != tt.adv.Len() {
				t.Fatalf("len %d, Len() %d", len(b), tt.adv.Len())
			}
			var got Advertisement
			if err := Decode(&got, b, PacketContext{Src: tt.src, Dst: tt.dst, TTL: 255}); err != nil {
				t.Fatal(err)
			}
			want := *tt.adv
			want.Checksum = binary.BigEndian.Uint16(b[6:])
			if got != want {
				t.Fatalf("got %v want %v", &got, &want)
			}
		})
	}
}

func v2Many(t testing.TB) *Advertisement {
	a := &Advertisement{Version: Version2, VRID: 1, Priority: 100, Interval: time.Second}
	var list []netip.Addr
	for i := range MaxAddrsIPv4 {
		list = append(list, netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}))
	}
	if err := a.SetAddrs(list...); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDecodeReusesValue checks that decoding a short list after a long one
// leaves no stale addresses behind (values stay comparable).
func TestDecodeReusesValue(t *testing.T) {
	long := mustEncode(t, mustAdvert(t, Version3, 9, time.Second, "198.51.100.1", "198.51.100.2"), v4src, MulticastIPv4())
	short := mustEncode(t, mustAdvert(t, Version3, 9, time.Second, "198.51.100.1"), v4src, MulticastIPv4())
	pc := PacketContext{Src: v4src, Dst: MulticastIPv4(), TTL: 255}
	var a, fresh Advertisement
	if err := Decode(&a, long, pc); err != nil {
		t.Fatal(err)
	}
	if err := Decode(&a, short, pc); err != nil {
		t.Fatal(err)
	}
	if err := Decode(&fresh, short, pc); err != nil {
		t.Fatal(err)
	}
	if a != fresh {
		t.Fatalf("reused value %v differs from fresh %v", &a, &fresh)
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	for _, gv := range readGolden(t) {
		var a Advertisement
		pc, payload, err := DecodeIP(&a, gv.pkt)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = Decode(&a, payload, pc) }); n != 0 {
			t.Errorf("%s: Decode allocates %v times", gv.name, n)
		}
		if n := testing.AllocsPerRun(100, func() { _, _, _ = DecodeIP(&a, gv.pkt) }); n != 0 {
			t.Errorf("%s: DecodeIP allocates %v times", gv.name, n)
		}
		buf := make([]byte, 0, 1500)
		if n := testing.AllocsPerRun(100, func() { _, _ = a.Append(buf[:0], pc.Src, pc.Dst) }); n != 0 {
			t.Errorf("%s: Append allocates %v times", gv.name, n)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	mc := MulticastIPv4()
	tests := []struct {
		name     string
		adv      *Advertisement
		src, dst netip.Addr
		want     Reason
	}{
		{"version 4", &Advertisement{Version: 4, Interval: time.Second}, v4src, mc, ErrVersion},
		{"v2 over v6", mustAdvert(t, Version2, 1, time.Second), v6src, MulticastIPv6(), ErrFamily},
		{"mixed endpoints", mustAdvert(t, Version3, 1, time.Second), v4src, MulticastIPv6(), ErrFamily},
		{"v6 addrs v4 packet", mustAdvert(t, Version3, 1, time.Second, "2001:db8::1"), v4src, mc, ErrFamily},
		{"v2 fractional", mustAdvert(t, Version2, 1, 1500*time.Millisecond), v4src, mc, ErrInterval},
		{"v2 too long", mustAdvert(t, Version2, 1, 256*time.Second), v4src, mc, ErrInterval},
		{"v3 zero", mustAdvert(t, Version3, 1, 0), v4src, mc, ErrInterval},
		{"v3 not centis", mustAdvert(t, Version3, 1, 5*time.Millisecond), v4src, mc, ErrInterval},
		{"v3 too long", mustAdvert(t, Version3, 1, 41*time.Second), v4src, mc, ErrInterval},
		{"v2 auth type 3", &Advertisement{Version: Version2, Interval: time.Second, AuthType: 3}, v4src, mc, ErrAuthType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.adv.Append(nil, tt.src, tt.dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSetAddrsRejects(t *testing.T) {
	var a Advertisement
	mixed := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
	if err := a.SetAddrs(mixed...); !errors.Is(err, ErrFamily) {
		t.Errorf("mixed: %v", err)
	}
	many := make([]netip.Addr, MaxAddrsIPv6+1)
	for i := range many {
		many[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
	}
	if err := a.SetAddrs(many...); !errors.Is(err, ErrAddrCount) {
		t.Errorf("too many: %v", err)
	}
	if _, err := Password("123456789"); !errors.Is(err, ErrAuth) {
		t.Errorf("long password: %v", err)
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		n := r.Name()
		if seen[n] || n == "" {
			t.Errorf("duplicate or empty name %q", n)
		}
		seen[n] = true
		err := error(&ValidationError{Reason: r, Detail: "x"})
		if got, ok := ReasonOf(err); !ok || got != r {
			t.Errorf("ReasonOf(%v) = %v %v", err, got, ok)
		}
	}
	if _, ok := ReasonOf(errors.New("other")); ok {
		t.Error("ReasonOf matched a foreign error")
	}
}
