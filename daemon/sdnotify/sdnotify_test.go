package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a unixgram socket as systemd's NOTIFY_SOCKET would be and
// returns a function reading the next datagram.
func listen(t *testing.T, name string) func() string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no datagram: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	next := listen(t, path)
	t.Setenv("NOTIFY_SOCKET", path)
	n := FromEnv(false)
	if !n.Enabled() {
		t.Fatal("not enabled with NOTIFY_SOCKET set")
	}
	steps := []struct {
		send func() error
		want string
	}{
		{func() error { return n.Ready("") }, "READY=1"},
		{func() error { return n.Ready("2 instances, 1 master") }, "READY=1\nSTATUS=2 instances, 1 master"},
		{func() error { return n.Status("line one\nline two") }, "STATUS=line one line two"},
		{n.Stopping, "STOPPING=1"},
		{n.Watchdog, "WATCHDOG=1"},
	}
	for _, s := range steps {
		if err := s.send(); err != nil {
			t.Fatal(err)
		}
		if got := next(); got != s.want {
			t.Errorf("got %q, want %q", got, s.want)
		}
	}
	if err := n.Reloading(); err != nil {
		t.Fatal(err)
	}
	got := next()
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("reloading: %q", got)
	}
	usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil || (runtime.GOOS == "linux" && usec <= 0) {
		t.Errorf("MONOTONIC_USEC %q: %v", lines[1], err)
	}
}

func TestAbstractSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract unix sockets are Linux only")
	}
	name := fmt.Sprintf("@hactl-sdnotify-test-%d", os.Getpid())
	next := listen(t, name)
	t.Setenv("NOTIFY_SOCKET", name)
	if err := FromEnv(false).Ready(""); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "READY=1" {
		t.Errorf("got %q", got)
	}
}

func TestUnsetIsANoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	os.Unsetenv("NOTIFY_SOCKET")
	n := FromEnv(false)
	if n.Enabled() {
		t.Fatal("enabled without NOTIFY_SOCKET")
	}
	for _, f := range []func() error{func() error { return n.Ready("x") }, n.Reloading, n.Stopping, n.Watchdog} {
		if err := f(); err != nil {
			t.Errorf("no-op returned %v", err)
		}
	}
	var nilN *Notifier
	if err := nilN.Ready(""); err != nil || nilN.Enabled() {
		t.Errorf("nil Notifier: %v", err)
	}
	if _, ok := nilN.WatchdogInterval(); ok {
		t.Error("nil Notifier has a watchdog")
	}
}

func TestErrors(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "relative.sock")
	if err := FromEnv(false).Ready(""); err == nil {
		t.Error("relative NOTIFY_SOCKET accepted")
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody-listens"))
	if err := FromEnv(false).Ready(""); err == nil {
		t.Error("no error when nobody listens")
	}
}

func TestWatchdogAndUnset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.sock")
	listen(t, path)
	for _, c := range []struct {
		usec, pid string
		want      time.Duration
		ok        bool
	}{
		{"10000000", "", 5 * time.Second, true},
		{"10000000", strconv.Itoa(os.Getpid()), 5 * time.Second, true},
		{"10000000", "1", 0, false}, // meant for another process
		{"", "", 0, false},
		{"garbage", "", 0, false},
	} {
		t.Setenv("NOTIFY_SOCKET", path)
		t.Setenv("WATCHDOG_USEC", c.usec)
		t.Setenv("WATCHDOG_PID", c.pid)
		d, ok := FromEnv(false).WatchdogInterval()
		if d != c.want || ok != c.ok {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v %v, want %v %v", c.usec, c.pid, d, ok, c.want, c.ok)
		}
	}
	n := FromEnv(true)
	if !n.Enabled() {
		t.Error("unset=true disabled the Notifier itself")
	}
	for _, k := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		if _, set := os.LookupEnv(k); set {
			t.Errorf("%s still set after FromEnv(true)", k)
		}
	}
}
