//go:build linux

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/daemon/garp"
	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/sdnotify"
	"github.com/hactl/hactl/daemon/statefile"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// Run runs the daemon until ctx ends, then stops gracefully: a priority-0
// advert from every master, VIPs removed, the socket and state files
// removed. SIGHUP reloads the config, off the loop.
func Run(ctx context.Context, opts Options) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path, err := FindConfig(opts.ConfigFile)
	if err != nil {
		return err
	}
	cfg, _, err := loadConfig(ctx, path, log, opts.Strict)
	if err != nil {
		return err
	}
	r := &runtime{
		opts: opts, ctx: ctx, log: log, cfg: cfg, start: time.Now(),
		events: make(chan event, 1024), done: make(chan struct{}),
		socks: map[sockKey]*sock{}, garps: map[string]*garp.Announcer{}, byName: map[string]*instance{}, drops: map[string]uint64{}, groupState: map[string]vrrp.State{},
		stateFile: firstOf(opts.StateFile, cfg.Global.StateFile),
		wake:      time.NewTimer(time.Hour),
	}
	r.wake.Stop()
	r.promos = &promotionStore{path: r.stateFile + ".promotions"}
	r.sd = sdnotify.FromEnv(false)
	var srv *control.Server // set below; the metrics read its counters
	r.metrics = metrics.New(metrics.Options{Log: log, KeepalivedCompat: opts.KeepalivedMetrics,
		ControlConns: func() (int, uint64) {
			if srv == nil {
				return 0, 0
			}
			st := srv.Stats()
			return st.Open, st.Refused
		},
		Status: backend{r}.Status})
	host := hostname()
	r.daemon = api.Daemon{Name: "hactl", Version: opts.Version, PID: os.Getpid(), Hostname: host, StartedAt: r.start, ConfigFile: path}

	socketPath := firstOf(opts.Socket, cfg.Global.ControlSocket)
	if err := checkRunDirs(socketPath, opts.PIDFile, r.stateFile); err != nil {
		return err
	}
	if opts.PIDFile != "" {
		if err := writePID(opts.PIDFile); err != nil {
			return err
		}
		defer os.Remove(opts.PIDFile)
	}
	if r.vips, err = vip.New(log); err != nil {
		return err
	}
	defer r.vips.Close()
	readCtx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	if err := r.openSockets(readCtx); err != nil {
		r.closeSockets()
		return err
	}
	defer r.closeSockets()

	if srv, err = control.Listen(socketPath, opts.SocketGID); err != nil {
		return err
	}
	log.Info("control socket limits", "max_conns", srv.Limits.MaxConns, "max_conns_per_uid", srv.Limits.MaxConnsPerUID,
		"root_reserve", srv.Limits.RootReserve, "idle_timeout", srv.Limits.IdleTimeout)
	reloads := newReloader(r)
	go func() {
		if err := srv.Serve(control.Handler(reloadingBackend{backend{r}, reloads}, control.Policy{ReadGID: opts.SocketGID}, r.metrics.Handler(), log), log); err != nil {
			log.Error("control socket", "err", err)
		}
	}()

	if opts.MetricsListen != "" {
		addr, err := r.metrics.Serve(ctx, opts.MetricsListen)
		if err != nil {
			srv.Shutdown(context.Background())
			return fmt.Errorf("--metrics-listen %s: %w", opts.MetricsListen, err)
		}
		log.Info("metrics", "listen", addr.String())
	}
	log.Info("hactl daemon starting", "config", path, "instances", len(r.insts), "state_file", r.stateFile, "socket", srv.Path())
	if err := r.startTrackers(ctx, cfg, nil); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	reloads.begin(r.mon, r.notifier)
	for _, in := range r.insts {
		in.since = time.Now()
		r.feedTrackers(in) // steps Startup unless scripts are still pending
	}
	r.startStateWriter()
	r.restorePromotions()
	r.writeState()
	r.flushState()
	_ = r.sd.Ready(fmt.Sprintf("%d VRRP instances", len(r.insts)))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for running := true; running; {
		select {
		case ev := <-r.events:
			ev(r)
		case <-r.wake.C:
			r.fireDue()
		case <-r.mon.Ready():
			r.trackersChanged()
		case <-hup:
			// Read and checked off the loop; only the swap comes back
			// here (reload.go).
			reloads.request(nil)
		case <-ctx.Done():
			running = false
		}
		r.flushState()
	}
	r.shutdown(srv)
	return nil
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
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		r.log.Warn("control socket shutdown", "err", err)
	}
	r.stopStateWriter()
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
