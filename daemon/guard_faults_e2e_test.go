//go:build linux

package daemon_test

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EGuardDaemonFaults is a quick check of the daemon side of issue
// 19's acceptance (the timed acceptance runs are in the chaos and bench
// suites): a 6 s VRRP-only partition gives no sample with two holders and
// one owner at its end; a master cut from etcd loses the VIP and the peer
// owns it within ttl + 1.5 s; a SIGKILLed master is replaced within
// ttl + 2 s; never both.
func TestE2EGuardDaemonFaults(t *testing.T) {
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
	ctx := context.Background()

	pa := startDaemon(t, a, guardedConf(c, a.Name, 200, vip))
	startDaemon(t, b, guardedConf(c, b.Name, 100, vip))
	if _, err := h.waitOwner(a.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// A VRRP-only partition: both masters, one owner.
	for _, n := range []*netlab.Host{a, b} {
		if out, err := n.Run(ctx, "sh", "-c", "nft add table inet vrrpcut && nft 'add chain inet vrrpcut in { type filter hook input priority -5; }' && nft add rule inet vrrpcut in ip protocol vrrp drop"); err != nil {
			t.Fatalf("%s: nft: %v %s", n.Name, err, out)
		}
	}
	time.Sleep(6 * time.Second)
	if st := status(t, b).Instances[0]; st.State != "MASTER" || st.Guard == nil || !st.Guard.NoKey {
		t.Errorf("in the partition b is %s, guard %+v; want MASTER (no key)", st.State, st.Guard)
	}
	for _, n := range []*netlab.Host{a, b} {
		if out, err := n.Run(ctx, "nft", "delete", "table", "inet", "vrrpcut"); err != nil {
			t.Fatalf("%s: nft: %v %s", n.Name, err, out)
		}
	}
	if o := h.owners(); len(o) != 1 || o[0] != a.Name {
		t.Errorf("at the partition's end the VIP is held by %v, want [%s]", o, a.Name)
	}
	t.Logf("partition: %d of %d samples with two holders", dual.Load(), samples.Load())
	time.Sleep(time.Second)

	// The master cut from etcd.
	cut := time.Now()
	if err := c.Cut(ctx, a); err != nil {
		t.Fatal(err)
	}
	d, err := h.waitOwner(b.Name, 2*time.Second+3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cut from etcd: %s owns the VIP %v after the cut", b.Name, d.Round(time.Millisecond))
	if d > 2*time.Second+1500*time.Millisecond {
		t.Errorf("took %v, want within ttl + 1.5 s", d)
	}
	_ = cut
	if err := c.Heal(ctx, a); err != nil {
		t.Fatal(err)
	}
	// a comes back and preempts (priority 200): the key follows.
	if _, err := h.waitOwner(a.Name, 8*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)

	// SIGKILL of the master.
	if err := pa.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d, err = h.waitOwner(b.Name, 2*time.Second+4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILL: %s owns the VIP %v after the kill", b.Name, d.Round(time.Millisecond))
	if d > 2*time.Second+2*time.Second {
		t.Errorf("took %v, want within ttl + 2 s", d)
	}
	if n := dual.Load(); n != 0 {
		t.Errorf("%d of %d samples had both nodes holding the VIP", n, samples.Load())
	}
}
