package cli

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/cluster"
	"github.com/hactl/hactl/pkg/resolve"
)

// gate counts the nodes being asked at once: each node's Addresses call
// says it started and blocks until the test lets it go.
type gate struct {
	inFlight, most atomic.Int32
	started        chan string
	release        chan struct{}
}

type gatedNode struct {
	name string
	g    *gate
}

func (n *gatedNode) Name() string { return n.name }
func (n *gatedNode) Addresses(ctx context.Context) ([]cluster.Interface, error) {
	now := n.g.inFlight.Add(1)
	for m := n.g.most.Load(); now > m && !n.g.most.CompareAndSwap(m, now); m = n.g.most.Load() {
	}
	n.g.started <- n.name
	defer n.g.inFlight.Add(-1)
	select {
	case <-n.g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []cluster.Interface{{Name: "eth0", Index: 2, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/24")}}}, nil
}
func (n *gatedNode) Daemon(context.Context) (*cluster.Daemon, error) {
	return &cluster.Daemon{Kind: cluster.DaemonNone, Instances: []cluster.Instance{}}, nil
}

// TestParallelBound: who-owns --parallel 3 over 10 nodes asks exactly 3
// at once, never more. No sleeps: the test waits until 3 nodes are in
// flight, checks that no fourth has started, and lets them go one by one.
func TestParallelBound(t *testing.T) {
	const nodes, limit = 10, 3
	g := &gate{started: make(chan string, nodes), release: make(chan struct{})}
	var list []cluster.Node
	for i := range nodes {
		list = append(list, &gatedNode{name: fmt.Sprintf("node%02d", i+1), g: g})
	}
	ios, _, _ := TestStreams()
	o := &WhoOwnsOptions{IO: ios, Global: &GlobalOptions{Output: "json", Timeout: time.Minute, Parallel: limit}, VIP: "10.77.0.100", Nodes: source(list...),
		Resolve: func(context.Context, string) (*resolve.Result, error) {
			return &resolve.Result{Query: "10.77.0.100", Addrs: []netip.Addr{netip.MustParseAddr("10.77.0.100")}}, nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runWhoOwns(ctx, o) }()
	wait := func() {
		t.Helper()
		select {
		case <-g.started:
		case <-ctx.Done():
			t.Fatal("a node was never asked")
		}
	}
	for range limit {
		wait()
	}
	for i := limit; i < nodes; i++ {
		// limit nodes are blocked in flight: a start now would break the bound.
		if n := len(g.started); n != 0 {
			t.Fatalf("%d more nodes started while %d were in flight", n, limit)
		}
		g.release <- struct{}{}
		wait()
	}
	for range limit {
		g.release <- struct{}{}
	}
	<-done // no owner: exit 2, not the point here
	if m := g.most.Load(); m != limit {
		t.Errorf("at most %d nodes at once, want exactly %d", m, limit)
	}
}
