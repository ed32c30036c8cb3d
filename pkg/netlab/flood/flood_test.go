package flood

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

var (
	group = netip.MustParseAddr("224.0.0.18")
	vip   = netip.MustParseAddr("10.9.9.9")
)

func TestPackets(t *testing.T) {
	pw, _ := vrrp.Password("s3cret")
	expect := vrrp.Expect{Version: vrrp.Version2, Family: vrrp.IPv4, Interval: time.Second, AuthType: vrrp.AuthSimple, Password: pw}
	for _, tc := range []struct {
		mode       Mode
		version    vrrp.Version
		wantDecode error
		wantCheck  error
		randomSrc  bool
	}{
		{ConflictingVIPs, vrrp.Version2, nil, nil, true},
		{ConflictingVIPs, vrrp.Version3, nil, nil, true},
		{WrongPassword, vrrp.Version2, nil, vrrp.ErrAuth, true},
		{BadChecksum, vrrp.Version2, vrrp.ErrChecksum, nil, false},
	} {
		t.Run(tc.mode.String()+"-v"+string(rune('0'+tc.version)), func(t *testing.T) {
			cfg := Config{Mode: tc.mode, Interface: "eth0", Dst: group, VRID: 51, Version: tc.version, Priority: 50,
				Password: "s3cret", VIPs: []netip.Addr{vip}, Sources: netip.MustParsePrefix("10.64.0.0/10"), Rate: 1000, Count: 10, Seed: 1}
			if err := cfg.check(); err != nil {
				t.Fatal(err)
			}
			b, err := newBuilder(cfg)
			if err != nil {
				t.Fatal(err)
			}
			srcs := map[netip.Addr]bool{}
			var buf []byte
			for range 100 {
				if buf, err = b.packet(buf); err != nil {
					t.Fatal(err)
				}
				var a vrrp.Advertisement
				pc, _, err := vrrp.DecodeIP(&a, buf)
				if !errors.Is(err, tc.wantDecode) && !(err == nil && tc.wantDecode == nil) {
					t.Fatalf("decode: %v, want %v", err, tc.wantDecode)
				}
				if pc.TTL != 255 || pc.Dst != group || !cfg.Sources.Contains(pc.Src) {
					t.Fatalf("IP header: %+v", pc)
				}
				srcs[pc.Src] = true
				if err != nil {
					continue
				}
				if a.VRID != 51 || a.Priority != 50 || a.AppendAddrs(nil)[0] != vip {
					t.Fatalf("advert %+v", a)
				}
				if tc.version == vrrp.Version2 {
					if err := expect.Check(&a, pc); !errors.Is(err, tc.wantCheck) && !(err == nil && tc.wantCheck == nil) {
						t.Fatalf("check: %v, want %v", err, tc.wantCheck)
					}
				}
			}
			if tc.randomSrc && len(srcs) < 95 || !tc.randomSrc && len(srcs) != 1 {
				t.Errorf("%d distinct sources in 100 packets (random: %v)", len(srcs), tc.randomSrc)
			}
		})
	}
}

func TestConfigBounds(t *testing.T) {
	ok := Config{Dst: group, VIPs: []netip.Addr{vip}, Sources: netip.MustParsePrefix("10.64.0.0/10"), Rate: 10, Count: 1}
	for name, mod := range map[string]func(*Config){
		"no bound":           func(c *Config) { c.Count = 0 },
		"rate zero":          func(c *Config) { c.Rate = 0 },
		"rate too high":      func(c *Config) { c.Rate = MaxRate + 1 },
		"IPv6":               func(c *Config) { c.Dst = netip.MustParseAddr("ff02::12") },
		"wrong password, v3": func(c *Config) { c.Mode, c.Version = WrongPassword, vrrp.Version3 },
		"no VIPs":            func(c *Config) { c.VIPs = nil },
	} {
		c := ok
		mod(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := ok
	c.Count, c.Duration = 0, time.Hour
	if err := c.check(); err != nil || c.Duration != MaxDuration || c.Count != MaxCount {
		t.Errorf("caps not applied: %v %+v", err, c)
	}
}
