package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/cluster"
	"github.com/hactl/hactl/pkg/resolve"
	"github.com/spf13/cobra"
)

// WhoOwnsOptions are the inputs of `hactl who-owns`.
type WhoOwnsOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
	VIP    string
	ARP    bool
	// Interface is where --arp asks (default: the route to the VIP).
	Interface string
	// ARPWait is how long --arp collects replies.
	ARPWait time.Duration

	// Nodes builds the nodes to ask (SSH, or --local).
	Nodes NodeSource
	// Resolve turns the argument into addresses.
	Resolve func(ctx context.Context, arg string) (*resolve.Result, error)
	// ARPProbe asks the segment (cluster.ARPProbe; tests replace it).
	ARPProbe func(ctx context.Context, ifname string, targets []netip.Addr, wait time.Duration) (*cluster.ARPAnswer, error)
}

func newCmdWhoOwns(f *Factory) *cobra.Command {
	opts := &WhoOwnsOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "who-owns VIP|HOSTNAME",
		Short: "Show which node holds a virtual IP right now",
		Long: `Ask every node of the cluster whether it holds the virtual IP, by exact
address match on any interface (IPv4 or IPv6, any prefix length), and
report the owner with its VRRP state. A hostname is resolved through
/etc/hosts and DNS; CNAME chains are followed and shown above the table.
A node that holds the VIP while its instance is not MASTER is flagged as a
lingering VIP.

With --arp, hactl also asks the segment which MAC addresses answer for the
VIP (Linux, needs root or CAP_NET_RAW): by ARP for an IPv4 VIP, by IPv6
neighbour solicitation for an IPv6 one. It maps the MACs to the nodes, so a
split brain shows even where SSH is down: a second answering MAC is a second
owner (exit 3). A VRRP virtual MAC (use_vmac) exists on every node of the
instance, so its answer names no one node: it is reported as shared, and
the owner is the node that holds the VIP.

Exit codes: 0 exactly one owner and every node answered; 2 no node holds
the VIP; 3 more than one node holds it (split brain); 4 some node could not
be asked and nothing worse was seen; 1 usage or resolution error.`,
		Example: `  # By hostname: resolves A/AAAA, follows CNAMEs
  hactl who-owns vip.example.com

  # By address, on named nodes only
  hactl who-owns 192.0.2.10 --nodes server01,server02

  # From a script: the exit code says one owner (0), none (2), split brain (3)
  hactl who-owns vip.example.com -o json

  # Also ask the segment by ARP from this host's eth0
  sudo hactl who-owns 192.0.2.10 --arp --interface eth0

  # IPv6: the same by neighbour solicitation
  sudo hactl who-owns 2001:db8::10 --arp

  # This host only, through the local daemon socket or netlink
  hactl who-owns 192.0.2.10 --local`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.VIP = args[0]
			opts.Nodes = newNodeSource(f.IO, f.Global, socketFlag(cmd, f.Global))
			return runWhoOwns(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.ARP, "arp", false, "also ask the segment which MAC addresses answer for the VIP: ARP for IPv4, neighbour solicitation for IPv6 (Linux, root)")
	cmd.Flags().StringVar(&opts.Interface, "interface", "", "interface for --arp (default: the one with the route to the VIP)")
	cmd.Flags().DurationVar(&opts.ARPWait, "arp-wait", time.Second, "how long --arp collects replies")
	return cmd
}

// whoOwnsDoc is the JSON document of who-owns (docs/json.md).
type whoOwnsDoc struct {
	Query      string          `json:"query"`
	Resolution *resolve.Result `json:"resolution"`
	*cluster.WhoOwnsResult
}

func runWhoOwns(ctx context.Context, o *WhoOwnsOptions) error {
	g := o.Global
	if o.Interface != "" && !o.ARP {
		return fmt.Errorf("--interface is for --arp")
	}
	resolveFn := o.Resolve
	if resolveFn == nil {
		r := &resolve.Resolver{}
		if g.DNSServer != "" {
			r.Servers = splitList(g.DNSServer)
		}
		resolveFn = r.Resolve
	}
	res, err := resolveFn(ctx, o.VIP)
	if err != nil {
		return err
	}
	set, err := o.Nodes(ctx)
	if err != nil {
		return err
	}
	defer set.Close()

	type arpOut struct {
		ans *cluster.ARPAnswer
		err error
	}
	var arpc chan arpOut
	if o.ARP {
		probe := o.ARPProbe
		if probe == nil {
			probe = cluster.ARPProbe
		}
		wait := o.ARPWait
		if wait <= 0 {
			wait = time.Second
		}
		targets := append([]netip.Addr{res.Addrs[0]}, hostAddrs(nodeHosts(set.Remote))...)
		arpc = make(chan arpOut, 1)
		go func() {
			a, err := probe(ctx, o.Interface, targets, wait)
			arpc <- arpOut{a, err}
		}()
	}

	prog := startProgress(o.IO, g, "who-owns", set.Nodes)
	result := cluster.WhoOwns(ctx, set.Nodes, res.Addrs, cluster.Options{Limit: g.Parallel, Timeout: g.Timeout, Done: prog.Done})
	prog.Stop()
	if arpc != nil {
		a := <-arpc
		result.AddARP(res.Addrs[0], a.ans, nodeHosts(set.Remote), a.err)
	}

	if g.JSON() {
		if err := writeJSON(o.IO, whoOwnsDoc{Query: o.VIP, Resolution: res, WhoOwnsResult: result}); err != nil {
			return err
		}
	} else if err := renderWhoOwns(o.IO.Out, res, result); err != nil {
		return err
	}
	if result.ARP != nil && result.ARP.Error != "" {
		fmt.Fprintf(o.IO.ErrOut, "hactl: --arp: %s\n", result.ARP.Error)
	}
	switch result.Verdict {
	case cluster.VerdictOneOwner:
		return nil
	case cluster.VerdictNoOwner:
		return WithExit(ExitNoOwner, nil)
	case cluster.VerdictSplitBrain:
		if len(result.Errors) > 0 {
			// Worse than a node that could not be asked, but say which.
			return WithExit(ExitSplitBrain, fmt.Errorf("split brain: %s; and %s", ownersText(result), unreachableError(result.Errors)))
		}
		return WithExit(ExitSplitBrain, nil)
	}
	return WithExit(ExitUnreachable, unreachableError(result.Errors))
}

func hostAddrs(m map[string]netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range m {
		out = append(out, a)
	}
	return out
}

// renderWhoOwns writes the resolution, the table and the verdict line.
func renderWhoOwns(w io.Writer, res *resolve.Result, r *cluster.WhoOwnsResult) error {
	if res.Source.Kind != resolve.SourceLiteral {
		for _, a := range res.Chain {
			fmt.Fprintln(w, a.String())
		}
		name := res.Canonical
		if name == "" {
			name = res.Name
		}
		addrs := make([]string, len(res.Addrs))
		for i, a := range res.Addrs {
			addrs[i] = a.String()
		}
		fmt.Fprintf(w, "%s has address %s (from %s)\n\n", name, strings.Join(addrs, ", "), res.Source)
	}
	t := newTable(w, "NODE", "HOLDS", "ADDRESS", "DAEMON", "INSTANCE", "STATE", "NOTE")
	for _, n := range r.Nodes {
		if !n.Reachable {
			if err := t.Append(n.Node, "?", "-", "-", "-", "-", "could not be asked"); err != nil {
				return err
			}
			continue
		}
		holdsCell, addr := "no", "-"
		if n.Holds {
			holdsCell = "yes"
			var parts []string
			for _, h := range n.Held {
				parts = append(parts, h.String())
			}
			if len(parts) > 0 {
				addr = strings.Join(parts, ", ")
			} else if n.ByARP {
				addr = "(by ARP)"
			}
		}
		daemon := n.Daemon
		if n.DaemonVersion != "" {
			daemon += " " + n.DaemonVersion
		}
		state := orDash(string(n.State))
		if n.StateInferred {
			state += " (inferred)"
		}
		if n.Lingering {
			state += " (lingering VIP)"
		}
		switch {
		case n.WithoutKey:
			state += " (VIP without the key)"
		case n.Guard != nil && n.State == api.StateMaster && !n.Guard.Held:
			state += " (no key)"
		}
		if err := t.Append(n.Node, holdsCell, addr, orDash(daemon), orDash(n.Instance), state, n.Note); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if r.ARP != nil && r.ARP.Error == "" {
		var parts []string
		for _, rep := range r.ARP.Replies {
			who := rep.Node
			switch {
			case len(rep.SharedBy) > 0:
				who = "shared by " + strings.Join(rep.SharedBy, ", ") + ": a VRRP virtual MAC, the owner is the node that holds the VIP"
			case who == "":
				who = "no known node"
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", rep.MAC, who))
		}
		if len(parts) == 0 {
			parts = []string{"nobody"}
		}
		proto := "ARP"
		if r.ARP.Protocol == cluster.ProtoNDP {
			proto = "NDP"
		}
		fmt.Fprintf(w, "\n%s on %s: %s is answered by %s\n", proto, r.ARP.Interface, r.ARP.Address, strings.Join(parts, ", "))
	}
	if g := r.Guard; g != nil {
		if noLease(r) {
			fmt.Fprintf(w, "\nguard %s: %s was last reported held by %s (no node reaches etcd now)\n", g.Guard, g.Key, holderOrNobody(g.Holder))
		} else {
			fmt.Fprintf(w, "\nguard %s: %s is held by %s (as etcd reports it)\n", g.Guard, g.Key, holderOrNobody(g.Holder))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, verdictLine(r))
	return nil
}

// noLease: every node that runs the address's guarded instance answered
// that it has no etcd lease.
func noLease(r *cluster.WhoOwnsResult) bool {
	seen := false
	for _, n := range r.Nodes {
		if n.Guard != nil {
			if n.Guard.LeaseOK {
				return false
			}
			seen = true
		}
	}
	return seen
}

func holderOrNobody(h string) string {
	if h == "" {
		return "nobody"
	}
	return h
}

func verdictLine(r *cluster.WhoOwnsResult) string {
	vip := addrList(r.Addrs)
	switch r.Verdict {
	case cluster.VerdictOneOwner:
		return "owner: " + ownersText(r)
	case cluster.VerdictNoOwner:
		if noLease(r) {
			return "no node holds " + vip + ": no node reaches etcd for its guard (docs/guard.md: the price of never two owners)"
		}
		return "no node holds " + vip
	case cluster.VerdictSplitBrain:
		if len(r.Owners) <= 1 && len(r.WithoutKey) > 0 {
			s := "split brain: " + vip + " is held by " + strings.Join(r.WithoutKey, ", ") + " without the guard key"
			if r.Guard != nil {
				s += " (" + r.Guard.Key + " is held by " + holderOrNobody(r.Guard.Holder) + ")"
			}
			return s
		}
		return "split brain: " + vip + " is held by " + ownersText(r)
	}
	s := strings.Join(r.Unreachable, ", ") + " could not be asked"
	if len(r.Owners) > 0 {
		return s + "; owner among the others: " + ownersText(r)
	}
	return s + "; no other node holds " + vip
}

// ownersText is "node3 (VI_1 MASTER)" or "node1 (VI_1 MASTER) and node2
// (VI_1 BACKUP, lingering VIP)".
func ownersText(r *cluster.WhoOwnsResult) string {
	var parts []string
	for _, o := range r.Owners {
		s := o
		for _, n := range r.Nodes {
			if n.Node != o {
				continue
			}
			var d []string
			if is := strings.TrimSpace(n.Instance + " " + string(n.State)); is != "" {
				d = append(d, is)
			}
			if n.Lingering {
				d = append(d, "lingering VIP")
			}
			if n.WithoutKey {
				d = append(d, "without the guard key")
			}
			if n.ByARP {
				d = append(d, "by ARP")
			}
			if len(d) > 0 {
				s += " (" + strings.Join(d, ", ") + ")"
			}
		}
		parts = append(parts, s)
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " or ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
