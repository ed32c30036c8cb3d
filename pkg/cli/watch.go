package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/pkg/watch"
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

	// Names maps source addresses and MACs to node names; nil means build
	// it from the inventory, this host's interfaces and its neighbour table.
	Names *watch.Options
	// Now is the clock for live capture; nil means time.Now.
	Now func() time.Time
}

// defaultFreeListen is how long `watch --free` listens without --duration:
// at least three intervals of keepalived's default advert_int (1 s), three
// of a 3 s one.
const defaultFreeListen = 10 * time.Second

func newCmdWatch(f *Factory, runF func(*WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "watch [--interface IF | --file CAPTURE]",
		Short: "Every VRRP router heard on a segment: VRIDs, conflicts, dual masters",
		Long: `Listen for VRRP advertisements (v2 and v3, IPv4 and IPv6) on an interface,
or read them from a tcpdump capture, and show one row per VRID and source:
version, priority, interval, VIPs, authentication, packets seen, and flags:
CONFLICT (same VRID, different VIPs, version, interval or password),
DUAL-MASTER (two sources keep advertising the same VRID and VIPs for longer
than a Master_Down_Interval: split brain), RESIGN (priority 0) and INVALID
(the validation rule a packet failed). Sources are named after inventory
nodes where their address, or their MAC through the neighbour table, says so.

On a terminal the table refreshes in place; otherwise, or with -o json, it
prints one JSON object per packet (NDJSON, see docs/json.md). --duration or
--count stop it, as does Ctrl-C; a summary goes to stderr.

Exit codes, when --duration or --count bounds the watch (live or --file) and
it ran to its end: 0 the segment was clean; 3 two masters seen (DUAL-MASTER,
split brain: as who-owns); 6 a VRID conflict seen (CONFLICT) and no two
masters (3 wins when both were seen; the summary names every finding);
1 the interface or capture could not be read. Without them (Ctrl-C, a
capture read to its end) and with --free, findings do not change the exit.

Live capture (Linux, root or CAP_NET_RAW) opens a packet socket on the
interface (all interfaces that are up without --interface), so it sees
every VRRP frame that reaches it, its own host's adverts and malformed ones
included; --file reads pcap and pcapng captures on any OS.

With --free it lists the VRIDs nobody uses on the segment, per address
family: it listens for 10s (or --duration), and longer when a router with a
long interval is heard, so that every router had three chances to speak.`,
		Example: `  # What is on eth0 right now (Ctrl-C to stop)
  hactl watch --interface eth0

  # Ten seconds, one JSON object per packet
  hactl watch --interface eth0 --duration 10s -o json

  # From a script: 0 clean, 3 two masters, 6 a VRID conflict
  hactl watch --interface eth0 --duration 10s -o json >/dev/null 2>&1; echo $?

  # Read a capture made with (tcpdump's "vrrp" alone misses IPv6):
  #   tcpdump -i eth0 -w vrrp.pcap 'ip proto 112 or ip6 proto 112'
  hactl watch --file vrrp.pcap

  # Which VRIDs can a new cluster use here?
  hactl watch --free --interface eth0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runWatch(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Interface, "interface", "", "interface to listen on (default: every interface that is up)")
	fl.StringVar(&opts.File, "file", "", "read a pcap or pcapng capture instead of the wire")
	fl.DurationVar(&opts.Duration, "duration", 0, "stop after this long (default: until Ctrl-C; 10s with --free); what it saw sets the exit code (3 two masters, 6 a VRID conflict)")
	fl.IntVar(&opts.Count, "count", 0, "stop after this many VRRP packets; what it saw sets the exit code, as with --duration")
	fl.BoolVar(&opts.Free, "free", false, "list the VRIDs nobody advertises on the segment")
	cmd.MarkFlagsMutuallyExclusive("interface", "file")
	_ = cmd.MarkFlagFilename("file", "pcap", "pcapng", "cap")
	_ = cmd.RegisterFlagCompletionFunc("interface", completeInterfaces)
	return cmd
}

// validate checks what the flags alone can get wrong.
func (opts *WatchOptions) validate() error {
	if opts.Count < 0 || opts.Duration < 0 {
		return errors.New("watch: --count and --duration cannot be negative")
	}
	return nil
}

func runWatch(ctx context.Context, opts *WatchOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	names := opts.Names
	if names == nil {
		n := watchNames(opts.Global)
		names = &n
	}
	w := newWatcher(opts, watch.NewTable(*names))
	var err error
	if opts.File != "" {
		cr, closer, oerr := openCapture(opts.File)
		if oerr != nil {
			return fmt.Errorf("watch: %w", oerr)
		}
		defer closer.Close()
		err = w.readFile(opts.File, cr)
	} else {
		err = w.listen(ctx)
	}
	if err != nil && w.seen == 0 {
		return fmt.Errorf("watch: %w", err)
	}
	if opts.Free {
		if ferr := w.printFree(); err == nil {
			err = ferr
		}
		return err
	}
	w.finish()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if (opts.Duration > 0 || opts.Count > 0) && !w.interrupted {
		if code := watchExit(w.table.Findings()); code != ExitOK {
			// The summary on stderr has named each finding.
			return WithExit(code, nil)
		}
	}
	return nil
}

// watchExit is the exit code of a watch bounded by --duration or --count
// (docs/exit-codes.md): two masters (ExitSplitBrain, as who-owns) win over
// a VRID conflict (ExitConflict), because they are an outage now while a
// conflict may still be only a misconfiguration; 0 for a clean segment.
func watchExit(fs []watch.Finding) int {
	code := ExitOK
	for _, f := range fs {
		switch f.Flag {
		case watch.FlagDualMaster:
			return ExitSplitBrain
		case watch.FlagConflict:
			code = ExitConflict
		}
	}
	return code
}
