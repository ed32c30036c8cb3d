//go:build linux

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/sdnotify"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
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
	r := newRuntime(ctx, opts, log, cfg, realClock{})
	r.sd = sdnotify.FromEnv(false)
	var srv *control.Server                      // set below; the metrics read its counters
	var notifier atomic.Pointer[notify.Notifier] // set once it runs; the metrics read its drops
	r.metrics = metrics.New(metrics.Options{Log: log, KeepalivedCompat: opts.KeepalivedMetrics,
		ControlConns: func() (int, uint64) {
			if srv == nil {
				return 0, 0
			}
			st := srv.Stats()
			return st.Open, st.Refused
		},
		NotifyDrops: func() (map[string]uint64, uint64) {
			var fifo map[string]uint64
			if n := notifier.Load(); n != nil {
				fifo = n.FIFODropsByPath()
			}
			return fifo, r.bus.Dropped()
		},
		Status: backend{r}.loopStatus})
	r.daemon = api.Daemon{Name: "hactl", Version: opts.Version, PID: os.Getpid(), Hostname: hostname(), StartedAt: r.start, ConfigFile: path}

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
	vips, err := vip.New(log)
	if err != nil {
		return err
	}
	defer vips.Close()
	r.vips = vips
	if err := r.installStatic(cfg); err != nil {
		return err
	}
	readCtx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	if err := r.openSockets(readCtx); err != nil {
		r.closeSockets()
		return err
	}
	defer r.closeSockets()
	// A VIP deleted by hand while master comes back at once (vipwatch.go).
	if err := r.watchVIPs(readCtx); err != nil {
		log.Warn("address events unavailable: a VIP deleted by hand comes back only at the next lease renewal", "err", err)
	}
	// A tracked rule deleted by hand is noticed, as keepalived does (rulewatch.go).
	if err := r.watchRules(readCtx); err != nil {
		log.Warn("rule events unavailable: a rule deleted by hand goes unnoticed", "err", err)
	}
	// A tracked route deleted by hand comes back (routewatch.go).
	if err := r.watchRoutes(readCtx); err != nil {
		log.Warn("route events unavailable: a route deleted by hand stays deleted", "err", err)
	}

	if srv, err = r.serveControl(socketPath); err != nil {
		return err
	}
	if err := r.begin(srv); err != nil {
		r.bus.Close() // ends any GET /v1/events, which Shutdown would wait for
		srv.Shutdown(context.Background())
		return err
	}
	r.reloads.begin(r.mon, r.notifier)
	notifier.Store(r.notifier)
	r.fw.w = startFirewall(log, needsFirewall(r.insts))
	r.reconcileGuards(r.cfg) // the etcd guards (guard.go)
	r.startInstances()
	_ = r.sd.Ready(fmt.Sprintf("%d VRRP instances", len(r.insts)))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for r.handleNext(hup) {
	}
	r.shutdown(srv)
	return nil
}

// serveControl opens the control socket and serves the API on it, with
// reloads through r.reloads.
func (r *runtime) serveControl(socketPath string) (*control.Server, error) {
	srv, err := control.Listen(socketPath, r.opts.SocketGID)
	if err != nil {
		return nil, err
	}
	r.log.Info("control socket limits", "max_conns", srv.Limits.MaxConns, "max_conns_per_uid", srv.Limits.MaxConnsPerUID,
		"root_reserve", srv.Limits.RootReserve, "idle_timeout", srv.Limits.IdleTimeout)
	r.reloads = newReloader(r)
	go func() {
		if err := srv.Serve(control.Handler(reloadingBackend{backend{r}, r.reloads}, control.Policy{ReadGID: r.opts.SocketGID}, r.metrics.Handler(), r.log), r.log); err != nil {
			r.log.Error("control socket", "err", err)
		}
	}()
	return srv, nil
}

// begin serves the metrics and starts the trackers and notifier.
func (r *runtime) begin(srv *control.Server) error {
	if r.opts.MetricsListen != "" {
		addr, err := r.metrics.Serve(r.ctx, r.opts.MetricsListen)
		if err != nil {
			return fmt.Errorf("--metrics-listen %s: %w", r.opts.MetricsListen, err)
		}
		r.log.Info("metrics", "listen", addr.String())
	}
	r.log.Info("hactl daemon starting", "config", r.daemon.ConfigFile, "instances", len(r.insts), "state_file", r.stateFile, "socket", srv.Path())
	return r.startTrackers(r.ctx, r.cfg, nil)
}

// handleNext waits for one thing to do and does it on the loop: an event,
// the wake-up, tracker news, a SIGHUP; it reports false once ctx ends.
func (r *runtime) handleNext(hup <-chan os.Signal) bool {
	select {
	case ev := <-r.events:
		ev(r)
	case <-r.timers.wake.C():
		r.fireDue()
	case <-r.mon.Ready():
		r.trackersChanged()
	case <-hup:
		// Read and checked off the loop; only the swap comes back
		// here (reload.go).
		r.reloads.request(nil)
	case <-r.ctx.Done():
		return false
	}
	r.flushState()
	return true
}
