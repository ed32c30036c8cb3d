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
	// A grant whose answer timed out (a slow etcd under load) leaves a
	// lease we never learned of: no key is on it and etcd expires it
	// after the ttl. Anything still there after ttl + 2 s is a leak.
	var left, first int
	for i, end := 0, time.Now().Add(ttl+2*time.Second); ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ls, err := admin.Leases(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if left = len(ls.Leases); i == 0 {
			first = left
		}
		if left == 0 || time.Now().After(end) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	admin.Close()
	if left != 0 {
		t.Errorf("%d leases left in etcd ttl + 2 s after ten closed guards", left)
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
	t.Logf("ten guard cycles: %d leases left at once (0 after ttl + 2 s), goroutines %d -> %d", first, base, now)
}
