package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
)

// WatchOptions are the inputs of `hactl watch`.
type WatchOptions struct {
	IO        *IOStreams
	Global    *GlobalOptions
	Interface string
	File      string
	Duration  time.Duration
	Count     int
	Free      bool
}

func newCmdWatch(f *Factory) *cobra.Command {
	opts := &WatchOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "watch [--interface IF | --file CAPTURE]",
		Short: "Every VRRP router heard on a segment: VRIDs, conflicts, dual masters",
		Long: `Listen for VRRP advertisements (v2 and v3, IPv4 and IPv6) on an interface,
or read them from a tcpdump capture, and show one row per VRID and source:
version, priority, interval, VIPs, authentication, packets seen, and flags:
CONFLICT (same VRID, different VIPs, version or interval), DUAL-MASTER (two
sources keep advertising the same VRID), RESIGN (priority 0) and INVALID
(the validation rule a packet failed).

On a terminal the table refreshes in place; otherwise, or with -o json, it
prints one JSON object per packet (NDJSON). With --free it lists the VRIDs
nobody uses on the segment.`,
		Example: `  # What is on eth0 right now (Ctrl-C to stop)
  hactl watch --interface eth0

  # Ten seconds, one JSON object per packet
  hactl watch --interface eth0 --duration 10s -o json

  # Read a capture made with: tcpdump -i eth0 -w vrrp.pcap vrrp
  hactl watch --file vrrp.pcap

  # Which VRIDs can a new cluster use here?
  hactl watch --free --interface eth0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWatch(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Interface, "interface", "", "interface to listen on")
	fl.StringVar(&opts.File, "file", "", "read a pcap or pcapng capture instead of the wire")
	fl.DurationVar(&opts.Duration, "duration", 0, "stop after this long (default: until Ctrl-C; 10s with --free)")
	fl.IntVar(&opts.Count, "count", 0, "stop after this many packets")
	fl.BoolVar(&opts.Free, "free", false, "list the VRIDs nobody advertises on the segment")
	cmd.MarkFlagsMutuallyExclusive("interface", "file")
	_ = cmd.MarkFlagFilename("file", "pcap", "pcapng", "cap")
	return cmd
}

func runWatch(_ context.Context, _ *WatchOptions) error {
	return notImplemented("watch")
}
