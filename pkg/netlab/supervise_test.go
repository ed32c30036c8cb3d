package netlab

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func testLab(t *testing.T) *Lab {
	t.Helper()
	c := Config{Name: "demo", Nodes: 2, Root: t.TempDir()}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	l := plan(c)
	if err := mkdir(l.Dir); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSuperviseArgv(t *testing.T) {
	l := testLab(t)
	h := l.Node(2)
	got := SuperviseArgv("/bin/hactl", h, "/bin/hactl", "daemon", "-f", "x.conf")
	want := []string{"/bin/hactl", "lab", "supervise", "--hold-file", h.Dir + "/daemon.hold", "--pid-file", h.Dir + "/daemon.pid",
		"--", "/bin/hactl", "daemon", "-f", "x.conf"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SuperviseArgv:\n got %q\nwant %q", got, want)
	}
	ka := strings.Join(KeepalivedArgv(h, "/k.conf"), " ")
	if want := "/usr/sbin/keepalived -n -l -D -P -f /k.conf -p " + h.Dir + "/keepalived.pid -r " + h.Dir + "/vrrp.pid -b " + h.Dir + "/bfd.pid"; ka != want {
		t.Errorf("KeepalivedArgv:\n got %s\nwant %s", ka, want)
	}
}

// TestDaemonScripts checks the scripts' interface of docs/lab.md: the
// verbs, the files they use, and that they are valid sh.
func TestDaemonScripts(t *testing.T) {
	l := testLab(t)
	if err := l.WriteDaemonScripts(); err != nil {
		t.Fatal(err)
	}
	ctl := readFile(t, l.Daemonctl())
	for _, want := range []string{"stop)", "start)", "restart)", "status)", "hold=$dir/daemon.hold", `"$dir/daemon.pid" "$dir/hactl.pid" "$dir/keepalived.pid"`,
		"node=${ns#hactl-demo-}", "dir=" + l.Dir + "/$node", `-gt 200`} {
		if !strings.Contains(ctl, want) {
			t.Errorf("daemonctl lacks %q", want)
		}
	}
	if rs := readFile(t, l.RestartScript()); !strings.HasSuffix(rs, "exec "+l.Daemonctl()+" restart\n") {
		t.Errorf("restart-daemon does not run daemonctl restart:\n%s", rs)
	}
	for _, p := range []string{l.Daemonctl(), l.RestartScript()} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", p, fi, err)
		}
		if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", p, err, out)
		}
	}
}

// lockedBuffer is the supervisor's stderr, written by it and its child.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls cond every 20 ms for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after 10s: %s", what)
}

// superviseAsync runs Supervise until the test sends on the returned
// channel; wait returns its error (at most 10 s after the signal).
func superviseAsync(t *testing.T, c SuperviseConfig) (chan<- os.Signal, func() error) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	var err error
	c.Signals = sigs
	go func() { err = Supervise(c); close(done) }()
	wait := func() error {
		t.Helper()
		select {
		case <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("supervisor still running after 10s")
			return nil
		}
	}
	t.Cleanup(func() {
		select {
		case sigs <- syscall.SIGKILL:
		default:
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("supervisor still running after 10s")
		}
	})
	return sigs, wait
}

func TestSuperviseRestartsAndForwardsTheSignal(t *testing.T) {
	dir := t.TempDir()
	runs, pidFile := filepath.Join(dir, "runs"), filepath.Join(dir, "pid")
	var stderr lockedBuffer
	// Each run records itself; the second one stays until signalled.
	script := `echo run >>"$1"; [ "$(wc -l <"$1")" -ge 2 ] && exec sleep 30; exit 3`
	sigs, wait := superviseAsync(t, SuperviseConfig{Argv: []string{"sh", "-c", script, "sh", runs}, PIDFile: pidFile,
		Stdout: &stderr, Stderr: &stderr})
	var pid int
	waitFor(t, "a second run with its pid file", func() bool {
		b, _ := os.ReadFile(runs)
		p, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(p)))
		return strings.Count(string(b), "run") == 2 && pid > 0
	})
	sigs <- syscall.SIGTERM
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("child %d still runs", pid)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	for _, want := range []string{"supervise: started sh (pid", "run 2)", "exited (exit status 3)", "exited (signal: terminated)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestSuperviseHeld(t *testing.T) {
	dir := t.TempDir()
	hold, runs := filepath.Join(dir, "hold"), filepath.Join(dir, "runs")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	sigs, wait := superviseAsync(t, SuperviseConfig{Argv: []string{"sh", "-c", `echo run >>"$1"; exec sleep 30`, "sh", runs},
		HoldFile: hold, Stdout: &stderr, Stderr: &stderr})
	waitFor(t, "the held message", func() bool { return strings.Contains(stderr.String(), "exists: not starting sh until it is removed") })
	// Removing the hold file starts the command.
	if err := os.Remove(hold); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a run once unheld", func() bool { b, _ := os.ReadFile(runs); return len(b) > 0 })
	sigs <- syscall.SIGTERM
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	// Held from the start, a stop starts nothing.
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sigs2, wait2 := superviseAsync(t, SuperviseConfig{Argv: []string{"false"}, HoldFile: hold, Stdout: &stderr, Stderr: &stderr})
	sigs2 <- syscall.SIGTERM
	if err := wait2(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stderr.String(), "started "); n != 1 {
		t.Errorf("%d starts, want 1:\n%s", n, stderr.String())
	}
}
