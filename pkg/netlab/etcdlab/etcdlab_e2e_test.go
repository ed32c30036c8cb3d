//go:build linux

package etcdlab_test

import (
	"context"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestE2EEtcdLab starts three members, writes through them from a fourth
// host, and checks each fault the guard's tests rely on: the leader
// killed (a new one is elected and writes go on), the member started
// again on its data, the client host cut from etcd (calls fail) and
// healed, a member isolated from its peers.
func TestE2EEtcdLab(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 4})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	client := lab.Node(4)
	cli, err := c.Client(client)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	put := func(v string) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := cli.Put(clientv3.WithRequireLeader(ctx), "/etcdlab/k", v)
		return err
	}
	if err := put("1"); err != nil {
		t.Fatalf("put on a healthy cluster: %v", err)
	}

	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.WaitHealthy(wctx); err != nil {
		t.Fatalf("after killing the leader %s: %v", c.Members[leader].Name, err)
	}
	next, err := c.Leader(ctx)
	if err != nil || next == leader {
		t.Fatalf("new leader %d (old %d): %v", next, leader, err)
	}
	t.Logf("leader %s killed; %s leads after %v", c.Members[leader].Name, c.Members[next].Name, time.Since(start).Round(time.Millisecond))
	if err := put("2"); err != nil {
		t.Fatalf("put with two members: %v", err)
	}
	if err := c.Restart(ctx, leader); err != nil {
		t.Fatalf("restart %s: %v", c.Members[leader].Name, err)
	}

	if err := c.Cut(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := put("3"); err == nil {
		t.Fatal("put succeeded from a host cut from etcd")
	}
	if err := c.Heal(ctx, client); err != nil {
		t.Fatal(err)
	}
	retry := func(what, v string) {
		t.Helper()
		var err error
		for range 10 {
			if err = put(v); err == nil {
				return
			}
		}
		t.Fatalf("put %s: %v", what, err)
	}
	retry("after heal", "4")

	if err := c.Isolate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// A call that reached the isolated member fails (no leader) and the
	// next goes to another.
	retry("with one member isolated", "5")
	if err := c.Heal(ctx, c.Members[0].Host); err != nil {
		t.Fatal(err)
	}
}
