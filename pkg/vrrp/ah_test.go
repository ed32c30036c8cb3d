package vrrp

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// ahPacket builds an AH advert as hactl sends it.
func ahPacket(t testing.TB, key string, p AHPacket) []byte {
	t.Helper()
	k, err := AHKey(key)
	if err != nil {
		t.Fatal(err)
	}
	a := mustAdvert(t, Version2, 100, time.Second, "198.51.100.10")
	a.AuthType = AuthAH
	msg, err := a.Append(nil, p.Src, p.Dst)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := NewAHAuth(k).Append(nil, msg, p)
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestAHVerify(t *testing.T) {
	src, mc := netip.MustParseAddr("192.0.2.1"), MulticastIPv4()
	good := AHPacket{Src: src, Dst: mc, ID: 7, TTL: 255, Seq: 42}
	base := ahPacket(t, "hvsecret", good)
	tests := []struct {
		name    string
		key     string
		unicast bool
		mangle  func(b []byte) []byte
		want    Reason // 0: verifies
	}{
		{"good", "hvsecret", false, nil, 0},
		{"wrong key", "hvsecreX", false, nil, ErrAHICV},
		{"key is zero padded, not repeated", "hv", false, nil, ErrAHICV},
		{"vrrp priority changed", "hvsecret", false, func(b []byte) []byte { b[46]++; return b }, ErrAHICV},
		{"seq changed", "hvsecret", false, func(b []byte) []byte { b[31]++; return b }, ErrAHICV},
		{"icv changed", "hvsecret", false, func(b []byte) []byte { b[43] ^= 0x80; return b }, ErrAHICV},
		{"ip id changed", "hvsecret", false, func(b []byte) []byte { b[5]++; return b }, ErrAHICV},
		{"multicast ttl is covered", "hvsecret", false, func(b []byte) []byte { b[8] = 1; return b }, ErrAHICV},
		{"tos is mutable", "hvsecret", false, func(b []byte) []byte { b[1] = 0; return b }, 0},
		{"DF is mutable", "hvsecret", false, func(b []byte) []byte { b[6] = 0x40; return b }, 0},
		{"checksum is mutable", "hvsecret", false, func(b []byte) []byte { b[10], b[11] = 0, 0; return b }, 0},
		{"next header not VRRP", "hvsecret", false, func(b []byte) []byte { b[20] = 6; return b }, ErrProtocol},
		{"not AH", "hvsecret", false, func(b []byte) []byte { b[9] = Protocol; return b }, ErrProtocol},
		{"header cut", "hvsecret", false, func(b []byte) []byte { return b[:30] }, ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := bytes.Clone(base)
			if tt.mangle != nil {
				pkt = tt.mangle(pkt)
			}
			k, _ := AHKey(tt.key)
			var hdr, msg []byte
			if len(pkt) >= 44 {
				hdr, msg = pkt[:44], pkt[44:]
			} else {
				hdr = pkt
			}
			info, err := NewAHAuth(k).Verify(hdr, msg, tt.unicast)
			if tt.want == 0 {
				if err != nil || info.Seq != 42 {
					t.Fatalf("Verify = %+v, %v; want seq 42", info, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestAHSPIMustBeSource: a packet whose ICV is right (the sender keyed it)
// but whose SPI is not its source is refused, as keepalived refuses it.
func TestAHSPIMustBeSource(t *testing.T) {
	k, _ := AHKey("hvsecret")
	auth := NewAHAuth(k)
	pkt := ahPacket(t, "hvsecret", AHPacket{Src: netip.MustParseAddr("192.0.2.1"), Dst: MulticastIPv4(), ID: 1, TTL: 255, Seq: 1})
	pkt[27] ^= 1 // SPI's last byte
	// Recompute the ICV over the changed SPI, as a keyed sender would.
	copy(pkt[32:44], auth.icv(pkt[:44], pkt[44:], 20, false))
	if _, err := auth.Verify(pkt[:44], pkt[44:], false); !errors.Is(err, ErrAHSPI) {
		t.Fatalf("err %v, want ah-spi", err)
	}
}

func TestAHUnicastZeroesTTL(t *testing.T) {
	p := AHPacket{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), ID: 1, TTL: 255, Seq: 1, Unicast: true}
	pkt := ahPacket(t, "hvsecret", p)
	pkt[8] = 64 // a router in between would change it
	k, _ := AHKey("hvsecret")
	if _, err := NewAHAuth(k).Verify(pkt[:44], pkt[44:], true); err != nil {
		t.Fatalf("unicast TTL is mutable: %v", err)
	}
}

func TestAHAppendRefusesIPv6(t *testing.T) {
	k, _ := AHKey("x")
	_, err := NewAHAuth(k).Append(nil, []byte{1}, AHPacket{Src: netip.MustParseAddr("fe80::1"), Dst: MulticastIPv6()})
	if !errors.Is(err, ErrFamily) {
		t.Fatalf("err %v, want family", err)
	}
}

func TestAHAppendNoAllocs(t *testing.T) {
	k, _ := AHKey("hvsecret")
	auth := NewAHAuth(k)
	p := AHPacket{Src: netip.MustParseAddr("192.0.2.1"), Dst: MulticastIPv4(), ID: 1, TTL: 255, Seq: 1}
	msg := make([]byte, 20)
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(50, func() { buf, _ = auth.Append(buf[:0], msg, p) }); n != 0 {
		t.Errorf("Append allocates %v times", n)
	}
	hdr, body := buf[:44], buf[44:]
	if n := testing.AllocsPerRun(50, func() { _, _ = auth.Verify(hdr, body, false) }); n != 0 {
		t.Errorf("Verify allocates %v times", n)
	}
}

// TestAHCounter follows keepalived's ipsecah_counter through its rules.
func TestAHCounter(t *testing.T) {
	type step struct {
		op      string // next, accept, lower, master
		seq     uint32
		wantSeq uint32
		wantErr bool
		cycled  bool
	}
	tests := []struct {
		name  string
		start AHCounter
		steps []step
	}{
		{"sends count from 1", AHCounter{}, []step{{op: "next", wantSeq: 1}, {op: "next", wantSeq: 2}}},
		{"backup takes the master's number, then continues above it", AHCounter{}, []step{
			{op: "accept", seq: 100, wantSeq: 100}, {op: "accept", seq: 101, wantSeq: 101}, {op: "next", wantSeq: 102}}},
		{"replay and equal are refused", AHCounter{Seq: 50}, []step{
			{op: "accept", seq: 50, wantSeq: 50, wantErr: true}, {op: "accept", seq: 3, wantSeq: 50, wantErr: true},
			{op: "accept", seq: 51, wantSeq: 51}}},
		{"restarted master is refused until it catches up", AHCounter{Seq: 1000}, []step{
			{op: "accept", seq: 1, wantSeq: 1000, wantErr: true}, {op: "accept", seq: 1001, wantSeq: 1001}}},
		{"master hearing lower priority syncs one above", AHCounter{Seq: 10}, []step{
			{op: "accept", seq: 20, wantSeq: 20}, {op: "lower", seq: 20, wantSeq: 21}, {op: "next", wantSeq: 22}}},
		{"cycle: sticks at the maximum", AHCounter{Seq: AHSeqMax - 1}, []step{
			{op: "next", wantSeq: AHSeqMax}, {op: "next", wantSeq: AHSeqMax, cycled: true}, {op: "next", wantSeq: AHSeqMax, cycled: true}}},
		{"cycle: reset on becoming master", AHCounter{Seq: AHSeqMax, Cycled: true}, []step{
			{op: "master", wantSeq: 0}, {op: "next", wantSeq: 1}}},
		{"uncycled counter survives becoming master", AHCounter{Seq: 77}, []step{{op: "master", wantSeq: 77}}},
		{"accepting clears the cycle", AHCounter{Seq: 5, Cycled: true}, []step{{op: "accept", seq: 6, wantSeq: 6}, {op: "master", wantSeq: 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.start
			for i, s := range tt.steps {
				var err error
				switch s.op {
				case "next":
					if got := c.Next(); got != s.wantSeq {
						t.Fatalf("step %d: Next = %d, want %d", i, got, s.wantSeq)
					}
				case "accept":
					err = c.Accept(s.seq)
				case "lower":
					c.SyncLower(s.seq)
				case "master":
					c.BecomeMaster()
				}
				if (err != nil) != s.wantErr || (err != nil && !errors.Is(err, ErrAHSeq)) {
					t.Fatalf("step %d: err %v, want error %v", i, err, s.wantErr)
				}
				if c.Seq != s.wantSeq || c.Cycled != s.cycled {
					t.Fatalf("step %d: counter %d cycled %v, want %d cycled %v", i, c.Seq, c.Cycled, s.wantSeq, s.cycled)
				}
			}
		})
	}
}

func TestAHCounterID(t *testing.T) {
	var c AHCounter
	if got := c.NextID(); got != 1 {
		t.Fatalf("first ID %d, want 1 (keepalived's)", got)
	}
	c.id = 0xffff
	if got := c.NextID(); got != 1 {
		t.Fatalf("ID after 0xffff is %d, want 1 (0 is skipped)", got)
	}
}

// FuzzAH feeds arbitrary packets to SplitAH and Verify: they must never
// panic and must fail with a typed reason; what verifies must re-encode to
// the same bytes but for the mutable fields.
func FuzzAH(f *testing.F) {
	for _, v := range readAHGolden(f) {
		f.Add(v.pkt, v.key)
	}
	f.Fuzz(func(t *testing.T, pkt []byte, pass string) {
		key, err := AHKey(pass)
		if err != nil {
			return
		}
		auth := NewAHAuth(key)
		hdr, msg, pc, err := SplitAH(pkt)
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		info, err := auth.Verify(hdr, msg, !pc.Dst.IsMulticast())
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(hdr) != 44 {
			return // IPv4 options: hactl never sends them
		}
		id := uint16(pkt[4])<<8 | uint16(pkt[5])
		re, err := auth.Append(nil, msg, AHPacket{Src: pc.Src, Dst: pc.Dst, ID: id, TTL: uint8(pc.TTL), Seq: info.Seq, Unicast: !pc.Dst.IsMulticast()})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(re[20:], pkt[20:len(re)]) {
			t.Fatalf("verified packet re-encodes differently\n got %x\nwant %x", re, pkt)
		}
	})
}
