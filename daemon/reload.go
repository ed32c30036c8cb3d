package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// reloadWait bounds how long POST /v1/reload waits for its reload; the
// control server gives up writing an answer after 30 s.
const reloadWait = 20 * time.Second

// reloader runs config reloads one at a time, off the loop: a reload reads,
// parses and checks the config (a large one takes seconds, and a hostile
// include used to block for ever) and starts the new trackers in its own
// goroutine, then posts only the swap to the loop, which stays free to
// send adverts meanwhile. A reload asked for while one runs is coalesced:
// one more run follows, since the file may have changed after the running
// one read it. The loop's context (SIGTERM) stops a reload, and the
// shutdown never waits for one.
type reloader struct {
	r        *runtime
	ctx      context.Context
	path     string
	notifier *notify.Notifier

	mu      sync.Mutex
	running bool
	again   bool
	waiters []chan<- reloadOutcome // answered by the next run to start
	// ready is closed by begin, once the daemon's first trackers run:
	// reloads asked for earlier wait for it. mon is the monitor running
	// now; after begin only the run goroutine uses it.
	ready chan struct{}
	mon   *track.Monitor
	// cfg is the config running now (the last one applied): the
	// notifier keeps the scripts of the instances a reload removes
	// until their DELETED (or FAULT) has run.
	cfg *config.Config
	// run is one reload: once, or a stand-in in tests.
	run func() (api.ReloadResult, error)
}

type reloadOutcome struct {
	res api.ReloadResult
	err error
}

// newReloader is called before the control socket serves.
func newReloader(r *runtime) *reloader {
	rl := &reloader{r: r, ctx: r.ctx, path: r.daemon.ConfigFile, ready: make(chan struct{})}
	rl.run = rl.once
	return rl
}

// begin lets reloads run, once the first trackers and notifier do.
func (rl *reloader) begin(mon *track.Monitor, n *notify.Notifier) {
	rl.mon, rl.notifier, rl.cfg = mon, n, rl.r.cfg // on the loop's goroutine, before the loop runs
	close(rl.ready)
}

// request asks for a reload. done, when not nil, receives the outcome of a
// run that starts after the request.
func (rl *reloader) request(done chan<- reloadOutcome) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if err := rl.ctx.Err(); err != nil {
		if done != nil {
			done <- reloadOutcome{err: errors.New("daemon is stopping")}
		}
		return
	}
	if done != nil {
		rl.waiters = append(rl.waiters, done)
	}
	if rl.running {
		rl.again = true
		return
	}
	rl.running = true
	go rl.loop()
}

// wait asks for a reload and waits for its outcome, bounded.
func (rl *reloader) wait() (api.ReloadResult, error) {
	ch := make(chan reloadOutcome, 1)
	rl.request(ch)
	t := time.NewTimer(reloadWait)
	defer t.Stop()
	select {
	case o := <-ch:
		return o.res, o.err
	case <-t.C:
		return api.ReloadResult{}, fmt.Errorf("the reload still runs after %v; its outcome will be logged and shown in the status", reloadWait)
	}
}

func (rl *reloader) loop() {
	select {
	case <-rl.ready:
	case <-rl.ctx.Done():
	}
	for {
		rl.mu.Lock()
		waiters := rl.waiters
		rl.waiters, rl.again = nil, false
		rl.mu.Unlock()

		res, err := rl.run()
		for _, w := range waiters {
			w <- reloadOutcome{res, err} // buffered
		}

		rl.mu.Lock()
		if !rl.again || rl.ctx.Err() != nil {
			for _, w := range rl.waiters {
				w <- reloadOutcome{err: errors.New("daemon is stopping")}
			}
			rl.waiters, rl.running = nil, false
			rl.mu.Unlock()
			return
		}
		rl.mu.Unlock()
	}
}

// once runs one reload. A broken config keeps the running one (every
// error is logged and kept in the status). A valid one applies what can
// change under a running instance without disturbing it, stops the
// instances it removes and starts the ones it adds; an instance whose
// identity changed (interface, VRID, family, version, interval, VIPs,
// peers, auth) is stopped and started again (apply).
func (rl *reloader) once() (api.ReloadResult, error) {
	r := rl.r
	_ = r.sd.Reloading()
	defer func() {
		if rl.ctx.Err() == nil { // a stopping daemon has said STOPPING=1
			_ = r.sd.Ready("reloaded")
		}
	}()
	start := time.Now()
	res := api.ReloadResult{Diagnostics: []string{}}
	cfg, diags, err := loadConfig(rl.ctx, rl.path, r.log, r.opts.Strict)
	for _, d := range diags {
		res.Diagnostics = append(res.Diagnostics, d.String())
	}
	if err == nil {
		res, err = rl.swap(cfg, res)
	}
	if err != nil {
		if rl.ctx.Err() != nil {
			r.log.Info("reload abandoned: the daemon is stopping")
			return res, errors.New("daemon is stopping")
		}
		msg := err.Error()
		r.post(func(r *runtime) { r.daemon.LastReloadError = msg })
		r.log.Error("reload refused; the running config stays", "err", err, "diagnostics", strings.Join(res.Diagnostics, "; "))
		return res, nil
	}
	took := time.Since(start)
	// A large config's parse leaves hundreds of MB of garbage (about 15
	// times its size); give it back now rather than hold it as RSS. The
	// return cannot be preempted: with a 20 MB config it held the loop
	// 12-19 ms (once, at the end; without it 224 MB stayed resident), and
	// with a config of kilobytes it has next to nothing to do.
	debug.FreeOSMemory()
	r.log.Info("reloaded", "config", rl.path, "took", took.Round(time.Millisecond))
	return res, nil
}

// swap starts cfg's trackers beside the running ones, carrying the
// scripts' states over so that a reload does not move mastership, then has
// the loop swap config and trackers in one event. The old trackers are
// stopped afterwards, off the loop (a running script is killed, which may
// take its grace period).
func (rl *reloader) swap(cfg *config.Config, res api.ReloadResult) (api.ReloadResult, error) {
	r := rl.r
	runner, mon, err := r.newTrackers(rl.ctx, cfg, rl.mon.Snapshot())
	if err != nil {
		return res, fmt.Errorf("trackers: %w", err)
	}
	// A notify script that cannot run is logged and skipped, as at start.
	// The removed instances' scripts stay for their DELETED (or FAULT).
	if err := rl.notifier.Apply(withRemoved(cfg, rl.cfg)); err != nil {
		r.log.Error("notify scripts", "err", err)
	}
	done := make(chan struct{})
	if !r.post(func(r *runtime) { r.apply(cfg, runner, mon); close(done) }) {
		mon.Stop()
		return res, errors.New("daemon is stopping")
	}
	select {
	case <-done:
	case <-r.done:
		select {
		case <-done: // applied just before the loop ended
		default:
			mon.Stop()
			return res, errors.New("daemon is stopping")
		}
	}
	old := rl.mon
	rl.mon, rl.cfg = mon, cfg
	old.Stop()
	res.Reloaded = true
	return res, nil
}

// newTrackers prepares a Runner and starts a tracker Monitor for cfg, off
// the loop, as startTrackers does at start.
func (r *runtime) newTrackers(ctx context.Context, cfg *config.Config, previous map[track.Key]track.State) (*scripts.Runner, *track.Monitor, error) {
	so := scripts.FromGlobal(cfg.Global, r.log)
	so.Observe = func(label string, res scripts.Result) {
		kind, name := metrics.ScriptLabel(label)
		r.metrics.ScriptRun(kind, name, res.OK(), res.Duration)
	}
	runner := scripts.New(so)
	mon, err := track.New(cfg, track.Options{Logger: r.log, Runner: runner, Reload: true, Previous: previous, Interfaces: r.vmacList})
	if err != nil {
		return nil, nil, err
	}
	if err := mon.Start(ctx); err != nil {
		return nil, nil, err
	}
	return runner, mon, nil
}

// apply is the loop's part of a reload: it compares identities and swaps
// the new config, runner and trackers in, all in one event. An instance
// the new config removes stops (removeInstance) and one it adds starts
// (addInstance), as keepalived 2.2.7's reload does; one whose identity
// changed is stopped and started again. Its only I/O is the VIPs' and
// static entries' netlink calls, the sockets an added or removed
// instance opens or closes, and the state file's (queued to its writer).
func (r *runtime) apply(cfg *config.Config, runner *scripts.Runner, mon *track.Monitor) {
	newByName := make(map[string]*config.Instance, len(cfg.Instances))
	for _, c := range cfg.Instances {
		newByName[c.Name] = c
	}
	for _, in := range slices.Clone(r.insts) {
		c, ok := newByName[in.c.Name]
		if !ok {
			r.log.Info("reload: instance removed from the config; stopping it", "instance", in.c.Name)
			r.removeInstance(in, true)
			continue
		}
		if !sameIdentity(in.c, c) {
			if usesVMAC(in.c) || usesVMAC(c) {
				r.log.Warn("reload: instance with use_vmac changed beyond priority and trackers; restart the daemon to apply", "instance", in.c.Name)
				continue
			}
			// keepalived keeps an instance whose VRID, family,
			// interface, unicast source and group stay (vrrp_exist) and
			// notifies nothing for it; hactl starts it again, and
			// notifies DELETED (or FAULT) only when keepalived would.
			same := keepalivedSame(in.c, c)
			r.log.Info("reload: instance changed beyond priority and trackers; starting it again", "instance", in.c.Name, "same_vrrp_identity", same)
			r.removeInstance(in, !same)
			continue
		}
		if c.Priority != in.c.Priority {
			r.log.Info("reload: priority changed", "instance", in.c.Name, "from", in.c.Priority, "to", c.Priority)
		}
		if c.VIPLease != in.c.VIPLease {
			// The automatic lease follows the priority (Master_Down_Interval
			// has its skew); a held VIP gets the new lifetime at once.
			r.log.Info("reload: VIP lease changed", "instance", in.c.Name, "from", in.c.VIPLease, "to", c.VIPLease)
			in.lease = vip.Lifetime(c.VIPLease)
			if in.holding {
				r.refreshVIPs(in)
			}
		}
		in.c = c
	}
	for _, c := range cfg.Instances { // in the config's order
		if r.byName[c.Name] != nil {
			continue
		}
		if usesVMAC(c) {
			r.log.Warn("reload: new instance with use_vmac starts on the next daemon restart", "instance", c.Name)
			continue
		}
		r.addInstance(c)
	}
	r.reconcileGuards(cfg) // guards added, changed, removed (guard.go)
	r.reloadStatic(cfg)
	r.runner, r.mon = runner, mon
	r.replayStates(cfg)
	r.cfg = cfg // before feedTrackers: its notifications follow the new config
	for _, in := range r.insts {
		in.refs = append(track.InstanceRefs(cfg, in.c), r.vmacRefs(in.c)...)
		r.feedTrackers(in) // steps an added instance's Startup
	}
	r.daemon.ReloadedAt, r.daemon.LastReloadError = r.clock.Now(), ""
	r.writeState()
}

// removeInstance stops an instance a reload removed, as keepalived 2.2.7's
// clear_diff_vrrp does: a master sends a priority-0 advert (the backups
// take over at once) and removes its rules, routes and VIPs; its timers
// and announcements stop and a socket no other instance uses is closed.
// notifyDel notifies the removal as keepalived does: DELETED with
// notify_deleted (its notify_deleted script, notify with DELETED, the
// FIFO line, an event), else FAULT unless it already was in FAULT. Its
// trackers go with the old monitor; a VMAC it used stays until the
// daemon stops.
func (r *runtime) removeInstance(in *instance, notifyDel bool) {
	prev, st := in.m.State(), in.m.Status()
	if in.gd != nil { // VIPs off and key released before the advert (guard.go)
		r.releaseBeforeLeaving(in, []vrrp.Action{{Kind: vrrp.ActionRemoveVIPs}})
		if in.gd.recheck != nil {
			in.gd.recheck.Stop()
		}
		in.gd.want = false
	}
	if prev == vrrp.Master {
		r.sendAdvert(in, 0, netip.Addr{})
		r.log.Info("sent priority 0", "instance", in.c.Name)
	}
	for _, t := range in.timers {
		r.disarm(t)
	}
	if in.promoTimer != nil {
		in.promoTimer.Stop()
		in.promoTimer = nil
	}
	in.stopAnnouncing()
	if in.holding || prev == vrrp.Master {
		r.removeVIPs(in)
	}
	r.firewallRemove(in)
	vrid := uint8(in.c.VRID)
	for _, s := range []*sock{in.sock, in.base} {
		if s != nil && s.byVRID[vrid] == in {
			delete(s.byVRID, vrid)
			r.releaseSock(s)
		}
	}
	r.insts = slices.DeleteFunc(r.insts, func(x *instance) bool { return x == in })
	delete(r.byName, in.c.Name)
	in.gd = nil
	r.metrics.Transition(in.c.Name, apiState(prev), api.StateStop)
	if ns, ok := deletedState(in.c.NotifyDeleted, prev); ok && notifyDel {
		r.notifier.Notify(notify.Change{Kind: notify.Instance, Name: in.c.Name, State: ns, Priority: int(st.Priority)})
	}
	r.log.Info("instance stopped", "instance", in.c.Name, "was", apiState(prev))
}

// deletedState is what keepalived 2.2.7 notifies for an instance a reload
// removes (vrrp.c clear_diff_vrrp, vrrp_notify.c send_instance_notifies):
// DELETED with notify_deleted; without it FAULT, as keepalived always
// did, and nothing for an instance already in FAULT.
func deletedState(notifyDeleted bool, prev vrrp.State) (notify.State, bool) {
	switch {
	case notifyDeleted:
		return notify.Deleted, true
	case prev == vrrp.Fault:
		return "", false
	}
	return notify.Fault, true
}

// addInstance starts an instance a reload added, as at startup (without
// vrrp_startup_delay, which keepalived applies at start only): its socket
// is opened or shared and its group joined; apply then steps its Startup
// once its trackers allow (feedTrackers). An instance that cannot be
// built is logged and left out; the others run.
func (r *runtime) addInstance(c *config.Instance) {
	in, err := r.buildInstance(c, false) // which closes a socket it opened for nothing
	if err != nil {
		r.log.Error("reload: new instance not started", "instance", c.Name, "err", err)
		return
	}
	in.since = r.clock.Now()
	r.insts = append(r.insts, in)
	r.byName[c.Name] = in
	r.log.Info("reload: new instance starts", "instance", c.Name, "interface", c.Interface, "vrid", c.VRID)
}

// withRemoved is cfg with the instances of old it no longer has, for the
// notifier: their notify scripts run for their removal.
func withRemoved(cfg, old *config.Config) *config.Config {
	if old == nil {
		return cfg
	}
	names := make(map[string]bool, len(cfg.Instances))
	for _, c := range cfg.Instances {
		names[c.Name] = true
	}
	var gone []*config.Instance
	for _, c := range old.Instances {
		if !names[c.Name] {
			gone = append(gone, c)
		}
	}
	if len(gone) == 0 {
		return cfg
	}
	out := *cfg
	out.Instances = append(slices.Clone(cfg.Instances), gone...)
	return &out
}

// usesVMAC: the instance or one of its VIPs sits on a VMAC, which only a
// start creates.
func usesVMAC(c *config.Instance) bool {
	if c.UseVMAC {
		return true
	}
	for _, list := range [][]config.VIP{c.VIPs, c.ExcludedVIPs} {
		for _, v := range list {
			if v.UseVMAC() {
				return true
			}
		}
	}
	return false
}

// keepalivedSame is keepalived 2.2.7's match of an instance across a
// reload (vrrp.c vrrp_exist): VRID, family, interface, unicast or not and
// the unicast source, else the multicast group, and use_vmac.
func keepalivedSame(a, b *config.Instance) bool {
	if a.VRID != b.VRID || a.Family != b.Family || a.Interface != b.Interface || a.Unicast != b.Unicast || a.UseVMAC != b.UseVMAC {
		return false
	}
	if a.Unicast {
		return a.SrcIP == b.SrcIP
	}
	return a.McastGroup == b.McastGroup
}

// reloadingBackend serves POST /v1/reload through the reloader; every
// other request goes to the loop as before.
type reloadingBackend struct {
	backend
	rl *reloader
}

// Reload waits for a reload, bounded by reloadWait.
func (b reloadingBackend) Reload() (api.ReloadResult, error) { return b.rl.wait() }

func sameIdentity(a, b *config.Instance) bool {
	return a.Interface == b.Interface && a.VRID == b.VRID && a.Family == b.Family && a.Version == b.Version &&
		a.AdvertInt == b.AdvertInt && a.SrcIP == b.SrcIP && a.Unicast == b.Unicast && a.McastGroup == b.McastGroup &&
		slices.EqualFunc(a.UnicastPeers, b.UnicastPeers, func(x, y config.UnicastPeer) bool { return x.Addr == y.Addr }) &&
		slices.EqualFunc(a.VIPs, b.VIPs, sameVIP) && slices.EqualFunc(a.ExcludedVIPs, b.ExcludedVIPs, sameVIP) &&
		sameAuth(a.Auth, b.Auth) && a.Timing == b.Timing && a.Preempt == b.Preempt && a.PreemptDelay == b.PreemptDelay && a.Accept == b.Accept &&
		(a.VIPLease == 0) == (b.VIPLease == 0) && (a.Priority == 255) == (b.Priority == 255) &&
		a.UseVMAC == b.UseVMAC && a.VMACName == b.VMACName && a.VMACAddr == b.VMACAddr && a.VMACAddrVRID == b.VMACAddrVRID &&
		a.UseVMACAddr == b.UseVMACAddr && a.VMACXmitBase == b.VMACXmitBase
}

func sameVIP(x, y config.VIP) bool {
	return x.Prefix == y.Prefix && x.Dev == y.Dev && x.Label == y.Label && x.Scope == y.Scope && x.Broadcast == y.Broadcast &&
		x.UseVMAC() == y.UseVMAC()
}

func sameAuth(a, b *config.Auth) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
