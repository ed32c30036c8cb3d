package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/vrrp"
)

// The guard's loop tests: daemons on the fake kernel with a fake etcd on
// the same fake clock (one goroutine, deterministic). The fake keeps
// etcd's rules that matter here: a lease expires a whole TTL after its
// last renewal was received, its keys go with it, a key is created only
// if absent (or taken back by the node named on it), and watchers hear
// every change.

type fakeEtcd struct {
	cl     *cluster
	next   int64
	leases map[int64]*fakeLease
	keys   map[string]fakeKV
	guards []*fakeGuard
	// down: etcd answers nobody.
	down bool
	// log records key changes, in order; freedAt is how many adverts had
	// gone out when a key was last deleted (order checks).
	log     []string
	freedAt map[string]int
	// rev is etcd's revision: one more at every key change.
	rev int64
}

type fakeLease struct {
	node   string
	ttl    time.Duration
	expiry stopper
}

type fakeKV struct {
	holder string
	lease  int64
}

type fakeGuard struct {
	e         *fakeEtcd
	cfg       guard.Config
	emit      func(guard.Event)
	lease     int64
	renewedAt time.Time
	cut       bool
	wasCut    bool
	closed    bool
	revoked   bool
	watched   map[string]bool
	tick      stopper
	stats     guard.Stats
}

func newFakeEtcd(cl *cluster) *fakeEtcd {
	return &fakeEtcd{cl: cl, next: 0x100, rev: 100, leases: map[int64]*fakeLease{}, keys: map[string]fakeKV{}, freedAt: map[string]int{}}
}

// maker is a node's guard maker (runtime.guards.newGuard).
func (e *fakeEtcd) maker(c guard.Config, _ *slog.Logger) (guardClient, error) {
	g := &fakeGuard{e: e, cfg: c, watched: map[string]bool{}}
	e.guards = append(e.guards, g)
	g.tick = e.cl.clock.AfterFunc(0, g.round)
	return g, nil
}

func (g *fakeGuard) setEmit(f func(guard.Event)) { g.emit = f }

func (g *fakeGuard) send(ev guard.Event) {
	if g.emit != nil && !g.closed {
		g.emit(ev)
	}
}

func (g *fakeGuard) reachable() bool { return !g.cut && !g.e.down }

// round is the lease's keep-alive round, every ttl/4.
func (g *fakeGuard) round() {
	if g.closed {
		return
	}
	g.tick = g.e.cl.clock.AfterFunc(g.cfg.TTL/4, g.round)
	now := g.e.cl.clock.Now()
	if !g.reachable() {
		g.wasCut = true
		g.stats.Failures++
		g.stats.LastError = "renew: context deadline exceeded"
		if g.lease != 0 && !now.Before(g.renewedAt.Add(g.cfg.TTL)) {
			id := g.lease
			g.lease = 0
			g.stats.Losses++
			g.send(guard.Event{Kind: guard.LeaseLost, Lease: id, At: now, Why: "not renewed for a whole ttl"})
		}
		return
	}
	g.stats.LastError = ""
	if g.wasCut { // the watches start again with the current holder
		g.wasCut = false
		for k := range g.watched {
			g.send(guard.Event{Kind: guard.HolderChanged, Key: k, Holder: g.e.keys[k].holder, At: now, Revision: g.e.rev})
		}
	}
	if l := g.e.leases[g.lease]; g.lease != 0 && l != nil {
		l.expiry.Stop()
		l.expiry = g.e.cl.clock.AfterFunc(l.ttl, func() { g.e.expire(g.lease) })
		g.renewedAt = now
		g.stats.Renewals++
		g.send(guard.Event{Kind: guard.Renewed, Lease: g.lease, At: now})
		return
	}
	if g.lease != 0 {
		id := g.lease
		g.lease = 0
		g.stats.Losses++
		g.send(guard.Event{Kind: guard.LeaseLost, Lease: id, At: now, Why: "lease not found in etcd"})
	}
	id := g.e.grant(g.cfg.Node, g.cfg.TTL)
	g.lease, g.renewedAt = id, now
	g.stats.Grants++
	g.send(guard.Event{Kind: guard.Renewed, Lease: id, At: now})
}

func (e *fakeEtcd) grant(node string, ttl time.Duration) int64 {
	e.next++
	id := e.next
	l := &fakeLease{node: node, ttl: ttl}
	l.expiry = e.cl.clock.AfterFunc(ttl, func() { e.expire(id) })
	e.leases[id] = l
	return id
}

// expire ends a lease in etcd: its keys go.
func (e *fakeEtcd) expire(id int64) {
	if e.leases[id] == nil {
		return
	}
	e.leases[id].expiry.Stop()
	delete(e.leases, id)
	for k, kv := range e.keys {
		if kv.lease == id {
			e.set(k, "", 0)
		}
	}
}

// set changes a key and tells the watchers that reach etcd.
func (e *fakeEtcd) set(key, holder string, lease int64) {
	e.rev++
	if holder == "" {
		delete(e.keys, key)
		e.freedAt[key] = len(e.cl.sent)
	} else {
		e.keys[key] = fakeKV{holder, lease}
	}
	e.log = append(e.log, fmt.Sprintf("%s %s=%q", e.cl.clock.Now().Format("15:04:05.000000"), key, holder))
	for _, g := range e.guards {
		if g.watched[key] && g.reachable() {
			g.send(guard.Event{Kind: guard.HolderChanged, Key: key, Holder: holder, At: e.cl.clock.Now(), Revision: e.rev})
		}
	}
}

var errFakeCut = errors.New("context deadline exceeded")

func (g *fakeGuard) Acquire(_ context.Context, key string) (guard.Acquisition, error) {
	if !g.reachable() {
		return guard.Acquisition{}, errFakeCut
	}
	if g.lease == 0 || g.e.leases[g.lease] == nil {
		return guard.Acquisition{}, guard.ErrNoLease
	}
	// As daemon/guard: free, or ours under this lease; our name under
	// another lease is not ours.
	kv, ok := g.e.keys[key]
	if ok && kv.holder == "" {
		ok = false
	}
	if !ok || (kv.holder == g.cfg.Node && kv.lease == g.lease) {
		if !ok {
			g.e.set(key, g.cfg.Node, g.lease)
		}
		return guard.Acquisition{Held: true, Lease: g.lease, RenewedAt: g.renewedAt, Holder: g.cfg.Node, Revision: g.e.rev}, nil
	}
	return guard.Acquisition{Holder: kv.holder, SameName: kv.holder == g.cfg.Node, Revision: g.e.rev}, nil
}

func (g *fakeGuard) Release(_ context.Context, key string) error {
	if !g.reachable() {
		return errFakeCut
	}
	if kv := g.e.keys[key]; kv.holder == g.cfg.Node && kv.lease == g.lease && g.lease != 0 {
		g.e.set(key, "", 0)
	}
	return nil
}

func (g *fakeGuard) Holder(_ context.Context, key string) (string, error) {
	if !g.reachable() {
		return "", errFakeCut
	}
	return g.e.keys[key].holder, nil
}

func (g *fakeGuard) Watch(key string) {
	if g.watched[key] {
		return
	}
	g.watched[key] = true
	if g.reachable() {
		g.send(guard.Event{Kind: guard.HolderChanged, Key: key, Holder: g.e.keys[key].holder, At: g.e.cl.clock.Now(), Revision: g.e.rev})
	}
}

func (g *fakeGuard) Events() <-chan guard.Event { return nil }
func (g *fakeGuard) Stats() guard.Stats         { return g.stats }

func (g *fakeGuard) Close(revoke bool) error {
	g.closed = true
	g.tick.Stop()
	if revoke && g.reachable() && g.lease != 0 {
		g.revoked = true
		g.e.expire(g.lease)
	}
	return nil
}

// open counts the guards not closed.
func (e *fakeEtcd) open() int {
	n := 0
	for _, g := range e.guards {
		if !g.closed {
			n++
		}
	}
	return n
}

// guardOf is node's live guard client.
func (e *fakeEtcd) guardOf(node string) *fakeGuard {
	for _, g := range slices.Backward(e.guards) {
		if g.cfg.Node == node && !g.closed {
			return g
		}
	}
	return nil
}

// guarded is a config for node name: an etcd_guard G (ttl 2) and the
// instances, each guarded by G unless it says otherwise.
func guarded(name string, insts ...string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
etcd_guard G {
    endpoints http://192.0.2.1:2379
    ttl 2
}
`, name) + strings.Join(insts, "")
}

// guardPair is two nodes on one segment and a fake etcd, not started.
func guardPair(t *testing.T) (*cluster, *fakeEtcd, *node, *node) {
	cl, a, b := pair(t)
	e := newFakeEtcd(cl)
	cl.etcd = e
	return cl, e, a, b
}

const key51 = "/hactl/ipv4/51"

// startGuarded starts both nodes, a at 200 and b at 100, guarded, and
// lets a become master with the key.
func startGuarded(t *testing.T, cl *cluster, e *fakeEtcd, a, b *node) {
	t.Helper()
	a.start(guarded("a", vrrpInstance("VI_1", 51, 200, "10.0.0.201", "guard G")))
	b.start(guarded("b", vrrpInstance("VI_1", 51, 100, "10.0.0.202", "guard G")))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.vips.holds(vipOf(51)) })
	if h := e.keys[key51].holder; h != "a" {
		t.Fatalf("key held by %q, want a", h)
	}
}

// TestGuardLoopNoVIPBeforeKey: a VRRP master adds its VIP only once it
// holds the key; a node that is VRRP master while another holds the key
// (a VRRP-only partition) is "MASTER (no key)" and holds nothing, and
// takes over once the key is free.
func TestGuardLoopNoVIPBeforeKey(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	// Another node holds the key at first.
	e.set(key51, "x", e.grant("x", time.Hour))
	a.start(guarded("a", vrrpInstance("VI_1", 51, 200, "10.0.0.201", "guard G")))
	cl.advance(5 * time.Second)
	if a.state("VI_1") != vrrp.Master {
		t.Fatalf("a is %v, want MASTER by VRRP", a.state("VI_1"))
	}
	if a.vips.holds(vipOf(51)) {
		t.Fatal("a holds the VIP without the key")
	}
	st := a.in("VI_1").status(cl.clock.Now())
	if st.Guard == nil || !st.Guard.NoKey || st.Guard.Held || st.Guard.Holder != "x" {
		t.Fatalf("status guard %+v, want no key, holder x", st.Guard)
	}
	if a.garp.rounds != 0 {
		t.Error("a announced VIPs it does not hold")
	}
	// The holder lets go: a acquires at once (its watch), not at a tick.
	e.set(key51, "", 0)
	cl.advance(10 * time.Millisecond)
	if !a.vips.holds(vipOf(51)) || e.keys[key51].holder != "a" {
		t.Fatalf("after the key was freed: a holds VIP %v, key %q", a.vips.holds(vipOf(51)), e.keys[key51].holder)
	}
	if a.garp.rounds == 0 {
		t.Error("a did not announce the VIP it took")
	}
	// A VRRP-only partition: b becomes master too, but without the key.
	b.start(guarded("b", vrrpInstance("VI_1", 51, 100, "10.0.0.202", "guard G")))
	a.deaf, b.deaf = true, true
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Master})
	if b.vips.holds(vipOf(51)) || !a.vips.holds(vipOf(51)) {
		t.Fatalf("in the partition: holders %v, want [a]", cl.holders(vipOf(51)))
	}
	if g := b.in("VI_1").status(cl.clock.Now()).Guard; !g.NoKey || g.Holder != "a" {
		t.Errorf("b's guard %+v, want MASTER (no key), holder a", g)
	}
	a.deaf, b.deaf = false, false
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
}

// TestGuardLoopLifetimeBounded: the VIP's kernel lifetime never outlasts
// the key's deadline, and every renewal extends it.
func TestGuardLoopLifetimeBounded(t *testing.T) {
	cl, e, a, b := guardPair(t)
	startGuarded(t, cl, e, a, b)
	ga := e.guardOf("a")
	for range 40 {
		cl.advance(100 * time.Millisecond)
		end := a.vips.addrs[vipKey(a.vipOf(t, 51))]
		if end.IsZero() {
			t.Fatal("a guarded VIP is permanent")
		}
		deadline := leaseDeadline(2*time.Second, ga.renewedAt)
		if !end.Before(deadline) {
			t.Fatalf("VIP lifetime ends %v, after the deadline %v", end, deadline)
		}
		if left := end.Sub(cl.clock.Now()); left <= 0 {
			t.Fatalf("VIP lifetime ran out while the lease was renewed (%v)", left)
		}
	}
	if a.vips.refreshed == 0 {
		t.Error("renewals did not refresh the VIP's lifetime")
	}
}

// TestGuardLoopCutFromEtcd: the master cut from etcd loses its VIP by its
// deadline, resigns with priority 0, and the backup takes the key once
// the old lease has expired in etcd; never two holders.
func TestGuardLoopCutFromEtcd(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	startGuarded(t, cl, e, a, b)
	ga := e.guardOf("a")
	ga.cut = true
	last := ga.renewedAt
	deadline := leaseDeadline(2*time.Second, last)
	sentBefore := len(cl.sent)
	took := cl.advanceUntil(time.Millisecond, 5*time.Second, func() bool { return !a.vips.holds(vipOf(51)) })
	if now := cl.clock.Now(); now.After(deadline) {
		t.Fatalf("a's VIP went %v after the deadline (after %v)", now.Sub(deadline), took)
	}
	// The kernel lifetime may end it earlier; the daemon acts at the
	// deadline.
	cl.advance(deadline.Sub(cl.clock.Now()) + 10*time.Millisecond)
	resigned := false
	for _, s := range cl.sent[sentBefore:] {
		if s.from == "a" && s.adv.Priority == 0 {
			resigned = true
		}
	}
	if !resigned {
		t.Error("a lost the key without a priority-0 advert")
	}
	if a.state("VI_1") != vrrp.Fault {
		t.Errorf("a is %v, want FAULT (no lease)", a.state("VI_1"))
	}
	cl.advanceUntil(10*time.Millisecond, 5*time.Second, func() bool { return b.vips.holds(vipOf(51)) })
	if over := cl.clock.Now().Sub(last); over > 2*time.Second+1500*time.Millisecond {
		t.Errorf("b took over %v after a's last renewal, want within ttl + 1.5 s", over)
	}
	if h := e.keys[key51].holder; h != "b" {
		t.Errorf("key held by %q, want b", h)
	}
	// a reaches etcd again: it leaves FAULT, the key stays b's until
	// VRRP moves mastership back (a preempts: b releases, a acquires).
	ga.cut = false
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	if h := cl.holders(vipOf(51)); len(h) != 1 || h[0] != "a" || e.keys[key51].holder != "a" {
		t.Errorf("after etcd came back: holders %v, key %q; want a", h, e.keys[key51].holder)
	}
}

// TestGuardLoopEtcdDown: etcd gone for every node: nobody holds the VIP,
// and the status says why; it comes back when etcd does.
func TestGuardLoopEtcdDown(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	startGuarded(t, cl, e, a, b)
	e.down = true
	cl.advance(5 * time.Second)
	if h := cl.holders(vipOf(51)); len(h) != 0 {
		t.Fatalf("etcd down: %v hold the VIP", h)
	}
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Fault, b: vrrp.Fault})
	st := a.r.status()
	if len(st.Guards) != 1 || st.Guards[0].LeaseOK || st.Guards[0].RenewalFailures == 0 || st.Guards[0].LastError == "" {
		t.Errorf("guard status %+v, want no lease, failures and the error", st.Guards)
	}
	if !strings.Contains(a.logs.String(), "etcd guard has no lease") {
		t.Error("no loud log line while etcd was down")
	}
	e.down = false
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.vips.holds(vipOf(51)) })
}

// TestGuardLoopStopReleases: a graceful stop removes the VIP and releases
// the key before its priority-0 advert, so the backup acquires at once.
func TestGuardLoopStopReleases(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	startGuarded(t, cl, e, a, b)
	cl.advance(time.Second)
	n := len(cl.sent)
	ga := e.guardOf("a")
	a.stop()
	if _, ok := e.keys[key51]; ok {
		t.Errorf("key still held by %q after a's stop", e.keys[key51].holder)
	}
	if !ga.closed || !ga.revoked {
		t.Error("a's guard not closed with its lease revoked")
	}
	prio0 := -1
	for i, s := range cl.sent[n:] {
		if s.from == "a" && s.adv.Priority == 0 && prio0 < 0 {
			prio0 = n + i
		}
	}
	if prio0 < 0 {
		t.Fatal("no priority-0 advert at a's stop")
	}
	if freed, ok := e.freedAt[key51]; !ok || freed > prio0 {
		t.Errorf("key freed after %d adverts, a's priority 0 was advert %d: want the key freed first", freed, prio0)
	}
	took := cl.advanceUntil(time.Millisecond, 5*time.Second, func() bool { return b.vips.holds(vipOf(51)) })
	if skew := vrrp.SkewTime(vrrp.Version2, 100, time.Second); took > skew+10*time.Millisecond {
		t.Errorf("b held the VIP %v after a's stop, want its Skew_Time %v (no wait for the ttl)", took, skew)
	}
}

// TestGuardLoopFailoverReleases: a promotion of the backup (failover
// --to) makes the master release the key before its release advert; the
// promoted node holds the VIP at once.
func TestGuardLoopFailoverReleases(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	startGuarded(t, cl, e, a, b)
	b.promote("VI_1", 0)
	cl.advance(50 * time.Millisecond)
	if !b.vips.holds(vipOf(51)) || e.keys[key51].holder != "b" {
		t.Fatalf("after the promotion: holders %v, key %q; want b", cl.holders(vipOf(51)), e.keys[key51].holder)
	}
	// And back: the promotion cleared, a preempts.
	if err := b.r.clearPromotion(b.in("VI_1"), false); err != nil {
		t.Fatal(err)
	}
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.vips.holds(vipOf(51)) })
	if e.keys[key51].holder != "a" {
		t.Errorf("key %q, want a", e.keys[key51].holder)
	}
}

// TestGuardLoopKeyTaken: a master whose key is taken (deleted and
// acquired by another node) drops its VIP and resigns with priority 0.
func TestGuardLoopKeyTaken(t *testing.T) {
	cl, e, a, b := guardPair(t)
	startGuarded(t, cl, e, a, b)
	n := len(cl.sent)
	e.set(key51, "x", e.grant("x", time.Hour))
	cl.settle()
	if a.vips.holds(vipOf(51)) {
		t.Fatal("a kept the VIP after its key was taken")
	}
	var prio0 bool
	for _, s := range cl.sent[n:] {
		prio0 = prio0 || s.from == "a" && s.adv.Priority == 0
	}
	if !prio0 {
		t.Error("no priority-0 advert after the key was lost")
	}
	if g := a.in("VI_1").status(cl.clock.Now()).Guard; g.Losses != 1 {
		t.Errorf("losses %d, want 1", g.Losses)
	}
}

// TestGuardLoopSyncGroup: a sync group's members hold their VIPs all or
// none: one member's key held elsewhere keeps both without VIPs.
func TestGuardLoopSyncGroup(t *testing.T) {
	cl, e, a, _ := guardPair(t)
	e.set("/hactl/ipv4/52", "x", e.grant("x", time.Hour))
	conf := guarded("a", `vrrp_sync_group SG {
    group {
        VI_1
        VI_2
    }
    guard G
}
`, vrrpInstance("VI_1", 51, 200, "10.0.0.201"), vrrpInstance("VI_2", 52, 200, "10.0.0.201"))
	a.start(conf)
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master})
	wantStates(t, "VI_2", map[*node]vrrp.State{a: vrrp.Master})
	if a.vips.holds(vipOf(51)) || a.vips.holds(vipOf(52)) {
		t.Fatalf("a holds VIPs %v/%v while VI_2's key is x's", a.vips.holds(vipOf(51)), a.vips.holds(vipOf(52)))
	}
	e.set("/hactl/ipv4/52", "", 0)
	cl.settle()
	if !a.vips.holds(vipOf(51)) || !a.vips.holds(vipOf(52)) {
		t.Fatal("the group's VIPs not all added once both keys were held")
	}
	// One key lost: both go.
	e.set("/hactl/ipv4/52", "x", e.grant("x", time.Hour))
	cl.settle()
	if a.vips.holds(vipOf(51)) || a.vips.holds(vipOf(52)) {
		t.Fatal("one key lost, the group kept VIPs")
	}
}

// TestGuardLoopReloads: reloads that add, change and remove guards leave
// exactly one client per guard in use, close the others with a revoke,
// and keep an unchanged guard (and its key) running.
func TestGuardLoopReloads(t *testing.T) {
	cl, e, a, b := guardPair(t)
	startGuarded(t, cl, e, a, b)
	ga := e.guardOf("a")
	plain := vrrpInstance("VI_1", 51, 200, "10.0.0.201", "guard G")
	for i := range 20 {
		switch i % 4 {
		case 0: // unchanged
			a.reload(guarded("a", plain))
		case 1: // a second guard for a second instance
			a.reload(guarded("a", plain, "etcd_guard H {\n endpoints http://192.0.2.2:2379\n}\n",
				vrrpInstance("VI_2", 52, 200, "10.0.0.201", "guard H")))
		case 2: // H changed
			a.reload(guarded("a", plain, "etcd_guard H {\n endpoints http://192.0.2.3:2379\n}\n",
				vrrpInstance("VI_2", 52, 200, "10.0.0.201", "guard H")))
		case 3: // H removed
			a.reload(guarded("a", plain))
		}
		cl.advance(500 * time.Millisecond)
	}
	if e.guardOf("a") != ga && !ga.closed {
		t.Error("the unchanged guard was replaced")
	}
	if ga.closed {
		t.Fatal("the unchanged guard G was closed by a reload")
	}
	open := 0
	for _, g := range e.guards {
		if g.cfg.Node == "a" && !g.closed {
			open++
		}
		if g.cfg.Node == "a" && g.closed && !g.revoked {
			t.Errorf("guard %s closed without a revoke", g.cfg.Name)
		}
	}
	if open != 1 || len(a.r.guards.runs) != 1 {
		t.Errorf("%d guards open (%d runs), want 1", open, len(a.r.guards.runs))
	}
	leases := 0
	for _, l := range e.leases {
		if l.node == "a" {
			leases++
		}
	}
	if leases != 1 {
		t.Errorf("%d leases of a in etcd, want 1", leases)
	}
	if !a.vips.holds(vipOf(51)) || e.keys[key51].holder != "a" {
		t.Error("VI_1 lost its VIP or key across reloads of other guards")
	}
}

// TestGuardLoopReloadGuardOnOff: a reload that guards a running master
// makes its VIPs wait for the key (taken at once here); one that replaces
// its guard keeps it master and takes the new key; one that removes the
// guard leaves it holding its VIPs as VRRP says.
func TestGuardLoopReloadGuardOnOff(t *testing.T) {
	cl, e, a, _ := guardPair(t)
	plain := vrrpInstance("VI_1", 51, 200, "10.0.0.201")
	a.start(guarded("a", plain))
	cl.advance(5 * time.Second)
	if !a.vips.holds(vipOf(51)) || a.in("VI_1").gd != nil {
		t.Fatal("unguarded a does not hold its VIP")
	}
	a.reload(guarded("a", vrrpInstance("VI_1", 51, 200, "10.0.0.201", "guard G")))
	cl.advance(time.Second)
	if !a.vips.holds(vipOf(51)) || e.keys[key51].holder != "a" {
		t.Fatalf("guarded by a reload: VIP %v, key %q", a.vips.holds(vipOf(51)), e.keys[key51].holder)
	}
	// G's endpoints change: a new client, the old one revoked, the new key.
	a.reload(strings.Replace(guarded("a", vrrpInstance("VI_1", 51, 200, "10.0.0.201", "guard G")), "192.0.2.1", "192.0.2.9", 1))
	cl.advance(time.Second)
	if !a.vips.holds(vipOf(51)) || e.keys[key51].holder != "a" || a.state("VI_1") != vrrp.Master {
		t.Fatalf("guard replaced: VIP %v, key %q, %v", a.vips.holds(vipOf(51)), e.keys[key51].holder, a.state("VI_1"))
	}
	a.reload(guarded("a", plain))
	cl.advance(time.Second)
	if !a.vips.holds(vipOf(51)) || a.in("VI_1").gd != nil || e.open() != 0 {
		t.Fatalf("guard removed: VIP %v, guards open %d", a.vips.holds(vipOf(51)), e.open())
	}
	if _, ok := e.keys[key51]; ok {
		t.Error("the removed guard's key is still in etcd")
	}
}

// TestGuardLoopDeadlineRemoval: the daemon removes a guarded VIP itself at
// the key's deadline, whatever the kernel's lifetime (here one that never
// ends: a lifetime of whole seconds can outlast the deadline by a
// fraction of a second).
func TestGuardLoopDeadlineRemoval(t *testing.T) {
	cl, e, a, b := guardPair(t)
	startGuarded(t, cl, e, a, b)
	ga := e.guardOf("a")
	ga.cut = true
	deadline := leaseDeadline(2*time.Second, ga.renewedAt)
	k := vipKey(a.vipOf(t, 51))
	// Past the last refresh before the deadline (LastRefreshAt), which
	// would set a lifetime again.
	cl.advance(guard.LastRefreshAt(deadline).Sub(cl.clock.Now()) + time.Millisecond)
	if !a.vips.holds(vipOf(51)) {
		t.Fatal("the VIP went before its last refresh")
	}
	a.vips.addrs[k] = time.Time{} // the kernel would keep it
	cl.advance(deadline.Sub(cl.clock.Now()) - time.Millisecond)
	if !a.vips.holds(vipOf(51)) {
		t.Fatal("the VIP went before the deadline, with the key still valid")
	}
	cl.advance(2 * time.Millisecond)
	if a.vips.holds(vipOf(51)) {
		t.Fatalf("the VIP is still on 1 ms after the deadline %v", deadline.Format("15:04:05.000"))
	}
}

// TestGuardLoopRidesOutBriefCut: the master cut from etcd for less than
// its deadline keeps its VIP the whole time: a last refresh just before
// the deadline's final second keeps the kernel lifetime until shortly
// before the deadline (not a second after the last renewal), and the
// renewal after the heal extends it again. Never two holders.
func TestGuardLoopRidesOutBriefCut(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	startGuarded(t, cl, e, a, b)
	ga := e.guardOf("a")
	cl.advance(10 * time.Millisecond)
	ga.cut = true
	last := ga.renewedAt
	deadline := leaseDeadline(2*time.Second, last)
	keep := deadline.Add(-guard.KernelLag - guard.RefreshSlack)
	for i := 0; i < 400 && cl.clock.Now().Before(keep); i++ {
		if !a.vips.holds(vipOf(51)) {
			t.Fatalf("a's VIP went %v after its last renewal, before %v (deadline %v after)", cl.clock.Now().Sub(last), keep.Sub(last), deadline.Sub(last))
		}
		if end := a.vips.addrs[vipKey(a.vipOf(t, 51))]; !end.Before(deadline) {
			t.Fatalf("VIP lifetime ends %v, after the deadline %v", end, deadline)
		}
		cl.advance(5 * time.Millisecond)
	}
	// Healed before the deadline: the next renewal keeps a the owner.
	ga.cut = false
	cl.advance(3 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	if h := cl.holders(vipOf(51)); len(h) != 1 || h[0] != "a" {
		t.Errorf("after the heal: holders %v, want [a]", h)
	}
}

// TestGuardLoopStaleHolderReport: a holder report from before the
// master's acquisition (a watch started again after an etcd fault, whose
// read was answered before the acquisition and delivered after it) does
// not take the key from the master: etcd's revisions order them. The
// guarded chaos runs saw such reports remove the VIP for a few ms after a
// heal. A newer report of the key's deletion still does.
func TestGuardLoopStaleHolderReport(t *testing.T) {
	cl, e, a, b := guardPair(t)
	cl.neverTwoHolders(vipOf(51))
	startGuarded(t, cl, e, a, b)
	ga := e.guardOf("a")
	removed := a.vips.removed
	ga.send(guard.Event{Kind: guard.HolderChanged, Key: key51, Holder: "", At: cl.clock.Now(), Revision: e.rev - 1})
	cl.advance(10 * time.Millisecond)
	if !a.vips.holds(vipOf(51)) || a.vips.removed != removed || a.state("VI_1") != vrrp.Master {
		t.Fatalf("a stale report of nobody: a holds the VIP %v (removed %d times more), state %v; want the VIP kept, MASTER",
			a.vips.holds(vipOf(51)), a.vips.removed-removed, a.state("VI_1"))
	}
	e.set(key51, "", 0) // deleted for real (by hand, say): a newer revision
	cl.advance(10 * time.Millisecond)
	if a.vips.removed == removed {
		t.Error("the key's deletion, newer than the acquisition, did not remove the VIP")
	}
}
