package api

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api/apitest"
)

// fakeSocket listens on a unix socket in a temporary directory and answers
// every connection with serve, after reading its request when readRequest
// is set.
func fakeSocket(t *testing.T, readRequest bool, serve func(c net.Conn)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hactl.sock")
	apitest.Serve(t, path, readRequest, serve)
	return path
}

func answer(s string) func(net.Conn) {
	return func(c net.Conn) { io.WriteString(c, s) }
}

// reply is an HTTP/1.1 answer with status line status and body.
func reply(status, body string) func(net.Conn) {
	return answer("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// A socket that cannot be opened is a *DialError (no daemon there); every
// other failure is not, and says what was wrong: no answer, an endless or
// oversized answer, garbage, a daemon's error. None of them makes the
// client read more than MaxAnswerBytes.
func TestClientStatusFaults(t *testing.T) {
	refused := filepath.Join(t.TempDir(), "refused.sock")
	ln, err := net.Listen("unix", refused)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody listens: ECONNREFUSED

	endless := func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"daemon\":{\"name\":\"")
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 1<<14; i++ { // 1 GiB at most
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
	tests := []struct {
		name string
		path string
		// want: dial error, errors.Is target, *Error status, message part
		dial    bool
		is      error
		status  int
		message string
	}{
		{name: "no such socket", path: filepath.Join(t.TempDir(), "none.sock"), dial: true, is: os.ErrNotExist},
		{name: "refused", path: refused, dial: true, is: syscall.ECONNREFUSED},
		{name: "never answers", path: fakeSocket(t, true, func(c net.Conn) { io.Copy(io.Discard, c) }), is: context.DeadlineExceeded, message: "GET /v1/status: context deadline exceeded"},
		{name: "streams forever", path: fakeSocket(t, true, endless), is: ErrBadAnswer, message: "GET /v1/status: bad answer: larger than 4 MiB"},
		{name: "garbage", path: fakeSocket(t, false, answer("\x1b[2Jgarbage garbage\r\n\r\n")), message: `malformed HTTP`}, // net/http says "transport connection broken: malformed HTTP response" or "malformed HTTP status code", by timing
		{name: "not JSON", path: fakeSocket(t, true, reply("200 OK", "hello")), is: ErrBadAnswer, message: "GET /v1/status: bad answer: invalid character 'h'"},
		{name: "not a status", path: fakeSocket(t, true, reply("200 OK", "{}")), is: ErrBadAnswer, message: `not a hactl status (daemon name "")`},
		{name: "503 from a wedged daemon", path: fakeSocket(t, true, reply("503 Service Unavailable",
			`{"status":503,"code":"unavailable","error":"the VRRP loop has not answered for 2s (busy?)"}`)),
			status: 503, message: "the VRRP loop has not answered for 2s (busy?) (503 unavailable)"},
		{name: "500 with terminal escapes", path: fakeSocket(t, true, reply("500 Internal Server Error", "\x1b]0;owned\x07 oops")),
			status: 500, message: "?]0;owned? oops (500 http)"},
		{name: "500 without a body", path: fakeSocket(t, true, reply("500 Internal Server Error", "")),
			status: 500, message: "Internal Server Error (500 http)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			c := NewUnixClient(tt.path)
			defer c.CloseIdleConnections()
			_, err := c.Status(ctx)
			if err == nil {
				t.Fatal("no error")
			}
			if IsDialError(err) != tt.dial {
				t.Errorf("IsDialError(%v) = %v, want %v", err, !tt.dial, tt.dial)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			var ae *Error
			if tt.status != 0 && (!errors.As(err, &ae) || ae.Status != tt.status) {
				t.Errorf("err = %#v, want an *Error with status %d", err, tt.status)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to contain %q", err, tt.message)
			}
		})
	}
}

func TestClientStatusOK(t *testing.T) {
	body := `{"daemon":{"name":"hactl","version":"v1","pid":42},"instances":[{"name":"VI_1","state":"MASTER"}]}`
	path := fakeSocket(t, true, reply("200 OK", body))
	st, err := NewUnixClient(path).Status(context.Background())
	if err != nil || st.Daemon.PID != 42 || len(st.Instances) != 1 || st.Instances[0].State != StateMaster {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func TestReadAnswerLimit(t *testing.T) {
	for _, tt := range []struct {
		n   int
		max int64
		ok  bool
	}{{0, 10, true}, {10, 10, true}, {11, 10, false}, {1 << 20, 1 << 20, true}, {1<<20 + 1, 1 << 20, false}} {
		b, err := readAnswer(strings.NewReader(strings.Repeat("a", tt.n)), tt.max)
		if (err == nil) != tt.ok || (tt.ok && len(b) != tt.n) || (!tt.ok && !errors.Is(err, ErrBadAnswer)) {
			t.Errorf("readAnswer(%d bytes, max %d) = %d bytes, %v", tt.n, tt.max, len(b), err)
		}
	}
}
