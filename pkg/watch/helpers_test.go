package watch

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// t0 is the epoch of every scripted scenario.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// adv describes an advertisement to build.
type adv struct {
	src, dst string
	ttl      int
	version  vrrp.Version
	vrid     uint8
	prio     uint8
	interval time.Duration
	pass     string
	vips     []string
}

// ipPacket encodes a as a whole IP packet.
func (a adv) ipPacket(t testing.TB) []byte {
	t.Helper()
	src, dst := netip.MustParseAddr(a.src), netip.MustParseAddr(a.dst)
	v := vrrp.Advertisement{Version: a.version, VRID: a.vrid, Priority: a.prio, Interval: a.interval}
	if v.Version == 0 {
		v.Version = vrrp.Version3
	}
	if v.Interval == 0 {
		v.Interval = time.Second
	}
	if a.pass != "" {
		v.AuthType = vrrp.AuthSimple
		v.AuthData, _ = vrrp.Password(a.pass)
	}
	var addrs []netip.Addr
	for _, s := range a.vips {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	if err := v.SetAddrs(addrs...); err != nil {
		t.Fatal(err)
	}
	payload, err := v.Append(nil, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	ttl := a.ttl
	if ttl == 0 {
		ttl = 255
	}
	return wrapIP(src, dst, ttl, payload)
}

// wrapIP puts an IPv4 or IPv6 header for protocol 112 before payload.
func wrapIP(src, dst netip.Addr, ttl int, payload []byte) []byte {
	if src.Is4() {
		h := make([]byte, 20, 20+len(payload))
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
		h[8], h[9] = byte(ttl), vrrp.Protocol
		s, d := src.As4(), dst.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		return append(h, payload...)
	}
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = vrrp.Protocol, byte(ttl)
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

// golden reads pkg/vrrp's keepalived 2.2.7 captures: name -> IP packet.
func golden(t testing.TB) map[string][]byte { return goldenDir(t, "golden") }

// goldenDir reads the .hex captures in pkg/vrrp/testdata/DIR.
func goldenDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "vrrp", "testdata", dir, "*.hex"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden vectors in %s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(line, "#") {
				sb.WriteString(strings.TrimSpace(line))
			}
		}
		pkt, err := hex.DecodeString(sb.String())
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".hex")] = pkt
	}
	return out
}

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }
