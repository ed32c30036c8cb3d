package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/pkg/config"
)

// ConfigCheckOptions are the inputs of `hactl config check`.
type ConfigCheckOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
	File   string
	Strict bool
	Live   bool
	// Defaults are the paths tried when File is empty.
	Defaults []string
	// Host answers the host-dependent checks; nil means this host.
	Host config.HostChecker
}

// ConfigShowOptions are the inputs of `hactl config show`.
type ConfigShowOptions struct {
	IO       *IOStreams
	Global   *GlobalOptions
	File     string
	Defaults []string
}

// configFile returns file, or the first of defaults that exists.
func configFile(file string, defaults []string) (string, error) {
	if file != "" {
		return file, nil
	}
	for _, p := range defaults {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("no configuration file given and none of %s exists", strings.Join(defaults, ", "))
}

// loadConfig reads and validates a configuration file, with the host
// checks when host is not nil. ctx (the command's: SIGINT and SIGTERM end
// it) stops the reading.
func loadConfig(ctx context.Context, file string, host config.HostChecker) (*config.Config, config.Diagnostics, error) {
	cfg, diags, err := config.Load(file, config.LoadOptions{Context: ctx})
	if err != nil {
		return nil, nil, err
	}
	if host != nil {
		diags = append(diags, config.Check(cfg, host)...).SortByFiles(cfg.Files)
	}
	return cfg, diags, nil
}

// countWord formats "1 error" or "2 errors".
func countWord(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func newCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Validate and show keepalived-syntax configuration",
		Long: `hactl reads keepalived.conf syntax (its VRRP part). These commands validate
a config with file:line:col diagnostics and show the model hactl resolves
from it, defaults included.`,
		Example: `  hactl config check /etc/keepalived/keepalived.conf
  hactl config show -o json`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCmdConfigCheck(f), newCmdConfigShow(f))
	return cmd
}

func newCmdConfigCheck(f *Factory) *cobra.Command {
	opts := &ConfigCheckOptions{IO: f.IO, Global: f.Global, Defaults: defaultConfigPaths}
	cmd := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a config, like keepalived -t",
		Long: `Parse and validate FILE (default /etc/hactl/hactl.conf, then
/etc/keepalived/keepalived.conf) and report every problem as
file:line:col: message. Sections outside hactl's VRRP subset (virtual_server,
checkers, static routes...) are checked for syntax and listed once as ignored.

It judges as keepalived 2.2.7 does. Three kinds of finding:
  error      neither keepalived nor hactl runs the config (keepalived exits:
             a missing parameter, no virtual_router_id, a VRID in use twice);
  corrected  keepalived reports it and runs with its own correction (an
             unknown keyword skipped, an invalid value left at its default, an
             unknown state taken as BACKUP, an address or a track reference
             dropped, a missing '{'); hactl daemon runs it with the same
             correction (hactl daemon --strict refuses it);
  warning    keepalived at most notes it (words after a flag ignored,
             auth_pass truncated, SECURITY VIOLATION, nopreempt with state
             MASTER, a sync group of one, a script, user or interface missing
             on this host); both run it.
Every message says what keepalived does and what hactl does.

Host-dependent checks (interfaces exist, scripts exist and are not writable by
others, script users exist) are warnings unless --strict is given. On Linux every script the daemon
would run (tracked vrrp_scripts, notify scripts) is also prepared by the
daemon's own code, as root: a script it would refuse (not executable by its
user, or a path component owned or writable by someone other than root and
the script's user) is reported at its config line, an error under --strict.
Includes must be regular files (a FIFO or a device is refused), and one check
reads at most 1000 files and 64 MiB in all. With -o json the verdict and
every diagnostic are printed on stdout as one document (see docs/json.md).

With --live (Linux, root) a valid config is also checked against the wire:
hactl listens on each configured interface for three advert intervals (at
least 3s) and reports, per instance, whether its VRID is free, in use by
routers with the same VIPs (this cluster), or already used by another
router with different VIPs or version, which would break both clusters
(see docs/watch.md).

Exit codes: 0 valid (warnings go to stderr); 1 an error or a correction
(with --strict, a warning too), or with --live a configured VRID that
conflicts with a router on the wire.`,
		Example: `  # An existing keepalived config, unchanged
  hactl config check /etc/keepalived/keepalived.conf

  # Treat warnings (a missing interface or script among them) as errors
  hactl config check --strict /etc/hactl/hactl.conf

  # Before starting a new cluster: is any of its VRIDs taken on the segment?
  hactl config check --live /etc/keepalived/keepalived.conf`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			return runConfigCheck(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Live, "live", false, "also listen on each configured interface for a few advert intervals (Linux, root) and report configured VRIDs that another router already uses with different VIPs or version")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "warnings become errors, host-dependent ones included (interface, script or script user missing, or a script refused by the daemon's script checks)")
	return cmd
}

func newCmdConfigShow(f *Factory) *cobra.Command {
	opts := &ConfigShowOptions{IO: f.IO, Global: f.Global, Defaults: defaultConfigPaths}
	cmd := &cobra.Command{
		Use:   "show [FILE]",
		Short: "Show the resolved config with defaults filled in",
		Long: `Parse FILE (default /etc/hactl/hactl.conf, then
/etc/keepalived/keepalived.conf) and print the model hactl resolves from it:
one row per vrrp_instance, or with -o json every setting with keepalived's
defaults filled in and its corrections applied (see docs/json.md). Warnings
go to stderr; an invalid config prints its errors and exits 1.`,
		Example: `  hactl config show /etc/keepalived/keepalived.conf
  hactl config show -o json | jq '.instances[].priority'

  # Warnings and errors go to stderr; -o json prints the model only when valid
  hactl config show -o json /etc/keepalived/keepalived.conf 2>/dev/null`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			return runConfigShow(cmd.Context(), opts)
		},
	}
	return cmd
}

// configCheckResult is the JSON document of `config check -o json`.
type configCheckResult struct {
	File        string             `json:"file"`
	Valid       bool               `json:"valid"`
	Errors      int                `json:"errors"`
	Corrected   int                `json:"corrected"`
	Warnings    int                `json:"warnings"`
	Instances   int                `json:"instances"`
	Diagnostics config.Diagnostics `json:"diagnostics"`
}

func runConfigCheck(ctx context.Context, opts *ConfigCheckOptions) error {
	if opts.Live {
		return runConfigCheckLive(ctx, opts)
	}
	file, err := configFile(opts.File, opts.Defaults)
	if err != nil {
		return err
	}
	host := opts.Host
	if host == nil {
		host = config.OSHost{}
	}
	cfg, diags, err := loadConfig(ctx, file, host)
	if err != nil {
		return err
	}
	if opts.Host == nil {
		// On this host, scripts are also judged by the daemon's own rules.
		diags = withDaemonScriptChecks(cfg, diags)
	}
	if opts.Strict {
		diags = diags.AllStrict()
	}
	res := configCheckResult{
		File: file, Valid: !diags.HasErrors() && !diags.HasCorrected(), Errors: len(diags.Errors()),
		Corrected: len(diags.Corrected()), Warnings: len(diags.Warnings()),
		Instances: len(cfg.Instances), Diagnostics: diags,
	}
	if res.Diagnostics == nil {
		res.Diagnostics = config.Diagnostics{}
	}
	if opts.Global != nil && opts.Global.JSON() {
		if err := writeJSON(opts.IO, res); err != nil {
			return err
		}
	} else {
		fmt.Fprint(opts.IO.ErrOut, diags.String())
		switch {
		case res.Valid:
			fmt.Fprintf(opts.IO.Out, "%s: valid, %s, %s\n", file, countWord(res.Instances, "instance"), countWord(res.Warnings, "warning"))
		case res.Errors == 0:
			fmt.Fprintf(opts.IO.ErrOut, "%s: invalid, %s keepalived would apply (hactl daemon runs it with the same; --strict refuses it), %s\n",
				file, countWord(res.Corrected, "correction"), countWord(res.Warnings, "warning"))
		default:
			fmt.Fprintf(opts.IO.ErrOut, "%s: invalid, %s, %s, %s\n", file, countWord(res.Errors, "error"),
				countWord(res.Corrected, "correction"), countWord(res.Warnings, "warning"))
		}
	}
	if !res.Valid {
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

// loadValidConfig reads file (or the first of defaults that exists) and
// prints its diagnostics on stderr; a config with errors ends the command
// with exit 1, the count of errors and hint.
func loadValidConfig(io *IOStreams, file string, defaults []string, hint string) (string, *config.Config, error) {
	return loadValid(context.Background(), io, file, defaults, hint)
}

// loadValid is loadValidConfig stopped by ctx.
func loadValid(ctx context.Context, io *IOStreams, file string, defaults []string, hint string) (string, *config.Config, error) {
	file, err := configFile(file, defaults)
	if err != nil {
		return "", nil, err
	}
	cfg, diags, err := loadConfig(ctx, file, nil)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprint(io.ErrOut, diags.String())
	if diags.HasErrors() {
		fmt.Fprintf(io.ErrOut, "%s: invalid, %s; %s\n", file, countWord(len(diags.Errors()), "error"), hint)
		return "", nil, &ExitError{Code: ExitFailure}
	}
	return file, cfg, nil
}

func runConfigShow(ctx context.Context, opts *ConfigShowOptions) error {
	_, cfg, err := loadValid(ctx, opts.IO, opts.File, opts.Defaults, "run hactl config check")
	if err != nil {
		return err
	}
	if opts.Global != nil && opts.Global.JSON() {
		return writeJSON(opts.IO, cfg)
	}
	tb := newTable(opts.IO.Out, "INSTANCE", "INTERFACE", "VRID", "FAMILY", "VERSION", "STATE", "PRIORITY", "ADVERT", "PREEMPT", "MODE", "VIPS")
	for _, in := range cfg.Instances {
		mode := "multicast " + in.McastGroup.String()
		if in.Unicast {
			mode = "unicast " + countWord(len(in.UnicastPeers), "peer")
		}
		var vips []string
		for _, v := range in.VIPs {
			vips = append(vips, v.Prefix.String())
		}
		if n := len(in.ExcludedVIPs); n > 0 {
			vips = append(vips, fmt.Sprintf("(+%d excluded)", n))
		}
		preempt := "yes"
		if !in.Preempt {
			preempt = "no"
		} else if in.PreemptDelay > 0 {
			preempt = "after " + in.PreemptDelay.String()
		}
		if err := tb.Append(in.Name, in.Interface, strconv.Itoa(in.VRID), string(in.Family), strconv.Itoa(in.Version),
			string(in.State), strconv.Itoa(in.Priority), in.AdvertInt.String(), preempt, mode, strings.Join(vips, " ")); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	return renderGuards(opts.IO.Out, cfg)
}
