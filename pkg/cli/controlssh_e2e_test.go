//go:build linux

package cli_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/inventory"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/remote"
	"golang.org/x/crypto/ssh"
)

// TestE2EControlSSH: a daemon serving the control API over SSH itself
// (control_ssh on port 922) answers who-owns and status without sshd:
// node1's sshd logs no connection at all, and still answers with its
// sshd stopped (SIGSTOP). node2's daemon has no control_ssh: the refused
// port falls back to sshd. node3's daemon presents a host key other than
// its sshd's: refused as a host-key mismatch, not silently bypassed.
// Keys not root's or not listed, and channels other than the control
// socket, are refused.
func TestE2EControlSSH(t *testing.T) {
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	e := &e2eOp{t: t, l: l, bin: bin}

	var stops []func()
	t.Cleanup(func() {
		for _, s := range stops {
			s()
		}
	})
	// node3's daemon gets a host key of its own, not its sshd's.
	otherKey := filepath.Join(l.Node(3).Dir, "other_host_key")
	writeEd25519(t, otherKey)
	for i, prio := range []int{120, 110, 100} {
		h := l.Node(i + 1)
		globals := l.ControlSSHGlobals(h)
		switch i + 1 {
		case 2:
			globals = ""
		case 3:
			globals = strings.Replace(globals, filepath.Join(h.Dir, "ssh_host_ed25519_key"), otherKey, 1)
		}
		conf := filepath.Join(h.Dir, "hactl.conf")
		if err := os.WriteFile(conf, []byte(globals+vrrpConf(prio)), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := h.Start("daemon", bin, "daemon", "-f", conf, "--state-file", filepath.Join(h.Dir, "state"),
			"--socket", h.Socket(), "--pid-file", filepath.Join(h.Dir, "hactl.pid"), "-v")
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, func() { p.Stop(3 * time.Second) })
	}
	// Wait for the daemons: node1 master (node3 reports its host-key error).
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.hactl("who-owns", "10.77.0.100")
		if strings.Contains(r.out, "node1 (VI_1 MASTER)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node1 never owned the VIP:\n%s%s", r.out, r.stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}

	sshdLog := func(i int) string {
		b, err := os.ReadFile(filepath.Join(l.Node(i).Dir, "sshd.log"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, args := range [][]string{{"who-owns", "10.77.0.100"}, {"status"}} {
		t.Run("NoSSHD/"+args[0], func(t *testing.T) {
			e.t = t
			m1, m2 := len(sshdLog(1)), len(sshdLog(2))
			r := e.hactl(args...)
			// node3's error: the daemon on 922 is not who known_hosts vouches for.
			if !strings.Contains(r.out+r.stderr, "node3: control port 10.77.0.13:922: host key mismatch for 10.77.0.13") {
				t.Errorf("node3's host-key mismatch on the control port not reported:\n%s%s", r.out, r.stderr)
			}
			if args[0] == "who-owns" && !strings.Contains(r.out, "node1 (VI_1 MASTER)") {
				t.Errorf("who-owns: no owner node1")
			}
			if args[0] == "status" && !strings.Contains(r.out, "node1") {
				t.Errorf("status: no node1 row")
			}
			// sshd logs each connection it accepts ("Connection from").
			// node2's sshd logs it within the command; wait for it, and
			// by then node1's would have too.
			var got2 string
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if got2 = sshdLog(2)[m2:]; strings.Contains(got2, "Connection from") {
					break
				}
			}
			if !strings.Contains(got2, "Connection from") {
				t.Errorf("node2 (no control_ssh): sshd saw no connection; fallback not taken?\n%s", tail(got2, 20))
			}
			if got1 := sshdLog(1)[m1:]; strings.Contains(got1, "Connection from") {
				t.Errorf("node1 (control_ssh): sshd was contacted:\n%s", tail(got1, 20))
			}
		})
	}

	t.Run("SSHDStopped", func(t *testing.T) {
		e.t = t
		pid := l.Node(1).SSHDPID
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)
		start := time.Now()
		r := e.in(l.Operator, "status", "--inventory", l.Inventory, "--timeout", "3s", "--nodes", "node1")
		r.want(t, 0, []string{"node1", "VI_1", "MASTER"}, nil)
		t.Logf("status with node1's sshd stopped: %s", time.Since(start))
	})

	// Through a jump host: node1's control port is dialed through node2's
	// sshd connection, and node1's sshd is still not contacted.
	t.Run("ThroughJumpHost", func(t *testing.T) {
		conf := filepath.Join(t.TempDir(), "ssh_config")
		text := fmt.Sprintf("Host node1\n  HostName %s\n  User root\n  ProxyJump node2\n\nHost node2\n  HostName %s\n  User root\n\nHost *\n  IdentityFile %s\n  UserKnownHostsFile %s\n",
			l.Node(1).Addr4, l.Node(2).Addr4, l.Identity, l.KnownHosts)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &remote.Resolver{Flags: inventory.Settings{SSHConfig: conf, Socket: l.Node(1).Socket()}, SystemConfig: "none", GlobalKnownHosts: "none"}
		n, err := r.ResolveName("node1")
		if err != nil || n.Jump == nil {
			t.Fatalf("node1 via node2: %+v, %v", n, err)
		}
		var dials []string
		var mu sync.Mutex
		p := remote.NewPool(remote.Config{AgentSocket: "none", Timeout: 10 * time.Second, Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dials = append(dials, addr)
			mu.Unlock()
			return l.Operator.Dial(ctx, network, addr)
		}})
		defer p.Close()
		m1 := len(sshdLog(1))
		c := p.Client(n)
		via, err := c.ConnectSocket(t.Context())
		if err != nil || !via {
			t.Fatalf("ConnectSocket: control port %v, %v", via, err)
		}
		st, err := api.NewClient(func(ctx context.Context) (net.Conn, error) { return c.DialSocket(ctx, "") }).Status(t.Context())
		if err != nil || st.Daemon.Hostname == "" {
			t.Fatalf("status through the jump host: %v", err)
		}
		if len(dials) != 1 || dials[0] != l.Node(2).SSHAddr() {
			t.Errorf("dials %v, want one, to node2's sshd", dials)
		}
		time.Sleep(200 * time.Millisecond)
		if got := sshdLog(1)[m1:]; strings.Contains(got, "Connection from") {
			t.Errorf("node1's sshd was contacted:\n%s", tail(got, 20))
		}
	})

	// A host key file that cannot be read stops the start, naming the line.
	t.Run("BadHostKey", func(t *testing.T) {
		h := l.Node(2)
		conf := filepath.Join(h.Dir, "bad.conf")
		body := "global_defs {\n    control_ssh 0.0.0.0:923\n    control_ssh_host_key /nonexistent/key\n}\n" + vrrpConf(90)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := h.Command(ctx, bin, "daemon", "-f", conf, "--state-file", filepath.Join(h.Dir, "bad.state"),
			"--socket", filepath.Join(h.Dir, "bad.sock"), "--pid-file", filepath.Join(h.Dir, "bad.pid")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), conf+":3:5: control_ssh_host_key: host key /nonexistent/key") {
			t.Errorf("daemon with a missing host key: %v\n%s", err, out)
		}
	})

	// The control port directly: what it refuses.
	client := func(t *testing.T, user string, signer ssh.Signer) (*ssh.Client, error) {
		t.Helper()
		cfg, err := l.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		cfg.User, cfg.Timeout = user, 5*time.Second
		if signer != nil {
			cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
		}
		// The daemon presents node1's sshd key: known_hosts vouches for it
		// under the node's address, as the CLI checks it.
		hk := cfg.HostKeyCallback
		cfg.HostKeyCallback = func(_ string, remote net.Addr, key ssh.PublicKey) error {
			return hk("10.77.0.11:22", remote, key)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		raw, err := l.Operator.Dial(ctx, "tcp", "10.77.0.11:922")
		if err != nil {
			t.Fatal(err)
		}
		c, chans, reqs, err := ssh.NewClientConn(raw, "10.77.0.11:922", cfg)
		if err != nil {
			raw.Close()
			return nil, err
		}
		sc := ssh.NewClient(c, chans, reqs)
		t.Cleanup(func() { sc.Close() })
		return sc, nil
	}
	t.Run("Refused", func(t *testing.T) {
		if _, err := client(t, "nobody", nil); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("user nobody with the lab key: %v", err)
		}
		if _, err := client(t, "root", newEd25519(t)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("root with an unlisted key: %v", err)
		}
		c, err := client(t, "root", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.NewSession(); err == nil {
			t.Error("a session was opened")
		}
		if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil {
			t.Error("tcp forwarding was opened")
		}
		if _, err := c.Dial("unix", "/run/sshd.pid"); err == nil || !strings.Contains(err.Error(), "administratively prohibited") {
			t.Errorf("another socket path: %v", err)
		}
		conn, err := c.Dial("unix", l.Node(1).Socket())
		if err != nil {
			t.Fatalf("the control socket: %v", err)
		}
		fmt.Fprintf(conn, "GET /v1/status HTTP/1.1\r\nHost: node1\r\nConnection: close\r\n\r\n")
		buf := make([]byte, 12)
		if _, err := conn.Read(buf); err != nil || string(buf) != "HTTP/1.1 200" {
			t.Errorf("GET /v1/status through the control port: %q, %v", buf, err)
		}
		conn.Close()
	})
}

func newEd25519(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeEd25519(t *testing.T, path string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}
