package track

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// scriptConfig is one instance (no interface) tracking one script.
func scriptConfig(s *config.Script, weight int) *config.Config {
	return &config.Config{
		Scripts: []*config.Script{s, {Name: "unused", Command: config.Command{Args: []string{"/nonexistent"}}}},
		Instances: []*config.Instance{{Name: "VI_1", Priority: 100,
			TrackScripts: []config.TrackRef{{Name: s.Name, Weight: weight}}}},
	}
}

// waitEvent waits (bounded) for an event about key with the given status.
func waitEvent(t *testing.T, m *Monitor, key Key, want Status, limit time.Duration) Event {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case <-m.Ready():
			for _, ev := range m.Drain() {
				if ev.Key == key && ev.State.Status == want {
					return ev
				}
			}
		case <-deadline:
			t.Fatalf("no event %s -> %s within %s; state %+v", key, want, limit, m.State(key))
		}
	}
}

func TestMonitorScriptProbe(t *testing.T) {
	var results atomic.Value
	results.Store(true)
	var running, overlap atomic.Int32
	s := &config.Script{Name: "chk", Interval: 20 * time.Millisecond, Rise: 1, Fall: 2}
	m, err := New(scriptConfig(s, -20), Options{Logger: testLogger(t), Probe: func(ctx context.Context, _ *config.Script) (bool, string) {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		time.Sleep(30 * time.Millisecond) // longer than the interval
		return results.Load().(bool), "probe"
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.scripts) != 1 {
		t.Fatalf("unused scripts are started too: %d", len(m.scripts))
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	key := Key{KindScript, "chk"}
	refs := InstanceRefs(nil, &config.Instance{TrackScripts: []config.TrackRef{{Name: "chk", Weight: -20}}})
	if p := m.Effective(100, refs); p.Priority != 100 || p.Pending {
		t.Errorf("before any result: %+v", p)
	}
	waitEvent(t, m, key, StatusOK, 2*time.Second)
	results.Store(false)
	ev := waitEvent(t, m, key, StatusFailed, 2*time.Second)
	if ev.Prev.Status != StatusOK {
		t.Errorf("prev %v", ev.Prev.Status)
	}
	if p := m.Effective(100, refs); p.Priority != 80 {
		t.Errorf("failing: priority %d, want 80", p.Priority)
	}
	results.Store(true)
	waitEvent(t, m, key, StatusOK, 2*time.Second)
	m.Stop()
	if overlap.Load() != 0 {
		t.Errorf("%d runs overlapped", overlap.Load())
	}
}

func TestMonitorInitFailAndPrevious(t *testing.T) {
	block := func(ctx context.Context, _ *config.Script) (bool, string) { <-ctx.Done(); return false, "" }
	s := &config.Script{Name: "chk", Interval: time.Second, InitFail: true, Rise: 1, Fall: 1}
	m, err := New(scriptConfig(s, 0), Options{Probe: block})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	refs := []Ref{{Key: Key{KindScript, "chk"}}}
	if p := m.Effective(100, refs); !p.Fault {
		t.Errorf("init_fail unweighted: %+v, want fault", p)
	}
	m.Stop()

	s.InitFail = false
	m, _ = New(scriptConfig(s, 0), Options{Probe: block})
	_ = m.Start(context.Background())
	if p := m.Effective(100, refs); !p.Pending || p.Fault {
		t.Errorf("new unweighted script: %+v, want pending", p)
	}
	m.Stop()

	m, _ = New(scriptConfig(s, 0), Options{Probe: block, Previous: map[Key]State{{KindScript, "chk"}: {Status: StatusOK}}})
	_ = m.Start(context.Background())
	if p := m.Effective(100, refs); p.Pending || p.Fault {
		t.Errorf("script carried over a reload as OK: %+v", p)
	}
	m.Stop()
}

func TestMonitorCoalesces(t *testing.T) {
	m, _ := New(&config.Config{}, Options{})
	a, b := Key{KindFile, "a"}, Key{KindFile, "b"}
	m.initState(a, State{Status: StatusOK})
	m.set(a, State{Status: StatusOK, Value: 1})
	m.set(b, State{Status: StatusOK, Value: 5})
	m.set(a, State{Status: StatusOK, Value: 2})
	m.set(b, State{Status: StatusOK, Value: 5}) // no change
	evs := m.Drain()
	if len(evs) != 2 || evs[0].Key != a || evs[0].Prev.Value != 0 || evs[0].State.Value != 2 || evs[1].Key != b {
		t.Fatalf("events %+v", evs)
	}
	m.set(a, State{Status: StatusOK, Value: 3})
	m.set(a, State{Status: StatusOK, Value: 2}) // back where it was
	if evs := m.Drain(); len(evs) != 0 {
		t.Errorf("a flap that undid itself: %+v", evs)
	}
	select {
	case <-m.Ready():
	default:
		t.Error("Ready not signalled")
	}
}

func TestMonitorTrackFile(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "prio")
	cfg := &config.Config{
		TrackFiles: []*config.TrackFile{{Name: "f", File: p, Weight: 2, InitFile: true, InitValue: 5}},
		Instances:  []*config.Instance{{Name: "VI_1", TrackFiles: []config.TrackRef{{Name: "f", Weight: 2}}}},
	}
	m, err := New(cfg, Options{Logger: testLogger(t), FilePoll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	refs := InstanceRefs(cfg, cfg.Instances[0])
	if b, _ := os.ReadFile(p); string(b) != "5\n" {
		t.Errorf("init_file wrote %q", b)
	}
	if pr := m.Effective(100, refs); pr.Priority != 110 {
		t.Errorf("value 5 weight 2: priority %d", pr.Priority)
	}
	key := Key{KindFile, "f"}
	write := func(s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("-200\n")
	waitFor(t, m, key, -200)
	if pr := m.Effective(100, refs); !pr.Fault {
		t.Errorf("-200 x 2: %+v, want fault", pr)
	}
	write("0x10 trailing")
	waitFor(t, m, key, 16)
	write("99999999999") // out of range: ignored
	time.Sleep(60 * time.Millisecond)
	if v := m.State(key).Value; v != 16 {
		t.Errorf("out-of-range number replaced the value: %d", v)
	}
	os.Remove(p)
	waitFor(t, m, key, 0)

	// init_file without overwrite leaves an existing file alone; with
	// overwrite it rewrites it, but not on a reload.
	write("7\n")
	for _, tc := range []struct {
		overwrite, reload bool
		want              string
	}{{false, false, "7\n"}, {true, true, "7\n"}, {true, false, "5\n"}} {
		cfg.TrackFiles[0].Overwrite = tc.overwrite
		m2, _ := New(cfg, Options{Reload: tc.reload})
		_ = m2.Start(context.Background())
		m2.Stop()
		if b, _ := os.ReadFile(p); string(b) != tc.want {
			t.Errorf("overwrite %v reload %v: file %q, want %q", tc.overwrite, tc.reload, b, tc.want)
		}
	}
}

func waitFor(t *testing.T, m *Monitor, key Key, v int64) {
	t.Helper()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case <-m.Ready():
			for _, ev := range m.Drain() {
				if ev.Key == key && ev.State.Value == v {
					return
				}
			}
		case <-deadline:
			t.Fatalf("%s never became %d (now %+v)", key, v, m.State(key))
		}
	}
}

func TestStrtol(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"12", 12, true}, {"  -7\n", -7, true}, {"+3x", 3, true}, {"0x1f", 31, true},
		{"0X1F", 31, true}, {"010", 8, true}, {"09", 0, true}, {"0x", 0, true}, {"abc", 0, true},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		if got, ok := strtol(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("strtol(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
