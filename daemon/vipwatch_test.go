package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// TestLoopVIPDeletedByHandRestored: a VIP deleted from the master's host
// (ip addr del) is back as soon as the loop has handled the kernel's
// event, without the clock moving; it is logged once with the interface
// and the moment it went, counted, and shown in the status. The daemon's
// own removals (a higher priority taking over, a stop) restore nothing.
func TestLoopVIPDeletedByHandRestored(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	cl.advance(2 * time.Second)

	// A deletion on the backup, of an address it does not hold, is none
	// of its business.
	b.vips.delByHand(b.vipOf(t, 51))
	gone := cl.clock.Now()
	a.vips.delByHand(a.vipOf(t, 51))
	if a.vips.holds(vipOf(51)) {
		t.Fatal("the fake kernel did not delete the VIP")
	}
	cl.settle() // the event, handled; no time passes
	if !a.vips.holds(vipOf(51)) {
		t.Fatal("the VIP deleted by hand is not back once the loop handled the event")
	}
	in := a.in("VI_1")
	if in.counters.VIPsRestored != 1 {
		t.Errorf("VIPs restored %d, want 1", in.counters.VIPsRestored)
	}
	st := in.status(cl.clock.Now())
	if st.LastVIPDeleted == nil || !st.LastVIPDeleted.Equal(gone) {
		t.Errorf("status last_vip_deleted %v, want %v", st.LastVIPDeleted, gone)
	}
	if st.Counters.VIPsRestored != 1 {
		t.Errorf("status counters %+v", st.Counters)
	}
	logged := func() int { return strings.Count(a.logs.String(), "VIP deleted while master, restored") }
	if n := logged(); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, a.logs.String())
	}
	if l := a.logs.String(); !strings.Contains(l, "interface=eth0") || !strings.Contains(l, "gone_at="+gone.Format(time.RFC3339Nano)) {
		t.Errorf("the log names no interface or moment:\n%s", l)
	}
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})

	// b takes over: a removes the VIP itself, and the kernel's events
	// for that removal restore nothing.
	b.reload(vrrpInstance("VI_1", 51, 250, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return b.state("VI_1") == vrrp.Master })
	cl.advance(3 * time.Second)
	if h := cl.holders(vipOf(51)); len(h) != 1 || h[0] != "b" {
		t.Errorf("after b's takeover the VIP is held by %v, want [b]", h)
	}
	b.stop()
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	a.stop()
	if in.counters.VIPsRestored != 1 || logged() != 1 {
		t.Errorf("after our own removals: restored %d, logged %d, want 1 and 1", in.counters.VIPsRestored, logged())
	}
	if h := cl.holders(vipOf(51)); len(h) != 0 {
		t.Errorf("after both stopped the VIP is held by %v", h)
	}
}
