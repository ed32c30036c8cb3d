//go:build linux

package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/inventory"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/remote"
)

// e2e is one lab shared by the subtests of TestE2E: building a 3-node lab
// with sshd is the slow part, the checks themselves take milliseconds.
type e2e struct {
	t   *testing.T
	lab *netlab.Lab
	ctx context.Context
}

// resolver reads the lab's ssh_config and nothing of this host's.
func (e *e2e) resolver(flags inventory.Settings) *remote.Resolver {
	if flags.SSHConfig == "" {
		flags.SSHConfig = e.lab.SSHConfig
	}
	return &remote.Resolver{Flags: flags, Home: e.t.TempDir(), LocalUser: "nobody", GlobalKnownHosts: "none"}
}

func (e *e2e) node(t *testing.T, name string, flags inventory.Settings) remote.Node {
	t.Helper()
	n, err := e.resolver(flags).ResolveName(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pool returns a pool that dials from the lab's operator namespace, with no
// agent unless cfg names one, closed at the end of the test.
func (e *e2e) pool(t *testing.T, cfg remote.Config) *remote.Pool {
	if cfg.Dialer == nil {
		cfg.Dialer = e.lab.Operator.Dial
	}
	if cfg.AgentSocket == "" {
		cfg.AgentSocket = "none"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	p := remote.NewPool(cfg)
	t.Cleanup(func() { p.Close() })
	return p
}

// countingDialer counts the TCP connections opened per address.
type countingDialer struct {
	inner remote.Dialer
	mu    sync.Mutex
	n     map[string]int
}

func (d *countingDialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[addr]++
	d.mu.Unlock()
	return d.inner(ctx, network, addr)
}

func (d *countingDialer) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.n {
		out[k] = v
	}
	return out
}

// TestE2E runs pkg/remote against the real OpenSSH sshd of a 3-node lab.
func TestE2E(t *testing.T) {
	labtest.Require(t, "sshd")
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := &e2e{t: t, lab: l, ctx: ctx}

	t.Run("FanOutInOrder", e.testFanOut)
	t.Run("AliasThroughSSHConfig", e.testAlias)
	t.Run("ConnectionReuse", e.testReuse)
	t.Run("HostKeyMismatch", e.testMismatch)
	t.Run("HostKeyTypeMismatch", e.testMismatchKeyType)
	t.Run("UnknownHostThenAcceptNew", e.testAcceptNew)
	t.Run("AcceptNewRefusesChangedKey", e.testAcceptNewChanged)
	t.Run("AgentAuth", e.testAgent)
	t.Run("IdentityFileAuth", e.testIdentity)
	t.Run("Timeout", e.testTimeout)
	t.Run("Sudo", e.testSudo)
	t.Run("ExitStatus", e.testExitStatus)
	t.Run("StreamLocalHTTP", e.testStreamLocal)
	t.Run("ProxyJump", e.testProxyJump)
}

func (e *e2e) labNodes(t *testing.T) []remote.Node {
	var nodes []remote.Node
	for _, h := range e.lab.Nodes {
		nodes = append(nodes, e.node(t, h.Name, inventory.Settings{}))
	}
	return nodes
}

// Three nodes, at most two at once; results come back in input order and
// each command ran in its own node's namespace.
func (e *e2e) testFanOut(t *testing.T) {
	p := e.pool(t, remote.Config{})
	var inFlight, peak atomic.Int32
	var progress []string
	outs := remote.OnEach(e.ctx, p, e.labNodes(t), remote.FanOutOptions{
		Limit:    2,
		Progress: func(i int, n remote.Node, err error) { progress = append(progress, n.Name) },
	}, func(ctx context.Context, c *remote.Client) (string, error) {
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if now <= old || peak.CompareAndSwap(old, now) {
				break
			}
		}
		out, err := c.Output(ctx, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
		return string(out), err
	})
	if len(outs) != 3 || len(progress) != 3 {
		t.Fatalf("got %d outcomes, %d progress calls", len(outs), len(progress))
	}
	for i, o := range outs {
		h := e.lab.Node(i + 1)
		if o.Err != nil {
			t.Errorf("%s: %v", h.Name, o.Err)
			continue
		}
		if o.Node.Name != h.Name || !strings.Contains(o.Value, " "+h.Addr4.String()+"/24 ") {
			t.Errorf("outcome %d: node %s, output %q; want %s with %s", i, o.Node.Name, o.Value, h.Name, h.Addr4)
		}
	}
	if got := peak.Load(); got > 2 {
		t.Errorf("%d nodes in flight at once, limit 2", got)
	}
	if err := remote.Errors(outs); err != nil {
		t.Error(err)
	}
}

func (e *e2e) testAlias(t *testing.T) {
	n := e.node(t, "node2", inventory.Settings{})
	h := e.lab.Node(2)
	if n.Host != h.Addr4.String() || n.User != "root" || n.Port != 22 {
		t.Errorf("node2 resolved to %s", n.Destination())
	}
	if len(n.Identities) != 1 || n.Identities[0] != e.lab.Identity || !n.IdentitiesOnly {
		t.Errorf("identities %v only=%v, want %s", n.Identities, n.IdentitiesOnly, e.lab.Identity)
	}
	if len(n.KnownHosts) != 1 || n.KnownHosts[0] != e.lab.KnownHosts {
		t.Errorf("known_hosts %v, want %s", n.KnownHosts, e.lab.KnownHosts)
	}
	out, err := e.pool(t, remote.Config{}).Client(n).Output(e.ctx, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(string(out), h.Addr4.String()) {
		t.Errorf("node2: %v %q", err, out)
	}
}

// Several calls, from two handles and concurrently, use one connection.
func (e *e2e) testReuse(t *testing.T) {
	d := &countingDialer{inner: e.lab.Operator.Dial}
	p := e.pool(t, remote.Config{Dialer: d.Dial})
	n := e.node(t, "node1", inventory.Settings{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Client(n).Run(e.ctx, "true"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c := p.Client(n)
	a, err1 := c.Connect(e.ctx)
	b, err2 := c.Connect(e.ctx)
	if err1 != nil || err2 != nil || a != b {
		t.Errorf("Connect twice: %v %v, same=%v", err1, err2, a == b)
	}
	if got := d.counts(); len(got) != 1 || got[n.Addr()] != 1 {
		t.Errorf("dials = %v, want one to %s", got, n.Addr())
	}
}

// A node with nothing behind its address fails after the per-node
// timeout, named, and does not hold up the others in a fan-out.
func (e *e2e) testTimeout(t *testing.T) {
	ghost := remote.Node{Name: "ghost", Host: "10.77.0.99", Port: 22, User: "root", Identities: []string{e.lab.Identity}, KnownHosts: []string{e.lab.KnownHosts}}
	nodes := []remote.Node{e.node(t, "node1", inventory.Settings{}), ghost, e.node(t, "node2", inventory.Settings{})}
	// 1.5 s: long enough for a reachable node's SSH login on a loaded CI
	// machine (400 ms once timed out node1 itself), short enough to test.
	p := e.pool(t, remote.Config{Timeout: 1500 * time.Millisecond})
	start := time.Now()
	outs := remote.OnEach(e.ctx, p, nodes, remote.FanOutOptions{Limit: 3}, func(ctx context.Context, c *remote.Client) (*remote.Result, error) {
		return c.Run(ctx, "true")
	})
	took := time.Since(start)
	if took > 6*time.Second {
		t.Errorf("fan-out took %s with a 1.5s timeout", took)
	}
	if outs[0].Err != nil || outs[2].Err != nil {
		t.Errorf("reachable nodes: %v / %v", outs[0].Err, outs[2].Err)
	}
	err := outs[1].Err
	t.Log(err)
	if !errors.Is(err, remote.ErrTimeout) || !strings.HasPrefix(err.Error(), "ghost: connect to 10.77.0.99:22: timed out after 1.5s") {
		t.Errorf("ghost: err = %v", err)
	}
	// The failure is remembered: a second call does not wait again.
	start = time.Now()
	if _, err := p.Client(ghost).Run(e.ctx, "true"); !errors.Is(err, remote.ErrTimeout) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("second call: %v after %s", err, time.Since(start))
	}
	// A command that outlives the call limit is killed.
	start = time.Now()
	_, err = p.Client(nodes[0]).RunCommand(e.ctx, remote.Command{Argv: []string{"sleep", "5"}})
	t.Logf("%v (after %s)", err, time.Since(start))
	if !errors.Is(err, remote.ErrTimeout) || !strings.HasPrefix(err.Error(), "node1: sleep 5: timed out after 1.5s") {
		t.Errorf("slow command: err = %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("slow command returned after %s", time.Since(start))
	}
	// The SIGKILL sent at the deadline is refused by sshd for root logins
	// ("session signalling requires privilege separation"), so the remote
	// sleep may run on; what matters here is that the call returned.
}

// Sudo mode wraps commands as `sudo -n -- ...`. The nodes have no sudo, so
// a stand-in on the shared filesystem reports the arguments it got and
// runs the rest, as sudo would.
func (e *e2e) testSudo(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "sudo")
	script := "#!/bin/sh\necho \"sudo-args: $*\"\n[ \"$1\" = -n ] && [ \"$2\" = -- ] || exit 99\nshift 2\nexec \"$@\"\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := e.pool(t, remote.Config{Sudo: true, SudoCommand: fake}).Client(e.node(t, "node1", inventory.Settings{}))
	r, err := c.Run(e.ctx, "echo", "two words")
	if err != nil {
		t.Fatal(err)
	}
	if want := fake + " -n -- echo 'two words'"; r.Command != want {
		t.Errorf("command line %q, want %q", r.Command, want)
	}
	if got, want := string(r.Stdout), "sudo-args: -n -- echo two words\ntwo words\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	r, err = c.RunCommand(e.ctx, remote.Command{Script: "echo $((6*7)) | tr 4 x"})
	if err != nil || string(r.Stdout) != "sudo-args: -n -- sh -c echo $((6*7)) | tr 4 x\nx2\n" {
		t.Errorf("script through sudo: %v %q", err, r.Stdout)
	}
	r, err = c.RunCommand(e.ctx, remote.Command{Argv: []string{"echo", "plain"}, NoSudo: true})
	if err != nil || string(r.Stdout) != "plain\n" {
		t.Errorf("NoSudo: %v %q", err, r.Stdout)
	}
}

func (e *e2e) testExitStatus(t *testing.T) {
	c := e.pool(t, remote.Config{}).Client(e.node(t, "node3", inventory.Settings{}))
	r, err := c.RunCommand(e.ctx, remote.Command{Script: "echo out; echo err >&2; exit 3"})
	var xe *remote.ExitError
	if !errors.As(err, &xe) || xe.Status != 3 || r == nil || r.ExitStatus != 3 {
		t.Fatalf("err = %v, result %+v", err, r)
	}
	if string(r.Stdout) != "out\n" || string(r.Stderr) != "err\n" {
		t.Errorf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	if got := err.Error(); got != "node3: echo out; echo err >&2; exit 3: exit status 3: err" {
		t.Errorf("message %q", got)
	}
	r, err = c.RunCommand(e.ctx, remote.Command{Script: "echo a; sleep 0.05; echo b >&2; sleep 0.05; echo c", Combined: true})
	if err != nil || string(r.Stdout) != "a\nb\nc\n" || len(r.Stderr) != 0 {
		t.Errorf("combined: %v %q %q", err, r.Stdout, r.Stderr)
	}
	r, err = c.RunCommand(e.ctx, remote.Command{Argv: []string{"cat"}, Stdin: strings.NewReader("piped\n")})
	if err != nil || string(r.Stdout) != "piped\n" {
		t.Errorf("stdin: %v %q", err, r.Stdout)
	}
}

// An HTTP server on a unix socket in node1's directory, reached through
// sshd's direct-streamlocal channel.
func (e *e2e) testStreamLocal(t *testing.T) {
	sock := e.lab.Node(1).Socket()
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, "hello from %s %s", r.Method, r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); os.Remove(sock) })

	d := &countingDialer{inner: e.lab.Operator.Dial}
	p := e.pool(t, remote.Config{Dialer: d.Dial})
	inv := inventory.Node{Name: "node1", Settings: inventory.Settings{Socket: sock}}
	n, err := e.resolver(inventory.Settings{}).Resolve(inv)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Client(n)
	defer c.Close()
	hc := c.HTTPClient("")
	for i := range 3 {
		resp, err := hc.Get(c.URL(fmt.Sprintf("/v1/status/%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("hello from GET /v1/status/%d", i); string(body) != want {
			t.Errorf("body %q, want %q", body, want)
		}
	}
	// One SSH connection, to sshd, after one refused try of the daemon's
	// control port (no control_ssh listener here), remembered.
	addr := n.Addr()
	ctl := net.JoinHostPort(n.Host, "922")
	if got := d.counts(); hits.Load() != 3 || got[addr] != 1 || got[ctl] != 1 || len(got) != 2 {
		t.Errorf("hits %d, dials %v, want one to %s and one to %s", hits.Load(), got, addr, ctl)
	}
	_, err = c.DialSocket(e.ctx, filepath.Join(e.lab.Node(1).Dir, "nothing.sock"))
	t.Log(err)
	if err == nil || !strings.HasPrefix(err.Error(), "node1: control socket ") {
		t.Errorf("missing socket: err = %v", err)
	}
}

// node2 through node1 as jump host: one TCP connection, to node1.
func (e *e2e) testProxyJump(t *testing.T) {
	l := e.lab
	conf := filepath.Join(t.TempDir(), "ssh_config")
	text := fmt.Sprintf("Host node1\n  HostName %s\n  User root\n\nHost node2\n  HostName %s\n  User root\n  ProxyJump node1\n\nHost *\n  IdentityFile %s\n  UserKnownHostsFile %s\n",
		l.Node(1).Addr4, l.Node(2).Addr4, l.Identity, l.KnownHosts)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	n := e.node(t, "node2", inventory.Settings{SSHConfig: conf})
	if n.Jump == nil || n.Jump.Name != "node1" {
		t.Fatalf("node2: no jump host: %+v", n)
	}
	d := &countingDialer{inner: l.Operator.Dial}
	p := e.pool(t, remote.Config{Dialer: d.Dial})
	out, err := p.Client(n).Output(e.ctx, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(string(out), l.Node(2).Addr4.String()+"/24") {
		t.Fatalf("node2 via node1: %v %q", err, out)
	}
	// node1 as a target shares the jump connection.
	if _, err := p.Client(*n.Jump).Run(e.ctx, "true"); err != nil {
		t.Error(err)
	}
	if got := d.counts(); len(got) != 1 || got[l.Node(1).SSHAddr()] != 1 {
		t.Errorf("dials = %v, want one, to node1", got)
	}
	// The jump host's failure is reported for the target.
	bad := remote.Node{Name: "node2", Host: l.Node(2).Addr4.String(), Port: 22, User: "root", Identities: []string{l.Identity}, KnownHosts: []string{l.KnownHosts},
		Jump: &remote.Node{Name: "bastion", Host: "10.77.0.99", Port: 22, User: "root", Identities: []string{l.Identity}}}
	_, err = e.pool(t, remote.Config{Timeout: 300 * time.Millisecond}).Client(bad).Run(e.ctx, "true")
	t.Log(err)
	// A timeout, or "no route to host" once an earlier subtest has left a
	// failed neighbour entry for the address: either way the jump host is
	// named.
	if err == nil || !strings.HasPrefix(err.Error(), "node2: jump host bastion: connect to 10.77.0.99:22: ") {
		t.Errorf("dead jump host: %v", err)
	}
}

// BenchmarkFanOut runs `true` on the lab's three nodes over warm
// connections (one per node, dialed before the timer starts).
func BenchmarkFanOut(b *testing.B) {
	labtest.Require(b, "sshd")
	l := labtest.Up(b, netlab.Config{Nodes: 3, SSH: true})
	r := &remote.Resolver{Flags: inventory.Settings{SSHConfig: l.SSHConfig}, Home: b.TempDir(), GlobalKnownHosts: "none"}
	var nodes []remote.Node
	for _, h := range l.Nodes {
		n, err := r.ResolveName(h.Name)
		if err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	p := remote.NewPool(remote.Config{Dialer: l.Operator.Dial, AgentSocket: "none"})
	defer p.Close()
	ctx := context.Background()
	run := func() {
		outs := remote.OnEach(ctx, p, nodes, remote.FanOutOptions{Limit: 3}, func(ctx context.Context, c *remote.Client) (*remote.Result, error) {
			return c.Run(ctx, "true")
		})
		if err := remote.Errors(outs); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}
