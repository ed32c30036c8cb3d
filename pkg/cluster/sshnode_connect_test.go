package cluster

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/remote"
)

// A node that cannot be reached is reported by its connect error ("connect
// to HOST:22: timed out after ..."), once, not as the socket call's
// "context deadline exceeded": the socket is asked first now, and its
// deadline must not hide what failed.
func TestSSHNodeUnreachableSaysConnect(t *testing.T) {
	blackhole := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	pool := remote.NewPool(remote.Config{Timeout: 150 * time.Millisecond, Dialer: blackhole})
	defer pool.Close()
	n := NewSSHNode(pool.Client(remote.Node{Name: "ghost", Host: "192.0.2.99"}))
	res := WhoOwns(context.Background(), []Node{n}, []netip.Addr{netip.MustParseAddr("192.0.2.1")}, Options{Timeout: 150 * time.Millisecond})
	if len(res.Nodes) != 1 || res.Nodes[0].Error == "" {
		t.Fatalf("want an error for ghost, got %+v", res.Nodes)
	}
	got := res.Nodes[0].Error
	if !strings.HasPrefix(got, "ghost: connect to 192.0.2.99:22: timed out after 150ms") || strings.Contains(got, "context deadline exceeded") || strings.Contains(got, "; and ") {
		t.Errorf("error %q, want ghost's connect timeout alone", got)
	}
}
