package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/cluster"
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
	Instance       string
	Wait           time.Duration

	// Nodes builds the nodes (SSH); tests replace it.
	Nodes NodeSource
	// Members turns them into members that can be changed; tests replace it.
	Members func(*nodeSet) []cluster.Member
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
  hactl restart-safe --nodes server01,server02 --service keepalived

  # In the lab (hactl lab up), for hactl and keepalived nodes alike
  hactl restart-safe --restart-command '/run/hactl-lab/demo/daemonctl restart'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Nodes = newNodeSource(f.IO, f.Global, socketFlag(cmd, f.Global))
			return runRestartSafe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Service, "service", "hactl", "service to restart with systemctl")
	fl.StringVar(&opts.RestartCommand, "restart-command", "", "remote command that restarts the daemon, instead of systemctl restart SERVICE")
	fl.DurationVar(&opts.Settle, "settle", 0, "extra time to wait after each node is back (default: one Master_Down_Interval)")
	fl.BoolVar(&opts.NoRestore, "no-restore", false, "do not give mastership back to the original master")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan, change nothing")
	fl.StringVar(&opts.Instance, "instance", "", "VRRP instance whose VIP is checked (default: the only one)")
	fl.DurationVar(&opts.Wait, "wait", time.Minute, "how long to wait for each node to come back, and for each handover")
	cmd.MarkFlagsMutuallyExclusive("service", "restart-command")
	return cmd
}

func runRestartSafe(ctx context.Context, o *RestartSafeOptions) error {
	if o.Global.Local {
		return errors.New("restart-safe: --local asks one host only; restart-safe needs every node of the cluster (drop --local)")
	}
	set, err := o.Nodes(ctx)
	if err != nil {
		return err
	}
	defer set.Close()
	// The lock expires on its own if this process dies: after a generous
	// bound on the whole run.
	ttl := 30*time.Minute + time.Duration(len(set.Remote))*2*o.Wait
	res, err := cluster.RestartSafe(ctx, members(o.Members, set), cluster.RestartOptions{
		Instance: o.Instance, Command: o.RestartCommand, Service: o.Service, Settle: o.Settle,
		NoRestore: o.NoRestore, DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Global.Timeout, Parallel: o.Global.Parallel,
		Lock:     cluster.NewLockInfo(operatorName(), os.Getpid(), ttl),
		Progress: progressLine(o.IO.ErrOut, "restart-safe"),
	})
	return finishOperation(o.IO, o.Global, res, err, func(w io.Writer) { renderRestart(w, res) })
}

func renderRestart(w io.Writer, r *cluster.RestartResult) {
	if r.DryRun {
		fmt.Fprintf(w, "Plan for %s (%s), master %s, dry run: nothing changed\n", r.Instance, strings.Join(r.VIPs, ", "), r.Master)
		for i, p := range r.Plan {
			fmt.Fprintf(w, "  %d. %s\n", i+1, p)
		}
		return
	}
	t := newTable(w, "NODE", "OLD PID", "NEW PID", "TOOK")
	for _, n := range r.Restarted {
		_ = t.Append(n.Node, fmt.Sprint(n.OldPID), fmt.Sprint(n.NewPID), fmt.Sprintf("%.1fs", n.TookMS/1000))
	}
	_ = t.Render()
	if r.FinalOwner != "" {
		fmt.Fprintf(w, "%d daemons restarted in %.1fs; %s holds %s (master before: %s)\n", len(r.Restarted), r.TookMS/1000, r.FinalOwner, strings.Join(r.VIPs, ", "), r.Master)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
