package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// WhoOwnsOptions are the inputs of `hactl who-owns`.
type WhoOwnsOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
	VIP    string
	ARP    bool
}

func newCmdWhoOwns(f *Factory) *cobra.Command {
	opts := &WhoOwnsOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "who-owns VIP|HOSTNAME",
		Short: "Show which node holds a virtual IP right now",
		Long: `Ask every node of the cluster whether it holds the virtual IP, by exact
address match on any interface (IPv4 or IPv6, any prefix length), and
report the owner with its VRRP state. A hostname is resolved through
/etc/hosts and DNS; CNAME chains are followed and shown.

Exit codes: 0 exactly one owner and every node answered; 2 no node holds
the VIP; 3 more than one node holds it (split brain); 4 some node could not
be asked and nothing worse was seen; 1 usage or resolution error.`,
		Example: `  # By hostname: resolves A/AAAA, follows CNAMEs
  hactl who-owns vip.example.com

  # By address, on named nodes only
  hactl who-owns 192.0.2.10 --nodes server01,server02

  # From a script: the exit code says one owner (0), none (2), split brain (3)
  hactl who-owns vip.example.com -o json

  # This host only, through the local daemon socket or netlink
  hactl who-owns 192.0.2.10 --local`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.VIP = args[0]
			return runWhoOwns(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.ARP, "arp", false, "also ask the segment by ARP/ND which MAC addresses answer for the VIP")
	return cmd
}

func runWhoOwns(_ context.Context, _ *WhoOwnsOptions) error {
	return notImplemented("who-owns")
}
