package controlssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

func newSigner(t *testing.T) ssh.Signer {
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

func authLine(s ssh.Signer, opts string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	if opts != "" {
		line = opts + " " + line
	}
	return line + " test\n"
}

func TestKeyUsable(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		opts []string
		want bool
	}{
		{nil, true},
		{[]string{"no-pty", "no-agent-forwarding", "no-X11-forwarding", "no-user-rc"}, true},
		{[]string{"port-forwarding"}, true},
		{[]string{`command="/bin/true"`}, false},
		{[]string{`from="10.0.0.0/8"`}, false},
		{[]string{"restrict"}, false},
		{[]string{"restrict", "port-forwarding"}, false}, // conservative: restrict is not second-guessed
		{[]string{"no-port-forwarding"}, false},
		{[]string{`permitopen="host:1"`}, false},
		{[]string{"cert-authority"}, false},
		{[]string{`principals="root"`}, false},
		{[]string{`tunnel="0"`}, false},
		{[]string{"no-touch-required"}, false},
		{[]string{"something-new"}, false},
		{[]string{`expiry-time="20260101"`}, false},
		{[]string{`expiry-time="20270101"`}, true},
		{[]string{`expiry-time="202606011159Z"`}, false},
		{[]string{`expiry-time="20260601120100Z"`}, true},
		{[]string{`expiry-time="tomorrow"`}, false},
	} {
		if got := keyUsable(tc.opts, now); got != tc.want {
			t.Errorf("keyUsable(%q) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}

func TestAuthorizedKeysFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authorized_keys")
	good, restricted, other := newSigner(t), newSigner(t), newSigner(t)
	write := func(content string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	ak := newAuthorizedKeys(path)
	if _, err := ak.allowed(good.PublicKey()); err == nil {
		t.Error("missing file: no error")
	}
	write("# comment\n"+authLine(good, "")+"garbage line\n"+authLine(restricted, `command="/bin/date"`), 0o600)
	for _, tc := range []struct {
		key  ssh.Signer
		want bool
	}{{good, true}, {restricted, false}, {other, false}} {
		if ok, err := ak.allowed(tc.key.PublicKey()); ok != tc.want || err != nil {
			t.Errorf("allowed = %v, %v; want %v", ok, err, tc.want)
		}
	}
	// A change applies to the next check (another size, so the stamp
	// differs even within one mtime tick).
	write(authLine(other, "no-pty"), 0o600)
	if ok, _ := ak.allowed(other.PublicKey()); !ok {
		t.Error("key added: not allowed")
	}
	if ok, _ := ak.allowed(good.PublicKey()); ok {
		t.Error("key removed: still allowed")
	}
	// Writable by group or others: refused outright.
	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		write(authLine(other, ""), mode)
		ok, err := ak.allowed(other.PublicKey())
		if ok || err == nil || !strings.Contains(err.Error(), "writable by group or others") {
			t.Errorf("mode %04o: allowed %v, err %v", mode, ok, err)
		}
	}
	if os.Geteuid() == 0 {
		write(authLine(other, ""), 0o644)
		if err := os.Chown(path, 1000, 1000); err != nil {
			t.Fatal(err)
		}
		if ok, err := ak.allowed(other.PublicKey()); ok || err == nil || !strings.Contains(err.Error(), "not root") {
			t.Errorf("owned by uid 1000: allowed %v, err %v", ok, err)
		}
	}
}

func TestLoadHostKeys(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadHostKeys([]string{filepath.Join(dir, "nope")}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing named key: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := LoadHostKeys([]string{bad}); err == nil || !strings.Contains(err.Error(), "host key "+bad) {
		t.Errorf("bad key: %v", err)
	}
}

// fixture is a Server fed by socket pairs (no network), with root's
// authorized_keys holding key.
type fixture struct {
	s       *Server
	hostKey ssh.Signer
	key     ssh.Signer
	sock    string
}

func newFixture(t *testing.T, lim Limits) *fixture {
	t.Helper()
	f := &fixture{hostKey: newSigner(t), key: newSigner(t), sock: "/run/hactl/hactl.sock"}
	ak := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(ak, []byte(authLine(f.key, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := control.PeerFrom(r.Context())
		fmt.Fprintf(w, "peer uid %d %v %s", p.UID, ok, r.URL.Path)
	})
	s, err := newServer(Config{HostKeys: []ssh.Signer{f.hostKey}, AuthorizedKeys: ak, SocketPath: f.sock, Handler: h, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	s.startHTTP()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	f.s = s
	return f
}

// dial connects a client through a pipe; it fails the way the server
// answered.
func (f *fixture) dial(t *testing.T, user string, key ssh.Signer) (*ssh.Client, error) {
	t.Helper()
	cc, sc := socketPair(t)
	if !f.s.admit() {
		cc.Close()
		sc.Close()
		return nil, fmt.Errorf("not admitted")
	}
	go f.s.handle(sc)
	conn, chans, reqs, err := ssh.NewClientConn(cc, "node:22", &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.FixedHostKey(f.hostKey.PublicKey()), Timeout: 5 * time.Second,
	})
	if err != nil {
		cc.Close()
		return nil, err
	}
	c := ssh.NewClient(conn, chans, reqs)
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// socketPair is a connected pair of unix stream sockets: buffered, unlike
// net.Pipe, on which both SSH ends writing their version line at once
// would block.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return conn(fds[0]), conn(fds[1])
}

func get(c *ssh.Client, sock string) (string, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return c.DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://node/v1/status")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestServeRootStreamLocal(t *testing.T) {
	f := newFixture(t, Limits{})
	c, err := f.dial(t, "root", f.key)
	if err != nil {
		t.Fatal(err)
	}
	body, err := get(c, f.sock)
	if err != nil || body != "peer uid 0 true /v1/status" {
		t.Errorf("GET: %q, %v", body, err)
	}
	// The same path spelled differently is the same socket.
	if body, err := get(c, "/run/hactl/./hactl.sock"); err != nil || !strings.HasPrefix(body, "peer uid 0") {
		t.Errorf("GET through a non-clean path: %q, %v", body, err)
	}
}

func TestAuthRefused(t *testing.T) {
	f := newFixture(t, Limits{})
	if _, err := f.dial(t, "alice", f.key); err == nil {
		t.Error("user alice: let in")
	}
	if _, err := f.dial(t, "root", newSigner(t)); err == nil {
		t.Error("unlisted key: let in")
	}
	// The server counts once its side of the handshake returns.
	for i := 0; i < 200 && f.s.Stats().AuthFailed < 2; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if got := f.s.Stats().AuthFailed; got != 2 {
		t.Errorf("AuthFailed = %d, want 2", got)
	}
}

func TestChannelFiltering(t *testing.T) {
	f := newFixture(t, Limits{MaxChannels: 2})
	c, err := f.dial(t, "root", f.key)
	if err != nil {
		t.Fatal(err)
	}
	// Another socket path.
	if _, err := c.DialContext(context.Background(), "unix", "/run/other.sock"); err == nil || !strings.Contains(err.Error(), "administratively prohibited") {
		t.Errorf("other path: %v", err)
	}
	// A session (shell, exec): none here.
	if _, err := c.NewSession(); err == nil {
		t.Error("session opened")
	}
	// TCP forwarding, both ways.
	if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil {
		t.Error("direct-tcpip opened")
	}
	if _, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		t.Error("tcpip-forward granted")
	}
	// The per-connection channel cap.
	a, err := c.DialContext(context.Background(), "unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := c.DialContext(context.Background(), "unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := c.DialContext(context.Background(), "unix", f.sock); err == nil || !strings.Contains(err.Error(), "resource shortage") {
		t.Errorf("third channel over a cap of 2: %v", err)
	}
	if got := f.s.Stats().ChannelsRejected; got < 5 {
		t.Errorf("ChannelsRejected = %d, want at least 5", got)
	}
}

func TestHandshakeCap(t *testing.T) {
	f := newFixture(t, Limits{MaxConns: 4, MaxHandshakes: 2})
	var held []net.Conn
	for range 2 { // two connections that never speak hold the handshake slots
		cc, sc := socketPair(t)
		if !f.s.admit() {
			t.Fatal("not admitted under the cap")
		}
		go f.s.handle(sc)
		held = append(held, cc)
	}
	if f.s.admit() {
		t.Error("a third handshake admitted over MaxHandshakes 2")
	}
	for _, c := range held {
		c.Close()
	}
}
