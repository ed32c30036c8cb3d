package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// fakeSSHD is an in-process SSH server on loopback whose "exec" requests
// run canned commands: "yes" prints y\n on stdout until the channel closes,
// "yes-stderr" the same on stderr, "print N" prints N bytes and exits 0.
type fakeSSHD struct {
	addr    *net.TCPAddr
	written atomic.Int64 // bytes the commands wrote
	killed  atomic.Int32 // SIGKILL requests received
	ended   chan string  // one command name per command that stopped
}

func startFakeSSHD(t *testing.T, clientKey ssh.PublicKey) (*fakeSSHD, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), clientKey.Marshal()) {
			return &ssh.Permissions{}, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSSHD{addr: ln.Addr().(*net.TCPAddr), ended: make(chan string, 16)}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c, cfg)
			}()
		}
	}()
	return s, hostKey.PublicKey()
}

func (s *fakeSSHD) serve(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, creqs)
		}()
	}
}

func (s *fakeSSHD) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	cmd := make(chan string, 1)
	go func() {
		for r := range reqs {
			switch r.Type {
			case "exec":
				var p struct{ Command string }
				_ = ssh.Unmarshal(r.Payload, &p)
				r.Reply(true, nil)
				cmd <- p.Command
			case "signal":
				var p struct{ Signal string }
				if ssh.Unmarshal(r.Payload, &p) == nil && p.Signal == "KILL" {
					s.killed.Add(1)
				}
			default:
				r.Reply(false, nil)
			}
		}
	}()
	var line string
	select {
	case line = <-cmd:
	case <-time.After(10 * time.Second):
		return
	}
	out := map[bool]func([]byte) (int, error){false: ch.Write, true: ch.Stderr().Write}
	exit := func(status uint32) {
		b := make([]byte, 4)
		binary.BigEndian.PutUint32(b, status)
		ch.SendRequest("exit-status", false, b)
	}
	chunk := bytes.Repeat([]byte("y\n"), 16<<10)
	switch f := strings.Fields(line); {
	case len(f) == 1 && (f[0] == "yes" || f[0] == "yes-stderr"):
		// Until the client closes the channel, or a bound that the old,
		// unbounded client would reach: 1 GiB.
		for i := 0; i < (1<<30)/len(chunk); i++ {
			n, err := out[f[0] == "yes-stderr"](chunk)
			s.written.Add(int64(n))
			if err != nil {
				break
			}
		}
		s.ended <- f[0]
	case len(f) == 2 && f[0] == "print":
		n, _ := strconv.Atoi(f[1])
		w, _ := ch.Write(bytes.Repeat([]byte("x"), n))
		s.written.Add(int64(w))
		exit(0)
		s.ended <- line
	default:
		ch.Stderr().Write([]byte("unknown command\n"))
		exit(127)
		s.ended <- line
	}
}

// fakeSSHDPool returns a pool and a client for node3 on the fake server.
func fakeSSHDPool(t *testing.T) (*fakeSSHD, *Client) {
	t.Helper()
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(id, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	srv, hostKey := startFakeSSHD(t, signer.PublicKey())
	kh := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(srv.addr.String())}, hostKey) + "\n"
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	p := NewPool(Config{Timeout: 30 * time.Second, AgentSocket: "none"})
	t.Cleanup(func() { p.Close() })
	n := Node{Name: "node3", Host: "127.0.0.1", Port: srv.addr.Port, User: "root", Identities: []string{id}, IdentitiesOnly: true, KnownHosts: []string{kh}}
	return srv, p.Client(n)
}

// A command that prints without end is stopped at its output limit, with
// SIGKILL and the session closed, long before the call's timeout, and the
// call fails with an *OutputLimitError that names the node, the command
// and the stream. On the old, unbounded client the server wrote until the
// 30 s timeout (or its 1 GiB bound).
func TestRunCommandOutputLimit(t *testing.T) {
	srv, c := fakeSSHDPool(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		cmd     Command
		limit   int
		stream  string
		wantMsg string
	}{
		{"default limit, stdout", Command{Script: "yes"}, DefaultOutputLimit, "stdout", "node3: yes: printed more than 4 MiB on stdout; stopped"},
		{"own limit, stderr", Command{Script: "yes-stderr", OutputLimit: 64 << 10}, 64 << 10, "stderr", "node3: yes-stderr: printed more than 64 KiB on stderr; stopped"},
		{"combined", Command{Script: "yes-stderr", OutputLimit: 100000, Combined: true}, 100000, "stdout and stderr", "node3: yes-stderr: printed more than 100000 bytes on stdout and stderr; stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.written.Load()
			res, err := c.RunCommand(ctx, tt.cmd)
			var ole *OutputLimitError
			if !errors.As(err, &ole) || !errors.Is(err, ErrOutputLimit) || errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want an *OutputLimitError", err)
			}
			if err.Error() != tt.wantMsg || ole.Stream != tt.stream || ole.Limit != tt.limit {
				t.Errorf("err = %q (%+v), want %q", err, ole, tt.wantMsg)
			}
			var ne *NodeError
			if !errors.As(err, &ne) || ne.Node != "node3" {
				t.Errorf("err %v is not a NodeError of node3", err)
			}
			kept := len(res.Stdout) + len(res.Stderr)
			if kept != tt.limit {
				t.Errorf("kept %d bytes of output, want the limit, %d", kept, tt.limit)
			}
			select {
			case <-srv.ended:
			case <-time.After(10 * time.Second):
				t.Fatal("the remote command still prints 10 s after the call returned")
			}
			// The command was stopped near the limit: what it wrote past
			// it is at most what SSH flow control let through (the
			// channel window, 2 MiB) plus a chunk or two.
			if w := srv.written.Load() - before; w > int64(tt.limit)+4<<20 {
				t.Errorf("the remote command wrote %d bytes, want it stopped near the %d limit", w, tt.limit)
			}
		})
	}
	if srv.killed.Load() != int32(len(tests)) {
		t.Errorf("%d SIGKILL requests, want one per command (%d)", srv.killed.Load(), len(tests))
	}

	// Output up to the limit is fine, one byte more is not.
	res, err := c.RunCommand(ctx, Command{Script: "print 1000", OutputLimit: 1000})
	if err != nil || len(res.Stdout) != 1000 || res.ExitStatus != 0 {
		t.Errorf("print 1000 with limit 1000: %v, %d bytes, exit %d", err, len(res.Stdout), res.ExitStatus)
	}
	<-srv.ended
	if _, err := c.RunCommand(ctx, Command{Script: "print 1001", OutputLimit: 1000}); !errors.Is(err, ErrOutputLimit) {
		t.Errorf("print 1001 with limit 1000: %v, want ErrOutputLimit", err)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int]string{4 << 20: "4 MiB", 64 << 10: "64 KiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes", 3 << 10: "3 KiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
