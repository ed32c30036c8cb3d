//go:build linux

package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// When the test binary runs as the helper client (as another user), it
// makes one call and prints the outcome.
func TestMain(m *testing.M) {
	if sock := os.Getenv("HACTL_CONTROL_TEST_CLIENT"); sock != "" {
		c := api.NewUnixClient(sock)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if os.Getenv("HACTL_CONTROL_TEST_WRITE") != "" {
			_, err = c.Reload(ctx)
		} else {
			_, err = c.Status(ctx)
		}
		var e *api.Error
		switch {
		case err == nil:
			fmt.Println("ok")
		case errors.As(err, &e):
			fmt.Println(e.Status, e.Code)
		default:
			fmt.Println("error:", err)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startServer(t *testing.T, gid int, b Backend) string {
	t.Helper()
	path := filepath.Join(sharedDir(t), "run", "hactl.sock")
	srv, err := Listen(path, gid)
	if err != nil {
		t.Fatal(err)
	}
	pol := Policy{ReadGID: gid}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(Handler(b, pol, nil, nil), nil) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file left behind: %v", err)
		}
	})
	return path
}

// sharedDir is a temporary directory other users can traverse (t.TempDir's
// parent is private to root).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hactl-control-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// helperBinary is a copy of the test binary that other users may run.
func helperBinary(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sharedDir(t), "control.test")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// asUser runs the helper client as uid/gid against sock.
func asUser(t *testing.T, bin, sock string, uid, gid int, write bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "HACTL_CONTROL_TEST_CLIENT="+sock)
	if write {
		cmd.Env = append(cmd.Env, "HACTL_CONTROL_TEST_WRITE=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper client as %d:%d: %v\n%s", uid, gid, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestE2EPeerCredentials(t *testing.T) {
	labtest.Require(t)
	const nobody, nogroup, staff = 65534, 65534, 50
	b := &fakeBackend{}
	sock := startServer(t, staff, b)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 || fi.Sys().(*syscall.Stat_t).Gid != staff {
		t.Errorf("socket mode %v gid %d, want 0660 and group %d", fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Gid, staff)
	}
	// The file mode alone keeps strangers out; open it up to check that
	// the peer-credential check holds even then.
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	bin := helperBinary(t)
	for _, tc := range []struct {
		name     string
		uid, gid int
		write    bool
		want     string
	}{
		{"root reads", 0, 0, false, "ok"},
		{"root changes", 0, 0, true, "ok"},
		{"stranger reads", nobody, nogroup, false, "403 forbidden"},
		{"group member reads", nobody, staff, false, "ok"},
		{"group member changes", nobody, staff, true, "403 forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := asUser(t, bin, sock, tc.uid, tc.gid, tc.write); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if got := strings.Join(b.calls, ";"); got != "reload" {
		t.Errorf("backend calls %q: only root's reload may reach it", got)
	}
}

func TestE2ESocketTakeover(t *testing.T) {
	labtest.Require(t)
	sock := startServer(t, -1, &fakeBackend{})
	if _, err := Listen(sock, -1); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Errorf("second daemon on a live socket: %v", err)
	}
	// A stale socket (its daemon died) is replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	srv, err := Listen(stale, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv.ln.SetUnlinkOnClose(false)
	srv.ln.Close()
	srv2, err := Listen(stale, -1)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	srv2.Shutdown(context.Background())
	// A regular file in the way is not removed.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Listen(file, -1); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("regular file in the way: %v", err)
	}
}
