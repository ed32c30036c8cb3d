package watch

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestSameSet: short lists (compared in place) and long ones (sorted
// copies) give the same answer: order, duplicates, IPv4-mapped and zones
// do not matter; a missing or extra address does. Short lists allocate
// nothing.
func TestSameSet(t *testing.T) {
	a := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	long := func(n int, extra ...string) []netip.Addr {
		var out []netip.Addr
		for i := range n {
			out = append(out, netip.MustParseAddr(fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)))
		}
		return append(out, a(extra...)...)
	}
	for _, tc := range []struct {
		name string
		x, y []netip.Addr
		want bool
	}{
		{"equal", a("10.0.0.1", "10.0.0.2"), a("10.0.0.2", "10.0.0.1"), true},
		{"duplicate", a("10.0.0.1", "10.0.0.1"), a("10.0.0.1"), true},
		{"mapped", a("::ffff:10.0.0.1"), a("10.0.0.1"), true},
		{"zone", a("fe80::1%eth0"), a("fe80::1"), true},
		{"missing", a("10.0.0.1", "10.0.0.2"), a("10.0.0.1"), false},
		{"other", a("10.0.0.1"), a("10.0.0.3"), false},
		{"empty", nil, nil, true},
		{"empty and one", nil, a("10.0.0.1"), false},
		{"long equal", long(100), long(100), true},
		{"long other", long(100, "192.0.2.1"), long(100, "192.0.2.2"), false},
		{"long and short", long(20), long(10), false},
	} {
		if got := sameSet(tc.x, tc.y); got != tc.want {
			t.Errorf("%s: sameSet = %v, want %v", tc.name, got, tc.want)
		}
	}
	x, y := a("10.0.0.1", "10.0.0.2"), a("10.0.0.2", "10.0.0.1")
	if n := testing.AllocsPerRun(100, func() { sameSet(x, y) }); n != 0 {
		t.Errorf("sameSet of two short lists allocates %v times", n)
	}
}
