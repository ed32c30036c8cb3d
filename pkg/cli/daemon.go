package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/hactl/hactl/daemon"
	"github.com/hactl/hactl/pkg/version"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/spf13/cobra"
)

// DaemonOptions are the inputs of `hactl daemon`. Flags win over the config
// file, so that several daemons can share one host (the lab).
type DaemonOptions struct {
	IO        *IOStreams
	Config    string
	StateFile string
	Socket    string
	PIDFile   string
	LogFormat string
	// SocketGroup may read the control socket (name or GID); empty: root only.
	SocketGroup string
	Verbose     bool
	// MetricsListen serves /metrics on TCP too; KeepalivedMetrics adds
	// keepalived-exporter's metric names.
	MetricsListen     string
	KeepalivedMetrics bool
	// Strict refuses a config that keepalived would correct and run.
	Strict bool
	// ControlSSH overrides global_defs control_ssh ("none": off).
	ControlSSH string
}

// defaultConfigPaths are tried in order when no config file is named.
var defaultConfigPaths = daemon.DefaultConfigPaths

func newCmdDaemon(f *Factory) *cobra.Command {
	opts := &DaemonOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "daemon [-f FILE]",
		Short: "Run VRRP for the instances in a keepalived-syntax config",
		Long: `Run the VRRP router (VRRPv2 and VRRPv3, IPv4 and IPv6, multicast and
unicast peers) for the vrrp_instance blocks of FILE, which uses
keepalived.conf syntax. It interoperates on the wire with keepalived, so a
cluster can migrate one node at a time. Beyond keepalived it writes a state
file, serves a control socket, supports mastership transfer to a named node
(hactl failover), binds VIPs to a kernel lease so they cannot outlive a dead
daemon, and runs the scripts of notify_master_dir on becoming master.

A config keepalived 2.2.7 runs, hactl runs, the way keepalived reads it:
what keepalived reports and corrects (an unknown keyword skipped, an
invalid number left at its default, an unknown state taken as BACKUP, a
track_script naming a vrrp_script defined further down dropped, words
after a flag ignored) is corrected the same way and logged once, with
file:line:col. With --strict such a config is refused instead, at start
and on reload (hactl config check lists what would be corrected).

Signals: SIGHUP reloads the config (a broken one keeps the running config);
SIGTERM and SIGINT stop gracefully (priority-0 advertisement, VIPs removed).`,
		Example: `  # Use /etc/hactl/hactl.conf, else /etc/keepalived/keepalived.conf
  hactl daemon

  # An existing keepalived config, unchanged
  hactl daemon -f /etc/keepalived/keepalived.conf

  # A second daemon on one host (as the lab does)
  hactl daemon -f node2.conf --socket /run/hactl/node2.sock \
      --state-file /run/hactl/node2.state --pid-file /run/hactl/node2.pid`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Verbose = f.Global.Verbose
			return runDaemon(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Config, "config", "f", "", "configuration file, keepalived syntax (default /etc/hactl/hactl.conf, then /etc/keepalived/keepalived.conf)")
	fl.StringVar(&opts.StateFile, "state-file", "", "state file, one line per instance, with a .json twin (default /run/hactl/state, or config state_file)")
	fl.StringVar(&opts.Socket, "socket", "", "control socket (default /run/hactl/hactl.sock, or config control_socket)")
	fl.StringVar(&opts.ControlSSH, "control-ssh", "", "serve the control API over SSH on this address, e.g. 0.0.0.0:922, with the node's sshd host keys and root's authorized_keys; none: off (default: config control_ssh, else off; docs/ssh.md)")
	fl.StringVar(&opts.PIDFile, "pid-file", "/run/hactl/hactl.pid", "pid file")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&opts.MetricsListen, "metrics-listen", "", "also serve Prometheus /metrics on this TCP address, e.g. 127.0.0.1:9650 (default: only on the control socket)")
	fl.BoolVar(&opts.KeepalivedMetrics, "metrics-keepalived-compat", false, "also export keepalived-exporter's metric names, for dashboards and alerts written for keepalived")
	fl.BoolVar(&opts.Strict, "strict", false, "refuse to start (or reload) on a config that keepalived would correct and run: an unknown keyword, an invalid value, an unknown state, a dropped reference")
	fl.StringVar(&opts.SocketGroup, "socket-group", "", "group (name or GID) that may read the control socket; changes stay root-only (default: root only)")
	_ = cmd.MarkFlagFilename("config", "conf")
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runDaemon(ctx context.Context, o *DaemonOptions) error {
	level := slog.LevelInfo
	if o.Verbose {
		level = slog.LevelDebug
	}
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	switch o.LogFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(o.IO.ErrOut, hopts))
	case "json":
		log = slog.New(slog.NewJSONHandler(o.IO.ErrOut, hopts))
	default:
		return fmt.Errorf("invalid --log-format %q: want text or json", o.LogFormat)
	}
	gid, err := lookupGroup(o.SocketGroup)
	if err != nil {
		return err
	}
	tuneRuntime()
	return daemon.Run(ctx, daemon.Options{
		ConfigFile: o.Config, StateFile: o.StateFile, Socket: o.Socket, ControlSSH: o.ControlSSH, PIDFile: o.PIDFile,
		SocketGID: gid, Version: version.Get().Version, Log: log,
		MetricsListen: o.MetricsListen, KeepalivedMetrics: o.KeepalivedMetrics, Strict: o.Strict,
	})
}

// lookupGroup turns a group name or number into a GID; "" is -1 (none).
func lookupGroup(g string) (int, error) {
	if g == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(g); err == nil && n >= 0 {
		return n, nil
	}
	grp, err := user.LookupGroup(g)
	if err != nil {
		return 0, fmt.Errorf("--socket-group %s: %w", g, err)
	}
	return strconv.Atoi(grp.Gid)
}

// tuneRuntime sets the Go runtime for a long-running daemon whose work is
// one event loop (unless GOMAXPROCS / GOGC are set in the environment):
//   - GOMAXPROCS 1: the loop, the socket readers and the control socket
//     need no parallelism, and with more Ps an idle runtime spins looking
//     for work on every wake-up (100 instances at 0.1 s: 61 s/h of CPU
//     with 2 Ps, 36-41 s/h with 1; make bench);
//   - GOGC 50: the live heap is about 3 MB and steady-state garbage is
//     small, so a tighter heap goal costs little CPU and keeps the resident
//     heap (and the peak RSS) down.
func tuneRuntime() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// The daemon prints no tables, but it is the binary that does:
	// tablewriter's package init has already allocated its 8192-entry width
	// cache (663 kB; 745 kB with its dependencies, GODEBUG=inittrace=1).
	// Drop the cache and give the pages back now: without the return they
	// stayed resident (idle one-instance daemon: 17.2-17.5 MB RSS, 16.7-16.9
	// MB with it; docs/performance.md).
	twwidth.SetCacheCapacity(0)
	debug.FreeOSMemory()
}
