package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// The etcd guard in the loop (issue 19, docs/guard.md). VRRP still elects:
// the state machine (pkg/vrrp) runs as without a guard, and this layer
// decides whether a guarded master may hold its VIPs:
//
//   - the machine's AddVIPs only says the instance wants them (want); the
//     VIPs go on once the instance holds its key, with a kernel lifetime
//     bounded by the key's deadline (guard.Lifetime), refreshed at every
//     renewal, and come off at the deadline at the latest (a timer);
//   - a master without the key asks etcd for it (Acquire, off the loop)
//     when it becomes master, when the key is freed or the lease granted
//     again, and every ttl/4 ("MASTER (no key)");
//   - no lease (etcd unreachable) or a key lost while master is a fault,
//     as a tracker's: the machine sends priority 0 and leaves MASTER, so
//     a peer that reaches etcd takes over; it clears once etcd answers;
//   - leaving MASTER removes the VIPs and then releases the key before the
//     machine's priority-0 or release advert goes out, so the next master
//     acquires at once;
//   - sync groups share the decision: every guarded member holds its key
//     or none has its VIPs.
//
// etcd's calls never run on the loop: the guard's own goroutines (lease,
// watches) post events, and Acquire, Release and Holder run in a goroutine
// each (r.async) and post their result. Only a release when leaving
// MASTER waits for its answer, at most releaseWait, so that the advert
// after it finds the key free.

// guardClient is what the loop uses of an etcd guard: *guard.Guard; the
// loop tests run a fake one on the fake clock.
type guardClient interface {
	Acquire(ctx context.Context, key string) (guard.Acquisition, error)
	Release(ctx context.Context, key string) error
	Holder(ctx context.Context, key string) (string, error)
	Watch(key string)
	// Events are the guard's reports (nil: the fake posts them itself).
	Events() <-chan guard.Event
	Stats() guard.Stats
	Close(revoke bool) error
}

// eventSink is a guard client that posts its events itself rather than on
// Events (the loop tests' fake, which runs on the fake clock).
type eventSink interface{ setEmit(func(guard.Event)) }

// releaseWait bounds how long leaving MASTER waits for the key's release
// before the advert goes out anyway (the release then completes off the
// loop, and the next master acquires on its watch event).
const releaseWait = 100 * time.Millisecond

// guardLogEvery spaces the loud "etcd unreachable" log lines of a guard.
const guardLogEvery = 10 * time.Second

// guardRun is one running etcd_guard: its client, its lease as the loop
// has seen it renewed, and its periodic tick.
type guardRun struct {
	cfg  *config.EtcdGuard
	node string
	cli  guardClient
	err  error // the client could not be made: no lease ever
	ttl  time.Duration
	// lease and renewedAt: the current lease and the send time of its
	// last answered renewal (guard.Renewed events).
	lease     int64
	renewedAt time.Time
	// started: the first renewal or tick came; before, its instances
	// wait in INIT (as for pending scripts) rather than fault.
	started bool
	closed  bool
	tick    stopper
	stop    chan struct{} // ends the event forwarder
	// down is when the lease was last seen not OK (zero: OK); loudAt is
	// when that was last logged.
	down, loudAt time.Time
}

// guardInst is what a guarded instance keeps of its key.
type guardInst struct {
	run *guardRun
	key string
	st  *guard.State
	// want: the machine wants the VIPs on (AddVIPs, and no RemoveVIPs
	// since); accept is its AddVIPs' Accept, for the firewall.
	want, accept bool
	// In flight off the loop; lastTry is when Acquire was last asked.
	acquiring, releasing, probing bool
	lastTry                       time.Time
	// owned: the VIPs were allowed at the last gate (master with the key).
	owned bool
	// lossFault: the key was lost while master: a fault until a holder
	// report (heard) arrives from etcd after the loss with a lease.
	lossFault, heard bool
	// fault is the guard fault last given to feedTrackers.
	fault bool
	// recheck is the timer of the next deadline.
	recheck   stopper
	recheckAt time.Time
	// removedEarly: step removed the VIPs before the machine's actions
	// (to release the key before its advert).
	removedEarly       bool
	acquisitions, lost uint64
	// sameNameSaid: the warning about our name under another lease was
	// logged (once until another holder is seen).
	sameNameSaid bool
	// toppedFor is the deadline whose last whole-second refresh
	// (guard.LastRefreshAt) was done.
	toppedFor time.Time
}

// guardNode is this node's name on the guard's keys: global_defs'
// router_id, else the host name. Every node of a virtual router must have
// its own.
func guardNode(cfg *config.Config) string {
	if id := cfg.Global.RouterID; id != "" {
		return id
	}
	return hostname()
}

// guardKey is the key of a guarded instance: the guard's prefix, the
// family and the VRID, the same on every node of the virtual router.
func guardKey(g *config.EtcdGuard, in *config.Instance) string {
	fam := "ipv4"
	if in.Family == config.FamilyIPv6 {
		fam = "ipv6"
	}
	return guard.Key(g.KeyPrefix, fam, in.VRID)
}

// guardConfig turns an etcd_guard block into the guard's Config, reading
// its TLS files for https endpoints.
func guardConfig(g *config.EtcdGuard, node string) (guard.Config, error) {
	c := guard.Config{Name: g.Name, Node: node, Endpoints: g.Endpoints, TTL: g.TTL,
		Username: g.Username, Password: g.Password}
	if len(g.Endpoints) > 0 && strings.HasPrefix(g.Endpoints[0], "https://") {
		t, err := guard.TLSConfig(g.CAFile, g.CertFile, g.KeyFile)
		if err != nil {
			return guard.Config{}, fmt.Errorf("etcd_guard %s (%s): %w", g.Name, g.Pos, err)
		}
		c.TLS = t
	}
	return c, nil
}

// newEtcdGuard is the daemon's guard maker: the etcd client of
// daemon/guard.
func newEtcdGuard(c guard.Config, log *slog.Logger) (guardClient, error) {
	g, err := guard.New(c, log)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// sameGuard: a reload keeps a running guard whose block did not change.
func sameGuard(a, b *config.EtcdGuard) bool {
	x, y := *a, *b
	x.Pos, y.Pos, x.PasswordPos, y.PasswordPos, x.TLSPos, y.TLSPos = config.Pos{}, config.Pos{}, config.Pos{}, config.Pos{}, config.Pos{}, config.Pos{}
	return reflect.DeepEqual(x, y)
}

// guardState tracks the guards' goroutines closing off the loop.
type guardState struct {
	runs    map[string]*guardRun
	closing sync.WaitGroup
	// newGuard makes a guard's client (newEtcdGuard; a fake in the loop
	// tests); async runs an etcd call off the loop (a goroutine; inline in
	// the loop tests, whose fake answers at once).
	newGuard func(guard.Config, *slog.Logger) (guardClient, error)
	async    func(func())
}

func (r *runtime) goAsync(f func()) {
	if r.guards.async != nil {
		r.guards.async(f)
		return
	}
	go f()
}

// reconcileGuards runs one guard per etcd_guard some instance of cfg uses,
// and binds every guarded instance to its key: at start, and at every
// reload (a guard whose block changed is replaced, one no longer used is
// closed with its lease revoked).
func (r *runtime) reconcileGuards(cfg *config.Config) {
	node := guardNode(cfg)
	used := map[string]*config.EtcdGuard{}
	for _, in := range r.insts {
		if in.c.Guard != "" {
			if g := cfg.GuardOf(in.c.Guard); g != nil {
				used[in.c.Guard] = g
			}
		}
	}
	if r.guards.runs == nil {
		r.guards.runs = map[string]*guardRun{}
	}
	// A master bound again to a new guard (or key) keeps wanting its
	// VIPs: they come back once it holds the new key.
	wants := map[*instance]guardWant{}
	for name, run := range r.guards.runs {
		if g := used[name]; g == nil || !sameGuard(run.cfg, g) || run.node != node {
			for _, in := range r.insts {
				if in.gd != nil && in.gd.run == run {
					wants[in] = guardWant{in.gd.want, in.gd.accept}
					r.detachGuard(in)
				}
			}
			r.closeGuard(run, true)
			delete(r.guards.runs, name)
		}
	}
	for name, g := range used {
		if r.guards.runs[name] == nil {
			r.guards.runs[name] = r.openGuard(g, node)
		}
	}
	for _, in := range r.insts {
		var run *guardRun
		if in.c.Guard != "" {
			run = r.guards.runs[in.c.Guard]
		}
		if in.gd != nil && (run == nil || in.gd.run != run || in.gd.key != guardKey(run.cfg, in.c)) {
			wants[in] = guardWant{in.gd.want, in.gd.accept}
			r.detachGuard(in)
		}
		w, rebound := wants[in]
		switch {
		case in.gd == nil && run != nil:
			if !rebound && in.m.State() == vrrp.Master && in.holding {
				// Guarded by this reload: its VIPs wait for the key too.
				w = guardWant{want: true, accept: in.m.Config().Accept || in.m.Config().Priority == vrrp.PriorityOwner}
			}
			r.attachGuard(in, run, w)
		case in.gd == nil && rebound && w.want:
			// No longer guarded: the master holds its VIPs as VRRP says.
			r.firewallAdd(in, w.accept)
			r.addVIPs(in, in.lease)
			r.announce(in)
		}
	}
}

// openGuard starts a guard's client, its event forwarder and its tick.
func (r *runtime) openGuard(g *config.EtcdGuard, node string) *guardRun {
	run := &guardRun{cfg: g, node: node, ttl: g.TTL, stop: make(chan struct{})}
	mk := r.guards.newGuard
	if mk == nil {
		mk = newEtcdGuard
	}
	gc, err := guardConfig(g, node)
	if err == nil {
		gc.Now = r.clock.Now
		run.cli, err = mk(gc, r.log)
	}
	if err != nil {
		run.err, run.started = err, true
		r.log.Error("etcd guard not started: its instances hold no VIP", "guard", g.Name, "err", err)
	} else {
		r.log.Info("etcd guard started", "guard", g.Name, "endpoints", strings.Join(g.Endpoints, " "), "ttl", g.TTL, "node", node)
		if s, ok := run.cli.(eventSink); ok {
			s.setEmit(func(ev guard.Event) { r.post(func(r *runtime) { r.guardEvent(run, ev) }) })
		} else if evs := run.cli.Events(); evs != nil {
			go r.forwardGuard(run, evs)
		}
	}
	r.armGuardTick(run)
	return run
}

// forwardGuard posts a guard's events to the loop until it is closed.
func (r *runtime) forwardGuard(run *guardRun, evs <-chan guard.Event) {
	for {
		select {
		case ev := <-evs:
			if !r.post(func(r *runtime) { r.guardEvent(run, ev) }) {
				return
			}
		case <-run.stop:
			return
		case <-r.done:
			return
		}
	}
}

func (r *runtime) armGuardTick(run *guardRun) {
	run.tick = r.clock.AfterFunc(max(run.ttl/4, 10*time.Millisecond), func() {
		r.post(func(r *runtime) { r.guardTick(run) })
	})
}

// closeGuard stops a guard off the loop (Close waits for its calls);
// revoke deletes its keys at once.
func (r *runtime) closeGuard(run *guardRun, revoke bool) {
	if run.closed {
		return
	}
	run.closed = true
	if run.tick != nil {
		run.tick.Stop()
	}
	close(run.stop)
	if run.cli == nil {
		return
	}
	r.guards.closing.Add(1)
	r.goAsync(func() {
		defer r.guards.closing.Done()
		if err := run.cli.Close(revoke); err != nil {
			r.log.Warn("etcd guard close", "guard", run.cfg.Name, "err", err)
		}
	})
}

// closeGuards closes every guard and waits for them: a graceful stop.
func (r *runtime) closeGuards() {
	for name, run := range r.guards.runs {
		r.closeGuard(run, true)
		delete(r.guards.runs, name)
	}
	r.guards.closing.Wait()
}

// guardWant is what a guarded instance's machine asked of its VIPs.
type guardWant struct{ want, accept bool }

// attachGuard binds in to its key under run; w carries what the machine
// wants over from an earlier binding (a reload that replaced the guard).
func (r *runtime) attachGuard(in *instance, run *guardRun, w guardWant) {
	gi := &guardInst{run: run, key: guardKey(run.cfg, in.c), st: guard.NewState(run.node, run.ttl), want: w.want, accept: w.accept}
	in.gd = gi
	if run.cli != nil {
		run.cli.Watch(gi.key)
	}
	if in.started {
		r.gateGroup(in)
	}
}

// detachGuard unbinds in from its guard: its VIPs go (they were held on
// that key), the deadline timer stops.
func (r *runtime) detachGuard(in *instance) {
	gi := in.gd
	if gi == nil {
		return
	}
	if gi.recheck != nil {
		gi.recheck.Stop()
	}
	if in.holding {
		r.removeVIPs(in)
	}
	in.gd = nil
	if gi.fault && in.started {
		r.feedTrackers(in)
	}
}

// guardEvent is one report of a guard, on the loop.
func (r *runtime) guardEvent(run *guardRun, ev guard.Event) {
	if run.closed {
		return
	}
	switch ev.Kind {
	case guard.Renewed:
		regained := run.lease != ev.Lease
		if ev.At.After(run.renewedAt) || regained {
			run.lease, run.renewedAt = ev.Lease, ev.At
		}
		r.guardStarted(run)
		for _, in := range r.guardedBy(run) {
			in.gd.st.Renewed(ev.Lease, ev.At)
			if regained {
				in.gd.lastTry = time.Time{} // ask at once
			}
			if in.holding {
				r.refreshGuardedVIPs(in)
			}
		}
	case guard.LeaseLost:
		if run.lease == ev.Lease {
			run.lease = 0
		}
		for _, in := range r.guardedBy(run) {
			in.gd.st.LeaseLost(ev.Lease, ev.Why)
		}
	case guard.HolderChanged:
		for _, in := range r.guardedBy(run) {
			if in.gd.key != ev.Key {
				continue
			}
			if !in.gd.st.HolderAt(ev.Holder, ev.Revision) {
				continue // from before our acquisition: stale
			}
			in.gd.heard = true
			if ev.Holder == "" {
				in.gd.lastTry = time.Time{} // freed: ask at once
			}
		}
	}
	r.gateGuard(run)
}

// guardStarted ends a guard's wait at start: its instances start.
func (r *runtime) guardStarted(run *guardRun) {
	if run.started {
		return
	}
	run.started = true
	for _, in := range r.guardedBy(run) {
		if !in.started {
			r.feedTrackers(in)
			r.gate(in)
		}
	}
}

// guardTick is a guard's period (ttl/4): start waiting instances, retry
// acquisitions, notice a lease that has run out, say etcd is unreachable.
func (r *runtime) guardTick(run *guardRun) {
	if run.closed {
		return
	}
	r.armGuardTick(run)
	r.guardStarted(run)
	now := r.clock.Now()
	if r.leaseOK(run, now) {
		if !run.down.IsZero() {
			r.log.Info("etcd guard reaches etcd again", "guard", run.cfg.Name, "down_for", now.Sub(run.down))
		}
		run.down, run.loudAt = time.Time{}, time.Time{}
	} else {
		if run.down.IsZero() {
			run.down = now
		}
		if run.loudAt.IsZero() || now.Sub(run.loudAt) >= guardLogEvery {
			run.loudAt = now
			why := ""
			if run.err != nil {
				why = run.err.Error()
			} else if run.cli != nil {
				why = run.cli.Stats().LastError
			}
			r.log.Error("etcd guard has no lease: its instances are in FAULT and hold no VIP; if etcd is unreachable from every node, no node holds them",
				"guard", run.cfg.Name, "endpoints", strings.Join(run.cfg.Endpoints, " "), "since", run.down.Format(time.RFC3339), "last_error", why)
		}
	}
	r.gateGuard(run)
}

// guardedBy are the instances bound to run.
func (r *runtime) guardedBy(run *guardRun) []*instance {
	var out []*instance
	for _, in := range r.insts {
		if in.gd != nil && in.gd.run == run {
			out = append(out, in)
		}
	}
	return out
}

// gateGuard re-decides every instance of run.
func (r *runtime) gateGuard(run *guardRun) {
	for _, in := range r.guardedBy(run) {
		if in.gd != nil && in.gd.run == run {
			r.gate(in)
		}
	}
}

// leaseDeadline is the last instant a lease renewed at renewedAt may hold
// keys (guard.State.Deadline's rule).
func leaseDeadline(ttl time.Duration, renewedAt time.Time) time.Time {
	return renewedAt.Add(ttl - time.Duration(float64(ttl)*guard.DefaultRate) - guard.DefaultMargin)
}

// leaseOK: run has a lease whose deadline has not passed.
func (r *runtime) leaseOK(run *guardRun, now time.Time) bool { return leaseOK(run, now) }

func leaseOK(run *guardRun, now time.Time) bool {
	return run.lease != 0 && now.Before(leaseDeadline(run.ttl, run.renewedAt))
}

// guardPending: in waits for its guard's first renewal (or tick).
func guardPending(in *instance) bool { return in.gd != nil && !in.gd.run.started }

// guardFault is the fault the guard puts on in (feedTrackers adds it to
// the trackers'): no lease, or a key lost while master.
func (r *runtime) guardFault(in *instance) bool {
	gi := in.gd
	return gi != nil && gi.run.started && (!r.leaseOK(gi.run, r.clock.Now()) || gi.lossFault)
}

// guardTracker is the guard shown among in's trackers.
func guardTracker(in *instance) (api.Tracker, bool) {
	if in.gd == nil {
		return api.Tracker{}, false
	}
	return api.Tracker{Name: in.gd.run.cfg.Name, Kind: "guard", OK: !in.gd.fault}, true
}

// guardGroup is in and the guarded members of its sync group.
func (r *runtime) guardGroup(in *instance) []*instance {
	out := []*instance{in}
	for _, o := range r.members(in) {
		if o.gd != nil {
			out = append(out, o)
		}
	}
	return out
}

// gateGroup gates in and the guarded members of its sync group.
func (r *runtime) gateGroup(in *instance) {
	for _, o := range r.guardGroup(in) {
		r.gate(o)
	}
}

// groupDecision is whether in's group may hold its VIPs now, and until
// when: every guarded member wants them and owns its key.
func (r *runtime) groupDecision(in *instance, now time.Time) (bool, time.Time) {
	var until time.Time
	for _, o := range r.guardGroup(in) {
		if !o.gd.want {
			return false, time.Time{}
		}
		d := o.gd.st.Decide(now)
		if !d.Own {
			return false, time.Time{}
		}
		if until.IsZero() || d.Until.Before(until) {
			until = d.Until
		}
	}
	return true, until
}

// gate decides what a guarded instance does now (guard.Gate's rule, with
// the group's decision for the VIPs): add or remove its VIPs, ask for or
// release its key, fault, and when to decide again.
func (r *runtime) gate(in *instance) {
	gi := in.gd
	if gi == nil || r.byName[in.c.Name] != in {
		return
	}
	now := r.clock.Now()
	lok := r.leaseOK(gi.run, now)
	own := gi.st.Decide(now)
	// A key lost while master (deadline passed, lease lost, key taken) is
	// a fault: the VIPs go and the machine resigns with priority 0.
	if gi.owned && gi.want && !own.Own {
		gi.lossFault, gi.heard = true, false
		gi.lost++
		r.log.Warn("guard key lost while master: VIPs removed, giving up mastership", "instance", in.c.Name, "guard", gi.run.cfg.Name,
			"key", gi.key, "why", own.Why)
	}
	gi.owned = gi.want && own.Own
	if gi.lossFault && lok && gi.heard {
		gi.lossFault = false
		r.log.Info("guard: etcd answers again; the instance may become master again", "instance", in.c.Name, "guard", gi.run.cfg.Name, "holder", own.Holder)
	}
	if gi.lossFault && lok && !gi.heard && !gi.probing && gi.run.cli != nil {
		r.probeHolder(in, gi)
	}
	g := guard.Gate(guard.GateInput{Now: now, Master: gi.want, VIPsHeld: in.holding, LeaseOK: lok, Decision: own, Lease: time.Duration(in.lease)})
	allowed, until := r.groupDecision(in, now)
	switch {
	case allowed && !in.holding:
		if lt := guard.Lifetime(time.Duration(in.lease), now, until); lt > 0 {
			if !now.Before(guard.LastRefreshAt(until)) {
				gi.toppedFor = until // the add gives the last second itself
			}
			r.firewallAdd(in, gi.accept)
			r.addVIPs(in, vip.Lifetime(lt))
			r.announce(in)
			r.writeState()
		}
	case !allowed && in.holding:
		r.removeVIPs(in)
		r.writeState()
	}
	// Held VIPs get one more refresh just before the deadline's last whole
	// second, so that the kernel keeps them until shortly before the
	// deadline rather than a second after the last renewal: a renewal or
	// two lost to a brief etcd fault then costs no outage.
	topAt := time.Time{}
	if allowed && in.holding && !gi.toppedFor.Equal(until) {
		if at := guard.LastRefreshAt(until); now.Before(at) {
			topAt = at
		} else {
			gi.toppedFor = until
			r.refreshGuardedVIPs(in) // a second at most; none if too late
		}
	}
	if g.Acquire && !gi.acquiring && !gi.releasing && (gi.lastTry.IsZero() || now.Sub(gi.lastTry) >= gi.run.ttl/4) {
		r.acquireKey(in, gi)
	}
	if !gi.want && gi.st.Held() && !gi.releasing {
		r.releaseKey(in, false)
	}
	if fault := r.guardFault(in); fault != gi.fault && in.started {
		r.feedTrackers(in) // sets gi.fault
	}
	// Decide again at the deadline: the key's, or the lease's (a backup
	// whose lease runs out faults).
	next := own.Until
	if !own.Own && lok {
		next = leaseDeadline(gi.run.ttl, gi.run.renewedAt)
	}
	if allowed && until.Before(next) {
		next = until
	}
	if !topAt.IsZero() && (next.IsZero() || topAt.Before(next)) {
		next = topAt
	}
	r.armRecheck(in, gi, next)
}

// armRecheck sets in's deadline timer to at (zero: none).
func (r *runtime) armRecheck(in *instance, gi *guardInst, at time.Time) {
	if at.Equal(gi.recheckAt) && gi.recheck != nil {
		return
	}
	if gi.recheck != nil {
		gi.recheck.Stop()
		gi.recheck = nil
	}
	gi.recheckAt = at
	if at.IsZero() {
		return
	}
	gi.recheck = r.clock.AfterFunc(max(at.Sub(r.clock.Now()), 0), func() {
		r.post(func(r *runtime) {
			if in.gd == gi {
				gi.recheck, gi.recheckAt = nil, time.Time{}
				r.gateGroup(in)
			}
		})
	})
}

// acquireKey asks etcd for in's key, off the loop.
func (r *runtime) acquireKey(in *instance, gi *guardInst) {
	gi.acquiring, gi.lastTry = true, r.clock.Now()
	cli := gi.run.cli
	r.goAsync(func() {
		a, err := cli.Acquire(context.Background(), gi.key)
		r.post(func(r *runtime) { r.acquired(in, gi, a, err) })
	})
}

// acquired is Acquire's answer, on the loop.
func (r *runtime) acquired(in *instance, gi *guardInst, a guard.Acquisition, err error) {
	gi.acquiring = false
	if in.gd != gi {
		return // unbound meanwhile (reload)
	}
	switch {
	case err != nil:
		r.log.Debug("guard: key not acquired", "instance", in.c.Name, "key", gi.key, "err", err)
	case a.Held && a.Lease == gi.run.lease:
		if !gi.st.Held() {
			gi.acquisitions++
			r.log.Info("guard key acquired", "instance", in.c.Name, "guard", gi.run.cfg.Name, "key", gi.key)
		}
		gi.st.AcquiredAt(a.Lease, a.RenewedAt, a.Revision)
		gi.st.Renewed(gi.run.lease, gi.run.renewedAt)
		gi.heard = true
	case a.Held:
		// Taken under a lease since lost: the next try takes it back.
	case a.SameName:
		// Our name under a lease not ours: a second node with this name,
		// or this node's previous run until that lease ends. Not ours
		// either way; say so, since the first case is a configuration
		// fault that the guard must not paper over.
		gi.heard = true
		if !gi.sameNameSaid {
			gi.sameNameSaid = true
			r.log.Warn("guard: the key bears this node's name under another etcd lease; it is not taken until that lease ends. If it outlasts the ttl, another node runs with the same name: give each node its own router_id",
				"instance", in.c.Name, "key", gi.key, "name", gi.st.Node)
		}
	default:
		gi.sameNameSaid = false
		gi.st.HolderAt(a.Holder, a.Revision)
		gi.heard = true
		r.log.Debug("guard: key held by another node", "instance", in.c.Name, "key", gi.key, "holder", a.Holder)
	}
	r.gateGroup(in)
}

// releaseKey deletes in's key if it is ours, off the loop; wait waits for
// the answer (at most releaseWait), so that an advert after it finds the
// key free.
func (r *runtime) releaseKey(in *instance, wait bool) {
	gi := in.gd
	if gi == nil || gi.run.cli == nil || gi.run.closed {
		return
	}
	gi.releasing = true
	cli := gi.run.cli
	finish := func(r *runtime, err error) {
		gi.releasing = false
		if in.gd != gi {
			return
		}
		if err != nil {
			r.log.Warn("guard key not released: the next master waits for it", "instance", in.c.Name, "key", gi.key, "err", err)
			return
		}
		if gi.st.Held() {
			r.log.Info("guard key released", "instance", in.c.Name, "key", gi.key)
		}
		gi.st.Released()
	}
	done := make(chan error, 1)
	r.goAsync(func() {
		ctx, cancel := context.WithTimeout(context.Background(), max(gi.run.ttl/4, time.Second))
		err := cli.Release(ctx, gi.key)
		cancel()
		if !wait {
			r.post(func(r *runtime) { finish(r, err) })
			return
		}
		done <- err
	})
	if !wait {
		return
	}
	t := time.NewTimer(releaseWait)
	defer t.Stop()
	select {
	case err := <-done:
		finish(r, err)
	case <-t.C:
		go func() {
			err := <-done
			r.post(func(r *runtime) { finish(r, err) })
		}()
	}
}

// releaseBeforeLeaving is step's part for a guarded master the machine
// takes out of MASTER (resign, yield, stop): VIPs off first, then the key
// released, then the machine's priority-0 or release advert.
func (r *runtime) releaseBeforeLeaving(in *instance, acts []vrrp.Action) {
	gi := in.gd
	if !slices.ContainsFunc(acts, func(a vrrp.Action) bool { return a.Kind == vrrp.ActionRemoveVIPs }) {
		return
	}
	gi.want = false
	if in.holding {
		r.removeVIPs(in)
		gi.removedEarly = true
	}
	gi.owned = false
	if gi.st.Held() && !gi.releasing {
		// Wait only while etcd answers: without a lease the release would
		// time out anyway, and the advert must not wait for it.
		r.releaseKey(in, leaseOK(gi.run, r.clock.Now()))
	}
}

// probeHolder reads in's key's holder after a loss, off the loop.
func (r *runtime) probeHolder(in *instance, gi *guardInst) {
	gi.probing = true
	cli := gi.run.cli
	r.goAsync(func() {
		h, err := cli.Holder(context.Background(), gi.key)
		r.post(func(r *runtime) {
			gi.probing = false
			if in.gd != gi || err != nil {
				return
			}
			gi.st.Holder(h)
			gi.heard = true
			r.gateGroup(in)
		})
	})
}

// vipLease is the kernel lifetime to give in's VIPs now: its vip_lease,
// bounded by the guard's deadline when guarded; ok is false when a
// guarded instance may not extend them (no key, or under a second left).
func (r *runtime) vipLease(in *instance) (vip.Lifetime, bool) {
	if in.gd == nil {
		return in.lease, true
	}
	now := r.clock.Now()
	allowed, until := r.groupDecision(in, now)
	if !allowed {
		return 0, false
	}
	lt := guard.Lifetime(time.Duration(in.lease), now, until)
	return vip.Lifetime(lt), lt > 0
}

// refreshGuardedVIPs gives held VIPs the lifetime of the new deadline.
func (r *runtime) refreshGuardedVIPs(in *instance) {
	if lt, ok := r.vipLease(in); ok {
		r.refreshVIPsWith(in, lt)
	}
}

// guardStatus is in's guard for the API.
func (in *instance) guardStatus(now time.Time) *api.InstanceGuard {
	gi := in.gd
	if gi == nil {
		return nil
	}
	d := gi.st.Decide(now)
	out := &api.InstanceGuard{Guard: gi.run.cfg.Name, Key: gi.key, Holder: d.Holder, Held: d.Own, Why: d.Why,
		LeaseOK: leaseOK(gi.run, now), Acquisitions: gi.acquisitions, Losses: gi.lost}
	if d.Own {
		out.Deadline = d.Until
	} else if !out.LeaseOK {
		out.Why = "no etcd lease (etcd unreachable)"
	} else if d.Holder != "" && d.Holder != gi.st.Node {
		out.Why = "held by " + d.Holder
	}
	out.NoKey = in.m.State() == vrrp.Master && !in.holding
	return out
}

// guardsStatus are the running guards for the API.
func (r *runtime) guardsStatus(now time.Time) []api.Guard {
	var out []api.Guard
	for _, run := range r.guards.runs {
		g := api.Guard{Name: run.cfg.Name, Endpoints: run.cfg.Endpoints, Node: run.node, TTLMS: run.ttl.Milliseconds(),
			LeaseOK: r.leaseOK(run, now), RenewedAt: run.renewedAt}
		if run.lease != 0 {
			g.Lease = fmt.Sprintf("%x", run.lease)
		}
		switch {
		case run.err != nil:
			g.LastError = run.err.Error()
		case run.cli != nil:
			s := run.cli.Stats()
			g.Renewals, g.RenewalFailures, g.Grants, g.Losses, g.LastError = s.Renewals, s.Failures, s.Grants, s.Losses, s.LastError
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b api.Guard) int { return strings.Compare(a.Name, b.Name) })
	return out
}
