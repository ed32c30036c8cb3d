//go:build linux

package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// waitSocket waits until the node's daemon answers on its socket.
func waitSocket(t *testing.T, n *netlab.Host) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := api.NewUnixClient(n.Socket()).Status(ctx)
		cancel()
		if err == nil {
			return
		}
	}
	t.Fatalf("%s: the daemon does not answer on %s", n.Name, n.Socket())
}

// TestE2EEvents: GET /v1/events, read by curl --unix-socket and by the
// API client at once, streams the same notifications as the notify
// scripts and FIFO get: node1 losing mastership to node2 and getting it
// back, then its STOP, after which the daemon ends the stream.
func TestE2EEvents(t *testing.T) {
	labtest.Require(t, "curl")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix(netlab.DemoVIP)
	h := newHolders(t, l.Nodes, vip)
	d1 := startDaemon(t, n1, fifoConf(n1.Dir, 51, 100, vip, false, ""))
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitSocket(t, n1)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	curl := exec.CommandContext(ctx, "curl", "-sS", "-N", "--unix-socket", n1.Socket(), "http://hactl/v1/events")
	curlOut, err := curl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	curl.Stderr = os.Stderr
	if err := curl.Start(); err != nil {
		t.Fatal(err)
	}
	defer curl.Wait()
	st, err := api.NewUnixClient(n1.Socket()).Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(200 * time.Millisecond) // curl connected too

	d2 := startDaemon(t, n2, fifoConf(n2.Dir, 51, 200, vip, false, ""))
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d2.Stop(3 * time.Second)
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d1.Stop(3 * time.Second)

	want := []string{`INSTANCE "VI_1" BACKUP 100`, `INSTANCE "VI_1" MASTER 100`, `INSTANCE "VI_1" STOP 100`}
	var got []string
	var seqs []uint64
	for {
		ev, err := st.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("client stream: %v after %q", err, got)
		}
		got, seqs = append(got, ev.Line), append(seqs, ev.Seq)
	}
	if !slices.Equal(got, want) || !slices.IsSorted(seqs) {
		t.Errorf("the API client read %q (seq %v), want %q", got, seqs, want)
	}
	var curlGot []string
	sc := bufio.NewScanner(curlOut)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("curl read %q: %v", sc.Text(), err)
		}
		curlGot = append(curlGot, ev.Line)
	}
	if !slices.Equal(curlGot, want) {
		t.Errorf("curl read %q, want %q", curlGot, want)
	}
}
