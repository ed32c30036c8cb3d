package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
)

// RestartSafeOptions are the inputs of `hactl restart-safe`.
type RestartSafeOptions struct {
	IO             *IOStreams
	Global         *GlobalOptions
	Service        string
	RestartCommand string
	Settle         time.Duration
	NoRestore      bool
	DryRun         bool
}

func newCmdRestartSafe(f *Factory) *cobra.Command {
	opts := &RestartSafeOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "restart-safe",
		Short: "Staggered rolling restart that never produces two masters",
		Long: `Restart the VRRP daemon on every node, one at a time, so that the cluster
never has two masters and the VIP moves at most twice. It takes a
cluster-wide lock, restarts the backups one by one (waiting after each until
the node is back in Backup and heard by its peers), moves mastership to the
best backup, restarts the old master, and gives mastership back unless
--no-restore. After every step it verifies that exactly one node owns the
VIP; otherwise it stops and says what state the cluster is in (exit 5).

This replaces the runbook's "systemctl stop keepalived; sleep 1;
systemctl start keepalived" after a synchronous restart left two masters.`,
		Example: `  # Print the plan only
  hactl restart-safe --dry-run

  # Restart hactl on the prod cluster, leaving mastership where it lands
  hactl restart-safe -c prod --no-restore

  # Nodes that still run keepalived
  hactl restart-safe --nodes server01,server02 --service keepalived`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestartSafe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Service, "service", "hactl", "service to restart with systemctl")
	fl.StringVar(&opts.RestartCommand, "restart-command", "", "remote command that restarts the daemon, instead of systemctl restart SERVICE")
	fl.DurationVar(&opts.Settle, "settle", 0, "extra time to wait after each node is back (default: one Master_Down_Interval)")
	fl.BoolVar(&opts.NoRestore, "no-restore", false, "do not give mastership back to the original master")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan, change nothing")
	cmd.MarkFlagsMutuallyExclusive("service", "restart-command")
	return cmd
}

func runRestartSafe(_ context.Context, _ *RestartSafeOptions) error {
	return notImplemented("restart-safe")
}
