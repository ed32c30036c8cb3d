//go:build linux

package netlab_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/vishvananda/netlink"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestE2ELab builds a 3-node lab with sshd, checks that the nodes reach each
// other over IPv4 and IPv6 and that the operator reaches each sshd with
// strict host-key checking, then tears it down and checks nothing is left.
func TestE2ELab(t *testing.T) {
	labtest.Require(t, "sshd", "ping")
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("ping", func(t *testing.T) {
		for _, from := range l.Nodes {
			for _, to := range l.Nodes {
				if from == to {
					continue
				}
				for _, addr := range []string{to.Addr4.String(), to.Addr6.String()} {
					if out, err := from.Run(ctx, "ping", "-c", "1", "-W", "2", addr); err != nil {
						t.Errorf("%s -> %s (%s): %v\n%s", from.Name, to.Name, addr, err, out)
					}
				}
			}
		}
	})

	t.Run("ssh", func(t *testing.T) {
		cfg, err := l.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range l.Nodes {
			out, err := sshRun(ctx, l.Operator, n, cfg, "ip -o addr show dev eth0")
			if err != nil {
				t.Errorf("%s: %v", n.Name, err)
				continue
			}
			if !strings.Contains(out, " "+n.Addr4.String()+"/24 ") {
				t.Errorf("%s: the command did not run in the node's namespace:\n%s", n.Name, out)
			}
		}
	})

	t.Run("openssh-client", func(t *testing.T) {
		if _, err := exec.LookPath("ssh"); err != nil {
			t.Skip("no ssh client")
		}
		out, err := l.Operator.Run(ctx, "ssh", "-F", l.SSHConfig, "-o", "BatchMode=yes", "node2", "ip -o -4 addr show dev eth0")
		if err != nil || !strings.Contains(out2s(out), l.Node(2).Addr4.String()) {
			t.Errorf("ssh -F %s node2: %v\n%s", l.SSHConfig, err, out)
		}
	})

	t.Run("wrong host key refused", func(t *testing.T) {
		cfg, err := l.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		// A known_hosts that lists node1 with node2's key.
		known, err := os.ReadFile(l.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		var node2Key string
		for _, line := range strings.Split(string(known), "\n") {
			if strings.HasPrefix(line, "node2,") {
				node2Key = line[strings.IndexByte(line, ' ')+1:]
			}
		}
		wrong := filepath.Join(t.TempDir(), "known_hosts")
		n1 := l.Node(1)
		if err := os.WriteFile(wrong, fmt.Appendf(nil, "%s,%s %s\n", n1.Name, n1.Addr4, node2Key), 0o600); err != nil {
			t.Fatal(err)
		}
		cb, err := knownhosts.New(wrong)
		if err != nil {
			t.Fatal(err)
		}
		cfg.HostKeyCallback = cb
		_, err = sshRun(ctx, l.Operator, n1, cfg, "true")
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) || len(ke.Want) == 0 {
			t.Fatalf("connecting with a wrong known_hosts entry: err = %v, want a host key mismatch", err)
		}
	})

	t.Run("teardown", func(t *testing.T) {
		pids := []int{}
		for _, n := range l.Nodes {
			pids = append(pids, n.SSHDPID)
		}
		if err := l.Down(); err != nil {
			t.Fatal(err)
		}
		if err := l.Down(); err != nil {
			t.Fatalf("second Down (must be idempotent): %v", err)
		}
		assertGone(t, l, pids)
	})
}

// TestE2ECleanupFindsCrashedLab plays a crashed run: a lab whose owner
// process has exited must be found by Cleanup and removed entirely, while a
// live lab is left alone.
func TestE2ECleanupFindsCrashedLab(t *testing.T) {
	labtest.Require(t, "sshd")
	live := labtest.Up(t, netlab.Config{Nodes: 1})

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	name := labtest.Name(t)
	crashed, err := netlab.Up(context.Background(), netlab.Config{Name: name, Nodes: 2, SSH: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netlab.Destroy("", name) })
	// Rewrite the owner as the exited process, as if the test binary had died.
	b, err := os.ReadFile(filepath.Join(crashed.Dir, "lab.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), fmt.Sprintf(`"owner_pid": %d`, os.Getpid()), fmt.Sprintf(`"owner_pid": %d`, dead.Process.Pid), 1))
	if err := os.WriteFile(filepath.Join(crashed.Dir, "lab.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := netlab.Cleanup("")
	if err != nil {
		t.Fatal(err)
	}
	if !contains(removed, name) || contains(removed, live.Name) {
		t.Fatalf("Cleanup removed %v; want %s and not the live %s", removed, name, live.Name)
	}
	assertGone(t, crashed, []int{crashed.Node(1).SSHDPID, crashed.Node(2).SSHDPID})
	if st := live.Status(); !st.Healthy {
		t.Errorf("the live lab was harmed: %+v", st)
	}
}

func assertGone(t *testing.T, l *netlab.Lab, pids []int) {
	t.Helper()
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), netlab.Prefix+l.Name+"-") {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range links {
		if strings.HasPrefix(link.Attrs().Name, "p-node") || strings.HasPrefix(link.Attrs().Name, "p-op") {
			t.Errorf("veth %s in this namespace", link.Attrs().Name)
		}
	}
	for _, pid := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(b), ") Z ") {
			t.Errorf("sshd pid %d still running", pid)
		}
	}
	if _, err := os.Stat(l.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lab directory %s left behind (%v)", l.Dir, err)
	}
	if contains(netlab.LabNames(), l.Name) {
		t.Errorf("lab %s still listed", l.Name)
	}
}

// sshRun dials node's sshd from inside host's namespace and runs cmd.
func sshRun(ctx context.Context, from, node *netlab.Host, cfg *ssh.ClientConfig, cmd string) (string, error) {
	conn, err := from.Dial(ctx, "tcp", node.SSHAddr())
	if err != nil {
		return "", err
	}
	cfg.Timeout = 10 * time.Second
	c, chans, reqs, err := ssh.NewClientConn(conn, node.Addr4.String()+":22", cfg)
	if err != nil {
		conn.Close()
		return "", err
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func out2s(b []byte) string { return string(b) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
