//go:build linux

package control

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab/flood"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// When the test binary runs as the flooding client (as another user), it
// opens HACTL_CONTROL_TEST_FLOOD_N idle connections, says how many the
// server kept open, and holds them until its stdin closes.
func init() {
	sock := os.Getenv("HACTL_CONTROL_TEST_FLOOD")
	if sock == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("HACTL_CONTROL_TEST_FLOOD_N"))
	open, dialed := flood.Conns(sock, n, 5*time.Second)
	fmt.Printf("open=%d dialed=%d\n", len(open), dialed)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// flooder runs the flooding client as uid/gid and waits for its count;
// closing the returned function's result releases its connections.
func flooder(t *testing.T, bin, sock string, uid, gid, n int) (open, dialed int, release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "HACTL_CONTROL_TEST_FLOOD="+sock, "HACTL_CONTROL_TEST_FLOOD_N="+strconv.Itoa(n))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	release = func() {
		stdin.Close()
		cmd.Wait()
		cancel()
	}
	t.Cleanup(release)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "open=%d dialed=%d", &open, &dialed); err != nil || serr != nil {
		t.Fatalf("flooder: %q %v %v", line, err, serr)
	}
	return open, dialed, release
}

// TestE2EConnectionFloodByGroupMember: a member of the socket's group
// opening thousands of idle connections keeps only its per-uid share; the
// rest are closed at once and counted, and root and another member can
// still read.
func TestE2EConnectionFloodByGroupMember(t *testing.T) {
	labtest.Require(t)
	const nobody, staff = 65534, 50
	path := filepath.Join(sharedDir(t), "run", "hactl.sock")
	srv, err := Listen(path, staff)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Limits != LimitsFor(descriptorLimit()) || srv.Limits.MaxConnsPerUID != DefaultMaxConnsPerUID {
		t.Fatalf("limits %+v, want the defaults", srv.Limits)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(Handler(&fakeBackend{}, Policy{ReadGID: staff}, nil, nil), nil) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		<-done
	})
	bin := helperBinary(t)
	const n = 3000
	open, dialed, release := flooder(t, bin, path, nobody, staff, n)
	t.Logf("flooder dialed %d connections, %d left open; server: %+v", dialed, open, srv.Stats())
	if open > DefaultMaxConnsPerUID {
		t.Errorf("the flooder holds %d connections, over the per-uid cap %d", open, DefaultMaxConnsPerUID)
	}
	if st := srv.Stats(); st.Open > DefaultMaxConnsPerUID || st.Refused < uint64(dialed-DefaultMaxConnsPerUID) {
		t.Errorf("server stats %+v after %d dials: want at most %d open and the rest refused", st, dialed, DefaultMaxConnsPerUID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := api.NewUnixClient(path).Status(ctx); err != nil {
		t.Errorf("root during the flood: %v", err)
	}
	if got := asUser(t, bin, path, 65533, staff, false); got != "ok" {
		t.Errorf("another group member during the flood: %q", got)
	}
	release()
	// The slots come back when the flooder goes (root's keep-alive
	// connection may stay).
	byNobody := func() int {
		srv.lim.mu.Lock()
		defer srv.lim.mu.Unlock()
		return srv.lim.byUID[nobody]
	}
	for i := 0; i < 100 && byNobody() > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := byNobody(); n != 0 {
		t.Errorf("%d of the flooder's connections still counted open after it left", n)
	}
}

// secretFile is a root-only file with known content, what an attacker
// wants the daemon to open up.
func secretFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	if err := os.WriteFile(p, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func secretUnchanged(t *testing.T, p string) bool {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	b, _ := os.ReadFile(p)
	if fi.Mode() != 0o600 || st.Uid != 0 || st.Gid != 0 || string(b) != "secret\n" {
		t.Errorf("%s changed: mode %v uid %d gid %d content %q", p, fi.Mode(), st.Uid, st.Gid, b)
		return false
	}
	return true
}

// TestE2ESocketPathSymlink: a symlink planted at the socket path is not
// followed: Listen refuses, and the target keeps its mode and group.
func TestE2ESocketPathSymlink(t *testing.T) {
	labtest.Require(t)
	secret := secretFile(t)
	path := filepath.Join(t.TempDir(), "hactl.sock")
	if err := os.Symlink(secret, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, 50); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a symlink: %v", err)
	}
	secretUnchanged(t, secret)
}

// TestE2ESocketSwapRace: while Listen runs, another goroutine keeps
// swapping the socket path for a symlink to a root-only file. The file
// never gets the socket's mode or group (with chmod and chown by path
// after bind, the swap won about one try in ten).
func TestE2ESocketSwapRace(t *testing.T) {
	labtest.Require(t)
	const staff = 50
	secret := secretFile(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "hactl.sock")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var swaps int
	go func() {
		defer wg.Done()
		evil := filepath.Join(dir, "evil")
		for {
			select {
			case <-stop:
				return
			default:
			}
			os.Remove(evil)
			if os.Symlink(secret, evil) == nil && os.Rename(evil, path) == nil {
				swaps++
			}
		}
	}()
	start := time.Now()
	tries, listened := 0, 0
	for ; tries < 500 && time.Since(start) < 5*time.Second; tries++ {
		os.Remove(path) // give Listen a chance past its check
		srv, err := Listen(path, staff)
		if err == nil {
			listened++
			srv.Shutdown(context.Background())
		}
		if !secretUnchanged(t, secret) {
			break
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d tries in %v, %d listened, %d swaps", tries, time.Since(start).Round(time.Millisecond), listened, swaps)
	if listened == 0 {
		t.Error("Listen never got through: the race was not exercised")
	}
}
