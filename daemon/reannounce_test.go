package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// TestLoopLowerPriorityReannounce: a master that hears a lower-priority
// advert re-announces its VIPs on keepalived's schedule:
// garp_lower_prio_repeat rounds at once and as many again
// garp_lower_prio_delay later; a flood of lower-priority adverts costs one
// burst per answer spacing (a tenth of the interval) and one delayed burst;
// a resignation (priority 0) and garp_lower_prio_repeat 0 (strict mode's)
// re-announce nothing.
func TestLoopLowerPriorityReannounce(t *testing.T) {
	other := netip.MustParseAddr("10.0.0.9")
	lower := func(t *testing.T, prio uint8) vrrp.Advertisement { return foreignAdvert(t, 51, prio, "10.0.0.52") }
	// steady starts a master with extra config and lets its takeover
	// announcements end.
	steady := func(t *testing.T, extra ...string) (*cluster, *node) {
		cl := newCluster(t)
		a := cl.addNode("a", "10.0.0.201")
		a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201", extra...))
		cl.advance(20 * time.Second)
		if a.state("VI_1") != vrrp.Master {
			t.Fatal("a is not master")
		}
		return cl, a
	}
	t.Run("schedule", func(t *testing.T) {
		cl, a := steady(t, "garp_lower_prio_repeat 3", "garp_lower_prio_delay 2")
		base := a.garp.rounds
		a.inject(t, "eth0", other, lower(t, 50))
		cl.advance(100 * time.Millisecond)
		if got := a.garp.rounds - base; got != 3 {
			t.Errorf("rounds at once: %d, want 3 (garp_lower_prio_repeat)", got)
		}
		cl.advance(time.Second)
		if got := a.garp.rounds - base; got != 3 {
			t.Errorf("rounds before the delay: %d, want 3", got)
		}
		cl.advance(time.Second)
		if got := a.garp.rounds - base; got != 6 {
			t.Errorf("rounds after garp_lower_prio_delay: %d, want 6", got)
		}
		// An equal priority from a lower address is lower too (keepalived's
		// addr_cmp); a resignation is not.
		base = a.garp.rounds
		a.inject(t, "eth0", netip.MustParseAddr("10.0.0.1"), lower(t, 200))
		cl.advance(100 * time.Millisecond)
		if got := a.garp.rounds - base; got != 3 {
			t.Errorf("rounds after an equal priority from a lower address: %d, want 3", got)
		}
		cl.advance(5 * time.Second)
		base = a.garp.rounds
		a.inject(t, "eth0", other, lower(t, 0))
		cl.advance(5 * time.Second)
		if got := a.garp.rounds - base; got != 0 {
			t.Errorf("a resignation made %d rounds, want none", got)
		}
	})
	t.Run("flood", func(t *testing.T) {
		cl, a := steady(t, "garp_lower_prio_repeat 3", "garp_lower_prio_delay 2")
		base := a.garp.rounds
		// 1000 adverts over one interval, a millisecond apart: at most one
		// answer per 100 ms, so 10 bursts of 3, and one delayed burst.
		for range 1000 {
			a.inject(t, "eth0", other, lower(t, 50))
			cl.advance(time.Millisecond)
		}
		got := a.garp.rounds - base
		if got > 10*3+3 || got < 3 {
			t.Errorf("a flood of 1000 lower-priority adverts made %d rounds, want at most 33", got)
		}
		cl.advance(3 * time.Second)
		total := a.garp.rounds - base
		t.Logf("1000 lower-priority adverts in 1 s: %d rounds then, %d with the delayed burst", got, total)
		if total > 10*3+2*3 {
			t.Errorf("with the delayed bursts %d rounds, want at most 36", total)
		}
		if a.state("VI_1") != vrrp.Master {
			t.Error("a lost mastership to a flood of lower priorities")
		}
	})
	t.Run("defaults", func(t *testing.T) {
		// keepalived's defaults: garp_master_repeat (5) and
		// garp_master_delay (5 s).
		cl, a := steady(t)
		base := a.garp.rounds
		a.inject(t, "eth0", other, lower(t, 50))
		cl.advance(100 * time.Millisecond)
		if got := a.garp.rounds - base; got != 5 {
			t.Errorf("rounds at once by default: %d, want 5", got)
		}
		cl.advance(5 * time.Second)
		if got := a.garp.rounds - base; got != 10 {
			t.Errorf("rounds after the default delay: %d, want 10", got)
		}
	})
	t.Run("sync group", func(t *testing.T) {
		// keepalived re-announces for every member of the group: VI_2
		// (VRID 52, on the same announcer) heard nothing itself.
		cl := newCluster(t)
		a := cl.addNode("a", "10.0.0.201")
		a.start(syncConf("10.0.0.201", 200, 200, ""))
		cl.advance(20 * time.Second)
		if a.state("VI_1") != vrrp.Master || a.state("VI_2") != vrrp.Master {
			t.Fatal("the group is not master")
		}
		base := a.garp.rounds
		a.inject(t, "eth0", other, lower(t, 50))
		cl.advance(100 * time.Millisecond)
		if got := a.garp.rounds - base; got != 10 {
			t.Errorf("rounds at once for the group: %d, want 5 for each member", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		cl, a := steady(t, "garp_lower_prio_repeat 0")
		base := a.garp.rounds
		a.inject(t, "eth0", other, lower(t, 50))
		cl.advance(10 * time.Second)
		if got := a.garp.rounds - base; got != 0 {
			t.Errorf("garp_lower_prio_repeat 0 made %d rounds", got)
		}
	})
}
