package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/daemon/statefile"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// DefaultConfigPaths are tried in order when no config file is named.
var DefaultConfigPaths = []string{"/etc/hactl/hactl.conf", "/etc/keepalived/keepalived.conf"}

// ErrConfig marks a configuration that cannot run; the message lists every
// error as file:line:col.
var ErrConfig = errors.New("invalid configuration")

// FindConfig returns file, or the first of DefaultConfigPaths that exists.
func FindConfig(file string) (string, error) {
	if file != "" {
		return file, nil
	}
	for _, p := range DefaultConfigPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no configuration: none of %s exists (name one with -f)", strings.Join(DefaultConfigPaths, ", "))
}

// loadConfig reads and checks a config, logging its warnings; it fails
// with every error listed.
func loadConfig(path string, log *slog.Logger) (*config.Config, config.Diagnostics, error) {
	cfg, diags, err := config.Load(path, config.LoadOptions{})
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, config.Check(cfg, config.OSHost{})...)
	for _, d := range diags.Warnings() {
		log.Warn("config", "diagnostic", d.String())
	}
	if diags.HasErrors() {
		var msgs []string
		for _, d := range diags.Errors() {
			msgs = append(msgs, d.String())
		}
		return nil, diags, fmt.Errorf("%w:\n%s", ErrConfig, strings.Join(msgs, "\n"))
	}
	if len(cfg.Instances) == 0 {
		return nil, diags, fmt.Errorf("%w: %s has no vrrp_instance", ErrConfig, path)
	}
	return cfg, diags, nil
}

// Run runs the daemon until ctx ends, then stops gracefully: a priority-0
// advert from every master, VIPs removed, the socket and state files
// removed. SIGHUP reloads the config.
func Run(ctx context.Context, opts Options) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path, err := FindConfig(opts.ConfigFile)
	if err != nil {
		return err
	}
	cfg, _, err := loadConfig(path, log)
	if err != nil {
		return err
	}
	r := &runtime{
		opts: opts, log: log, cfg: cfg, start: time.Now(),
		events: make(chan event, 1024), done: make(chan struct{}),
		socks: map[sockKey]*sock{}, byName: map[string]*instance{}, drops: map[string]uint64{},
		stateFile: firstOf(opts.StateFile, cfg.Global.StateFile),
	}
	r.promos = &promotionStore{path: r.stateFile + ".promotions"}
	host := hostname()
	r.daemon = api.Daemon{Name: "hactl", Version: opts.Version, PID: os.Getpid(), Hostname: host, StartedAt: r.start, ConfigFile: path}

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

	srv, err := control.Listen(firstOf(opts.Socket, cfg.Global.ControlSocket), opts.SocketGID)
	if err != nil {
		return err
	}
	go func() {
		if err := srv.Serve(control.Handler(backend{r}, control.Policy{ReadGID: opts.SocketGID}, nil, log), log); err != nil {
			log.Error("control socket", "err", err)
		}
	}()

	log.Info("hactl daemon starting", "config", path, "instances", len(r.insts), "state_file", r.stateFile, "socket", srv.Path())
	for _, in := range r.insts {
		in.since = time.Now()
		r.step(in, vrrp.Startup())
		if in.m.State() != vrrp.Master {
			r.removeLeftovers(in)
		}
	}
	r.restorePromotions()
	r.writeState()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for running := true; running; {
		select {
		case ev := <-r.events:
			ev(r)
		case <-hup:
			res, err := r.reload()
			if err != nil || !res.Reloaded {
				log.Error("reload refused; the running config stays", "err", err, "diagnostics", strings.Join(res.Diagnostics, "; "))
			}
		case <-ctx.Done():
			running = false
		}
	}
	r.shutdown(srv)
	return nil
}

func (r *runtime) shutdown(srv *control.Server) {
	timeout := r.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	r.log.Info("stopping: resigning mastership and removing VIPs")
	for _, in := range r.insts {
		r.step(in, vrrp.Shutdown())
		in.stopAnnouncing()
		for _, t := range in.timers {
			t.Stop()
		}
		if in.promoTimer != nil {
			in.promoTimer.Stop()
		}
		// Leases cover a crash; a clean stop removes the VIPs itself.
		if in.holding {
			r.removeVIPs(in)
		}
		in.garp.Close()
	}
	close(r.done)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		r.log.Warn("control socket shutdown", "err", err)
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

func writePID(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("pid file %s: daemon %d is still running (a second daemon needs its own --pid-file, --socket and --state-file)", path, pid)
		}
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}
