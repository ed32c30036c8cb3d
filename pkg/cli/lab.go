package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/spf13/cobra"
)

// LabOptions are the inputs of the `hactl lab` commands.
type LabOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
	Name   string
	Nodes  int
	Root   string
	All    bool
	Host   string
	Argv   []string
	// NoDaemon starts only sshd on the nodes.
	NoDaemon bool
	// Keepalived names the nodes that run keepalived instead of hactl.
	Keepalived []string
}

func newCmdLab(f *Factory) *cobra.Command {
	opts := &LabOptions{IO: f.IO, Global: f.Global}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "A demo cluster in network namespaces on this host (root)",
		Long: `Build a cluster of nodes in Linux network namespaces on this host, for
trying hactl without servers. Each node gets a port on a private bridge,
IPv4 and IPv6 addresses, and its own OpenSSH sshd. An operator namespace
reaches the nodes; lab up writes an ssh_config and an inventory that the
operator commands accept as they are. Nothing is changed in this host's own
network namespace. Needs root.`,
		Example: `  hactl lab up --nodes 3
  hactl lab status
  hactl lab exec node1 -- ip -br addr
  hactl lab exec op -- ssh -F /run/hactl-lab/demo/ssh_config node2 hostname
  hactl lab down`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&opts.Name, "name", "demo", "lab name (1-12 lowercase letters and digits)")
	cmd.PersistentFlags().StringVar(&opts.Root, "lab-root", netlab.DefaultRoot, "directory that holds the labs' files")
	_ = cmd.PersistentFlags().MarkHidden("lab-root")

	up := &cobra.Command{
		Use:   "up [--nodes N] [--name NAME]",
		Short: "Build a lab: sshd and hactl daemon on every node",
		Long: `Build a lab of N nodes in network namespaces, start sshd on each, and run
hactl daemon on each with a generated config: one instance (VI_1, VRID 51),
one VIP (10.77.0.100/24), priority 100 + i, so the last node becomes master.
Each node's files (config, state, socket, logs) are in /run/hactl-lab/NAME/NODE/.
With --keepalived, the named nodes run keepalived (/usr/sbin/keepalived) with
the same config instead. Each daemon runs under a supervisor that starts it
again when it exits; /run/hactl-lab/NAME/daemonctl stop|start|restart, run
inside a node, stops, starts or restarts it (the lab has no systemd).`,
		Example: `  hactl lab up
  hactl lab up --nodes 5 --name big
  hactl lab up --keepalived node3        # a mixed cluster: node3 runs keepalived
  hactl lab exec node3 -- /run/hactl-lab/demo/daemonctl restart`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLabUp(cmd.Context(), opts) },
	}
	up.Flags().IntVar(&opts.Nodes, "nodes", 3, "number of nodes")
	up.Flags().BoolVar(&opts.NoDaemon, "no-daemon", false, "start only sshd on the nodes, no hactl daemon")
	up.Flags().StringSliceVar(&opts.Keepalived, "keepalived", nil, "nodes that run keepalived instead of hactl daemon (node1,node3)")
	up.MarkFlagsMutuallyExclusive("no-daemon", "keepalived")

	down := &cobra.Command{
		Use:   "down [--name NAME | --all]",
		Short: "Remove a lab: its processes, namespaces and files",
		Example: `  hactl lab down
  hactl lab down --all   # every hactl lab on this host, leftovers of crashed runs included,
                         # but not labs a running test or benchmark owns`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLabDown(cmd.Context(), opts) },
	}
	down.Flags().BoolVar(&opts.All, "all", false, "remove every hactl lab on this host except those a running test or benchmark owns")

	status := &cobra.Command{
		Use:     "status [--name NAME]",
		Short:   "Show a lab's hosts, addresses and whether they are up",
		Example: "  hactl lab status\n  hactl lab status -o json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runLabStatus(cmd.Context(), opts) },
	}

	execCmd := &cobra.Command{
		Use:   "exec NODE -- CMD [ARG...]",
		Short: "Run a command inside a lab node (or op, the operator namespace)",
		Example: `  hactl lab exec node1 -- ip addr show eth0
  hactl lab exec op -- ping -c1 10.77.0.12`,
		Args: cobra.MinimumNArgs(2),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveDefault
			}
			l, err := netlab.Load(opts.Root, opts.Name)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, h := range l.Hosts() {
				names = append(names, h.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return errors.New("lab exec: write the command after --, as in: hactl lab exec node1 -- ip addr")
			}
			opts.Host, opts.Argv = args[0], args[1:]
			return runLabExec(cmd.Context(), opts)
		},
	}
	cmd.AddCommand(up, down, status, execCmd, newCmdLabSupervise())
	return cmd
}

func requireLabHost() error {
	if runtime.GOOS != "linux" {
		return netlab.ErrUnsupported
	}
	if os.Geteuid() != 0 {
		return errors.New("hactl lab needs root (it creates network namespaces); run it with sudo")
	}
	return nil
}

func runLabUp(ctx context.Context, o *LabOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	var log *slog.Logger
	if o.Global.Verbose {
		log = slog.New(slog.NewTextHandler(o.IO.ErrOut, nil))
	}
	fmt.Fprintf(o.IO.ErrOut, "building lab %s with %d nodes...\n", o.Name, o.Nodes)
	l, err := netlab.Up(ctx, netlab.Config{Name: o.Name, Nodes: o.Nodes, Root: o.Root, SSH: true, Persistent: true, Logger: log})
	if err != nil {
		return err
	}
	if !o.NoDaemon {
		if err := startLabDaemons(l, o.Keepalived); err != nil {
			_ = l.Down()
			return fmt.Errorf("lab %s: starting the daemons: %w (lab removed)", l.Name, err)
		}
	}
	if o.Global.JSON() {
		return writeJSON(o.IO, l.Status())
	}
	w := o.IO.Out
	// The hint names this binary by its path: inside the operator
	// namespace, "hactl" need not be on PATH (./hactl, a test build).
	self, err := os.Executable()
	if err != nil {
		self = "hactl"
	}
	fmt.Fprintf(w, "lab %s is up: %d nodes on %s and %s\n\n", l.Name, len(l.Nodes), l.Subnet4, l.Subnet6)
	if err := labTable(ctx, o.IO, l.Status()); err != nil {
		return err
	}
	fmt.Fprintf(w, `
Files:
  ssh_config   %s
  known_hosts  %s
  identity     %s
  inventory    %s

The nodes are reachable from the operator namespace (%s):
  hactl lab exec op -- ssh -F %s node1 ip -br addr
  hactl lab exec op -- %s status --inventory %s
  hactl lab exec op -- %s who-owns 10.77.0.100 --inventory %s
  hactl lab exec op -- %s failover --to node1 --inventory %s
  hactl lab exec op -- %s restart-safe --restart-command '%s restart' --inventory %s
Each node's daemon runs under a supervisor; inside a node, %s stop|start|restart
stops, starts or restarts it (failover --stop-command/--start-command for keepalived targets).
Tear it down with: hactl lab down --name %s
`, l.SSHConfig, l.KnownHosts, l.Identity, l.Inventory, l.Operator.Netns, l.SSHConfig, self, l.Inventory, self, l.Inventory,
		self, l.Inventory, self, labDaemonctl(l), l.Inventory, labDaemonctl(l), l.Name)
	return nil
}

func runLabDown(_ context.Context, o *LabOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	names := []string{o.Name}
	if o.All {
		names = netlab.LabNames()
	}
	var errs error
	for _, n := range names {
		// --all spares labs that a running test, benchmark or chaos run
		// owns: removing them would break that run. Name one to force it.
		if l, err := netlab.Load(o.Root, n); o.All && err == nil && l.InUse() {
			fmt.Fprintf(o.IO.ErrOut, "lab %s skipped: in use by running process %d (remove it with: hactl lab down --name %s)\n", n, l.OwnerPID, n)
			continue
		}
		if err := netlab.Destroy(o.Root, n); err != nil {
			errs = errors.Join(errs, fmt.Errorf("lab %s: %w", n, err))
			continue
		}
		fmt.Fprintf(o.IO.ErrOut, "lab %s removed\n", n)
	}
	return errs
}

func runLabStatus(ctx context.Context, o *LabOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	l, err := netlab.Load(o.Root, o.Name)
	if err != nil {
		return err
	}
	st := l.Status()
	if o.Global.JSON() {
		if err := writeJSON(o.IO, st); err != nil {
			return err
		}
	} else if err := labTable(ctx, o.IO, st); err != nil {
		return err
	}
	if !st.Healthy {
		return WithExit(ExitUnreachable, fmt.Errorf("lab %s is not healthy: some namespace or sshd is gone (rebuild: hactl lab down --name %s; hactl lab up --name %s)", l.Name, l.Name, l.Name))
	}
	return nil
}

func labTable(ctx context.Context, io *IOStreams, st netlab.LabStatus) error {
	t := newTable(io.Out, "HOST", "NETNS", "IPV4", "IPV6", "SSHD", "VRRP")
	for _, hs := range st.Hosts {
		sshd := "-"
		switch {
		case !hs.NetnsExists:
			sshd = "netns missing"
		case hs.Host.SSHDPID != 0 && hs.SSHDRunning:
			sshd = fmt.Sprintf("running (pid %d)", hs.Host.SSHDPID)
		case hs.Host.SSHDPID != 0:
			sshd = "stopped"
		}
		vrrp := "-"
		if hs.Host != st.Lab.Operator && hs.NetnsExists {
			vrrp = labDaemonState(ctx, hs.Host)
		}
		if err := t.Append(hs.Host.Name, hs.Host.Netns, hs.Host.Addr4.String(), hs.Host.Addr6.String(), sshd, vrrp); err != nil {
			return err
		}
	}
	return t.Render()
}

func runLabExec(ctx context.Context, o *LabOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	l, err := netlab.Load(o.Root, o.Name)
	if err != nil {
		return err
	}
	h, err := l.Host(o.Host)
	if err != nil {
		return err
	}
	cmd := h.Command(ctx, o.Argv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.IO.In, o.IO.Out, o.IO.ErrOut
	cmd.Env = append(os.Environ(), "HACTL_LAB="+l.Name, "HACTL_LAB_NODE="+h.Name)
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return WithExit(ee.ExitCode(), nil)
		}
		return fmt.Errorf("%s: %s: %w", h.Name, strings.Join(o.Argv, " "), err)
	}
	return nil
}

func writeJSON(io *IOStreams, v any) error {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
