package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/pkg/remote"
)

// GlobalOptions are the operator commands' shared flags (docs/cli-contract.md,
// "Global flags of the operator commands"). Environment variables fill them
// before flags are parsed, so an explicit flag always wins.
type GlobalOptions struct {
	Output      string
	Nodes       []string
	Inventory   string
	Cluster     string
	SSHConfig   string
	User        string
	Identity    string
	KnownHosts  string
	Timeout     time.Duration
	Parallel    int
	Sudo        bool
	Socket      string
	Local       bool
	DNSServer   string
	Verbose     bool
	AcceptNewHK bool
}

// JSON reports whether -o json was asked for.
func (g *GlobalOptions) JSON() bool { return g.Output == "json" }

// Factory is what every command constructor receives: the streams and the
// global options, filled when the command runs.
type Factory struct {
	IO     *IOStreams
	Global *GlobalOptions
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// NewFactory returns a Factory over io that reads the environment through
// getenv (os.Getenv in the binary; a fixed map in tests and doc generation,
// so generated help does not depend on the caller's environment).
func NewFactory(io *IOStreams, getenv func(string) string) *Factory {
	return &Factory{IO: io, Global: &GlobalOptions{}, Getenv: getenv}
}

// Main builds the command tree, runs it with args and returns the exit code.
// Error messages are printed here, once.
func Main(ctx context.Context, io *IOStreams, args []string) int {
	var root *cobra.Command
	if len(args) > 0 && args[0] == "daemon" {
		// The daemon runs for months: build only its own command, so that
		// the operator commands' code is never touched (less resident
		// text, a smaller peak RSS; docs/performance.md).
		root = newRootOnly(NewFactory(io, os.Getenv), newCmdDaemon)
	} else {
		root = NewRootCmd(NewFactory(io, os.Getenv))
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var ee *ExitError
		if !(asExit(err, &ee) && ee.Err == nil) {
			fmt.Fprintf(io.ErrOut, "hactl: %v\n", err)
		}
	}
	return ExitCode(err)
}

func asExit(err error, target **ExitError) bool {
	e, ok := err.(*ExitError)
	if ok {
		*target = e
	}
	return ok
}

// NewRootCmd returns the hactl command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := newRoot(f)
	root.AddGroup(
		&cobra.Group{ID: "ops", Title: "Operator commands:"},
		&cobra.Group{ID: "daemon", Title: "Daemon and configuration:"},
		&cobra.Group{ID: "lab", Title: "Lab and tooling:"},
	)
	for _, c := range []*cobra.Command{newCmdWhoOwns(f), newCmdStatus(f), newCmdFailover(f), newCmdRestartSafe(f), newCmdWatch(f, nil)} {
		c.GroupID = "ops"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newCmdDaemon(f), newCmdConfig(f)} {
		c.GroupID = "daemon"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newCmdLab(f), newCmdCompletion(f, nil), newCmdVersion(f, nil)} {
		c.GroupID = "lab"
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID("lab")
	root.SetCompletionCommandGroupID("lab")
	return root
}

// newRootOnly is the root with the global flags and one subcommand.
func newRootOnly(f *Factory, sub func(*Factory) *cobra.Command) *cobra.Command {
	root := newRoot(f)
	root.AddCommand(sub(f))
	return root
}

// newRoot is the root command and its global flags, without subcommands.
func newRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "hactl",
		Short: "Own, inspect and move keepalived-style virtual IPs",
		Long: `hactl runs VRRP for virtual IPs (a keepalived-compatible daemon that reads
keepalived.conf) and answers the operator's questions about them: who owns
the VIP, which nodes are backups, how to move mastership to a named node,
and how to restart a cluster without two masters. The operator commands
reach nodes over SSH or the daemon's local socket and also work against
nodes that still run plain keepalived.`,
		Example: `  # Which node holds the VIP behind this name?
  hactl who-owns vip.example.com

  # Every node and instance, as JSON for a script
  hactl status -o json

  # Move mastership to server02 and verify it
  hactl failover --to server02

  # Show the plan of a staggered restart without doing it
  hactl restart-safe --dry-run`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return f.Global.validate()
		},
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	addGlobalFlags(root, f)
	return root
}

func addGlobalFlags(root *cobra.Command, f *Factory) {
	g, env := f.Global, f.Getenv
	pf := root.PersistentFlags()
	pf.StringVarP(&g.Output, "output", "o", envOr(env, "HACTL_OUTPUT", "table"), "output format: table or json (env HACTL_OUTPUT)")
	pf.StringSliceVar(&g.Nodes, "nodes", splitList(env("HACTL_NODES")), "nodes to ask, comma-separated; ssh_config aliases allowed (env HACTL_NODES; default: the inventory)")
	pf.StringVar(&g.Inventory, "inventory", env("HACTL_INVENTORY"), "inventory file of named clusters (env HACTL_INVENTORY; default ~/.config/hactl/inventory, then /etc/hactl/inventory)")
	pf.StringVarP(&g.Cluster, "cluster", "c", env("HACTL_CLUSTER"), "inventory cluster to use (env HACTL_CLUSTER; default: the only or default cluster)")
	pf.StringVar(&g.SSHConfig, "ssh-config", "", "OpenSSH client config (default ~/.ssh/config)")
	pf.StringVarP(&g.User, "user", "l", "", "remote user (default: ssh_config, then the current user)")
	pf.StringVarP(&g.Identity, "identity", "i", "", "private key file (default: ssh-agent, then ssh_config)")
	pf.StringVar(&g.KnownHosts, "known-hosts", "", "known_hosts file; unknown or changed host keys are refused (default ~/.ssh/known_hosts)")
	pf.BoolVar(&g.AcceptNewHK, "accept-new-host-keys", false, "record host keys of hosts never seen before, like OpenSSH's accept-new; changed keys are still refused")
	pf.DurationVar(&g.Timeout, "timeout", 5*time.Second, "per-node connect and call time")
	pf.IntVar(&g.Parallel, "parallel", remote.DefaultLimit, "most nodes asked at once; more wait their turn (each node keeps its own --timeout)")
	pf.BoolVar(&g.Sudo, "sudo", false, "run remote commands through sudo -n")
	pf.StringVar(&g.Socket, "socket", envOr(env, "HACTL_SOCKET", "/run/hactl/hactl.sock"), "control socket, local or on the remote node (env HACTL_SOCKET)")
	pf.BoolVar(&g.Local, "local", false, "ask this host only (socket or netlink), no SSH")
	pf.StringVar(&g.DNSServer, "dns-server", "", "DNS server for VIP hostnames, host[:port] (default: /etc/resolv.conf)")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "more detail on stderr")

	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("nodes", completeNodeList(f))
	_ = root.RegisterFlagCompletionFunc("cluster", completeClusters(f))
	_ = root.MarkPersistentFlagFilename("inventory")
	_ = root.MarkPersistentFlagFilename("ssh-config")
	_ = root.MarkPersistentFlagFilename("identity")
	_ = root.MarkPersistentFlagFilename("known-hosts")
}

func (g *GlobalOptions) validate() error {
	switch g.Output {
	case "table", "json":
	default:
		return fmt.Errorf("invalid --output %q: want table or json", g.Output)
	}
	if g.Parallel < 1 {
		return fmt.Errorf("invalid --parallel %d: want at least 1", g.Parallel)
	}
	return nil
}

func envOr(env func(string) string, key, def string) string {
	if v := env(key); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
