package watch

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecodeGoldenKeepalived(t *testing.T) {
	cases := []struct {
		name     string
		version  int
		vrid     int
		prio     int
		ivlCS    int
		authType int
		authData string
		addrs    []string
		ttl      int
	}{
		{"v2-ipv4-mcast-pass", 2, 51, 150, 100, 1, "hvsecret", []string{"198.51.100.10"}, 255},
		{"v2-ipv4-mcast-pass-prio0", 2, 51, 0, 100, 1, "hvsecret", []string{"198.51.100.10"}, 255},
		{"v2-ipv4-mcast-noauth", 2, 51, 150, 100, 0, "0000000000000000", []string{"198.51.100.10"}, 255},
		{"v3-ipv4-mcast-3vip-halfsec", 3, 51, 150, 50, 0, "", []string{"198.51.100.10", "198.51.100.11", "198.51.100.12"}, 255},
		{"v3-ipv6-mcast", 3, 51, 150, 100, 0, "", []string{"2001:db8:51::10"}, 255},
		{"v3-ipv6-ucast", 3, 51, 150, 100, 0, "", []string{"2001:db8:51::10"}, 64},
	}
	g := golden(t)
	var d Decoder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkt, ok := g[c.name]
			if !ok {
				t.Fatalf("no golden vector %s", c.name)
			}
			p, isVRRP := d.Decode(Frame{Time: t0, Interface: "eth0", Data: pkt})
			if !isVRRP || !p.Valid {
				t.Fatalf("vrrp=%v valid=%v error=%s %s", isVRRP, p.Valid, p.Error, p.Detail)
			}
			var addrs []string
			for _, a := range p.Addresses {
				addrs = append(addrs, a.String())
			}
			if p.Version != c.version || p.VRID != c.vrid || p.Priority != c.prio || p.IntervalCS != c.ivlCS ||
				p.TTL != c.ttl || p.Count != len(c.addrs) || !slices.Equal(addrs, c.addrs) || p.Type != 1 {
				t.Errorf("got v%d vrid %d prio %d ivl %d ttl %d count %d addrs %v type %d", p.Version, p.VRID, p.Priority,
					p.IntervalCS, p.TTL, p.Count, addrs, p.Type)
			}
			if c.version == 2 && (p.AuthType != c.authType || AuthText(p.AuthType, p.AuthData) != c.authData) {
				t.Errorf("auth %d %q, want %d %q", p.AuthType, AuthText(p.AuthType, p.AuthData), c.authType, c.authData)
			}
			// The raw reader used for invalid packets must agree with
			// pkg/vrrp on every valid one.
			var raw Packet
			raw.readRaw(pkt)
			raw.Time, raw.Interface, raw.Valid = p.Time, p.Interface, true
			if !equalPackets(raw, p) {
				t.Errorf("raw read differs:\n%+v\n%+v", raw, p)
			}
		})
	}
}

func equalPackets(a, b Packet) bool {
	as, bs := a.Addresses, b.Addresses
	a.Addresses, b.Addresses = nil, nil
	a.SrcMAC, b.SrcMAC = nil, nil
	a.ConflictWith, b.ConflictWith, a.DualMasterWith, b.DualMasterWith = nil, nil, nil, nil
	if a.Version == 3 {
		a.AuthData, b.AuthData = [8]byte{}, [8]byte{}
	}
	return slices.Equal(as, bs) && a.Time.Equal(b.Time) && func() bool { a.Time, b.Time = time.Time{}, time.Time{}; return true }() &&
		a.String() == b.String()
}

// String is a test-only rendering that compares every field.
func (p Packet) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

func TestDecodeInvalidKeepsFields(t *testing.T) {
	good := adv{src: "10.0.0.1", dst: "224.0.0.18", vrid: 7, prio: 100, vips: []string{"10.0.0.100"}}
	ttl64 := good
	ttl64.ttl = 64
	cases := []struct {
		name      string
		pkt       func(t *testing.T) []byte
		rule      string
		hasIP     bool
		hasHeader bool
		vrid      int
	}{
		{"ttl", func(t *testing.T) []byte { return ttl64.ipPacket(t) }, "ttl", true, true, 7},
		{"checksum", func(t *testing.T) []byte {
			b := good.ipPacket(t)
			b[len(b)-1] ^= 0xff
			return b
		}, "checksum", true, true, 7},
		{"version", func(t *testing.T) []byte {
			b := good.ipPacket(t)
			b[20] = 0x41
			return b
		}, "version", true, true, 7},
		{"trailing bytes", func(t *testing.T) []byte {
			b := good.ipPacket(t)
			b = append(b, 0, 0, 0, 0)
			b[3] += 4
			return b
		}, "length", true, true, 7},
		{"short header", func(t *testing.T) []byte { return good.ipPacket(t)[:24] }, "length", true, false, 0},
		{"empty", func(*testing.T) []byte { return nil }, "length", false, false, 0},
		{"not IP", func(*testing.T) []byte { return []byte{0x11, 0x22} }, "family", false, false, 0},
	}
	var d Decoder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := d.Decode(Frame{Time: t0, Data: c.pkt(t)})
			if !ok {
				t.Fatal("dropped as not VRRP")
			}
			if p.Valid || p.Error != c.rule || p.HasIP != c.hasIP || p.HasHeader != c.hasHeader || p.VRID != c.vrid {
				t.Errorf("valid %v error %q (%s) ip %v header %v vrid %d; want error %q ip %v header %v vrid %d",
					p.Valid, p.Error, p.Detail, p.HasIP, p.HasHeader, p.VRID, c.rule, c.hasIP, c.hasHeader, c.vrid)
			}
		})
	}
}

func TestDecodeSkipsOtherProtocols(t *testing.T) {
	var d Decoder
	v4 := wrapIP(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 64, []byte("udp?"))
	v4[9] = 17
	v6 := wrapIP(netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::16"), 1, make([]byte, 16))
	v6[6] = 0 // hop-by-hop, then ICMPv6 (MLD)
	v6[40], v6[41] = 58, 0
	for name, pkt := range map[string][]byte{"udp": v4, "mld": v6} {
		if p, ok := d.Decode(Frame{Data: pkt}); ok {
			t.Errorf("%s taken as VRRP: %+v", name, p)
		}
	}
	// VRRP behind a hop-by-hop header is VRRP that pkg/vrrp rejects: shown.
	v6[40] = 112
	if p, ok := d.Decode(Frame{Data: v6}); !ok || p.Valid || p.Error != "protocol" {
		t.Errorf("VRRP after an extension header: ok %v valid %v error %q", ok, p.Valid, p.Error)
	}
}

func TestPacketJSON(t *testing.T) {
	var d Decoder
	g := golden(t)
	p, _ := d.Decode(Frame{Time: time.Date(2025, 3, 1, 12, 0, 0, 5, time.UTC), Interface: "eth0", Data: g["v2-ipv4-mcast-pass"]})
	p.Flags = FlagResign
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2025-03-01T12:00:00.000000005Z","interface":"eth0","src":"192.0.2.1","dst":"224.0.0.18","ttl":255,` +
		`"version":2,"type":1,"vrid":51,"priority":150,"count":1,"interval_cs":100,"auth_type":1,"auth_data":"hvsecret",` +
		`"addresses":["198.51.100.10"],"checksum":30921,"valid":true,"flags":["RESIGN"]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	p, _ = d.Decode(Frame{Time: t0, Data: g["v3-ipv6-mcast"]})
	b, _ = json.Marshal(p)
	if strings.Contains(string(b), "auth_") {
		t.Errorf("v3 packet has auth fields: %s", b)
	}
	p, _ = d.Decode(Frame{Time: t0, Interface: "eth0"})
	b, _ = json.Marshal(p)
	if want := `{"time":"2025-03-01T12:00:00.000000000Z","interface":"eth0","addresses":[],"valid":false,"error":"length",` +
		`"detail":"vrrp: invalid length: empty packet","flags":[]}`; string(b) != want {
		t.Errorf("empty packet:\ngot  %s\nwant %s", b, want)
	}
}
