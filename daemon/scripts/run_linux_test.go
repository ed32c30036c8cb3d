//go:build linux

package scripts

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// scriptDir returns a temporary directory that every user can traverse,
// so that scripts in it can run as nobody.
func scriptDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (file ownership and user switching)")
	}
}

func prepare(t *testing.T, r *Runner, args ...string) *Script {
	t.Helper()
	s, err := r.Prepare(config.Command{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunExitOutputArgs(t *testing.T) {
	d := scriptDir(t)
	r := New(Options{Logger: testLogger(t), Env: []string{"HACTL_TEST=1"}})
	p := writeScript(t, d, "s", `echo "argv: $0 $*"; echo "env: $(env | sort | tr '\n' ' ')"; echo err >&2; exit ${EXIT:-3}`)
	s := prepare(t, r, p, "a b", "c")
	res := r.Run(context.Background(), s, Exec{Args: []string{"INSTANCE", "VI_1"}, Label: "test", Timeout: 5 * time.Second})
	if res.OK() || res.ExitCode != 3 || res.Err != nil || res.TimedOut {
		t.Fatalf("result %+v, want exit 3", res)
	}
	out := string(res.Output)
	for _, want := range []string{"argv: " + p + " a b c INSTANCE VI_1", "err", "HACTL_TEST=1", "PATH=" + DefaultPath, "LOGNAME="} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	for _, unwanted := range []string{"GOPATH", "GOFLAGS", "TERM="} {
		if strings.Contains(out, unwanted) {
			t.Errorf("environment leaks %s: %q", unwanted, out)
		}
	}
}

func TestRunBareNameFromPath(t *testing.T) {
	r := New(Options{Logger: testLogger(t)})
	s := prepare(t, r, "true")
	if !strings.HasPrefix(s.Path, "/") {
		t.Fatalf("path %q not resolved", s.Path)
	}
	if res := r.Run(context.Background(), s, Exec{Timeout: 5 * time.Second}); !res.OK() {
		t.Fatalf("true: %+v", res)
	}
}

func TestRunOutputBounded(t *testing.T) {
	d := scriptDir(t)
	r := New(Options{Logger: testLogger(t), OutputLimit: 100})
	s := prepare(t, r, writeScript(t, d, "big", `i=0; while [ $i -lt 100 ]; do echo 0123456789; i=$((i+1)); done`))
	res := r.Run(context.Background(), s, Exec{Timeout: 5 * time.Second, Quiet: true})
	if !res.OK() || len(res.Output) != 100 || res.Dropped != 1000 {
		t.Fatalf("ok %v, %d bytes kept, %d dropped; want 100 and 1000", res.OK(), len(res.Output), res.Dropped)
	}
}

// A script that overruns its timeout is killed with everything it started.
func TestRunTimeoutKillsProcessGroup(t *testing.T) {
	d := scriptDir(t)
	pidFile := filepath.Join(d, "child.pid")
	r := New(Options{Logger: testLogger(t), KillGrace: 200 * time.Millisecond})
	s := prepare(t, r, writeScript(t, d, "slow", `sleep 30 & echo $! > `+pidFile+`; wait`))
	start := time.Now()
	res := r.Run(context.Background(), s, Exec{Timeout: 200 * time.Millisecond})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("run took %s", took)
	}
	if !res.TimedOut || res.OK() || res.Err == nil {
		t.Fatalf("result %+v, want a timeout", res)
	}
	assertGone(t, pidFile)
}

// A script that ignores SIGTERM is killed after the grace period.
func TestRunTimeoutIgnoringTERM(t *testing.T) {
	d := scriptDir(t)
	pidFile := filepath.Join(d, "child.pid")
	r := New(Options{Logger: testLogger(t), KillGrace: 200 * time.Millisecond})
	s := prepare(t, r, writeScript(t, d, "stubborn", `trap '' TERM; (trap '' TERM; sleep 30) & echo $! > `+pidFile+`; while :; do sleep 0.05; done`))
	start := time.Now()
	res := r.Run(context.Background(), s, Exec{Timeout: 200 * time.Millisecond})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("run took %s", took)
	}
	if !res.TimedOut {
		t.Fatalf("result %+v, want a timeout", res)
	}
	assertGone(t, pidFile)
}

func TestRunCancelled(t *testing.T) {
	d := scriptDir(t)
	r := New(Options{Logger: testLogger(t), KillGrace: 200 * time.Millisecond})
	s := prepare(t, r, writeScript(t, d, "slow", `sleep 30`))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res := r.Run(ctx, s, Exec{Timeout: 10 * time.Second})
	if res.TimedOut || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("result %+v, want cancelled", res)
	}
}

// assertGone waits (bounded) for the process whose pid is in file to be
// gone or a zombie.
func assertGone(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("child pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the timed-out script is still running: %s", pid, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunAsNobody(t *testing.T) {
	requireRoot(t)
	d := scriptDir(t)
	r := New(Options{Logger: testLogger(t)})
	p := writeScript(t, d, "id", `id -u; id -g; id -G; echo "$USER $HOME"`)
	s, err := r.Prepare(config.Command{Args: []string{p}, User: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	res := r.Run(context.Background(), s, Exec{Timeout: 5 * time.Second})
	if !res.OK() {
		t.Fatalf("%+v", res)
	}
	lines := strings.Split(strings.TrimSpace(string(res.Output)), "\n")
	if len(lines) != 4 || lines[0] != "65534" || lines[1] != "65534" || lines[2] != "65534" || !strings.HasPrefix(lines[3], "nobody ") {
		t.Errorf("output %q, want uid, gid and groups 65534 and user nobody", res.Output)
	}

	// script_user applies to commands without a user.
	r = New(Options{Logger: testLogger(t), ScriptUser: "nobody"})
	s = prepare(t, r, p)
	if res := r.Run(context.Background(), s, Exec{Timeout: 5 * time.Second}); !strings.HasPrefix(string(res.Output), "65534\n") {
		t.Errorf("script_user nobody: output %q", res.Output)
	}
}

func TestPrepareRefusesUnsafeScripts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir, script string)
		user      string
		component string // "script", "dir" or "" for accepted
		reason    string
	}{
		{name: "safe", setup: func(*testing.T, string, string) {}},
		{name: "world writable", setup: func(t *testing.T, _, s string) { chmod(t, s, 0o757) }, component: "script", reason: "writable by every user"},
		{name: "group writable", setup: func(t *testing.T, _, s string) { chmod(t, s, 0o775); chown(t, s, 0, 65534) }, component: "script", reason: "writable by group 65534"},
		{name: "owned by another user", setup: func(t *testing.T, _, s string) { chown(t, s, 65534, 0) }, component: "script", reason: "owned by uid 65534"},
		{name: "owned by the runner", setup: func(t *testing.T, _, s string) { chown(t, s, 65534, 65534) }, user: "nobody"},
		{name: "directory world writable", setup: func(t *testing.T, d, _ string) { chmod(t, d, 0o777) }, component: "dir", reason: "writable by every user"},
		{name: "directory sticky", setup: func(t *testing.T, d, _ string) { chmod(t, d, 0o777|os.ModeSticky) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := scriptDir(t)
			s := writeScript(t, d, "check", "exit 0")
			tt.setup(t, d, s)
			var logs strings.Builder
			r := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			_, err := r.Prepare(config.Command{Args: []string{s}, User: tt.user})
			if tt.component == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			want := map[string]string{"script": s, "dir": d}[tt.component]
			var ie *InsecureError
			if !errors.As(err, &ie) || ie.Component != want || !strings.Contains(ie.Reason, tt.reason) {
				t.Fatalf("err = %v, want %s %s", err, want, tt.reason)
			}
			if l := logs.String(); !strings.Contains(l, "script refused") || !strings.Contains(l, want) {
				t.Errorf("log line %q should name the refusal and %s", l, want)
			}
			// AllowInsecure turns the refusal into a warning.
			r = New(Options{AllowInsecure: true})
			sc, err := r.Prepare(config.Command{Args: []string{s}, User: tt.user})
			if err != nil || sc.Warning == nil {
				t.Errorf("AllowInsecure: %v, warning %v", err, sc)
			}
		})
	}
}

func TestPrepareRefusesNonExecutable(t *testing.T) {
	d := scriptDir(t)
	p := filepath.Join(d, "plain")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(Options{})
	for _, args := range [][]string{{p}, {filepath.Join(d, "missing")}, {d}, {"no-such-command-hactl"}} {
		if _, err := r.Prepare(config.Command{Args: args}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string, uid, gid int) {
	t.Helper()
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
}
