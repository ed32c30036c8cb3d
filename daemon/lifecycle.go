package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/statefile"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// The loop's life, without the kernel: built (newRuntime), started
// (startInstances), stopped (shutdown). Run, in daemon.go, wires the
// sockets, netlink, control socket and signals around it; the loop tests
// wire a fake kernel (fakekernel_test.go).

// newRuntime is the loop's state for cfg, before any socket is open.
func newRuntime(ctx context.Context, opts Options, log *slog.Logger, cfg *config.Config, clk clock) *runtime {
	r := &runtime{
		opts: opts, ctx: ctx, log: log, cfg: cfg, clock: clk, start: clk.Now(),
		events: make(chan event, 1024), done: make(chan struct{}),
		socks: map[sockKey]*sock{}, garps: map[string]announcer{}, byName: map[string]*instance{}, drops: map[string]uint64{},
		stateFile: firstOf(opts.StateFile, cfg.Global.StateFile),
		timers:    timerQueue{wake: clk.NewTimer()},
		sync:      syncState{notified: map[string]vrrp.State{}},
		bus:       notify.NewBus(log, 0, 0),
	}
	r.promos = &promotionStore{path: r.stateFile + ".promotions"}
	return r
}

// startInstances steps every instance's Startup (trackers permitting),
// starts the state writer and restores the saved promotions: the loop's
// part of a start, once sockets, VIP table and trackers are in place.
func (r *runtime) startInstances() {
	for _, in := range r.insts {
		in.since = r.clock.Now()
		r.feedTrackers(in) // steps Startup unless scripts are still pending
	}
	r.startStateWriter()
	r.restorePromotions()
	r.writeState()
	r.flushState()
}

func (r *runtime) shutdown(srv *control.Server) {
	timeout := r.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	_ = r.sd.Stopping()
	r.log.Info("stopping: resigning mastership and removing VIPs")
	for _, in := range r.insts {
		r.step(in, vrrp.Shutdown())
		in.stopAnnouncing()
		for _, t := range in.timers {
			r.disarm(t)
		}
		if in.promoTimer != nil {
			in.promoTimer.Stop()
		}
		// Leases cover a crash; a clean stop removes the VIPs itself.
		if in.holding {
			r.removeVIPs(in)
		}
	}
	r.closeGuards()             // revoking their leases: the keys go at once
	r.removeStatic()            // after the instances, as keepalived does
	for _, a := range r.garps { // shared by the interface's instances
		a.Close()
	}
	close(r.done)
	r.mon.Stop()
	nctx, ncancel := context.WithTimeout(context.Background(), timeout)
	if err := r.notifier.Close(nctx); err != nil {
		r.log.Warn("notify scripts at stop", "err", err)
	}
	ncancel()
	if srv != nil { // nil in the loop tests
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			r.log.Warn("control socket shutdown", "err", err)
		}
	}
	r.stopStateWriter()
	if len(r.fw.drop) > 0 { // whatever is left: the table goes at a clean stop
		r.fw.drop = nil
		r.firewallSync()
	}
	if r.fw.w != nil {
		r.fw.w.close() // applies the removal, bounded by nftTimeout
	}
	statefile.Remove(r.stateFile)
	r.log.Info("stopped")
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
