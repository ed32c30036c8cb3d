//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// guardedConf is a guarded node's config: VRRPv3 at 0.1 s, guard G on a
// real etcd with ttl 2.
func guardedConf(c *etcdlab.Cluster, node string, prio int, vip netip.Prefix) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
%svrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version 3
    priority %d
    advert_int 0.1
    virtual_ipaddress {
        %s
    }
    guard G
}
`, node, c.GuardBlock("G", 2), prio, vip)
}

// sampleDual samples the holders every 5 ms until stop, counting the
// samples where more than one node held the address.
func sampleDual(h *holders, stop <-chan struct{}, dual, samples *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		samples.Add(1)
		if len(h.owners()) > 1 {
			dual.Add(1)
		}
	}
}

// etcdHolder reads the key's value in etcd from host n.
func etcdHolder(t *testing.T, c *etcdlab.Cluster, n *netlab.Host, key string) string {
	t.Helper()
	cli, err := c.Client(n)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) == 0 {
		return ""
	}
	return string(r.Kvs[0].Value)
}

// TestE2EGuardDaemons: two guarded hactl daemons against a real
// three-member etcd. The master owns the VIP only with the key (status and
// etcd agree); the backup shows the holder; a graceful stop releases the
// key and the backup owns the VIP at once (its skew time, not the ttl);
// never both hold it.
func TestE2EGuardDaemons(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 5})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	vip := netip.MustParsePrefix("10.77.0.100/24")
	a, b := lab.Node(4), lab.Node(5)
	h := newHolders(t, []*netlab.Host{a, b}, vip)
	var dual, samples atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); sampleDual(h, stop, &dual, &samples) }()
	defer func() { close(stop); wg.Wait() }()

	pa := startDaemon(t, a, guardedConf(c, a.Name, 200, vip))
	startDaemon(t, b, guardedConf(c, b.Name, 100, vip))
	if _, err := h.waitOwner(a.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	key := "/hactl/ipv4/51"
	if got := etcdHolder(t, c, lab.Node(1), key); got != a.Name {
		t.Fatalf("etcd says %q holds %s, want %s", got, key, a.Name)
	}
	sa := status(t, a)
	if g := sa.Instances[0].Guard; g == nil || !g.Held || g.Holder != a.Name || g.Deadline.IsZero() || g.Key != key {
		t.Fatalf("%s's guard status %+v", a.Name, g)
	}
	if len(sa.Guards) != 1 || !sa.Guards[0].LeaseOK {
		t.Fatalf("%s's guards %+v", a.Name, sa.Guards)
	}
	// The backup learns the holder from its watch.
	var gb *api.InstanceGuard
	for range 100 {
		if gb = status(t, b).Instances[0].Guard; gb != nil && gb.Holder == a.Name {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if gb == nil || gb.Held || gb.Holder != a.Name {
		t.Fatalf("%s's guard status %+v, want holder %s", b.Name, gb, a.Name)
	}

	// A graceful stop hands the key over at once.
	stopped := time.Now()
	if err := pa.Stop(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	d, err := h.waitOwner(b.Name, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(stopped) - 20*time.Millisecond
	t.Logf("graceful stop: %s owns the VIP %v after the stop began (daemon exit included); wait %v", b.Name, took.Round(time.Millisecond), d.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("takeover after a graceful stop took %v, want well under the ttl (2 s): the key was not released", took)
	}
	if got := etcdHolder(t, c, lab.Node(1), key); got != b.Name {
		t.Errorf("etcd says %q holds the key, want %s", got, b.Name)
	}
	if n := dual.Load(); n != 0 {
		t.Errorf("%d of %d samples had both nodes holding the VIP", n, samples.Load())
	}
}

// goroutines is the daemon's go_goroutines from its metrics.
func goroutines(t *testing.T, n *netlab.Host) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := api.NewUnixClient(n.Socket()).Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	for _, line := range strings.Split(text, "\n") {
		if _, err := fmt.Sscanf(line, "go_goroutines %d", &v); err == nil {
			return v
		}
	}
	t.Fatal("no go_goroutines in the metrics")
	return 0
}

// TestE2EGuardReloadsLeakNothing: reloads that add, change and remove
// guards leave one lease per guard in use in etcd and no goroutine behind.
func TestE2EGuardReloadsLeakNothing(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 4})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	n := lab.Node(4)
	vip := netip.MustParsePrefix("10.77.0.100/24")
	base := guardedConf(c, n.Name, 200, vip)
	second := func(ttl int) string {
		return base + c.GuardBlock("H", ttl) + `vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    version 3
    priority 200
    advert_int 0.1
    virtual_ipaddress {
        10.77.0.101/24
    }
    guard H
}
`
	}
	d := startDaemon(t, n, base)
	h := newHolders(t, []*netlab.Host{n}, vip)
	if _, err := h.waitOwner(n.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cli := api.NewUnixClient(n.Socket())
	reload := func(conf string) {
		t.Helper()
		if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if res, err := cli.Reload(ctx); err != nil || !res.Reloaded {
			t.Fatalf("reload: %+v %v", res, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// One cycle first: what a reload starts once (the reloader) is not
	// a leak.
	reload(second(2))
	reload(base)
	time.Sleep(time.Second)
	before := goroutines(t, n)
	for i := range 12 {
		switch i % 3 {
		case 0:
			reload(second(2))
		case 1:
			reload(second(3)) // H changed: replaced
		case 2:
			reload(base) // H removed
		}
	}
	time.Sleep(time.Second)
	after := goroutines(t, n)
	t.Logf("goroutines: %d before 12 reloads, %d after", before, after)
	if after > before+2 {
		t.Errorf("goroutines grew from %d to %d over 12 reloads", before, after)
	}
	ecli, err := c.Client(lab.Node(1))
	if err != nil {
		t.Fatal(err)
	}
	defer ecli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ls, err := ecli.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Leases) != 1 {
		t.Errorf("%d leases in etcd after the reloads, want 1 (guard G's)", len(ls.Leases))
	}
	if got := etcdHolder(t, c, lab.Node(1), "/hactl/ipv4/51"); got != n.Name {
		t.Errorf("VI_1's key held by %q after the reloads, want %s", got, n.Name)
	}
	if !contains(h.owners(), n.Name) {
		t.Error("VI_1 lost its VIP across reloads of another guard")
	}
}

// TestE2EGuardDaemonTLS: a guarded daemon whose etcd_guard names a CA and
// a client certificate (etcd over https, client certificates required)
// takes the key and owns the VIP; etcd says it holds the key.
func TestE2EGuardDaemonTLS(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 4})
	c, files := etcdlab.UpTLS(t, lab.Node(1), lab.Node(2), lab.Node(3))
	vip := netip.MustParsePrefix("10.77.0.100/24")
	a := lab.Node(4)
	conf := guardedConf(c, a.Name, 200, vip)
	if !strings.Contains(conf, "ca_file "+files.CA) || !strings.Contains(conf, "https://") {
		t.Fatalf("the guard block names no TLS:\n%s", conf)
	}
	startDaemon(t, a, conf)
	if _, err := newHolders(t, []*netlab.Host{a}, vip).waitOwner(a.Name, 8*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := etcdHolder(t, c, lab.Node(1), "/hactl/ipv4/51"); got != a.Name {
		t.Fatalf("etcd says %q holds the key, want %s", got, a.Name)
	}
	if g := status(t, a).Instances[0].Guard; g == nil || !g.Held {
		t.Fatalf("%s's guard status %+v", a.Name, g)
	}
}
