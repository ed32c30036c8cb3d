package watch

import (
	"encoding/json"
	"testing"

	"github.com/hactl/hactl/pkg/vrrp"
)

// goldenAH reads pkg/vrrp's keepalived 2.2.7 AH captures (auth_type AH):
// name -> whole IPv4 packet (IP header, AH, VRRP).
func goldenAH(t testing.TB) map[string][]byte { return goldenDir(t, "golden-ah") }

// keepalived's AH adverts decode as valid VRRPv2 with auth type AH, the
// AH header's SPI (the source address) and sequence number, and the same
// fields whether pkg/vrrp decoded them or the raw reader did.
func TestDecodeAHGoldenKeepalived(t *testing.T) {
	cases := []struct {
		name  string
		prio  int
		seq   uint32
		addrs int
		dst   string
		ttl   int
	}{
		{"v2-ah-mcast-1", 150, 1, 1, "224.0.0.18", 255},
		{"v2-ah-mcast-3", 150, 3, 1, "224.0.0.18", 255},
		{"v2-ah-mcast-prio0", 0, 0, 1, "224.0.0.18", 255},
		{"v2-ah-mcast-shortkey-3vip-1", 150, 1, 3, "224.0.0.18", 255},
		{"v2-ah-ucast-1", 150, 1, 1, "192.0.2.2", 255},
	}
	g := goldenAH(t)
	var d Decoder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkt, ok := g[c.name]
			if !ok {
				t.Fatalf("no golden vector %s", c.name)
			}
			if !isVRRP(pkt) {
				t.Fatal("isVRRP says no")
			}
			p, isVRRP := d.Decode(Frame{Time: t0, Interface: "eth0", Data: pkt})
			if !isVRRP || !p.Valid {
				t.Fatalf("vrrp=%v valid=%v error=%s %s", isVRRP, p.Valid, p.Error, p.Detail)
			}
			if !p.AH || p.AHSPI != 0xc0000201 || p.Src.String() != "192.0.2.1" || p.Dst.String() != c.dst || p.TTL != c.ttl {
				t.Errorf("AH %v SPI %#x src %v dst %v ttl %d", p.AH, p.AHSPI, p.Src, p.Dst, p.TTL)
			}
			if c.name != "v2-ah-mcast-prio0" && p.AHSeq != c.seq {
				t.Errorf("seq %d, want %d", p.AHSeq, c.seq)
			}
			if p.Version != 2 || p.VRID != 51 || p.Priority != c.prio || p.AuthType != int(vrrp.AuthAH) || p.Count != c.addrs || p.IntervalCS != 100 {
				t.Errorf("got v%d vrid %d prio %d auth %d count %d ivl %d", p.Version, p.VRID, p.Priority, p.AuthType, p.Count, p.IntervalCS)
			}
			var raw Packet
			raw.readRaw(pkt)
			raw.Time, raw.Interface, raw.Valid = p.Time, p.Interface, true
			if !equalPackets(raw, p) {
				t.Errorf("raw read differs:\n%+v\n%+v", raw, p)
			}
			var j map[string]any
			b, _ := json.Marshal(p)
			if err := json.Unmarshal(b, &j); err != nil {
				t.Fatal(err)
			}
			ah, _ := j["ah"].(map[string]any)
			if ah == nil || ah["icv"] != "unchecked" || ah["spi"] != float64(0xc0000201) || j["auth_type"] != float64(2) {
				t.Errorf("JSON %s", b)
			}
		})
	}
}

// Broken AH packets show as invalid with the rule they failed and what
// could be read; AH for another protocol is not VRRP at all.
func TestDecodeAHInvalid(t *testing.T) {
	g := goldenAH(t)
	base := g["v2-ah-mcast-1"]
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), base...)) }
	cases := []struct {
		name      string
		pkt       []byte
		isVRRP    bool
		rule      string
		hasHeader bool
	}{
		{"spi", mod(func(b []byte) []byte { b[20+7] ^= 1; return b }), true, "ah-spi", true},
		// The ICV is not checked (no key): a changed ICV still decodes.
		{"icv-unchecked", mod(func(b []byte) []byte { b[20+12] ^= 1; return b }), true, "", true},
		{"auth-type", mod(func(b []byte) []byte {
			b[44+4] = 0 // VRRP auth type none inside AH; fix the VRRP checksum
			b[44+6], b[44+7] = 0, 0
			sum := vrrpChecksum(b[44:])
			b[44+6], b[44+7] = byte(sum>>8), byte(sum)
			return b
		}), true, "auth-type", true},
		{"vrrp-checksum", mod(func(b []byte) []byte { b[len(b)-9] ^= 0xff; return b }), true, "checksum", true},
		{"truncated-ah", mod(func(b []byte) []byte { b = b[:30]; b[2], b[3] = 0, 30; return b }), true, "length", false},
		{"ttl", mod(func(b []byte) []byte { b[8] = 64; return b }), true, "ttl", true},
		{"other-protocol", mod(func(b []byte) []byte { b[20] = 6; return b }), false, "", false},
	}
	var d Decoder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, isVRRP := d.Decode(Frame{Time: t0, Data: c.pkt})
			if isVRRP != c.isVRRP {
				t.Fatalf("isVRRP %v, want %v", isVRRP, c.isVRRP)
			}
			if !isVRRP {
				return
			}
			if p.Error != c.rule || p.Valid != (c.rule == "") || p.HasHeader != c.hasHeader || !p.HasIP {
				t.Errorf("valid %v error %q (%s) header %v, want error %q header %v", p.Valid, p.Error, p.Detail, p.HasHeader, c.rule, c.hasHeader)
			}
			if c.hasHeader && (p.VRID != 51 || !p.AH) {
				t.Errorf("vrid %d AH %v", p.VRID, p.AH)
			}
		})
	}
}

// vrrpChecksum is the VRRPv2 checksum of msg (its checksum field zero).
func vrrpChecksum(msg []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(msg); i += 2 {
		s += uint32(msg[i])<<8 | uint32(msg[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
