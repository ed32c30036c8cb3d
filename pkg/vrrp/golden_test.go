package vrrp

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goldenExpect is what each capture must decode to; the configs are in the
// header of each file and in capture.sh.
type goldenExpect struct {
	version  Version
	interval time.Duration
	auth     string // v2 PASS password, "" for none
	addrs    []string
	ttl      int
}

var v4one = []string{"198.51.100.10"}
var v4three = []string{"198.51.100.10", "198.51.100.11", "198.51.100.12"}

// goldenCases maps capture case names (file names without -prio0.hex) to
// expectations. The function form keeps the table out of package globals.
func goldenCases() map[string]goldenExpect {
	return map[string]goldenExpect{
		"v2-ipv4-mcast-noauth":       {Version2, time.Second, "", v4one, 255},
		"v2-ipv4-mcast-pass":         {Version2, time.Second, "hvsecret", v4one, 255},
		"v2-ipv4-mcast-3vip":         {Version2, 2 * time.Second, "", v4three, 255},
		"v2-ipv4-ucast":              {Version2, time.Second, "", v4one, 255},
		"v3-ipv4-mcast":              {Version3, time.Second, "", v4one, 255},
		"v3-ipv4-mcast-3vip-halfsec": {Version3, 500 * time.Millisecond, "", v4three, 255},
		"v3-ipv4-ucast":              {Version3, time.Second, "", v4one, 255},
		"v3-ipv6-mcast":              {Version3, time.Second, "", []string{"2001:db8:51::10"}, 255},
		"v3-ipv6-mcast-3vip":         {Version3, time.Second, "", []string{"fe80::51", "2001:db8:51::10", "2001:db8:51::11"}, 255},
		// keepalived 2.2.7 sends IPv6 unicast with hop limit 64.
		"v3-ipv6-ucast": {Version3, time.Second, "", []string{"2001:db8:51::10"}, 64},
	}
}

// goldenVector is one parsed capture file: its hex as bytes, and its
// comment lines ("# key: ..." in golden-ah).
type goldenVector struct {
	name     string
	pkt      []byte
	comments []string
}

func readGolden(tb testing.TB) []goldenVector { return readGoldenDir(tb, "golden") }

// readGoldenDir reads the .hex captures in testdata/DIR.
func readGoldenDir(tb testing.TB, dir string) []goldenVector {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.hex"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden vectors in %s: %v", dir, err)
	}
	var out []goldenVector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		gv := goldenVector{name: strings.TrimSuffix(filepath.Base(f), ".hex")}
		var sb strings.Builder
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "#") {
				gv.comments = append(gv.comments, line)
			} else {
				sb.WriteString(strings.TrimSpace(line))
			}
		}
		if gv.pkt, err = hex.DecodeString(sb.String()); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, gv)
	}
	return out
}

func TestGoldenKeepalivedVectors(t *testing.T) {
	cases := goldenCases()
	seen := map[string]bool{}
	for _, gv := range readGolden(t) {
		t.Run(gv.name, func(t *testing.T) {
			base, prio0 := strings.CutSuffix(gv.name, "-prio0")
			want, ok := cases[base]
			if !ok {
				t.Fatalf("no expectation for case %q", base)
			}
			seen[base] = true
			var a Advertisement
			pc, payload, err := DecodeIP(&a, gv.pkt)
			if err != nil {
				t.Fatalf("DecodeIP: %v", err)
			}
			checkGoldenFields(t, &a, pc, want, prio0)
			exp := Expect{Version: want.version, Family: FamilyOf(pc.Src), Interval: want.interval}
			if want.auth != "" {
				exp.AuthType = AuthSimple
				exp.Password, _ = Password(want.auth)
			}
			if err := exp.Check(&a, pc); err != nil {
				t.Fatalf("Check: %v", err)
			}
			re, err := a.Append(nil, pc.Src, pc.Dst)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(re, payload) {
				t.Fatalf("re-encode differs\n got %x\nwant %x", re, payload)
			}
		})
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("case %s has no vector file", name)
		}
	}
}

func checkGoldenFields(t *testing.T, a *Advertisement, pc PacketContext, want goldenExpect, prio0 bool) {
	t.Helper()
	wantPrio := uint8(150)
	if prio0 {
		wantPrio = 0
	}
	if a.Version != want.version || a.VRID != 51 || a.Priority != wantPrio || a.Interval != want.interval {
		t.Errorf("got %v, want v%d vrid 51 prio %d interval %v", a, want.version, wantPrio, want.interval)
	}
	if pc.TTL != want.ttl {
		t.Errorf("TTL %d, want %d", pc.TTL, want.ttl)
	}
	if want.auth != "" && a.AuthType != AuthSimple {
		t.Errorf("auth type %d, want simple", a.AuthType)
	}
	if a.NumAddrs() != len(want.addrs) {
		t.Fatalf("%d addrs, want %d", a.NumAddrs(), len(want.addrs))
	}
	for i, s := range want.addrs {
		if got := a.Addr(i); got != netip.MustParseAddr(s) {
			t.Errorf("addr %d = %v, want %s", i, got, s)
		}
	}
}
