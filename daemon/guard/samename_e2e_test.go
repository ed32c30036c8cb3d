//go:build linux

package guard_test

import (
	"context"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EGuardSameName: two nodes given one name (a copied router_id, or
// cloned hosts with one host name) must not both hold the key. A key is
// ours only under our own lease; our name under another lease is
// reported (SameName) and neither taken nor released.
func TestE2EGuardSameName(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 5})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	key := guard.Key("/hactl/", "ipv4", 52)

	a := newNode(t, c, lab.Node(4), "twin")
	b := newNode(t, c, lab.Node(5), "twin")
	t.Cleanup(func() { a.g.Close(true); b.g.Close(true) })
	if a.acquire(key, 5*time.Second).IsZero() {
		t.Fatalf("a never acquired %s: %+v", key, a.g.Stats())
	}
	// b waits for its own lease, then asks: not held, same name.
	var acq guard.Acquisition
	var err error
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if acq, err = b.g.Acquire(context.Background(), key); err != guard.ErrNoLease {
			break
		}
	}
	if err != nil || acq.Held || !acq.SameName || acq.Holder != "twin" {
		t.Fatalf("b's acquire of a key a holds under the same name: %+v, %v", acq, err)
	}
	// b's release must not delete a's key.
	if err := b.g.Release(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if again, err := a.g.Acquire(context.Background(), key); err != nil || !again.Held {
		t.Fatalf("a lost its key to a same-named node's release: %+v, %v", again, err)
	}

	// a crashes (no revoke): b takes the key only after a's deadline.
	a.drain(key)
	aDeadline := a.state.Deadline()
	if err := a.g.Close(false); err != nil {
		t.Fatal(err)
	}
	took := b.acquire(key, ttl+3*time.Second)
	if took.IsZero() {
		t.Fatalf("b never took the key after a's crash: %+v", b.g.Stats())
	}
	if !took.After(aDeadline) {
		t.Fatalf("b took the key at %v, before a's deadline %v: two owners", took, aDeadline)
	}
	t.Logf("same-named b took the key %v after a's deadline", took.Sub(aDeadline).Round(time.Millisecond))
}
