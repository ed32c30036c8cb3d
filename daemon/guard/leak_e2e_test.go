//go:build linux

package guard_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"google.golang.org/grpc"
)

// TestE2EGuardNoLeak runs a guard through ten reload-like cycles (New,
// acquire, watch, Close with revoke) against a real etcd: afterwards etcd
// has no lease left and the process no goroutine.
func TestE2EGuardNoLeak(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 4})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	base := runtime.NumGoroutine()
	key := guard.Key("/hactl/", "ipv6", 9)
	for i := range 10 {
		g, err := guard.New(guard.Config{Name: "G", Node: "a", Endpoints: c.Endpoints(), TTL: ttl,
			DialOptions: []grpc.DialOption{etcdlab.Dialer(lab.Node(4))}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := &node{t: t, name: "a", g: g, state: guard.NewState("a", ttl)}
		if n.acquire(key, 5*time.Second).IsZero() {
			t.Fatalf("cycle %d: no key: %+v", i, g.Stats())
		}
		g.Watch(key)
		if err := g.Close(true); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	admin, err := c.Client(lab.Node(4))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ls, err := admin.Leases(ctx)
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Leases) != 0 {
		t.Errorf("%d leases left in etcd after ten closed guards", len(ls.Leases))
	}
	var now int
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= base+2 {
			break
		}
	}
	if now > base+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after ten closed guards, %d before:\n%s", now, base, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("ten guard cycles: %d leases left, goroutines %d -> %d", len(ls.Leases), base, now)
}
