package statefile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

func TestWrite(t *testing.T) {
	since := time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("X", 3600))
	st := api.Status{Daemon: api.Daemon{PID: 42}, Instances: []api.Instance{
		{Name: "VI_2", State: api.StateBackup, BasePriority: 100, EffectivePriority: 90, Since: since},
		{Name: "VI_1", State: api.StateMaster, BasePriority: 150, EffectivePriority: 152, Since: since},
	}}
	path := filepath.Join(t.TempDir(), "run", "state")
	if err := Write(path, st, -1); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# hactl state, pid 42; NAME STATE PRIORITY EFFECTIVE SINCE\nVI_1 MASTER 150 152 2026-11-25T09:00:00Z\nVI_2 BACKUP 100 90 2026-11-25T09:00:00Z\n"
	if string(got) != want {
		t.Errorf("state file:\n%s\nwant:\n%s", got, want)
	}
	var back api.Status
	js, _ := os.ReadFile(path + ".json")
	if err := json.Unmarshal(js, &back); err != nil || len(back.Instances) != 2 || back.Daemon.PID != 42 {
		t.Errorf("json twin: %v %+v", err, back)
	}
	// Rewriting leaves no temporary files behind.
	st.Instances[0].State = api.StateMaster
	if err := Write(path, st, -1); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want 2 (no temporaries)", len(entries))
	}
	Remove(path)
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
		t.Errorf("Remove left %d files", len(entries))
	}
}

func TestWriteFailsClearly(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	if err := Write(filepath.Join(blocker, "state"), api.Status{}, -1); err == nil {
		t.Error("writing under a regular file: no error")
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"VI_1", "VI_1"},
		{"vi-web.1", "vi-web.1"},
		{"VI 1", `"VI 1"`},
		{"tab\there", `"tab\there"`},
		{`a"b`, `a"b`}, // a quote inside a token cannot start a field
		{`"ab`, `"\"ab"`},
		{`back\slash`, `"back\\slash"`},
		{"#hash", `"#hash"`},
		{"", `""`},
		{"nl\nx", `"nl\nx"`},
		{"é", "é"},
	} {
		if got := Name(tc.in); got != tc.want {
			t.Errorf("Name(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// A name with a space stays one field of the line: the line has five
// fields whichever way it is split, once the quoted name is read back.
func TestRenderQuotesNames(t *testing.T) {
	st := api.Status{Instances: []api.Instance{{Name: "VI 1", State: api.StateMaster, BasePriority: 100, EffectivePriority: 100}}}
	lines := strings.Split(strings.TrimSpace(string(Render(st))), "\n")
	line := lines[len(lines)-1]
	name, rest, err := unquoteField(line)
	if err != nil || name != "VI 1" || len(strings.Fields(rest)) != 4 {
		t.Errorf("line %q: name %q, rest %q, %v", line, name, rest, err)
	}
}

func unquoteField(line string) (string, string, error) {
	if !strings.HasPrefix(line, `"`) {
		f, rest, _ := strings.Cut(line, " ")
		return f, rest, nil
	}
	q, err := strconv.QuotedPrefix(line)
	if err != nil {
		return "", "", err
	}
	name, err := strconv.Unquote(q)
	return name, line[len(q):], err
}

func TestWriteModes(t *testing.T) {
	for _, tc := range []struct {
		gid      int
		jsonMode os.FileMode
	}{
		{-1, 0o600},
		{50, 0o640},
	} {
		path := filepath.Join(t.TempDir(), "state")
		if err := Write(path, api.Status{}, tc.gid); err != nil {
			t.Fatal(err)
		}
		text, _ := os.Stat(path)
		js, _ := os.Stat(path + ".json")
		if text.Mode().Perm() != 0o644 || js.Mode().Perm() != tc.jsonMode {
			t.Errorf("group %d: state %v, state.json %v; want 0644 and %v", tc.gid, text.Mode(), js.Mode(), tc.jsonMode)
		}
		if gid := js.Sys().(*syscall.Stat_t).Gid; tc.gid >= 0 && os.Getuid() == 0 && int(gid) != tc.gid {
			t.Errorf("state.json group %d, want %d", gid, tc.gid)
		}
	}
}

// A write that fails removes the files written before, so that no reader
// acts on a stale state, and is retried until it succeeds, with the
// newest status.
func TestServeRemovesStaleStateAndRetries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	var fail atomic.Bool
	calls := make(chan api.State, 100)
	write := func(p string, st api.Status, gid int) error {
		calls <- st.Instances[0].State
		if fail.Load() {
			return errors.New("no space left on device")
		}
		return Write(p, st, gid)
	}
	ch := make(chan api.Status, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(ch, path, Options{Group: -1, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, write: write})
	}()
	inst := func(state api.State) api.Status {
		return api.Status{Instances: []api.Instance{{Name: "VI_1", State: state}}}
	}
	wait := func(want api.State) {
		t.Helper()
		select {
		case got := <-calls:
			if got != want {
				t.Fatalf("wrote %s, want %s", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no write of %s within 5s", want)
		}
	}
	ch <- inst(api.StateMaster)
	wait(api.StateMaster)
	waitFile := func(want string) {
		t.Helper()
		for i := 0; i < 500; i++ {
			b, err := os.ReadFile(path)
			if (want == "" && errors.Is(err, os.ErrNotExist)) || (want != "" && strings.Contains(string(b), want)) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("state file never showed %q", want)
	}
	waitFile("MASTER")
	fail.Store(true)
	ch <- inst(api.StateBackup)
	wait(api.StateBackup)
	waitFile("") // the stale MASTER is gone
	if _, err := os.Stat(path + ".json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.json left behind after a failed write: %v", err)
	}
	wait(api.StateBackup) // retried
	ch <- inst(api.StateFault)
	for got := api.State(""); got != api.StateFault; { // retries go on with the newest status
		select {
		case got = <-calls:
		case <-time.After(5 * time.Second):
			t.Fatal("the newer status was never tried")
		}
	}
	fail.Store(false)
	waitFile("FAULT")
	close(ch)
	<-done
}

// TestWriteTempSwapRace: while the state is rewritten, another process
// able to write the directory keeps replacing the temporary files with
// symlinks to a root-only file. The file never changes (a chmod by path
// of the temporary file made it world-readable).
func TestWriteTempSwapRace(t *testing.T) {
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret")
	if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		swaps := 0
		defer func() { done <- swaps }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp") {
					tmp := filepath.Join(dir, e.Name())
					evil := tmp + ".evil"
					os.Remove(evil)
					if os.Symlink(secret, evil) == nil && os.Rename(evil, tmp) == nil {
						swaps++
					}
				}
			}
		}
	}()
	st := api.Status{Instances: []api.Instance{{Name: "VI_1", State: api.StateMaster}}}
	start := time.Now()
	tries := 0
	for ; tries < 500 && time.Since(start) < 5*time.Second; tries++ {
		_ = Write(path, st, -1) // may fail when a temporary file is swapped away
		fi, _ := os.Stat(secret)
		if b, _ := os.ReadFile(secret); fi.Mode() != 0o600 || string(b) != "secret\n" {
			t.Errorf("after %d writes the root-only file is %v with %q", tries+1, fi.Mode(), b)
			break
		}
	}
	close(stop)
	swaps := <-done
	t.Logf("%d writes in %v, %d temporary files swapped for symlinks", tries, time.Since(start).Round(time.Millisecond), swaps)
}
