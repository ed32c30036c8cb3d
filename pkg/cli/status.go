package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// StatusOptions are the inputs of `hactl status`.
type StatusOptions struct {
	IO       *IOStreams
	Global   *GlobalOptions
	Instance string
}

func newCmdStatus(f *Factory) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every node and instance: state, priorities, VIPs, trackers",
		Long: `Show one row per node and VRRP instance: the daemon running there (hactl,
keepalived or none), the instance's state, base and effective priority,
the VIPs it holds and since when, failing trackers, the VIP lease and any
sticky promotion. Silent backups are listed too.`,
		Example: `  # The whole default cluster
  hactl status

  # One inventory cluster, as JSON
  hactl status -c prod -o json

  # Named nodes (ssh_config aliases work)
  hactl status --nodes server01,server02`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Instance, "instance", "", "show only this VRRP instance")
	return cmd
}

func runStatus(_ context.Context, _ *StatusOptions) error {
	return notImplemented("status")
}
