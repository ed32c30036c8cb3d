package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// TestLoopStartupDelay: with vrrp_startup_delay 2, a node alone on the
// segment sends nothing and takes no VIP for 2 s (it is BACKUP), then
// takes over one Master_Down_Interval later; an owner at 2 s.
func TestLoopStartupDelay(t *testing.T) {
	for _, tt := range []struct {
		prio int
		want time.Duration // first advert, from start
	}{
		{200, 2*time.Second + 3*time.Second + 56*time.Second/256},
		{255, 2 * time.Second},
	} {
		cl := newCluster(t)
		a := cl.addNode("a", "10.0.0.201")
		start := cl.clock.Now()
		a.start("global_defs {\n    vrrp_startup_delay 2\n}\n" + vrrpInstance("VI_1", 51, tt.prio, "10.0.0.201"))
		cl.advance(1990 * time.Millisecond)
		if len(cl.sent) != 0 || len(cl.holders(vipOf(51))) != 0 || a.state("VI_1") != vrrp.Backup {
			t.Fatalf("priority %d during the delay: %d adverts, VIP held by %v, state %v", tt.prio, len(cl.sent), cl.holders(vipOf(51)), a.state("VI_1"))
		}
		cl.advance(tt.want - 1990*time.Millisecond + 10*time.Millisecond)
		if len(cl.sent) == 0 {
			t.Fatalf("priority %d: no advert by %v", tt.prio, tt.want)
		}
		if got := cl.sent[0].at.Sub(start); got < tt.want || got > tt.want+10*time.Millisecond {
			t.Errorf("priority %d: first advert at %v, want %v", tt.prio, got, tt.want)
		}
		if a.state("VI_1") != vrrp.Master || len(cl.holders(vipOf(51))) != 1 {
			t.Errorf("priority %d: state %v after the delay", tt.prio, a.state("VI_1"))
		}
	}
}

// TestLoopLowerPrioNoAdvert: with lower_prio_no_advert a master hearing
// a lower priority does not answer it, but still re-announces its VIPs
// and notifies MASTER_RX_LOWER_PRI, as keepalived does.
func TestLoopLowerPrioNoAdvert(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201", "lower_prio_no_advert", "garp_lower_prio_repeat 2"))
	cl.advance(20 * time.Second)
	sub, err := a.r.bus.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	rounds := a.garp.rounds
	cl.advance(10 * time.Millisecond) // away from the adverts' schedule
	sent := len(cl.sent)
	a.inject(t, "eth0", netip.MustParseAddr("10.0.0.9"), foreignAdvert(t, 51, 50, "10.0.0.52"))
	cl.advance(50 * time.Millisecond)
	if len(cl.sent) != sent {
		t.Errorf("the master answered a lower priority with lower_prio_no_advert (%d adverts)", len(cl.sent)-sent)
	}
	if a.garp.rounds-rounds != 2 {
		t.Errorf("re-announcement rounds %d, want 2", a.garp.rounds-rounds)
	}
	if got := lines(t, sub); len(got) != 1 || got[0] != `INSTANCE "VI_1" MASTER_RX_LOWER_PRI 200` {
		t.Errorf("events %q", got)
	}
}
