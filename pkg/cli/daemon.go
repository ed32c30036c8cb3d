package cli

import (
	"context"

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
}

// DefaultConfigPaths are tried in order when no config file is named.
var defaultConfigPaths = []string{"/etc/hactl/hactl.conf", "/etc/keepalived/keepalived.conf"}

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
			return runDaemon(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Config, "config", "f", "", "configuration file, keepalived syntax (default /etc/hactl/hactl.conf, then /etc/keepalived/keepalived.conf)")
	fl.StringVar(&opts.StateFile, "state-file", "", "state file, one line per instance, with a .json twin (default /run/hactl/state, or config state_file)")
	fl.StringVar(&opts.Socket, "socket", "", "control socket (default /run/hactl/hactl.sock, or config control_socket)")
	fl.StringVar(&opts.PIDFile, "pid-file", "/run/hactl/hactl.pid", "pid file")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "log format on stderr: text or json")
	_ = cmd.MarkFlagFilename("config", "conf")
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runDaemon(_ context.Context, _ *DaemonOptions) error {
	return notImplemented("daemon")
}
