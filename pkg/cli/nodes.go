package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/hactl/hactl/pkg/cluster"
	"github.com/hactl/hactl/pkg/inventory"
	"github.com/hactl/hactl/pkg/remote"
	"github.com/spf13/cobra"
)

// defaultSocket is the --socket default; an explicit --socket (or
// HACTL_SOCKET) overrides the inventory's per-node socket=, the default
// does not.
const defaultSocket = remote.DefaultSocket

// nodeSet is the nodes an operator command asks, and what to close after.
type nodeSet struct {
	// Nodes are the nodes to ask, in order.
	Nodes []cluster.Node
	// Remote are the SSH nodes behind Nodes (nil with --local).
	Remote []remote.Node
	// Pool holds the SSH connections (nil with --local).
	Pool *remote.Pool
}

// Close closes the SSH connections.
func (s *nodeSet) Close() {
	if s.Pool != nil {
		s.Pool.Close()
	}
}

// NodeSource builds the nodes of a command; tests replace it with fakes.
type NodeSource func(ctx context.Context) (*nodeSet, error)

// socketFlag returns the --socket value when the user set it (flag or
// HACTL_SOCKET), "" when it is the default.
func socketFlag(cmd *cobra.Command, g *GlobalOptions) string {
	if f := cmd.Flags().Lookup("socket"); (f != nil && f.Changed) || g.Socket != defaultSocket {
		return g.Socket
	}
	return ""
}

// newNodeSource returns the nodes named by the global options: --local (this
// host), else --nodes / HACTL_NODES (with their inventory settings when the
// inventory lists them), else the inventory's selected cluster. Settings
// precedence: flags > inventory node > inventory cluster > ssh_config >
// defaults (docs/ssh.md).
func newNodeSource(io *IOStreams, g *GlobalOptions, socket string) NodeSource {
	return func(ctx context.Context) (*nodeSet, error) {
		if g.Local {
			s := g.Socket
			if s == "" {
				s = defaultSocket
			}
			ln := cluster.NewLocalNode(s)
			ln.Timeout = g.Timeout
			return &nodeSet{Nodes: []cluster.Node{ln}}, nil
		}
		targets, err := nodeTargets(g)
		if err != nil {
			return nil, err
		}
		r := &remote.Resolver{Flags: inventory.Settings{
			User: g.User, Identity: g.Identity, SSHConfig: g.SSHConfig, KnownHosts: g.KnownHosts, Socket: socket,
		}}
		set := &nodeSet{}
		for _, t := range targets {
			n, err := r.Resolve(t)
			if err != nil {
				return nil, err
			}
			set.Remote = append(set.Remote, n)
		}
		cfg := remote.Config{
			Timeout:       g.Timeout,
			AcceptNewHint: "rerun with --accept-new-host-keys to record it",
			Sudo:          g.Sudo,
			Notes:         io.ErrOut,
		}
		if g.AcceptNewHK {
			cfg.HostKeyPolicy = remote.HostKeyAcceptNew
		}
		if g.Verbose {
			cfg.Logger = slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		set.Pool = remote.NewPool(cfg)
		for _, n := range set.Remote {
			set.Nodes = append(set.Nodes, cluster.NewSSHNode(set.Pool.Client(n)))
		}
		return set, nil
	}
}

// nodeTargets lists the inventory nodes to resolve, with their cluster's
// settings merged in.
func nodeTargets(g *GlobalOptions) ([]inventory.Node, error) {
	home, _ := os.UserHomeDir()
	var cl *inventory.Cluster
	path, ferr := inventory.Find(g.Inventory, home)
	if ferr == nil {
		inv, err := inventory.Load(path)
		if err != nil {
			return nil, err
		}
		if cl, err = inv.Select(g.Cluster); err != nil && (len(g.Nodes) == 0 || g.Cluster != "") {
			return nil, err
		}
	}
	if len(g.Nodes) == 0 {
		if cl == nil {
			return nil, ferr
		}
		if len(cl.Nodes) == 0 {
			return nil, fmt.Errorf("%s: cluster %s has no nodes", path, cl.Name)
		}
		out := make([]inventory.Node, 0, len(cl.Nodes))
		for _, n := range cl.Nodes {
			out = append(out, cl.Resolved(n))
		}
		return out, nil
	}
	// --nodes: each name is an inventory node of the cluster (its settings
	// apply), or a name of its own (ssh_config alias or host) that gets the
	// cluster's common settings, if there is a cluster.
	var out []inventory.Node
	seen := map[string]bool{}
	for _, name := range g.Nodes {
		if seen[name] {
			continue
		}
		seen[name] = true
		n := inventory.Node{Name: name}
		if cl != nil {
			if i := slices.IndexFunc(cl.Nodes, func(x inventory.Node) bool { return x.Name == name }); i >= 0 {
				n = cl.Nodes[i]
			}
			n = cl.Resolved(n)
		}
		out = append(out, n)
	}
	return out, nil
}

// nodeHosts maps node names to their SSH addresses, where those are IP
// literals: --arp asks for them too, to know each node's MAC address even
// when its SSH is down.
func nodeHosts(nodes []remote.Node) map[string]netip.Addr {
	out := map[string]netip.Addr{}
	for _, n := range nodes {
		if a, err := netip.ParseAddr(n.Host); err == nil {
			out[n.Name] = a.Unmap()
		}
	}
	return out
}

// unreachableError is the exit-4 error: every node that could not be
// asked, each message naming its node.
func unreachableError(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d nodes could not be asked:", len(errs))
	for _, e := range errs {
		b.WriteString("\n  " + e.Error())
	}
	return errors.New(b.String())
}
