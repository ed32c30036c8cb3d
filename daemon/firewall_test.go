package daemon

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// TestRenderFirewall: the script for a drop set is the whole table,
// replacing what was there in one transaction; an empty set removes it.
func TestRenderFirewall(t *testing.T) {
	reset := "table inet hactl {}\ndelete table inet hactl\n"
	if got := renderFirewall(nil); got != reset {
		t.Errorf("empty set: got\n%s\nwant only the removal\n%s", got, reset)
	}
	got := renderFirewall([]netip.Addr{netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("10.0.0.101"), netip.MustParseAddr("fd00::100")})
	want := reset + `table inet hactl {
	set vips4 {
		type ipv4_addr;
		elements = { 10.0.0.100, 10.0.0.101 }
	}
	set vips6 {
		type ipv6_addr;
		elements = { fd00::100 }
	}
	set neighbor-discovery {
		type icmpv6_type;
		elements = { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect }
	}
	chain in {
		type filter hook input priority -1; policy accept;
		ip daddr @vips4 drop
		icmpv6 type @neighbor-discovery accept
		ip6 daddr @vips6 drop
	}
	chain out {
		type filter hook output priority -1; policy accept;
		ip saddr @vips4 drop
		icmpv6 type @neighbor-discovery accept
		ip6 saddr @vips6 drop
	}
}
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if v4only := renderFirewall([]netip.Addr{netip.MustParseAddr("10.0.0.1")}); !strings.Contains(v4only, "set vips6 {\n\t\ttype ipv6_addr;\n\t}") {
		t.Errorf("an IPv4-only set should keep an empty vips6 (one layout):\n%s", v4only)
	}
}

// TestLoopFirewall: a non-owner master with no_accept puts its VIPs in
// the drop set with mastership and takes them out on leaving it and at
// stop; accept instances and the owner (priority 255) install nothing.
func TestLoopFirewall(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		prio  int
		drops bool
	}{
		{"no_accept", []string{"no_accept"}, 200, true},
		{"strict default", []string{"strict_mode on", "version 3"}, 200, true},
		{"accept", []string{"accept"}, 200, false},
		{"default", nil, 200, false},
		{"owner", []string{"no_accept"}, 255, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, a, b := pair(t)
			a.start(vrrpInstance("VI_1", 51, tc.prio, "10.0.0.201", tc.extra...))
			b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202", tc.extra...))
			cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
			cl.advance(2 * time.Second)
			want := []netip.Addr(nil)
			if tc.drops {
				want = []netip.Addr{netip.MustParseAddr("10.0.0.52")}
			}
			if got := a.r.firewallAddrs(); !slices.Equal(got, want) {
				t.Errorf("master's drop set %v, want %v", got, want)
			}
			if got := b.r.firewallAddrs(); len(got) != 0 {
				t.Errorf("backup's drop set %v, want none", got)
			}
			if !tc.drops {
				if a.r.fw.last != "" {
					t.Errorf("nothing should be rendered, got\n%s", a.r.fw.last)
				}
				return
			}
			a.stop()
			cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return b.state("VI_1") == vrrp.Master })
			cl.advance(time.Second)
			if got := b.r.firewallAddrs(); !slices.Equal(got, want) {
				t.Errorf("new master's drop set %v, want %v", got, want)
			}
			r := b.r
			b.stop()
			if got := r.firewallAddrs(); len(got) != 0 || r.fw.last != renderFirewall(nil) {
				t.Errorf("after stop: drop set %v, last script\n%s", got, r.fw.last)
			}
		})
	}
}
