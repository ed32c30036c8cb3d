//go:build linux

package notify

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
)

type testWriter struct {
	t  testing.TB
	mu *sync.Mutex
	b  *strings.Builder
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	w.mu.Lock()
	w.b.Write(p)
	w.mu.Unlock()
	return len(p), nil
}

type fixture struct {
	dir  string
	log  string // the file every script appends its argv to
	n    *Notifier
	mu   sync.Mutex
	logs strings.Builder
}

// newFixture returns a notifier whose scripts live in a temporary
// directory; every script appends "NAME ARGS" to f.log.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.log = filepath.Join(f.dir, "calls")
	logger := slog.New(slog.NewTextHandler(testWriter{t, &f.mu, &f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Logger = logger
	opts.Runner = scripts.New(scripts.Options{Logger: logger, KillGrace: 100 * time.Millisecond})
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.n = n
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	return f
}

// script writes an executable that records its name and arguments, then
// runs extra.
func (f *fixture) script(t *testing.T, path, extra string) string {
	t.Helper()
	body := "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> " + f.log + "\n" + extra + "\n"
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f *fixture) cmd(t *testing.T, name, extra string) *config.Command {
	return &config.Command{Args: []string{f.script(t, filepath.Join(f.dir, name), extra)}}
}

func (f *fixture) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, strings.TrimSpace(l))
	}
	return out
}

func (f *fixture) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.n.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyOrderAndArguments(t *testing.T) {
	f := newFixture(t, Options{Timeout: 300 * time.Millisecond})
	md := filepath.Join(f.dir, "master.d")
	if err := os.Mkdir(md, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"10-a", "2-b", "B", "Z-z", "_under", "a.sh", "c~", ".hidden", "x.dpkg-old"} {
		f.script(t, filepath.Join(md, name), "")
	}
	f.script(t, filepath.Join(md, "3-fails"), "exit 7")
	f.script(t, filepath.Join(md, "4-hangs"), "sleep 30")
	if err := os.WriteFile(filepath.Join(md, "1-noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(md, "0-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	unsafe := f.script(t, filepath.Join(md, "5-unsafe"), "")
	if err := os.Chmod(unsafe, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(f.dir, "any"), filepath.Join(md, "6-link")); err != nil {
		t.Fatal(err)
	}

	err := f.n.Configure([]Target{
		{Kind: Instance, Name: "VI_1", MasterDir: md, Scripts: config.Notify{
			Master: f.cmd(t, "master", ""), Backup: f.cmd(t, "backup", ""), Fault: f.cmd(t, "fault", ""), Stop: f.cmd(t, "stop", ""),
			Any: &config.Command{Args: []string{f.script(t, filepath.Join(f.dir, "any"), ""), "first arg"}}}},
		{Kind: Group, Name: "G1", Scripts: config.Notify{Any: f.cmd(t, "gany", ""), Master: f.cmd(t, "gmaster", "")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 100})
	f.flush(t)
	want := []string{
		"master",
		"any first arg INSTANCE VI_1 MASTER 100",
		"10-a INSTANCE VI_1 MASTER 100",
		"2-b INSTANCE VI_1 MASTER 100",
		"3-fails INSTANCE VI_1 MASTER 100",
		"4-hangs INSTANCE VI_1 MASTER 100",
		"6-link INSTANCE VI_1 MASTER 100",
		"B INSTANCE VI_1 MASTER 100",
		"Z-z INSTANCE VI_1 MASTER 100",
		"_under INSTANCE VI_1 MASTER 100",
	}
	if got := f.calls(t); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	logs := f.logs.String()
	for _, w := range []string{"exited with status 7", "timed out", "5-unsafe", "writable by every user"} {
		if !strings.Contains(logs, w) {
			t.Errorf("logs lack %q", w)
		}
	}

	os.Remove(f.log)
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Backup, Priority: 90})
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Fault, Priority: 90})
	f.n.Notify(Change{Kind: Group, Name: "G1", State: Master, Priority: 77})
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Stop, Priority: 90})
	f.flush(t)
	got := f.calls(t)
	var vi, g []string
	for _, c := range got {
		if strings.Contains(c, "G1") || strings.HasPrefix(c, "gmaster") {
			g = append(g, c)
		} else {
			vi = append(vi, c)
		}
	}
	wantVI := []string{"backup", "any first arg INSTANCE VI_1 BACKUP 90", "fault", "any first arg INSTANCE VI_1 FAULT 90", "stop", "any first arg INSTANCE VI_1 STOP 90"}
	wantG := []string{"gmaster", "gany GROUP G1 MASTER 0"}
	if !slices.Equal(vi, wantVI) || !slices.Equal(g, wantG) {
		t.Errorf("instance calls %q\nwant %q\ngroup calls %q\nwant %q", vi, wantVI, g, wantG)
	}
}

// Notify never blocks, and a full queue drops the oldest waiting change.
func TestNotifyNeverBlocksAndDropsOldest(t *testing.T) {
	f := newFixture(t, Options{QueueLen: 2, Timeout: 5 * time.Second})
	gate := filepath.Join(f.dir, "gate")
	// The notify script waits for the gate file (at most 3 s).
	wait := `i=0; while [ ! -e ` + gate + ` ] && [ $i -lt 300 ]; do sleep 0.01; i=$((i+1)); done`
	if err := f.n.Configure([]Target{{Kind: Instance, Name: "VI_1", Scripts: config.Notify{Any: f.cmd(t, "any", wait)}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i, st := range []State{Master, Backup, Fault, Master} {
		f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: st, Priority: i})
		if i == 0 {
			time.Sleep(100 * time.Millisecond) // let the first one start
		}
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("Notify blocked for %s", took)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.flush(t)
	want := []string{"any INSTANCE VI_1 MASTER 0", "any INSTANCE VI_1 FAULT 2", "any INSTANCE VI_1 MASTER 3"}
	if got := f.calls(t); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q (BACKUP dropped)", got, want)
	}
	if !strings.Contains(f.logs.String(), "dropped_state=BACKUP") {
		t.Error("the dropped notification is not logged")
	}
}

// Close waits for notify_stop within its deadline, then kills what still
// runs.
func TestCloseBoundsShutdown(t *testing.T) {
	f := newFixture(t, Options{Timeout: 10 * time.Second})
	if err := f.n.Configure([]Target{
		{Kind: Instance, Name: "fast", Scripts: config.Notify{Stop: f.cmd(t, "stopfast", "")}},
		{Kind: Instance, Name: "slow", Scripts: config.Notify{Stop: f.cmd(t, "stopslow", "sleep 30")}},
	}); err != nil {
		t.Fatal(err)
	}
	f.n.Notify(Change{Kind: Instance, Name: "fast", State: Stop})
	f.n.Notify(Change{Kind: Instance, Name: "slow", State: Stop})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.n.Close(ctx)
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Errorf("Close: %v after %s, want a deadline error within about 400ms", err, took)
	}
	got := f.calls(t)
	slices.Sort(got)
	if want := []string{"stopfast", "stopslow"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	f.n.Notify(Change{Kind: Instance, Name: "fast", State: Master}) // dropped, logged
	if !strings.Contains(f.logs.String(), "notifier closed") {
		t.Error("a change after Close is not logged")
	}
}

func TestConfigureRefusesUnsafeScripts(t *testing.T) {
	f := newFixture(t, Options{})
	bad := f.cmd(t, "bad", "")
	if err := os.Chmod(bad.Args[0], 0o777); err != nil {
		t.Fatal(err)
	}
	err := f.n.Configure([]Target{{Kind: Instance, Name: "VI_1", Scripts: config.Notify{Master: bad, Any: f.cmd(t, "any", "")}}})
	if err == nil || !strings.Contains(err.Error(), "INSTANCE VI_1: notify_master") || !strings.Contains(err.Error(), "writable by every user") {
		t.Fatalf("err = %v", err)
	}
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 1})
	f.flush(t)
	if got := f.calls(t); !slices.Equal(got, []string{"any INSTANCE VI_1 MASTER 1"}) {
		t.Errorf("calls %q: the refused script must not run, the others must", got)
	}
}
