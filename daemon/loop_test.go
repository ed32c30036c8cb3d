package daemon

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/vrrp"
)

// The loop tests: whole daemons on the fake kernel (fakekernel_test.go),
// driven by the fake clock, without root.

// vrrpInstance is a vrrp_instance block on eth0, VRID vrid, advert_int
// 1 s, sending from src, with VIP 10.0.<vrid/250>.<vrid%250+1>/24; extra
// lines go in as they are. The fake eth0 is not tracked
// (dont_track_primary): watching links needs netlink, and root.
func vrrpInstance(name string, vrid, prio int, src string, extra ...string) string {
	return fmt.Sprintf(`vrrp_instance %s {
    state BACKUP
    interface eth0
    virtual_router_id %d
    priority %d
    advert_int 1
    mcast_src_ip %s
    dont_track_primary
    virtual_ipaddress {
        10.0.%d.%d/24
    }
    %s
}
`, name, vrid, prio, src, vrid/250, vrid%250+1, strings.Join(extra, "\n    "))
}

// vipOf is the VIP of vrrpInstance's VRID.
func vipOf(vrid int) string { return fmt.Sprintf("10.0.%d.%d/24", vrid/250, vrid%250+1) }

// pair is two nodes a (10.0.0.201) and b (10.0.0.202) on one segment,
// not started.
func pair(t *testing.T) (*cluster, *node, *node) {
	cl := newCluster(t)
	return cl, cl.addNode("a", "10.0.0.201"), cl.addNode("b", "10.0.0.202")
}

// holders names the nodes holding vip.
func (cl *cluster) holders(vip string) []string {
	var out []string
	for _, n := range cl.nodes {
		if n.vips.holds(vip) {
			out = append(out, n.name)
		}
	}
	return out
}

// neverTwoHolders makes every settled step check that at most one node
// holds vip.
func (cl *cluster) neverTwoHolders(vip string) {
	cl.check = func() {
		if h := cl.holders(vip); len(h) > 1 {
			cl.t.Fatalf("at %v %v all hold %s", cl.clock.Now().Format("15:04:05.000000"), h, vip)
		}
	}
}

func wantStates(t *testing.T, name string, want map[*node]vrrp.State) {
	t.Helper()
	for n, st := range want {
		if got := n.state(name); got != st {
			t.Errorf("%s on %s is %v, want %v", name, n.name, got, st)
		}
	}
}

// TestLoopElection: two instances on one segment elect the higher
// priority, once its Master_Down_Interval has run (3 intervals plus the
// skew), and only it holds the VIP.
func TestLoopElection(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Backup})
	took := cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	if mdi := vrrp.MasterDownInterval(vrrp.Version2, 200, time.Second); took < mdi-10*time.Millisecond || took > mdi+10*time.Millisecond {
		t.Errorf("a became master after %v, want its Master_Down_Interval %v", took, mdi)
	}
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	if h := cl.holders(vipOf(51)); len(h) != 1 || h[0] != "a" {
		t.Errorf("VIP held by %v, want [a]", h)
	}
	if a.garp.rounds == 0 {
		t.Error("the new master announced nothing")
	}
}

// reload applies conf to n's running daemon as a SIGHUP does: trackers
// started off the loop, then the swap in one loop event.
func (n *node) reload(conf string) {
	t := n.cl.t
	t.Helper()
	r := n.r
	cfg := parseConf(t, conf)
	runner, mon, err := r.newTrackers(r.ctx, cfg, r.mon.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	old := r.mon
	r.post(func(r *runtime) { r.apply(cfg, runner, mon) })
	n.cl.settle()
	old.Stop()
	n.cfg = conf
}

// promote promotes name on n through the loop, as POST .../promote does;
// d is zero for a promotion until cleared.
func (n *node) promote(name string, d time.Duration) {
	t := n.cl.t
	t.Helper()
	var expires time.Time
	now := n.cl.clock.Now()
	if d > 0 {
		expires = now.Add(d)
	}
	if err := n.r.promote(n.in(name), now, expires); err != nil {
		t.Fatal(err)
	}
	n.r.flushState()
	n.cl.settle()
}

// TestLoopSplitBrainHealsByAddress: two masters of equal priority (the
// segment was cut) meet again; the one with the lower primary address
// yields (RFC 5798 §6.4.3) and removes its VIP.
func TestLoopSplitBrainHealsByAddress(t *testing.T) {
	cl, a, b := pair(t)
	a.deaf, b.deaf = true, true
	a.start(vrrpInstance("VI_1", 51, 100, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Master})
	a.deaf, b.deaf = false, false
	cl.advance(3 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
	if h := cl.holders(vipOf(51)); len(h) != 1 || h[0] != "b" {
		t.Errorf("VIP held by %v, want [b]", h)
	}
}

// TestLoopMasterCrashBackupTakesOver: a master that stops advertising
// without a word (kill -9) is replaced once the backup's
// Master_Down_Interval has run since its last advert.
func TestLoopMasterCrashBackupTakesOver(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	a.crash()
	took := cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return b.state("VI_1") == vrrp.Master })
	mdi := vrrp.MasterDownInterval(vrrp.Version2, 100, time.Second)
	if took > mdi || took < mdi-time.Second {
		t.Errorf("b took over %v after the crash, want within its Master_Down_Interval %v of a's last advert", took, mdi)
	}
	if !b.vips.holds(vipOf(51)) {
		t.Error("the new master holds no VIP")
	}
}

// TestLoopGracefulStopHandsOver: a master that stops resigns with a
// priority-0 advert and removes its VIP; the backup takes over after its
// Skew_Time, not a whole Master_Down_Interval.
func TestLoopGracefulStopHandsOver(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	a.stop()
	if a.vips.holds(vipOf(51)) {
		t.Error("a stopped master left its VIP")
	}
	last := cl.sent[len(cl.sent)-1]
	if last.from != "a" || last.adv.Priority != 0 {
		t.Errorf("last advert %+v, want a's priority-0 resignation", last)
	}
	took := cl.advanceUntil(time.Millisecond, 5*time.Second, func() bool { return b.state("VI_1") == vrrp.Master })
	if skew := vrrp.SkewTime(vrrp.Version2, 100, time.Second); took > skew+time.Millisecond {
		t.Errorf("b took over %v after the resignation, want its Skew_Time %v", took, skew)
	}
}

// TestLoopPreemptOnReturn: the higher priority, back after a crash,
// removes the VIP its earlier run left, takes mastership back, and at no
// moment do both nodes hold the VIP (the handover hold waits for the old
// master's release).
func TestLoopPreemptOnReturn(t *testing.T) {
	cl, a, b := pair(t)
	conf := vrrpInstance("VI_1", 51, 200, "10.0.0.201")
	a.start(conf)
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	a.crash()
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{b: vrrp.Master})
	cl.neverTwoHolders(vipOf(51)) // a's kernel still has the VIP: the check starts with its removal
	a.vips.addrs = map[string]time.Time{}
	a.start(conf)
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
}

// TestLoopLeftoverVIPRemoved: a daemon that starts as backup removes the
// configured VIP an earlier run left in the kernel.
func TestLoopLeftoverVIPRemoved(t *testing.T) {
	cl, a, b := pair(t)
	b.start(vrrpInstance("VI_1", 51, 200, "10.0.0.202"))
	cl.advance(5 * time.Second)
	a.vips.put(a.vipOf(t, 51), 0)
	a.start(vrrpInstance("VI_1", 51, 100, "10.0.0.201"))
	if a.vips.holds(vipOf(51)) || a.vips.removed != 1 {
		t.Errorf("the leftover VIP is still there (%d removed)", a.vips.removed)
	}
	if !strings.Contains(a.logs.String(), "removing a VIP left by an earlier run") {
		t.Error("the removal is not logged")
	}
}

// TestLoopNoPreempt: with nopreempt the higher priority, back, stays
// backup while the lower one is master.
func TestLoopNoPreempt(t *testing.T) {
	cl, a, b := pair(t)
	conf := vrrpInstance("VI_1", 51, 200, "10.0.0.201", "nopreempt")
	a.start(conf)
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202", "nopreempt"))
	cl.advance(5 * time.Second)
	a.stop()
	cl.advance(5 * time.Second)
	a.start(conf)
	cl.advance(20 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
}

// TestLoopReloadKeepsMastership: a reload with an unchanged config keeps
// the master master, without a transition or a VIP removed.
func TestLoopReloadKeepsMastership(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	conf := vrrpInstance("VI_1", 51, 200, "10.0.0.201")
	a.start(conf)
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	became, removed := a.in("VI_1").counters.BecameMaster, a.vips.removed
	a.reload(conf)
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	if in := a.in("VI_1"); in.counters.BecameMaster != became || a.vips.removed != removed {
		t.Errorf("the reload moved mastership: became master %d -> %d, VIPs removed %d -> %d",
			became, in.counters.BecameMaster, removed, a.vips.removed)
	}
	if a.r.daemon.ReloadedAt.IsZero() {
		t.Error("the reload is not recorded")
	}
}

// TestLoopReloadAppliesPriority: a reload that lowers the master's
// priority below the backup's is advertised at once, and the backup
// (preempting) takes over; one that raises it again takes it back.
func TestLoopReloadAppliesPriority(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	a.reload(vrrpInstance("VI_1", 51, 50, "10.0.0.201"))
	if st := a.in("VI_1").status(cl.clock.Now()); st.BasePriority != 50 {
		t.Errorf("after the reload the base priority is %d, want 50", st.BasePriority)
	}
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
	for _, s := range cl.sent {
		// (a priority 0 is the release of the handover to b)
		if s.from == "a" && s.at.After(cl.clock.Now().Add(-4*time.Second)) && s.adv.Priority != 50 && s.adv.Priority != 0 {
			t.Errorf("a advertised priority %d after the reload, want 50", s.adv.Priority)
			break
		}
	}
	a.reload(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
}

// TestLoopReloadPriorityMovesAutoLease: with advert_int 3 the automatic
// lease depends on the priority (Master_Down_Interval's skew), so a
// reload that changes the priority changes the lease too; the reload
// applies both (it once refused the instance as changed beyond its
// priority), and the held VIP gets the new lifetime at once.
func TestLoopReloadPriorityMovesAutoLease(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	conf := func(prio int) string {
		return strings.Replace(vrrpInstance("VI_1", 51, prio, "10.0.0.201", "version 3"), "advert_int 1", "advert_int 3", 1)
	}
	a.start(conf(250))
	b.start(strings.Replace(vrrpInstance("VI_1", 51, 1, "10.0.0.202", "version 3"), "advert_int 1", "advert_int 3", 1))
	cl.advance(15 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	before := a.in("VI_1").lease
	a.reload(conf(20))
	in := a.in("VI_1")
	if st := in.status(cl.clock.Now()); st.BasePriority != 20 {
		t.Errorf("after the reload the base priority is %d, want 20", st.BasePriority)
	}
	// 9 s + (256-250)x3/256 s + 2 s rounds to 12 s; at 20, 9 s + 2.77 s + 2 s to 14 s.
	if time.Duration(before) != 12*time.Second || time.Duration(in.lease) != 14*time.Second {
		t.Errorf("lease %v before and %v after the reload, want 12s and 14s", time.Duration(before), time.Duration(in.lease))
	}
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
}

// syncConf is a node's two instances in sync group G: VI_1 (VRID 51,
// priority p1) and VI_2 (VRID 52, priority p2, advert_int 3), with extra
// lines for VI_1 and text before them. VI_2's lease is set: the automatic
// lease of a 3 s interval depends on the priority, and a reload refuses a
// changed lease (sameIdentity).
func syncConf(src string, p1, p2 int, before string, extra1 ...string) string {
	return before + `vrrp_sync_group G {
    group {
        VI_1
        VI_2
    }
}
` + vrrpInstance("VI_1", 51, p1, src, extra1...) + strings.Replace(vrrpInstance("VI_2", 52, p2, src, "vip_lease 30"), "advert_int 1", "advert_int 3", 1)
}

// TestLoopSyncGroupMovesTogether: the member that becomes master first
// takes the other with it (VI_2 alone would wait its 3 s intervals), and
// a member that goes back to backup takes the other back too (the group
// lowered below the other node's by a reload).
func TestLoopSyncGroupMovesTogether(t *testing.T) {
	cl, a, b := pair(t)
	a.start(syncConf("10.0.0.201", 200, 200, ""))
	b.start(syncConf("10.0.0.202", 100, 100, ""))
	cl.advanceUntil(10*time.Millisecond, 5*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	if a.state("VI_2") != vrrp.Master {
		t.Fatalf("VI_2 is %v when VI_1 became master, want it to follow", a.state("VI_2"))
	}
	if !a.vips.holds(vipOf(52)) {
		t.Error("VI_2 followed without its VIP")
	}
	cl.advance(10 * time.Second)
	a.reload(syncConf("10.0.0.201", 50, 50, ""))
	cl.advance(15 * time.Second)
	for _, name := range []string{"VI_1", "VI_2"} {
		wantStates(t, name, map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
	}
	if h := cl.holders(vipOf(52)); len(h) != 1 || h[0] != "b" {
		t.Errorf("VI_2's VIP held by %v, want [b]", h)
	}
}

// TestLoopSyncGroupFaultsTogether: a member whose tracker fails puts the
// whole group in FAULT, and the other node takes every member; once the
// tracker is fine again (here through a reload, which reads the track
// file anew) the group comes back and preempts.
func TestLoopSyncGroupFaultsTogether(t *testing.T) {
	cl, a, b := pair(t)
	file := filepath.Join(t.TempDir(), "health")
	if err := os.WriteFile(file, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tracked := fmt.Sprintf("track_file F {\n    file %s\n    weight 0\n}\n", file)
	conf := syncConf("10.0.0.201", 200, 200, tracked, "track_file {\n        F\n    }")
	b.start(syncConf("10.0.0.202", 100, 100, ""))
	a.start(conf)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Fault})
	wantStates(t, "VI_2", map[*node]vrrp.State{a: vrrp.Fault})
	cl.advance(15 * time.Second)
	for _, name := range []string{"VI_1", "VI_2"} {
		wantStates(t, name, map[*node]vrrp.State{a: vrrp.Fault, b: vrrp.Master})
	}
	if err := os.WriteFile(file, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a.reload(conf)
	cl.advance(15 * time.Second)
	for _, name := range []string{"VI_1", "VI_2"} {
		wantStates(t, name, map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	}
}

// TestLoopPromotionSurvivesRestart: a promoted backup takes over, and
// after a restart of its daemon it restores the promotion from the
// promotions file and is master again.
func TestLoopPromotionSurvivesRestart(t *testing.T) {
	cl, a, b := pair(t)
	conf := vrrpInstance("VI_1", 51, 100, "10.0.0.202")
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(conf)
	cl.advance(5 * time.Second)
	b.promote("VI_1", 0)
	cl.advance(3 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
	b.stop()
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master})
	b.start(conf)
	if b.in("VI_1").promotion == nil {
		t.Fatal("the promotion was not restored")
	}
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
	if st := b.in("VI_1").status(cl.clock.Now()); st.Promotion == nil || st.EffectivePriority != 100 {
		t.Errorf("status after the restart: promotion %v, effective priority %d", st.Promotion, st.EffectivePriority)
	}
}

// TestLoopPromotionExpires: a promotion for a while ends on the clock;
// the higher priority then preempts back. A restart after the expiry
// restores nothing.
func TestLoopPromotionExpires(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	conf := vrrpInstance("VI_1", 51, 100, "10.0.0.202")
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(conf)
	cl.advance(5 * time.Second)
	b.promote("VI_1", 10*time.Second)
	cl.advance(9 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Backup, b: vrrp.Master})
	cl.advance(5 * time.Second)
	if b.in("VI_1").promotion != nil {
		t.Fatal("the promotion outlived its expiry")
	}
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	b.stop()
	b.start(conf)
	if b.in("VI_1").promotion != nil {
		t.Error("an expired promotion was restored")
	}
}

// TestLoopHandoverHoldWaitsForRelease: a promoted node displacing a live
// hactl master takes the VIP as soon as the old master's release
// arrives, not after the hold; never do both hold it.
func TestLoopHandoverHoldWaitsForRelease(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(51))
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	at := cl.clock.Now()
	b.promote("VI_1", 0)
	if !b.vips.holds(vipOf(51)) || !cl.clock.Now().Equal(at) {
		t.Fatalf("b does not hold the VIP at once on the release (holders %v)", cl.holders(vipOf(51)))
	}
	release := false
	for _, s := range cl.sent {
		if s.from == "a" && !s.at.Before(at) && s.adv.Priority == 0 && s.dst == b.addr {
			release = true
		}
	}
	if !release {
		t.Error("a sent no release to b")
	}
}

// TestLoopHandoverHoldRunsOut: when the displaced master sends no release
// (a keepalived, or one that does not hear us), the new master takes the
// VIP once the hold has run, and not before.
func TestLoopHandoverHoldRunsOut(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	a.deaf = true
	const hold = 20 * time.Millisecond // a tenth of the interval, at most 20 ms
	b.promote("VI_1", 0)
	if b.state("VI_1") != vrrp.Master || b.vips.holds(vipOf(51)) {
		t.Fatalf("b is %v holding %v, want a master waiting for a release", b.state("VI_1"), b.vips.holds(vipOf(51)))
	}
	cl.advance(hold - time.Millisecond)
	if b.vips.holds(vipOf(51)) {
		t.Fatalf("b took the VIP before the hold of %v ran out", hold)
	}
	cl.advance(time.Millisecond)
	if !b.vips.holds(vipOf(51)) {
		t.Fatalf("b does not hold the VIP once the hold of %v ran out", hold)
	}
}

// TestLoopTimerCoalescing: 100 masters whose advert timers fall within a
// millisecond of each other share one wake-up of the loop per interval
// (instead of 100), and every one still advertises every interval.
func TestLoopTimerCoalescing(t *testing.T) {
	cl := newCluster(t)
	n := cl.addNode("a", "10.0.0.201")
	var conf strings.Builder
	for i := 1; i <= 100; i++ {
		conf.WriteString(vrrpInstance(fmt.Sprintf("VI_%d", i), i, 100, "10.0.0.201"))
	}
	r := n.boot(conf.String())
	// The instances start 10 µs apart (as their trackers report), so
	// their Master_Down timers, which fire on time, are 100 wake-ups.
	for _, in := range r.insts {
		in.since = cl.clock.Now()
		r.feedTrackers(in)
		cl.clock.set(cl.clock.Now().Add(10 * time.Microsecond))
	}
	r.startStateWriter()
	cl.advance(5 * time.Second)
	for _, in := range r.insts {
		if in.m.State() != vrrp.Master {
			t.Fatalf("%s is %v", in.c.Name, in.m.State())
		}
	}
	wake := r.timers.wake.(*fakeTimer)
	woke, sent := wake.fired, len(cl.sent)
	cl.advance(10 * time.Second)
	if w := wake.fired - woke; w > 11 {
		t.Errorf("%d wake-ups for 100 instances over 10 intervals, want about 10", w)
	}
	per := map[uint8]int{}
	for _, s := range cl.sent[sent:] {
		per[s.adv.VRID]++
	}
	for vrid := 1; vrid <= 100; vrid++ {
		if per[uint8(vrid)] < 10 {
			t.Errorf("VRID %d sent %d adverts in 10 intervals", vrid, per[uint8(vrid)])
		}
	}
}

// TestLoopLeaseRenewedWhileAdvertising: a master renews its VIP lease
// every half lease as it advertises, so the VIP never lapses; once it
// stops advertising (frozen) the lease runs out within a lease.
func TestLoopLeaseRenewedWhileAdvertising(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201", "vip_lease 10"))
	cl.advance(5 * time.Second)
	cl.check = func() {
		if a.r != nil && !a.vips.holds(vipOf(51)) {
			t.Fatalf("the master's VIP lapsed at %v", cl.clock.Now())
		}
	}
	refreshed := a.vips.refreshed
	cl.advance(60 * time.Second)
	if n := a.vips.refreshed - refreshed; n < 10 || n > 13 {
		t.Errorf("%d renewals of a 10 s lease in 60 s, want about 12", n)
	}
	cl.check = nil
	a.crash()
	cl.advance(4 * time.Second)
	if !a.vips.holds(vipOf(51)) {
		t.Error("the VIP lapsed before half its lease")
	}
	cl.advance(7 * time.Second)
	if a.vips.holds(vipOf(51)) {
		t.Error("the frozen master's VIP outlived its lease")
	}
}

// TestLoopConflictRecorded: another router advertising our VRID with
// other VIPs is recorded once per source, with what differs and the
// packets counted, and logged once; the status shows it.
func TestLoopConflictRecorded(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	cl.advance(5 * time.Second)
	other := netip.MustParseAddr("10.0.0.9")
	for range 5 {
		a.inject(t, "eth0", other, foreignAdvert(t, 51, 50, "10.0.9.9"))
		cl.advance(time.Second)
	}
	st := a.in("VI_1").status(cl.clock.Now())
	if len(st.Conflicts) != 1 || st.Conflicts[0].Source != "10.0.0.9" || st.Conflicts[0].Packets != 5 ||
		!slices.Equal(st.Conflicts[0].Differences, []string{"vips"}) || st.ConflictCounts["vips"] != 5 {
		t.Errorf("conflicts %+v, counts %v; want 10.0.0.9 differing in vips, 5 packets", st.Conflicts, st.ConflictCounts)
	}
	if n := strings.Count(a.logs.String(), "VRID conflict"); n != 1 {
		t.Errorf("%d conflict lines for one source, want 1", n)
	}
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master})
}

// TestLoopConflictTableBounded: a flood of adverts from new sources keeps
// conflictCap of them, logs a burst and, on the clock, one summary of the
// rest.
func TestLoopConflictTableBounded(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	cl.advance(5 * time.Second)
	const n = 1000
	for i := range n {
		a.inject(t, "eth0", srcN(i), foreignAdvert(t, 51, 50, "10.0.9.9"))
		if i%100 == 99 {
			cl.settle()
		}
	}
	cl.settle()
	ct := a.in("VI_1").conflicts
	if len(ct.bySrc) != conflictCap || ct.evicted != n-conflictCap {
		t.Errorf("%d sources tracked, %d evicted; want %d and %d", len(ct.bySrc), ct.evicted, conflictCap, n-conflictCap)
	}
	if lines := strings.Count(a.logs.String(), "VRID conflict: another router"); lines != conflictLogBurst {
		t.Errorf("%d conflict lines, want the burst of %d", lines, conflictLogBurst)
	}
	cl.advance(conflictSummaryEvery - time.Millisecond)
	if strings.Contains(a.logs.String(), "lines suppressed") {
		t.Error("the summary came early")
	}
	cl.advance(time.Millisecond)
	if !strings.Contains(a.logs.String(), "suppressed="+strconv.Itoa(n-conflictLogBurst)) {
		t.Errorf("no summary of the %d suppressed lines after %v", n-conflictLogBurst, conflictSummaryEvery)
	}
}

// foreignAdvert is a VRRPv2 advert of vrid at prio carrying vip, without
// authentication, as another router would send.
func foreignAdvert(t *testing.T, vrid, prio uint8, vip string) vrrp.Advertisement {
	t.Helper()
	a := vrrp.Advertisement{Version: vrrp.Version2, VRID: vrid, Priority: prio, Interval: time.Second}
	if err := a.SetAddrs(netip.MustParseAddr(vip)); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLoopUnicastPeers: unicast instances send to their peers alone and
// elect as multicast ones do; an advert from a source that is no peer is
// dropped before it reaches the machine.
func TestLoopUnicastPeers(t *testing.T) {
	cl, a, b := pair(t)
	uni := func(prio int, src, peer string) string {
		return strings.Replace(vrrpInstance("VI_1", 51, prio, src, "unicast_peer {\n        "+peer+"\n    }"),
			"mcast_src_ip", "unicast_src_ip", 1)
	}
	a.start(uni(200, "10.0.0.201", "10.0.0.202"))
	b.start(uni(100, "10.0.0.202", "10.0.0.201"))
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	for _, s := range cl.sent {
		if s.dst.IsMulticast() {
			t.Fatalf("a unicast instance sent to %v", s.dst)
		}
	}
	b.inject(t, "eth0", netip.MustParseAddr("10.0.0.9"), foreignAdvert(t, 51, 250, vipOf(51)[:len(vipOf(51))-3]))
	cl.settle()
	if b.r.drops["unknown_peer"] != 1 || b.state("VI_1") != vrrp.Backup {
		t.Errorf("an advert from an unlisted source: drops %v, b %v", b.r.drops, b.state("VI_1"))
	}
}

// TestLoopAdvertPathAllocations: the interfaces of the loop (clock, VIP
// table, socket) cost no allocation: a master's advert and lease renewal
// allocate nothing, and neither does a backup hearing its master (every
// interval, every instance), conflict check (watch.Compare) included.
func TestLoopAdvertPathAllocations(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(5 * time.Second)
	adv := foreignAdvert(t, 51, 200, "10.0.0.52")
	pay, err := adv.Marshal(a.addr, vrrpsock.Group4)
	if err != nil {
		t.Fatal(err)
	}
	s := b.conns[sockKey{ifname: "eth0", family: 4}].s
	p := vrrpsock.Packet{Payload: pay, Src: a.addr, Dst: vrrpsock.Group4, TTL: 255}
	if n := testing.AllocsPerRun(100, func() { b.r.receive(s, p) }); n > 0 {
		t.Errorf("receive allocates %v times per advert, want none", n)
	}
	if b.state("VI_1") != vrrp.Backup || b.in("VI_1").counters.AdvertsReceived < 100 {
		t.Errorf("b is %v after %d adverts", b.state("VI_1"), b.in("VI_1").counters.AdvertsReceived)
	}
	in := a.in("VI_1")
	a.mute = true // what a sends is neither delivered nor recorded: only the loop's own work counts
	if n := testing.AllocsPerRun(100, func() {
		if a.r.sendAdvert(in, 200, netip.Addr{}) {
			a.r.renewLeases(in)
		}
	}); n != 0 {
		t.Errorf("an advert sent allocates %v times", n)
	}
}
