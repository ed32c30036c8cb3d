package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// run executes hactl with args against buffers and a fixed environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, out, errOut := TestStreams()
	root := NewRootCmd(NewFactory(io, func(k string) string { return env[k] }))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString("hactl: " + err.Error() + "\n")
	}
	return ExitCode(err), out.String(), errOut.String()
}

// The command list of docs/cli-contract.md.
var contractCommands = [][]string{
	{"daemon"}, {"who-owns"}, {"status"}, {"failover"}, {"restart-safe"}, {"watch"},
	{"config", "check"}, {"config", "show"}, {"lab", "up"}, {"lab", "down"}, {"lab", "status"}, {"lab", "exec"},
	{"completion"}, {"version"},
}

func TestEveryContractCommandHasHelpWithExamples(t *testing.T) {
	io, _, _ := TestStreams()
	root := NewRootCmd(NewFactory(io, func(string) string { return "" }))
	for _, path := range contractCommands {
		cmd, rest, err := root.Find(path)
		if err != nil || len(rest) != 0 || cmd.Name() != path[len(path)-1] {
			t.Errorf("hactl %s: not registered (%v)", strings.Join(path, " "), err)
			continue
		}
		if cmd.Example == "" {
			t.Errorf("hactl %s: no examples in --help", strings.Join(path, " "))
		}
		if cmd.Short == "" {
			t.Errorf("hactl %s: no short description", strings.Join(path, " "))
		}
	}
	_, out, _ := run(t, nil, "--help")
	for _, want := range []string{"who-owns", "status", "failover", "restart-safe", "watch", "config", "daemon", "lab", "completion", "version", "hactl who-owns vip.example.com", "hactl failover --to server02", "hactl restart-safe --dry-run"} {
		if !strings.Contains(out, want) {
			t.Errorf("hactl --help does not mention %q", want)
		}
	}
}

func TestGlobalFlagsOfTheContract(t *testing.T) {
	io, _, _ := TestStreams()
	root := NewRootCmd(NewFactory(io, func(string) string { return "" }))
	for _, f := range []struct{ long, short string }{
		{"output", "o"}, {"nodes", ""}, {"inventory", ""}, {"cluster", "c"}, {"ssh-config", ""}, {"user", "l"},
		{"identity", "i"}, {"known-hosts", ""}, {"timeout", ""}, {"sudo", ""}, {"socket", ""}, {"local", ""},
		{"dns-server", ""}, {"verbose", "v"},
	} {
		fl := root.PersistentFlags().Lookup(f.long)
		if fl == nil {
			t.Errorf("global flag --%s missing", f.long)
			continue
		}
		if fl.Shorthand != f.short {
			t.Errorf("--%s: shorthand %q, want %q", f.long, fl.Shorthand, f.short)
		}
	}
	daemon, _, _ := root.Find([]string{"daemon"})
	for _, f := range []string{"config", "state-file", "socket", "pid-file", "log-format"} {
		if daemon.Flags().Lookup(f) == nil {
			t.Errorf("daemon flag --%s missing", f)
		}
	}
}

func TestOperationsWithoutNodesExit1(t *testing.T) {
	for _, args := range [][]string{
		{"failover", "--to", "server02", "--inventory", "/nonexistent/inventory"},
		{"restart-safe", "--dry-run", "--inventory", "/nonexistent/inventory"},
		{"failover", "--to", "server02", "--local"},
	} {
		code, _, stderr := run(t, nil, args...)
		if code != ExitFailure || stderr == "" {
			t.Errorf("hactl %s: exit %d, stderr %q; want 1 and a message", strings.Join(args, " "), code, stderr)
		}
	}
}

func TestDaemonConfigErrorsExit1(t *testing.T) {
	code, _, stderr := run(t, nil, "daemon", "-f", "/nonexistent/hactl.conf")
	if code != ExitFailure || !strings.Contains(stderr, "/nonexistent/hactl.conf") {
		t.Errorf("missing config: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "daemon", "-f", "/dev/null", "--log-format", "xml")
	if code != ExitFailure || !strings.Contains(stderr, "--log-format") {
		t.Errorf("bad log format: exit %d, stderr %q", code, stderr)
	}
}

func TestUsageErrorsExit1(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "-o", "yaml"}, "invalid --output"},
		{[]string{"failover"}, "--to NODE, or --clear"},
		{[]string{"failover", "--to", "a", "--clear"}, "exclude each other"},
		{[]string{"who-owns"}, "accepts 1 arg"},
		{[]string{"no-such-command"}, "unknown command"},
		{[]string{"completion", "tcsh"}, "unknown shell"},
	} {
		code, _, stderr := run(t, nil, tc.args...)
		if code != ExitFailure || !strings.Contains(stderr, tc.want) {
			t.Errorf("hactl %s: exit %d, stderr %q; want 1 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

func TestEnvironmentDefaultsAndFlagsWin(t *testing.T) {
	env := map[string]string{"HACTL_OUTPUT": "json"}
	code, out, _ := run(t, env, "version")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["go_version"] == "" {
		t.Fatalf("HACTL_OUTPUT=json hactl version: exit %d, %q", code, out)
	}
	code, out, _ = run(t, env, "version", "-o", "table")
	if code != 0 || !strings.HasPrefix(out, "hactl ") {
		t.Fatalf("-o table did not win over HACTL_OUTPUT: %q", out)
	}
}

func TestExitCodes(t *testing.T) {
	if got := ExitCode(nil); got != 0 {
		t.Errorf("nil: %d", got)
	}
	if got := ExitCode(WithExit(ExitSplitBrain, nil)); got != 3 {
		t.Errorf("split brain: %d", got)
	}
	if got := ExitCode(context.Canceled); got != 130 {
		t.Errorf("canceled: %d", got)
	}
	if got := ExitCode(os.ErrNotExist); got != 1 {
		t.Errorf("plain error: %d", got)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, stderr := run(t, nil, "completion", sh)
		if code != 0 || !strings.Contains(out, "hactl") {
			t.Errorf("completion %s: exit %d %s", sh, code, stderr)
		}
	}
}

func TestNodeNameCompletionFromInventory(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inventory")
	if err := os.WriteFile(inv, []byte("cluster prod default\n  server01 host=192.0.2.1\n  server02\ncluster lab\n  node1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HACTL_INVENTORY": inv}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"failover", "--to", ""}, []string{"server01", "server02"}},
		{[]string{"status", "--nodes", "server01,"}, []string{"server01,server02"}},
		{[]string{"status", "-c", "lab", "--nodes", ""}, []string{"node1"}},
		{[]string{"status", "--cluster", ""}, []string{"lab", "prod"}},
	} {
		_, out, _ := run(t, env, append([]string{cobra.ShellCompRequestCmd}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		got := lines[:len(lines)-1] // the last line is the directive
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("complete %v: got %v, want %v", tc.args, got, tc.want)
		}
	}
}
