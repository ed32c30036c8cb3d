//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

func plainConf(prio int, vipAddr netip.Prefix) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 62
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
}
`, prio, vipAddr)
}

// secrets makes root-only files (mode 0600, known content) in a directory
// of their own, the files an attacker points planted symlinks at.
func secrets(t *testing.T, names ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	m := map[string]string{}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("secret "+n+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		m[n] = p
	}
	return m
}

func checkSecrets(t *testing.T, m map[string]string) {
	t.Helper()
	for n, p := range m {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		b, _ := os.ReadFile(p)
		if fi.Mode() != 0o600 || st.Uid != 0 || st.Gid != 0 || string(b) != "secret "+n+"\n" {
			t.Errorf("the target of the symlink planted at %s changed: mode %v, owner %d:%d, content %q", n, fi.Mode(), st.Uid, st.Gid, b)
		}
	}
}

// regularFile checks that path is a regular file (not the planted
// symlink) with mode perm.
func regularFile(t *testing.T, path string, perm os.FileMode) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return ""
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != perm {
		t.Errorf("%s is %v, want a regular file %v", path, fi.Mode(), perm)
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestE2ERunDirSymlinksNotFollowed: symlinks planted in the run directory
// at the pid file, the state file and its JSON twin, the promotions file
// and the name the promotions used to be written to first are never
// followed: the daemon replaces them with its own files and their targets
// (root-only files) keep their mode, owner and content.
func TestE2ERunDirSymlinksNotFollowed(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	planted := []string{"hactl.pid", "state", "state.json", "state.promotions", "state.promotions.tmp"}
	targets := secrets(t, planted...)
	for _, name := range planted {
		if err := os.Symlink(targets[name], filepath.Join(n.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	d := startDaemon(t, n, plainConf(100, vipAddr))
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := api.NewUnixClient(n.Socket()).Promote(ctx, "VI_1", api.PromoteRequest{}); err != nil {
		t.Fatalf("promote: %v", err)
	}
	checkSecrets(t, targets)
	if pid := strings.TrimSpace(regularFile(t, filepath.Join(n.Dir, "hactl.pid"), 0o644)); pid != strconv.Itoa(d.Pid()) {
		t.Errorf("pid file holds %q, want %d", pid, d.Pid())
	}
	if s := regularFile(t, filepath.Join(n.Dir, "state.promotions"), 0o600); !strings.Contains(s, "VI_1") {
		t.Errorf("promotions file: %q", s)
	}
	// The state files are written off the loop, and may first be
	// written with an earlier state (BACKUP, before the promotion): wait,
	// bounded, until both are regular files and the state file says
	// MASTER, then check them as strictly as before.
	stateDone := func() bool {
		for _, name := range []string{"state", "state.json"} {
			if fi, err := os.Lstat(filepath.Join(n.Dir, name)); err != nil || !fi.Mode().IsRegular() {
				return false
			}
		}
		b, err := os.ReadFile(filepath.Join(n.Dir, "state"))
		return err == nil && strings.Contains(string(b), "VI_1 MASTER")
	}
	for deadline := time.Now().Add(10 * time.Second); !stateDone() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if s := regularFile(t, filepath.Join(n.Dir, "state"), 0o644); !strings.Contains(s, "VI_1 MASTER") {
		t.Errorf("state file: %q", s)
	}
	regularFile(t, filepath.Join(n.Dir, "state.json"), 0o600)
	checkSecrets(t, targets)
}

// TestE2ERunDirRefused: a symlink at the socket path is not followed (the
// daemon refuses to start and the target is unchanged), and a run
// directory other users can write is refused at start, naming it.
func TestE2ERunDirRefused(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	targets := secrets(t, "hactl.sock")
	if err := os.Symlink(targets["hactl.sock"], n.Socket()); err != nil {
		t.Fatal(err)
	}
	mkdir := func(name string, mode os.FileMode) string {
		p := filepath.Join(n.Dir, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	world := mkdir("world", 0o777)
	sticky := mkdir("sticky", os.ModeSticky|0o777)
	group := mkdir("group", 0o775)
	if err := os.Chown(group, 0, 50); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"symlink at the socket", nil, "not a socket"},
		{"world-writable socket directory", []string{"--socket", filepath.Join(world, "hactl.sock")}, world + " is writable by every user (mode 0777)"},
		{"sticky state directory", []string{"--state-file", filepath.Join(sticky, "state")}, sticky + " is writable by every user (mode 1777)"},
		{"group-writable pid directory", []string{"--pid-file", filepath.Join(group, "hactl.pid")}, group + " is writable by group 50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(n.Dir, "hactl.conf")
			write(t, conf, plainConf(100, vipAddr), 0o644)
			argv := []string{"daemon", "-f", conf, "--socket", n.Socket(), "--pid-file", filepath.Join(n.Dir, "hactl.pid"), "--state-file", filepath.Join(n.Dir, "state")}
			argv = append(argv, tc.args...) // later flags win
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := n.Run(ctx, append([]string{hactlBin}, argv...)...)
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("daemon: %v\n%s\nwant a refusal with %q", err, out, tc.want)
			}
		})
	}
	checkSecrets(t, targets)
	if fi, err := os.Lstat(n.Socket()); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the planted symlink was replaced or removed: %v %v", fi.Mode(), err)
	}
}

// TestE2EStateFileQuotedName: an instance name with a space (a quoted
// name in keepalived.conf) stays one field of its state file line.
func TestE2EStateFileQuotedName(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	conf := strings.Replace(plainConf(100, vipAddr), "vrrp_instance VI_1", `vrrp_instance "VI 1"`, 1)
	startDaemon(t, n, conf)
	if err := waitFile(filepath.Join(n.Dir, "state"), "\n\"VI 1\" MASTER 100 100 ", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
