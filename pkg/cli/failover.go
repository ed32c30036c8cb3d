package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/cluster"
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
	// Service, StopCommand and StartCommand stop and start the master's
	// daemon when the target runs keepalived.
	Service      string
	StopCommand  string
	StartCommand string

	// Nodes builds the nodes (SSH); tests replace it.
	Nodes NodeSource
	// Members turns them into members that can be changed; tests replace it.
	Members func(*nodeSet) []cluster.Member
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

--clear removes the promotions and gives mastership back to the node that
owns it by priority, through the same release handover (no moment with two
owners, no Master_Down_Interval to wait); when that node runs keepalived it
cannot take a handover, and --clear waits for VRRP's timers (and says so).

For nodes that run plain keepalived it explains what it can do (stop the
daemon on the master, wait for the target to take the VIP, start it again,
then check who holds the VIP) and refuses when preemption would bring the
VIP straight back, or another backup would take it, unless --force. The
master's daemon is stopped with "systemctl stop SERVICE" and started with
"systemctl start SERVICE" (SERVICE: --service, default keepalived, or hactl
when the master runs hactl); --stop-command and --start-command replace
them, with {node} replaced by the master's name.

Exit codes: 0 done and verified; 1 usage error or a failed pre-check;
5 a step failed part-way (the message says what state the cluster is in).`,
		Example: `  # Move the VIP to server02 and verify
  hactl failover --to server02

  # Only for the maintenance window, then back to priority order
  hactl failover --to server02 --for 2h

  # One instance of several, showing the plan only
  hactl failover --to server02 --instance VI_1 --dry-run

  # Drop the sticky promotion: mastership goes back to the node that owns it
  # by priority, through the same release handover as --to
  hactl failover --clear

  # The target runs keepalived: stop and start the master's keepalived with
  # your own commands (no systemd); --force even though it preempts
  hactl failover --to server02 --stop-command 'sudo /usr/local/sbin/vrrp stop {node}' \
      --start-command 'sudo /usr/local/sbin/vrrp start {node}' --force

  # In the lab (hactl lab up): the lab's daemonctl script
  hactl failover --to node1 --stop-command '/run/hactl-lab/demo/daemonctl stop' \
      --start-command '/run/hactl-lab/demo/daemonctl start'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.To == "" && !opts.Clear {
				return errors.New("failover: say --to NODE, or --clear")
			}
			if opts.To != "" && opts.Clear {
				return errors.New("failover: --to and --clear exclude each other")
			}
			if opts.Clear && (opts.Service != "" || opts.StopCommand != "" || opts.StartCommand != "") {
				return errors.New("failover: --service, --stop-command and --start-command go with --to (a keepalived target), not --clear")
			}
			opts.Nodes = newNodeSource(f.IO, f.Global, socketFlag(cmd, f.Global))
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
	fl.BoolVar(&opts.Clear, "clear", false, "remove the promotions and give mastership back to the node that owns it by priority")
	fl.StringVar(&opts.Service, "service", "", "keepalived target: unit to stop and start on the master with systemctl (default keepalived, or hactl when the master runs hactl)")
	fl.StringVar(&opts.StopCommand, "stop-command", "", "keepalived target: remote command that stops the master's daemon, instead of systemctl stop SERVICE ({node}: the master's name)")
	fl.StringVar(&opts.StartCommand, "start-command", "", "keepalived target: remote command that starts the master's daemon again, instead of systemctl start SERVICE ({node}: the master's name)")
	cmd.MarkFlagsMutuallyExclusive("instance", "vip")
	_ = cmd.RegisterFlagCompletionFunc("to", completeNodes(f))
	return cmd
}

func runFailover(ctx context.Context, o *FailoverOptions) error {
	if o.Global.Local {
		return errors.New("failover: --local asks one host only; failover needs every node of the cluster (drop --local)")
	}
	var vip netip.Addr
	if o.VIP != "" {
		a, err := netip.ParseAddr(o.VIP)
		if err != nil {
			return fmt.Errorf("--vip %s: not an IP address: %w", o.VIP, err)
		}
		vip = a
	}
	set, err := o.Nodes(ctx)
	if err != nil {
		return err
	}
	defer set.Close()
	res, err := cluster.Failover(ctx, members(o.Members, set), cluster.FailoverOptions{
		To: o.To, Instance: o.Instance, VIP: vip, For: o.For, Wait: o.Wait, Timeout: o.Global.Timeout, Parallel: o.Global.Parallel,
		DryRun: o.DryRun, Force: o.Force, Clear: o.Clear, Progress: progressLine(o.IO.ErrOut, "failover"),
		Service: o.Service, StopCommand: o.StopCommand, StartCommand: o.StartCommand,
	})
	return finishOperation(o.IO, o.Global, res, err, func(w io.Writer) { renderFailover(w, res) })
}

// members wraps the node set's SSH clients as cluster members.
func members(override func(*nodeSet) []cluster.Member, set *nodeSet) []cluster.Member {
	if override != nil {
		return override(set)
	}
	var out []cluster.Member
	for _, n := range set.Remote {
		out = append(out, cluster.NewSSHMember(set.Pool.Client(n)))
	}
	return out
}

// progressLine prints each step on stderr as it happens.
func progressLine(w io.Writer, what string) func(string) {
	start := time.Now()
	return func(s string) { fmt.Fprintf(w, "%s: +%5.2fs %s\n", what, time.Since(start).Seconds(), s) }
}

// finishOperation prints the result (even a partial one) and maps the
// error to its exit code: 5 stopped part-way, 4 unreachable before any
// change, 1 refused.
func finishOperation(io *IOStreams, g *GlobalOptions, res any, err error, table func(io.Writer)) error {
	var se *cluster.StoppedError
	var ue *cluster.UnreachableError
	if res != nil && !isNilResult(res) {
		if g.JSON() {
			if jerr := writeJSON(io, res); jerr != nil {
				return jerr
			}
		} else {
			table(io.Out)
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return WithExit(ExitPartial, err)
	case errors.As(err, &ue):
		return WithExit(ExitUnreachable, err)
	}
	return err
}

func isNilResult(v any) bool {
	switch r := v.(type) {
	case *cluster.FailoverResult:
		return r == nil
	case *cluster.RestartResult:
		return r == nil
	}
	return false
}

func renderFailover(w io.Writer, r *cluster.FailoverResult) {
	if r.DryRun {
		fmt.Fprintf(w, "Plan for %s (%s), dry run: nothing changed\n", r.Instance, strings.Join(r.VIPs, ", "))
		for i, p := range r.Plan {
			fmt.Fprintf(w, "  %d. %s\n", i+1, p)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		return
	}
	for _, s := range r.Steps {
		status := "ok"
		if s.Error != "" {
			status = "FAILED: " + s.Error
		}
		fmt.Fprintf(w, "%-8s %-40s %8.0f ms  %s\n", s.Node, s.Action, s.TookMS, status)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	switch {
	case r.Method == cluster.MethodClear && len(r.Owners) == 1:
		how := map[string]string{cluster.GiveBackHandover: ", given back through the release handover",
			cluster.GiveBackInPlace: " (it held it already)", cluster.GiveBackWait: ", decided by VRRP's timers"}[r.GiveBack]
		fmt.Fprintf(w, "%s: promotions cleared; %s holds %s by priority%s (%.0f ms)\n", r.Instance, r.Owners[0], strings.Join(r.VIPs, ", "), how, r.HandoverMS)
	case r.Method == cluster.MethodNone:
	case r.Method == cluster.MethodKeepalivedRestart && len(r.Owners) == 1:
		from := orDash(strings.Join(r.From, ","))
		switch {
		case len(r.Steps) == 0:
			fmt.Fprintf(w, "%s: %s holds %s; nothing done\n", r.Instance, r.Owners[0], strings.Join(r.VIPs, ", "))
		case r.Owners[0] == r.To:
			fmt.Fprintf(w, "%s: %s holds %s alone, %.0f ms after stopping %s's daemon; %s's daemon runs again as backup\n",
				r.Instance, r.To, strings.Join(r.VIPs, ", "), r.HandoverMS, from, from)
		default:
			fmt.Fprintf(w, "%s: %s held %s alone %.0f ms after stopping %s's daemon; %s holds it again now (preemption)\n",
				r.Instance, r.To, strings.Join(r.VIPs, ", "), r.HandoverMS, from, r.Owners[0])
		}
	case len(r.Owners) == 1 && r.To != "":
		until := "until hactl failover --clear"
		if r.ExpiresAt != nil {
			until = "until " + r.ExpiresAt.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s: %s holds %s alone, %.0f ms after the promotion (was %s); sticky %s\n",
			r.Instance, r.To, strings.Join(r.VIPs, ", "), r.HandoverMS, orDash(strings.Join(r.From, ",")), until)
	}
}

// operatorName is user@host, for the restart-safe lock.
func operatorName() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}
