package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/spf13/cobra"
)

// LabTarget names the lab a `hactl lab` command works on: the lab
// command's persistent flags, shared by its subcommands' options.
type LabTarget struct {
	Name string
	Root string
}

// LabUpOptions are the inputs of `hactl lab up`.
type LabUpOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
	Lab    *LabTarget
	Nodes  int
	// NoDaemon starts only sshd on the nodes.
	NoDaemon bool
	// Keepalived names the nodes that run keepalived instead of hactl.
	Keepalived []string
}

// LabDownOptions are the inputs of `hactl lab down`.
type LabDownOptions struct {
	IO  *IOStreams
	Lab *LabTarget
	All bool
}

// LabStatusOptions are the inputs of `hactl lab status`.
type LabStatusOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
	Lab    *LabTarget
}

// LabExecOptions are the inputs of `hactl lab exec`.
type LabExecOptions struct {
	IO   *IOStreams
	Lab  *LabTarget
	Host string
	Argv []string
}

// LabSuperviseOptions are the inputs of the hidden `hactl lab supervise`.
type LabSuperviseOptions struct {
	HoldFile string
	PIDFile  string
	Argv     []string
}

func newCmdLab(f *Factory) *cobra.Command {
	target := &LabTarget{}
	cmd := newCmdLabParent(target)
	cmd.AddCommand(newCmdLabUp(f, target, nil), newCmdLabDown(f, target, nil), newCmdLabStatus(f, target, nil),
		newCmdLabExec(f, target, nil), newCmdLabSupervise(nil))
	return cmd
}

// newCmdLabParent is `hactl lab` and its persistent flags, which fill
// target, without subcommands.
func newCmdLabParent(target *LabTarget) *cobra.Command {
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
	cmd.PersistentFlags().StringVar(&target.Name, "name", "demo", "lab name (1-12 lowercase letters and digits)")
	cmd.PersistentFlags().StringVar(&target.Root, "lab-root", netlab.DefaultRoot, "directory that holds the labs' files")
	_ = cmd.PersistentFlags().MarkHidden("lab-root")
	return cmd
}

func newCmdLabUp(f *Factory, target *LabTarget, runF func(*LabUpOptions) error) *cobra.Command {
	opts := &LabUpOptions{IO: f.IO, Global: f.Global, Lab: target}
	cmd := &cobra.Command{
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLabUp(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Nodes, "nodes", 3, "number of nodes")
	cmd.Flags().BoolVar(&opts.NoDaemon, "no-daemon", false, "start only sshd on the nodes, no hactl daemon")
	cmd.Flags().StringSliceVar(&opts.Keepalived, "keepalived", nil, "nodes that run keepalived instead of hactl daemon (node1,node3)")
	cmd.MarkFlagsMutuallyExclusive("no-daemon", "keepalived")
	return cmd
}

// validate checks what the flags alone can get wrong, before a lab is
// built: the number of nodes, and that --keepalived names nodes of it
// (netlab checks both too).
func (opts *LabUpOptions) validate() error {
	if opts.Nodes < 1 || opts.Nodes > netlab.MaxNodes {
		return fmt.Errorf("lab %s: %d nodes: want 1 to %d", opts.Lab.Name, opts.Nodes, netlab.MaxNodes)
	}
	for _, n := range opts.Keepalived {
		ok := false
		for i := 1; i <= opts.Nodes && !ok; i++ {
			ok = n == netlab.NodeName(i)
		}
		if !ok {
			return fmt.Errorf("--keepalived %s: not a node of the lab (node1..node%d)", n, opts.Nodes)
		}
	}
	return nil
}

func newCmdLabDown(f *Factory, target *LabTarget, runF func(*LabDownOptions) error) *cobra.Command {
	opts := &LabDownOptions{IO: f.IO, Lab: target}
	cmd := &cobra.Command{
		Use:   "down [--name NAME | --all]",
		Short: "Remove a lab: its processes, namespaces and files",
		Example: `  hactl lab down
  hactl lab down --all   # every hactl lab on this host, leftovers of crashed runs included,
                         # but not labs a running test or benchmark owns`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runLabDown(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "remove every hactl lab on this host except those a running test or benchmark owns")
	return cmd
}

func newCmdLabStatus(f *Factory, target *LabTarget, runF func(*LabStatusOptions) error) *cobra.Command {
	opts := &LabStatusOptions{IO: f.IO, Global: f.Global, Lab: target}
	return &cobra.Command{
		Use:     "status [--name NAME]",
		Short:   "Show a lab's hosts, addresses and whether they are up",
		Example: "  hactl lab status\n  hactl lab status -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runLabStatus(cmd.Context(), opts)
		},
	}
}

func newCmdLabExec(f *Factory, target *LabTarget, runF func(*LabExecOptions) error) *cobra.Command {
	opts := &LabExecOptions{IO: f.IO, Lab: target}
	return &cobra.Command{
		Use:   "exec NODE -- CMD [ARG...]",
		Short: "Run a command inside a lab node (or op, the operator namespace)",
		Example: `  hactl lab exec node1 -- ip addr show eth0
  hactl lab exec op -- ping -c1 10.77.0.12`,
		Args: cobra.MinimumNArgs(2),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveDefault
			}
			l, err := netlab.Load(target.Root, target.Name)
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
			if runF != nil {
				return runF(opts)
			}
			return runLabExec(cmd.Context(), opts)
		},
	}
}

// newCmdLabSupervise is the hidden supervisor (netlab.Supervise): it runs
// ARGV and starts it again each time it exits, unless the hold file exists
// (then it waits until it is removed), until it gets SIGTERM or SIGINT
// itself (then it forwards the signal and exits once the child has).
func newCmdLabSupervise(runF func(*LabSuperviseOptions) error) *cobra.Command {
	opts := &LabSuperviseOptions{}
	cmd := &cobra.Command{
		Use:    "supervise [--hold-file FILE] [--pid-file FILE] -- CMD [ARG...]",
		Short:  "Run a command and restart it whenever it exits (the lab's stand-in for systemd)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Argv = args
			if runF != nil {
				return runF(opts)
			}
			return netlab.Supervise(netlab.SuperviseConfig{Argv: opts.Argv, HoldFile: opts.HoldFile, PIDFile: opts.PIDFile})
		},
	}
	cmd.Flags().StringVar(&opts.HoldFile, "hold-file", "", "do not start the command while this file exists")
	cmd.Flags().StringVar(&opts.PIDFile, "pid-file", "", "keep the running command's pid in this file")
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

func runLabUp(ctx context.Context, o *LabUpOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	var log *slog.Logger
	if o.Global.Verbose {
		log = slog.New(slog.NewTextHandler(o.IO.ErrOut, nil))
	}
	fmt.Fprintf(o.IO.ErrOut, "building lab %s with %d nodes...\n", o.Lab.Name, o.Nodes)
	l, err := netlab.Up(ctx, netlab.Config{Name: o.Lab.Name, Nodes: o.Nodes, Root: o.Lab.Root, SSH: true, Persistent: true, Logger: log})
	if err != nil {
		return err
	}
	// The hint below and the supervisors name this binary by its path:
	// inside a namespace, "hactl" need not be on PATH (./hactl, a test
	// build).
	self, selfErr := os.Executable()
	if !o.NoDaemon {
		err := selfErr
		if err == nil {
			err = l.StartDemoDaemons(self, o.Keepalived)
		}
		if err != nil {
			_ = l.Down()
			return fmt.Errorf("lab %s: starting the daemons: %w (lab removed)", l.Name, err)
		}
	}
	if o.Global.JSON() {
		return writeJSON(o.IO, l.Status())
	}
	w := o.IO.Out
	if selfErr != nil {
		self = "hactl"
	}
	fmt.Fprintf(w, "lab %s is up: %d nodes on %s and %s\n\n", l.Name, len(l.Nodes), l.Subnet4, l.Subnet6)
	if err := labTable(ctx, o.IO, l.Status()); err != nil {
		return err
	}
	fmt.Fprintln(w)
	writeLabFiles(w, l)
	fmt.Fprintf(w, `The nodes are reachable from the operator namespace (%s):
  hactl lab exec op -- ssh -F %s node1 ip -br addr
  hactl lab exec op -- %s status --inventory %s
  hactl lab exec op -- %s who-owns 10.77.0.100 --inventory %s
  hactl lab exec op -- %s failover --to node1 --inventory %s
  hactl lab exec op -- %s restart-safe --restart-command '%s restart' --inventory %s
Each node's daemon runs under a supervisor; inside a node, %s stop|start|restart
stops, starts or restarts it (failover --stop-command/--start-command for keepalived targets).
Tear it down with: hactl lab down --name %s
`, l.Operator.Netns, l.SSHConfig, self, l.Inventory, self, l.Inventory,
		self, l.Inventory, self, l.Daemonctl(), l.Inventory, l.Daemonctl(), l.Name)
	return nil
}

func runLabDown(_ context.Context, o *LabDownOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	names := []string{o.Lab.Name}
	if o.All {
		names = netlab.LabNames()
	}
	var errs error
	for _, n := range names {
		// --all spares labs that a running test, benchmark or chaos run
		// owns: removing them would break that run. Name one to force it.
		if l, err := netlab.Load(o.Lab.Root, n); o.All && err == nil && l.InUse() {
			fmt.Fprintf(o.IO.ErrOut, "lab %s skipped: in use by running process %d (remove it with: hactl lab down --name %s)\n", n, l.OwnerPID, n)
			continue
		}
		if err := netlab.Destroy(o.Lab.Root, n); err != nil {
			errs = errors.Join(errs, fmt.Errorf("lab %s: %w", n, err))
			continue
		}
		fmt.Fprintf(o.IO.ErrOut, "lab %s removed\n", n)
	}
	return errs
}

func runLabStatus(ctx context.Context, o *LabStatusOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	l, err := netlab.Load(o.Lab.Root, o.Lab.Name)
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
			vrrp = netlab.DaemonState(ctx, hs.Host)
		}
		if err := t.Append(hs.Host.Name, hs.Host.Netns, hs.Host.Addr4.String(), hs.Host.Addr6.String(), sshd, vrrp); err != nil {
			return err
		}
	}
	return t.Render()
}

func runLabExec(ctx context.Context, o *LabExecOptions) error {
	if err := requireLabHost(); err != nil {
		return err
	}
	l, err := netlab.Load(o.Lab.Root, o.Lab.Name)
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

// labFile is one line of lab up's "Files:" list.
type labFile struct{ label, path string }

// labFiles lists what the lab wrote, in the order an operator needs them,
// each only if it exists: the client files, the scripts, lab.json, and
// the files each node's directory holds (their names, once).
func labFiles(l *netlab.Lab) []labFile {
	var out []labFile
	add := func(label, path string) {
		if path == "" {
			return
		}
		if _, err := os.Stat(path); err == nil {
			out = append(out, labFile{label, path})
		}
	}
	add("ssh_config", l.SSHConfig)
	add("known_hosts", l.KnownHosts)
	add("identity", l.Identity)
	if l.Identity != "" {
		add("public key", l.Identity+".pub")
	}
	add("inventory", l.Inventory)
	if l.Dir != "" {
		add("authorized keys", filepath.Join(l.Dir, "authorized_keys"))
		add("daemonctl", l.Daemonctl())
		add("restart script", l.RestartScript())
		add("lab state", filepath.Join(l.Dir, "lab.json"))
	}
	// Each node's directory: configs, logs, state, sshd's files; pid
	// files and sockets are the running processes', not the operator's.
	names := map[string]bool{}
	for _, h := range l.Nodes {
		ents, err := os.ReadDir(h.Dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if n := e.Name(); e.Type().IsRegular() && !strings.HasSuffix(n, ".pid") && !strings.HasSuffix(n, ".pub") {
				names[n] = true
			}
		}
	}
	if len(names) > 0 && l.Dir != "" {
		out = append(out, labFile{"each node", filepath.Join(l.Dir, "NODE") + "/{" + strings.Join(slices.Sorted(maps.Keys(names)), ",") + "}"})
	}
	return out
}

// writeLabFiles writes the "Files:" list, or nothing when the lab wrote
// none (a heading over an empty list says nothing).
func writeLabFiles(w io.Writer, l *netlab.Lab) {
	fs := labFiles(l)
	if len(fs) == 0 {
		return
	}
	width := 0
	for _, f := range fs {
		width = max(width, len(f.label))
	}
	fmt.Fprintln(w, "Files:")
	for _, f := range fs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, f.label, f.path)
	}
	fmt.Fprintln(w)
}
