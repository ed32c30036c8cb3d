package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

func benchAdvert(b *testing.B) (*Advertisement, []byte, PacketContext) {
	b.Helper()
	a := mustAdvert(b, Version3, 100, time.Second, "198.51.100.10", "198.51.100.11", "198.51.100.12")
	pc := PacketContext{Src: v4src, Dst: MulticastIPv4(), TTL: TTL}
	return a, mustEncode(b, a, pc.Src, pc.Dst), pc
}

func BenchmarkEncode(b *testing.B) {
	a, _, pc := benchAdvert(b)
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Append(buf[:0], pc.Src, pc.Dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	_, pkt, pc := benchAdvert(b)
	exp := Expect{Version: Version3, Family: IPv4}
	var a Advertisement
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := exp.Decode(&a, pkt, pc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStep measures one state-machine step: a backup accepting a
// master's advertisement (re-arming its Master_Down_Timer), the commonest
// event in a steady state.
func BenchmarkStep(b *testing.B) {
	in, err := New(Config{VRID: 51, Version: Version3, Priority: 100, Interval: time.Second,
		Primary: netip.MustParseAddr("192.0.2.5")})
	if err != nil {
		b.Fatal(err)
	}
	in.Step(0, Startup())
	adv := &Advertisement{Version: Version3, VRID: 51, Priority: 200, Interval: time.Second}
	ev := AdvertReceived(netip.MustParseAddr("192.0.2.9"), adv)
	now := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		now += time.Second
		if acts := in.Step(now, ev); len(acts) != 1 {
			b.Fatalf("actions %v", acts)
		}
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	in, _ := New(baseCfg())
	in.Step(0, Startup())
	adv := &Advertisement{Version: Version3, VRID: 51, Priority: 200, Interval: time.Second}
	ev := AdvertReceived(addrHigh, adv)
	if n := testing.AllocsPerRun(100, func() { in.Step(time.Second, ev) }); n != 0 {
		t.Fatalf("Step allocates %v times", n)
	}
}
