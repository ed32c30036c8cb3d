package cluster

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/api/apitest"
)

// faultySocket listens at path and answers every request with serve.
func faultySocket(t *testing.T, path string, serve func(c net.Conn)) {
	t.Helper()
	apitest.Serve(t, path, true, serve)
}

// socketFaults are the misbehaving control sockets of issue 20 (item 5),
// each with what the node's error must say.
var socketFaults = []struct {
	name  string
	serve func(c net.Conn)
	want  string
}{
	{"never answers", func(c net.Conn) { io.Copy(io.Discard, c) }, "no answer within"},
	{"streams forever", func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"daemon\":{\"name\":\"")
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 1<<14; i++ { // 1 GiB at most
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}, "bad answer: larger than 4 MiB"},
	{"garbage", func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n") }, "malformed HTTP"},
	{"503 of a wedged daemon", func(c net.Conn) {
		body := `{"status":503,"code":"unavailable","error":"the VRRP loop has not answered for 2s"}`
		io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	}, "the daemon answers with an error: the VRRP loop has not answered for 2s (503 unavailable)"},
}

// A control socket that opens but answers badly or not at all makes its
// node an error (exit 4 in the CLI) within the node's timeout, in who-owns
// and in status, on the local path (--local); before issue 20 each of them
// was "runs no VRRP daemon".
func TestLocalNodeSocketFaults(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, f := range socketFaults {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hactl.sock")
			faultySocket(t, path, f.serve)
			n := NewLocalNode(path)
			n.Timeout = timeout
			start := time.Now()
			w := WhoOwns(context.Background(), []Node{n}, []netip.Addr{vip}, Options{Timeout: timeout})
			took := time.Since(start)
			if len(w.Errors) != 1 || w.Verdict != VerdictIncomplete || len(w.Unreachable) != 1 {
				t.Fatalf("who-owns: verdict %s, errors %v, nodes %+v", w.Verdict, w.Errors, w.Nodes)
			}
			msg := w.Errors[0].Error()
			if !strings.HasPrefix(msg, n.Name()+": control socket "+path+": ") || !strings.Contains(msg, f.want) {
				t.Errorf("who-owns error %q, want the node, the socket and %q", msg, f.want)
			}
			if took > timeout+time.Second {
				t.Errorf("who-owns took %v, want at most the timeout (%v) and a second", took, timeout)
			}
			s := Status(context.Background(), []Node{n}, StatusOptions{Options: Options{Timeout: timeout}})
			if len(s.Errors) != 1 || s.Nodes[0].Reachable || !strings.Contains(s.Nodes[0].Error, f.want) {
				t.Errorf("status: errors %v, node %+v", s.Errors, s.Nodes[0])
			}
		})
	}
}

func TestSocketFault(t *testing.T) {
	ctx := context.Background()
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	dial := &api.DialError{Err: errors.New("dial unix /s: connect: no such file or directory")}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string // "" for no fault
	}{
		{"no socket", ctx, dial, ""},
		{"dial timed out", expired, dial, "dial unix /s: connect: no such file or directory"},
		{"refused by the daemon", ctx, &api.Error{Status: 403, Code: "forbidden", Message: "not root"}, ""},
		{"server error", ctx, &api.Error{Status: 503, Code: "unavailable", Message: "loop stuck"}, "control socket /s: the daemon answers with an error: loop stuck (503 unavailable)"},
		{"no answer", expired, context.DeadlineExceeded, "control socket /s: no answer within 5s: context deadline exceeded"},
		{"garbage", ctx, api.ErrBadAnswer, "control socket /s: bad answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := socketFault(tt.ctx, "/s", tt.err, 5*time.Second)
			if (err == nil) != (tt.want == "") || (err != nil && err.Error() != tt.want) {
				t.Errorf("socketFault = %v, want %q", err, tt.want)
			}
		})
	}
}

// When a node's addresses and its daemon both fail, differently, its error
// says both, naming the node once.
func TestAskBothErrors(t *testing.T) {
	n := &twoErrNode{name: "n1", addrErr: errors.New("n1: probe: timed out after 3s"), daemonErr: errors.New("control socket /s: no answer within 3s")}
	p := ask(context.Background(), n)
	if got := p.err.Error(); got != "n1: probe: timed out after 3s; and control socket /s: no answer within 3s" || !errors.Is(p.err, n.daemonErr) {
		t.Errorf("err = %q", got)
	}
	n.daemonErr = n.addrErr
	if got := ask(context.Background(), n).err.Error(); got != "n1: probe: timed out after 3s" {
		t.Errorf("same error twice: %q", got)
	}
}

type twoErrNode struct {
	name               string
	addrErr, daemonErr error
}

func (f *twoErrNode) Name() string                                   { return f.name }
func (f *twoErrNode) Addresses(context.Context) ([]Interface, error) { return nil, f.addrErr }
func (f *twoErrNode) Daemon(context.Context) (*Daemon, error)        { return nil, f.daemonErr }

// A member (failover, restart-safe) whose control socket opens but answers
// badly is an error of the node, even where keepalived runs too; before,
// SSHMember.Observe took any failed status call for "no hactl daemon".
func TestMemberDaemonSocketFaults(t *testing.T) {
	kaProbe := parseProbe([]byte("@@hactl:keepalived 42 42\n"))
	for _, f := range socketFaults {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hactl.sock")
			faultySocket(t, path, f.serve)
			cl := api.NewClient(func(ctx context.Context) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", path)
			})
			defer cl.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			st, serr := cl.Status(ctx)
			_, d, err := memberDaemon(ctx, path, st, serr, kaProbe)
			want := strings.Replace(f.want, "no answer within", "no answer in time", 1)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("daemon %+v, err %v; want an error with %q", d, err, want)
			}
		})
	}
	t.Run("no socket", func(t *testing.T) {
		dial := &api.DialError{Err: errors.New("dial unix /s: connect: no such file or directory")}
		if _, d, err := memberDaemon(context.Background(), "/s", nil, dial, kaProbe); err != nil || d.Kind != DaemonKeepalived {
			t.Errorf("with keepalived: %+v, %v", d, err)
		}
		if _, d, err := memberDaemon(context.Background(), "/s", nil, dial, probeResult{}); err != nil || d.Kind != DaemonNone || d.Note != "" {
			t.Errorf("without: %+v, %v", d, err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		ref := &api.Error{Status: 403, Code: "forbidden", Message: "not root"}
		if _, d, err := memberDaemon(context.Background(), "/s", nil, ref, probeResult{}); err != nil || d.Kind != DaemonNone || !strings.Contains(d.Note, "not root") {
			t.Errorf("%+v, %v", d, err)
		}
	})
}
