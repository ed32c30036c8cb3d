//go:build linux

package daemon_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EFullDisk: node1 keeps its state file and promotions on a 64 KiB
// tmpfs, mounted in a private mount namespace of its own (never in the
// test's), and the test fills it.
//   - A promotion that cannot be saved fails with 500 and is not made:
//     node2 stays master (it was answered 200 and made, and a restart
//     would have forgotten it).
//   - When node1 stops being master with the disk full, its state file,
//     which said MASTER, is removed rather than left stale (it kept saying
//     MASTER until the next change that could be written), and it is
//     written again, BACKUP, once there is room.
func TestE2EFullDisk(t *testing.T) {
	labtest.Require(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1) (util-linux) for a private mount namespace")
	}
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	tiny := filepath.Join(n1.Dir, "tiny")
	if err := os.Mkdir(tiny, 0o755); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, n2, plainConf(110, vipAddr))
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	privateTmpfs := func(argv []string) []string {
		return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs -o size=64k,mode=0755 tmpfs "$0" && exec "$@"`, tiny}, argv...)
	}
	d1 := startDaemonArgs(t, n1, plainConf(100, vipAddr), privateTmpfs, "--state-file", filepath.Join(tiny, "state"))
	pid := daemonPID(t, n1)
	// The daemon's view of its tmpfs, from outside its mount namespace.
	inNS := filepath.Join("/proc", itoa(pid), "root", tiny)
	state := filepath.Join(inNS, "state")
	if err := waitFile(state, "VI_1 BACKUP", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(tiny, "state")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the tmpfs is visible outside the daemon's mount namespace (%v)", err)
	}
	// The filler keeps the tmpfs full: the pages a removed file frees
	// are taken again within milliseconds, as on a disk other writers fill.
	filler := filepath.Join(inNS, "filler")
	var stopFill func()
	fill := func() {
		t.Helper()
		f, err := os.OpenFile(filler, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		stop, done := make(chan struct{}), make(chan struct{})
		full := make(chan struct{}, 1)
		go func() {
			defer close(done)
			defer f.Close()
			chunk := make([]byte, 4096)
			for {
				for i := 0; i < 64; i++ { // the tmpfs holds 16 pages
					if _, err := f.Write(chunk); err != nil {
						select {
						case full <- struct{}{}:
						default:
						}
						break
					}
				}
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		select {
		case <-full:
		case <-time.After(5 * time.Second):
			t.Fatal("the tmpfs never filled up")
		}
		stopFill = func() { close(stop); <-done; os.Remove(filler) }
		t.Cleanup(func() {
			if stopFill != nil {
				stopFill()
			}
		})
	}
	unfill := func() { stopFill(); stopFill = nil }
	c := api.NewUnixClient(n1.Socket())
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fill()
	_, err := c.Promote(ctx, "VI_1", api.PromoteRequest{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 500 || !strings.Contains(ae.Message, "not promoted") || !strings.Contains(ae.Message, "no space left") {
		t.Fatalf("promote with a full disk: %v, want 500 saying it was not promoted for lack of space", err)
	}
	if in, err := c.Instance(ctx, "VI_1"); err != nil || in.Promotion != nil || in.State != api.StateBackup {
		t.Fatalf("after the refused promotion: %+v %v, want BACKUP and no promotion", in, err)
	}
	for start := time.Now(); time.Since(start) < time.Second; time.Sleep(20 * time.Millisecond) {
		if o := h.owners(); len(o) != 1 || o[0] != "node2" {
			t.Fatalf("after a refused promotion the VIP is held by %v, want node2 only", o)
		}
	}

	unfill()
	if _, err := c.Promote(ctx, "VI_1", api.PromoteRequest{}); err != nil {
		t.Fatalf("promote with room: %v", err)
	}
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := waitFile(state, "VI_1 MASTER", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	fill()
	// With one promotion, clearing it removes the file: no space needed.
	if _, err := c.ClearPromotion(ctx, "VI_1"); err != nil {
		t.Fatalf("clear with a full disk: %v", err)
	}
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 250; i++ {
		if in, err := c.Instance(ctx, "VI_1"); err == nil && in.State == api.StateBackup {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// From 500 ms after node1 says BACKUP (the writer's latency), its
	// state file may be missing or say BACKUP, never MASTER.
	gone := false
	for start := time.Now(); time.Since(start) < 2*time.Second; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(state)
		gone = gone || errors.Is(err, os.ErrNotExist)
		if time.Since(start) > 500*time.Millisecond && strings.Contains(string(b), "MASTER") {
			t.Fatalf("node1 is BACKUP and the disk full: its state file still says %q", b)
		}
	}
	if !gone {
		t.Error("the state file was never removed: the disk was not full?")
	}
	unfill()
	if err := waitFile(state, "VI_1 BACKUP", 10*time.Second); err != nil {
		t.Fatalf("once there is room again: %v", err)
	}
	b, _ := os.ReadFile(d1.Log)
	if n := strings.Count(string(b), "state file not written"); n < 1 || n > 10 {
		t.Errorf("%d log lines about the failed state writes, want a few", n)
	}
	if !strings.Contains(string(b), "state file written again") {
		t.Error("the recovery is not logged")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// waitFile polls until path holds want.
func waitFile(path, want string, limit time.Duration) error {
	var last []byte
	for start := time.Now(); time.Since(start) < limit; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil {
			if strings.Contains(string(b), want) {
				return nil
			}
			last = b
		}
	}
	return errors.New(path + " never showed " + want + "; last: " + string(last))
}
