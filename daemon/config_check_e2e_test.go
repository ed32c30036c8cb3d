//go:build linux

package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EConfigCheckStrictMatchesDaemon: three scripts that the red-team
// pass saw `config check --strict` pass and the daemon refuse (owned by
// another user, group-writable, a symbolic link into a world-writable
// directory). `hactl config check --strict` now exits 1 naming each at
// its config line, with the very reason the daemon logs when it refuses
// it.
func TestE2EConfigCheckStrictMatchesDaemon(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	dir := t.TempDir()
	mk := func(path string, mode os.FileMode, uid, gid int) {
		t.Helper()
		if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{
		"other_owner":    filepath.Join(dir, "other_owner.sh"),
		"group_writable": filepath.Join(dir, "group_writable.sh"),
		"symlink":        filepath.Join(dir, "link.sh"),
	}
	mk(scripts["other_owner"], 0o755, 65534, 0)
	mk(scripts["group_writable"], 0o775, 0, 65534)
	mk(filepath.Join(open, "target.sh"), 0o755, 0, 0)
	if err := os.Symlink(filepath.Join(open, "target.sh"), scripts["symlink"]); err != nil {
		t.Fatal(err)
	}
	names := []string{"other_owner", "group_writable", "symlink"}
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "vrrp_script %s {\n    script %q\n    weight -10\n}\n", name, scripts[name])
	}
	b.WriteString(reloadConf(150, ""))
	conf := strings.Replace(b.String(), "    advert_int 0.2\n", "    advert_int 0.2\n    track_script {\n        other_owner\n        group_writable\n        symlink\n    }\n", 1)

	path := filepath.Join(n.Dir, "check.conf")
	write(t, path, conf, 0o644)
	out, err := exec.Command(hactlBin, "config", "check", "--strict", path).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("config check --strict: %v, want exit 1\n%s", err, out)
	}
	reasons := map[string]string{}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:(\d+):\d+: vrrp_script (\w+) \(dropped: the instances tracking it run without it, as keepalived drops it\): hactl daemon refuses this script: (.*)$`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		reasons[m[2]] = m[3]
	}
	if len(reasons) != 3 {
		t.Fatalf("config check --strict named %d scripts, want 3:\n%s", len(reasons), out)
	}

	d := startDaemon(t, n, conf)
	deadline := time.Now().Add(5 * time.Second)
	for {
		log, _ := os.ReadFile(d.Log)
		missing := ""
		for _, name := range names {
			if !bytes.Contains(log, []byte(reasons[name])) {
				missing = name
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not log %q for %s:\n%s", reasons[missing], missing, lastLines(string(log), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, name := range names {
		t.Logf("%s: config check and daemon agree: %s", name, reasons[name])
	}
}

// TestE2EConfigCheckHostileInput: `hactl config check` refuses a FIFO
// include at once (it used to block for ever, deaf to SIGINT and SIGTERM),
// and a check of a large input stops within moments of SIGINT or SIGTERM.
func TestE2EConfigCheckHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.conf")
	write(t, main, reloadConf(150, "include fifo.conf\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, hactlBin, "config", "check", main).CombinedOutput()
	took := time.Since(start)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "not a regular file (a FIFO)") {
		t.Fatalf("config check with a FIFO include: %v after %v\n%s", err, took, out)
	}
	t.Logf("FIFO include refused in %v: %s", took.Round(time.Millisecond), strings.SplitN(string(out), "\n", 2)[0])

	// 60 MB, inside the 64 MiB budget: seconds of parsing.
	big := filepath.Join(dir, "big.conf")
	write(t, big, reloadConf(150, bulk(60<<20)), 0o644)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := exec.Command(hactlBin, "config", "check", big)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		time.Sleep(500 * time.Millisecond)
		sent := time.Now()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			took := time.Since(sent)
			t.Logf("%v: config check of 60 MB stopped %v after the signal (%v); %s", sig, took.Round(time.Millisecond), err, strings.TrimSpace(buf.String()))
			if took > time.Second {
				t.Errorf("%v: stopped %v after the signal, want within a second", sig, took)
			}
			if !strings.Contains(buf.String(), "context canceled") {
				t.Errorf("%v: the check was not canceled (it finished?): %s", sig, buf.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%v: config check still running 10s after the signal", sig)
		}
	}
}
