package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/cluster"
	"github.com/spf13/cobra"
)

// StatusOptions are the inputs of `hactl status`.
type StatusOptions struct {
	IO       *IOStreams
	Global   *GlobalOptions
	Instance string

	// Nodes builds the nodes to ask (SSH, or --local).
	Nodes NodeSource
	// Now is the clock for the SINCE column (default time.Now).
	Now func() time.Time
}

func newCmdStatus(f *Factory) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every node and instance: state, priorities, VIPs, trackers",
		Long: `Show one row per node and VRRP instance: the daemon running there (hactl,
keepalived or none), the instance's state, base and effective priority,
the VIPs it holds and since when, failing trackers, the VIP lease and any
sticky promotion. Silent backups are listed too.

hactl nodes answer through their control socket; keepalived nodes through
keepalived's own JSON dump (which needs root on the node: log in as root or
use --sudo), else their state is inferred from the VIPs they hold and marked
so. A node that could not be asked gets a row of its own and exit code 4.`,
		Example: `  # The whole default cluster
  hactl status

  # One inventory cluster, as JSON
  hactl status -c prod -o json

  # Named nodes (ssh_config aliases work)
  hactl status --nodes server01,server02`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Nodes = newNodeSource(f.IO, f.Global, socketFlag(cmd, f.Global))
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Instance, "instance", "", "show only this VRRP instance")
	return cmd
}

func runStatus(ctx context.Context, o *StatusOptions) error {
	set, err := o.Nodes(ctx)
	if err != nil {
		return err
	}
	defer set.Close()
	prog := startProgress(o.IO, o.Global, "status", set.Nodes)
	res := cluster.Status(ctx, set.Nodes, cluster.StatusOptions{
		Options:  cluster.Options{Limit: o.Global.Parallel, Timeout: o.Global.Timeout, Done: prog.Done},
		Instance: o.Instance,
	})
	prog.Stop()
	if o.Global.JSON() {
		if err := writeJSON(o.IO, res); err != nil {
			return err
		}
	} else {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		if err := renderStatus(o.IO.Out, res, now()); err != nil {
			return err
		}
		for _, n := range res.Nodes {
			if n.Daemon != nil && n.Daemon.Note != "" {
				fmt.Fprintf(o.IO.ErrOut, "hactl: %s: %s\n", n.Node, n.Daemon.Note)
			}
		}
	}
	if len(res.Errors) > 0 {
		return WithExit(ExitUnreachable, unreachableError(res.Errors))
	}
	return nil
}

func renderStatus(w io.Writer, res *cluster.StatusResult, now time.Time) error {
	cols := []string{"NODE", "DAEMON", "INSTANCE", "STATE", "PRIO", "EFF", "VIPS HELD", "SINCE", "FAILING", "LEASE", "PROMOTION", "RESTORED", "CONFLICT"}
	// The GUARD column only when some instance is guarded: unguarded
	// clusters see the table they always saw.
	guarded := false
	for _, n := range res.Nodes {
		if n.Daemon != nil {
			for _, in := range n.Daemon.Instances {
				guarded = guarded || in.Guard != nil
			}
		}
	}
	if guarded {
		cols = append(cols, "GUARD")
	}
	t := newTable(w, cols...)
	row := func(cells ...string) error {
		if !guarded {
			cells = cells[:len(cells)-1]
		}
		return t.Append(cells...)
	}
	for _, n := range res.Nodes {
		if !n.Reachable {
			if err := row(n.Node, "?", "-", "unreachable", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"); err != nil {
				return err
			}
			continue
		}
		d := n.Daemon
		daemon := d.Kind
		if d.Version != "" {
			daemon += " " + d.Version
		}
		if len(d.Instances) == 0 {
			state := "-"
			if d.Kind == cluster.DaemonKeepalived {
				state = "unknown (see below)"
			}
			if err := row(n.Node, daemon, "-", state, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"); err != nil {
				return err
			}
			continue
		}
		for _, in := range d.Instances {
			state := string(in.State)
			if in.StateInferred {
				state += " (inferred)"
			}
			if g := in.Guard; g != nil && g.NoKey {
				state += " (no key)"
			}
			held := make([]string, len(in.Held))
			for i, a := range in.Held {
				held[i] = a.String()
			}
			if err := row(n.Node, daemon, in.Name, state,
				strconv.Itoa(in.BasePriority), strconv.Itoa(in.EffectivePriority),
				orDash(strings.Join(held, ",")), since(in.Since, now), orDash(strings.Join(in.FailingTrackers, ",")),
				lease(in.LeaseSeconds), promotion(in, now), restored(in, now), conflicts(in.Conflicts), guardCell(in.Guard)); err != nil {
				return err
			}
		}
	}
	return t.Render()
}

// guardCell is the GUARD column: the guard, and who holds the key as etcd
// reports it ("G: key held", "G: held by node2", "G: held by nobody"), or
// that this node cannot reach etcd ("G: no etcd lease").
func guardCell(g *api.InstanceGuard) string {
	switch {
	case g == nil:
		return "-"
	case g.Held:
		return g.Guard + ": key held"
	case !g.LeaseOK:
		return g.Guard + ": no etcd lease"
	}
	return g.Guard + ": held by " + holderOrNobody(g.Holder)
}

// restored is how many VIPs deleted by someone else while master the
// daemon put back, and how long ago the last one went ("2, 45s ago").
func restored(in cluster.Instance, now time.Time) string {
	if in.VIPsRestored == 0 {
		return "-"
	}
	s := strconv.FormatUint(in.VIPsRestored, 10)
	if in.LastVIPDeleted != nil {
		s += ", " + age(now.Sub(*in.LastVIPDeleted)) + " ago"
	}
	return s
}

// conflicts names the sources that advertise the instance's VRID
// differently and how ("10.0.0.7 vips,interval").
func conflicts(cs []api.Conflict) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Source+" "+strings.Join(c.Differences, ","))
	}
	return orDash(strings.Join(out, "; "))
}

// since is the age of t, as kubectl shows it ("45s", "12m", "3h", "5d").
func since(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return age(now.Sub(t))
}

func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func lease(s *int) string {
	switch {
	case s == nil:
		return "-"
	case *s == 0:
		return "permanent"
	}
	return strconv.Itoa(*s) + "s"
}

func promotion(in cluster.Instance, now time.Time) string {
	p := in.Promotion
	if p == nil {
		return "-"
	}
	if p.ExpiresAt.IsZero() {
		return "sticky"
	}
	return "for " + age(p.ExpiresAt.Sub(now))
}
