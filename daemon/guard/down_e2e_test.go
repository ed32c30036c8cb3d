//go:build linux

package guard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EGuardEtcdDown: with every etcd member killed, the holder's
// deadline passes and nobody owns (the price of never two owners); once
// etcd is back the holder gets a lease and its key again.
func TestE2EGuardEtcdDown(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 5})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	key := guard.Key("/hactl/", "ipv4", 77)
	a := newNode(t, c, lab.Node(4), "a")
	defer a.g.Close(true)
	b := newNode(t, c, lab.Node(5), "b")
	defer b.g.Close(true)
	if a.acquire(key, 5*time.Second).IsZero() {
		t.Fatalf("a never acquired: %+v", a.g.Stats())
	}
	for i := range c.Members {
		if err := c.Kill(i); err != nil {
			t.Fatal(err)
		}
	}
	down := time.Now()
	var gone time.Time
	for end := down.Add(ttl + time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if acq, err := b.g.Acquire(context.Background(), key); err == nil && acq.Held {
			t.Fatal("b acquired with etcd down")
		}
		if gone.IsZero() && !a.own(key) {
			gone = time.Now()
		}
	}
	if gone.IsZero() {
		t.Fatalf("a still owns %v after etcd went down", ttl+time.Second)
	}
	// gone is sampled between b's calls, which wait up to their timeout
	// while etcd is down; the deadline itself is exact.
	t.Logf("etcd down: a's deadline %v after the last member died (seen gone %v after), nobody owns",
		a.state.Deadline().Sub(down).Round(time.Millisecond), gone.Sub(down).Round(time.Millisecond))

	var wg sync.WaitGroup
	errs := make([]error, len(c.Members))
	for i := range c.Members {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Restart(context.Background(), i) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	back := time.Now()
	// a still bears the key's name (its old lease may even have survived
	// the restart): it takes the key back, b does not.
	if a.acquire(key, 10*time.Second).IsZero() {
		t.Fatalf("a did not get its key back after etcd returned: %+v", a.g.Stats())
	}
	t.Logf("etcd back: a owns again %v after the cluster was healthy", time.Since(back).Round(time.Millisecond))
	if acq, err := b.g.Acquire(context.Background(), key); err == nil && acq.Held {
		t.Fatal("b acquired a's key")
	}
}
