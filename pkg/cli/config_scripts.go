package cli

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/pkg/config"
)

// daemonScriptChecks prepares every script the daemon would prepare for
// cfg (each tracked vrrp_script, each notify script) with the daemon's own
// code, daemon/scripts' Runner.Prepare: the script exists, is a regular
// file executable by its user, and passes the script-security rule (no
// path component writable or owned by anyone but root and the runner). It
// judges as the daemon, which runs as root, whoever runs config check.
// Each refusal is a host-dependent warning at the script's config line,
// an error under --strict: the daemon drops such a vrrp_script from the
// instances that track it (they run without it), as keepalived drops a
// script it cannot run or finds insecure, and skips such a notify script.
// A script user that does not exist is one such refusal: keepalived
// reports it and drops the script too. On systems other than Linux, where the
// daemon does not run, it finds nothing.
func daemonScriptChecks(cfg *config.Config) config.Diagnostics {
	if runtime.GOOS != "linux" {
		return nil
	}
	opts := scripts.FromGlobal(cfg.Global, nil)
	opts.AsRoot = true
	runner := scripts.New(opts)
	var out config.Diagnostics
	seen := map[string]bool{}
	check := func(what string, cmd *config.Command) {
		if cmd == nil || len(cmd.Args) == 0 {
			return
		}
		key := strings.Join(cmd.Args, "\x00") + "\x01" + cmd.User + "\x01" + cmd.Group
		if seen[key] {
			return
		}
		seen[key] = true
		_, err := runner.Prepare(*cmd)
		if err == nil || errors.Is(err, scripts.ErrUnsupported) {
			return
		}
		out = append(out, config.Diagnostic{Pos: cmd.Pos, Severity: config.SeverityWarning, HostDependent: true,
			Message: fmt.Sprintf("%s: hactl daemon refuses this script: %v", what, err)})
	}
	byName := map[string]*config.Script{}
	for _, s := range cfg.Scripts {
		byName[s.Name] = s
	}
	for _, k := range track.Used(cfg) {
		if s := byName[k.Name]; k.Kind == track.KindScript && s != nil {
			check("vrrp_script "+s.Name+" (dropped: the instances tracking it run without it, as keepalived drops it)", &s.Command)
		}
	}
	for _, t := range notify.Targets(cfg) {
		for _, n := range []struct {
			name string
			cmd  *config.Command
		}{{"notify_master", t.Scripts.Master}, {"notify_backup", t.Scripts.Backup}, {"notify_fault", t.Scripts.Fault},
			{"notify_stop", t.Scripts.Stop}, {"notify", t.Scripts.Any}} {
			check(fmt.Sprintf("%s of %s %s (it would be skipped)", n.name, strings.ToLower(string(t.Kind)), t.Name), n.cmd)
		}
	}
	return out
}

// withDaemonScriptChecks adds daemonScriptChecks' findings to diags, in
// place of the generic host check's findings on the same script lines (the
// daemon's say more: which component, which rule).
func withDaemonScriptChecks(cfg *config.Config, diags config.Diagnostics) config.Diagnostics {
	found := daemonScriptChecks(cfg)
	if len(found) == 0 {
		return diags
	}
	at := map[config.Pos]bool{}
	for _, d := range found {
		at[d.Pos] = true
	}
	out := diags[:0]
	for _, d := range diags {
		if d.HostDependent && at[d.Pos] && strings.HasPrefix(d.Message, "script ") {
			continue
		}
		out = append(out, d)
	}
	return append(out, found...).SortByFiles(cfg.Files)
}
