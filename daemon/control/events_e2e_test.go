//go:build linux

package control

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/pkg/api"
)

// busBackend is a fake daemon with a real event bus.
type busBackend struct {
	*fakeBackend
	bus *notify.Bus
}

func (b busBackend) Events() (EventStream, error) {
	s, err := b.bus.Subscribe()
	if err != nil {
		return nil, errors.Join(ErrUnavailable, err)
	}
	return s, nil
}

// TestEventsStream: GET /v1/events streams the bus's events as JSON
// lines through the API client, outlives the server's idle and write
// timeouts (set to 200 ms here, 10 s and 30 s in the daemon), counts against the
// connection caps while it lasts, and ends with io.EOF when the bus
// closes; the server then shuts down at once.
func TestEventsStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hactl.sock")
	srv, err := Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv.Limits.WriteTimeout, srv.Limits.IdleTimeout = 200*time.Millisecond, 200*time.Millisecond
	srv.Limits.MaxConns, srv.Limits.RootReserve = 2, 0
	bus := notify.NewBus(nil, 0, 0)
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(Handler(busBackend{&fakeBackend{}, bus}, Policy{ReadGID: -1}, nil, nil), nil)
	}()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v after %v", err, time.Since(start))
		}
		<-done
	}()

	c := api.NewUnixClient(path)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(700 * time.Millisecond) // over three write and idle timeouts
	if open := srv.Stats().Open; open != 1 {
		t.Errorf("open connections %d while streaming, want 1", open)
	}
	bus.Publish(notify.Change{Kind: notify.Instance, Name: "VI_1", State: notify.Master, Priority: 200}, time.Now())
	bus.Publish(notify.Change{Kind: notify.Group, Name: "G1", State: notify.Master, Priority: 200}, time.Now())
	for _, want := range []api.Event{
		{Seq: 1, Type: "INSTANCE", Name: "VI_1", State: "MASTER", Priority: 200, Line: `INSTANCE "VI_1" MASTER 200`},
		{Seq: 2, Type: "GROUP", Name: "G1", State: "MASTER", Priority: 0, Line: `GROUP "G1" MASTER 0`},
	} {
		ev, err := st.Next()
		if err != nil {
			t.Fatalf("Next: %v (the stream did not outlive the timeouts?)", err)
		}
		ev.Time = time.Time{}
		if ev != want {
			t.Errorf("event %+v, want %+v", ev, want)
		}
	}
	// The stream holds one of the two slots: a second stream fits, a
	// third connection is refused.
	st2, err := c.Events(ctx)
	if err != nil {
		t.Fatalf("second stream: %v", err)
	}
	defer st2.Close()
	if _, err := api.NewUnixClient(path).Status(ctx); err == nil {
		t.Error("a third connection was admitted over MaxConns 2: streams do not count against the caps")
	}
	bus.Close()
	if _, err := st.Next(); err != io.EOF {
		t.Errorf("after the bus closed: %v, want EOF", err)
	}
}

// TestEventsRaw: the stream as curl --unix-socket sees it: a 200 with
// application/x-ndjson, one JSON object a line.
func TestEventsRaw(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hactl.sock")
	srv, err := Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	bus := notify.NewBus(nil, 0, 0)
	go srv.Serve(Handler(busBackend{&fakeBackend{}, bus}, Policy{ReadGID: -1}, nil, nil), nil)
	defer srv.Shutdown(context.Background())
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	head := string(buf[:n])
	if !strings.HasPrefix(head, "HTTP/1.1 200") || !strings.Contains(head, "Content-Type: application/x-ndjson") {
		t.Fatalf("answer %q", head)
	}
	bus.Publish(notify.Change{Kind: notify.Instance, Name: "VI_1", State: notify.Backup, Priority: 100}, time.Unix(0, 0).UTC())
	bus.Close()
	b, _ := io.ReadAll(conn)
	if !strings.Contains(string(b), `{"seq":1,"time":"1970-01-01T00:00:00Z","type":"INSTANCE","name":"VI_1","state":"BACKUP","priority":100,"line":"INSTANCE \"VI_1\" BACKUP 100"}`+"\n") {
		t.Errorf("body %q", b)
	}
}
