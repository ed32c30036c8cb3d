package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"
)

// FailoverOptions are the inputs of `hactl failover`.
type FailoverOptions struct {
	IO       *IOStreams
	Global   *GlobalOptions
	To       string
	Instance string
	VIP      string
	For      time.Duration
	Wait     time.Duration
	DryRun   bool
	Force    bool
	Clear    bool
}

func newCmdFailover(f *Factory) *cobra.Command {
	opts := &FailoverOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "failover --to NODE | --clear",
		Short: "Move mastership to a named node, verified",
		Long: `Promote NODE to master of the instance (sticky until --clear or until --for
expires, and surviving a daemon restart), then wait until NODE owns the VIP
and every other node has released it. Before it acts, it checks that NODE is
reachable, healthy (not in Fault, trackers passing) and configured for the
instance.

For nodes that run plain keepalived it explains what it can do (stop
keepalived on the master, wait for the target to take the VIP, start it
again) and refuses when preemption would bring the VIP straight back,
unless --force.

Exit codes: 0 done and verified; 1 usage error or a failed pre-check;
5 a step failed part-way (the message says what state the cluster is in).`,
		Example: `  # Move the VIP to server02 and verify
  hactl failover --to server02

  # Only for the maintenance window, then back to priority order
  hactl failover --to server02 --for 2h

  # One instance of several, showing the plan only
  hactl failover --to server02 --instance VI_1 --dry-run

  # Drop the sticky promotion: priorities decide again
  hactl failover --clear`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.To == "" && !opts.Clear {
				return errors.New("failover: say --to NODE, or --clear")
			}
			if opts.To != "" && opts.Clear {
				return errors.New("failover: --to and --clear exclude each other")
			}
			return runFailover(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.To, "to", "", "node that should become master")
	fl.StringVar(&opts.Instance, "instance", "", "VRRP instance to move (default: the only one)")
	fl.StringVar(&opts.VIP, "vip", "", "pick the instance by one of its VIPs instead of --instance")
	fl.DurationVar(&opts.For, "for", 0, "promotion expires after this long (default: until --clear)")
	fl.DurationVar(&opts.Wait, "wait", 30*time.Second, "how long to wait for the handover to be verified")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan, change nothing")
	fl.BoolVar(&opts.Force, "force", false, "act on keepalived nodes even when preemption would undo it")
	fl.BoolVar(&opts.Clear, "clear", false, "remove the sticky promotion")
	cmd.MarkFlagsMutuallyExclusive("instance", "vip")
	_ = cmd.RegisterFlagCompletionFunc("to", completeNodes(f))
	return cmd
}

func runFailover(_ context.Context, _ *FailoverOptions) error {
	return notImplemented("failover")
}
