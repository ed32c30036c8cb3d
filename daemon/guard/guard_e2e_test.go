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

const ttl = 2 * time.Second

// node is one guarded node of the test: a guard and the pure state of one
// key, fed with the guard's events as the daemon's loop would.
type node struct {
	t     *testing.T
	name  string
	g     *guard.Guard
	state *guard.State
}

func newNode(t *testing.T, c *etcdlab.Cluster, h *netlab.Host, name string) *node {
	t.Helper()
	g, err := guard.New(guard.Config{Name: "G", Node: name, Endpoints: c.Endpoints(), TTL: ttl,
		DialOptions: []grpc.DialOption{etcdlab.Dialer(h)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, name: name, g: g, state: guard.NewState(name, ttl)}
	return n
}

// drain feeds the guard's pending events for key into the state.
func (n *node) drain(key string) {
	for {
		select {
		case ev := <-n.g.Events():
			switch ev.Kind {
			case guard.Renewed:
				n.state.Renewed(ev.Lease, ev.At)
			case guard.LeaseLost:
				n.state.LeaseLost(ev.Lease, ev.Why)
			case guard.HolderChanged:
				if ev.Key == key {
					n.state.Holder(ev.Holder)
				}
			}
		default:
			return
		}
	}
}

// acquire tries to take key every 20 ms until it holds it or d passes; it
// returns when it took it (zero if it did not).
func (n *node) acquire(key string, d time.Duration) time.Time {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		n.drain(key)
		a, err := n.g.Acquire(context.Background(), key)
		if err == nil && a.Held {
			n.state.Acquired(a.Lease, a.RenewedAt)
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}
}

func (n *node) own(key string) bool {
	n.drain(key)
	return n.state.Decide(time.Now()).Own
}

// TestE2EGuard runs two guarded nodes against a real three-member etcd
// (Debian's etcd-server in lab namespaces): the key goes to one node only;
// a release hands it over at once; after a crash (no revoke) the other
// node gets it only once the dead node's deadline has passed; a node cut
// from etcd passes its deadline before the other can take the key; the
// etcd leader's death does not lose the lease for long; and Close leaks no
// goroutine.
func TestE2EGuard(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 5})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	base := runtime.NumGoroutine()
	key := guard.Key("/hactl/", "ipv4", 51)

	a := newNode(t, c, lab.Node(4), "a")
	b := newNode(t, c, lab.Node(5), "b")
	if a.acquire(key, 5*time.Second).IsZero() {
		t.Fatalf("a never acquired %s: %+v", key, a.g.Stats())
	}
	if acq, err := b.g.Acquire(context.Background(), key); err != nil && err != guard.ErrNoLease || acq.Held {
		t.Fatalf("b acquired a held key: %+v err %v", acq, err)
	}
	if h, err := b.g.Holder(context.Background(), key); err != nil || h != "a" {
		t.Fatalf("holder as b sees it: %q, %v", h, err)
	}
	// a keeps it across renewals.
	time.Sleep(3 * ttl / 2)
	if !a.own(key) {
		t.Fatalf("a lost its key on a healthy cluster: %+v %+v", a.state.Decide(time.Now()), a.g.Stats())
	}
	if st := a.g.Stats(); st.Renewals < 2 {
		t.Errorf("a renewed %d times in 1.5 ttl", st.Renewals)
	}

	// Graceful handover: a releases, b takes the key within a call or two.
	b.g.Watch(key)
	start := time.Now()
	if err := a.g.Release(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	a.state.Released()
	took := b.acquire(key, 2*time.Second)
	if took.IsZero() {
		t.Fatal("b did not take the released key")
	}
	t.Logf("release handover: %v", took.Sub(start).Round(time.Millisecond))
	if a.own(key) {
		t.Fatal("a owns after releasing")
	}

	// Crash: b stops without revoking. a may take the key only after
	// b's deadline (b's last renewal as b saw it, less the margins).
	b.drain(key)
	bDeadline := b.state.Deadline()
	if err := b.g.Close(false); err != nil {
		t.Fatal(err)
	}
	crashed := time.Now()
	took = a.acquire(key, ttl+3*time.Second)
	if took.IsZero() {
		t.Fatalf("a never took the key of crashed b within ttl+3 s: %+v", a.g.Stats())
	}
	if !took.After(bDeadline) {
		t.Fatalf("a took the key at %v, before crashed b's deadline %v: two owners", took, bDeadline)
	}
	t.Logf("crash: a took the key %v after b stopped (%v after b's deadline)", took.Sub(crashed).Round(time.Millisecond), took.Sub(bDeadline).Round(time.Millisecond))

	// a is cut from etcd: its deadline passes before a new node can take
	// the key, and that node has it within ttl + 1.5 s.
	b2 := newNode(t, c, lab.Node(5), "b")
	if err := c.Cut(context.Background(), lab.Node(4)); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	var aLost time.Time
	var err error
	var tookB time.Time
	for end := cut.Add(ttl + 3*time.Second); time.Now().Before(end) && tookB.IsZero(); {
		if aLost.IsZero() && !a.own(key) {
			aLost = time.Now()
		}
		if acq, err := b2.g.Acquire(context.Background(), key); err == nil && acq.Held {
			b2.state.Acquired(acq.Lease, acq.RenewedAt)
			tookB = time.Now()
			if a.own(key) {
				t.Fatalf("b took the key %v after a was cut, and a still owns it", tookB.Sub(cut))
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if tookB.IsZero() || aLost.IsZero() {
		t.Fatalf("a cut from etcd: a gave up after %v, b took over at %v", aLost.Sub(cut), tookB.Sub(cut))
	}
	t.Logf("a cut from etcd: a's deadline passed %v after the cut, b took the key %v after it (bound ttl+1.5 s = %v)",
		aLost.Sub(cut).Round(time.Millisecond), tookB.Sub(cut).Round(time.Millisecond), ttl+1500*time.Millisecond)
	if tookB.Sub(cut) > ttl+1500*time.Millisecond {
		t.Errorf("b took over %v after the cut, over ttl + 1.5 s", tookB.Sub(cut))
	}
	if err := c.Heal(context.Background(), lab.Node(4)); err != nil {
		t.Fatal(err)
	}
	// a's connection comes back after gRPC's reconnect backoff.
	var h string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if h, err = a.g.Holder(context.Background(), key); err == nil {
			break
		}
	}
	if err != nil || h != "b" {
		t.Errorf("holder after the heal: %q, %v", h, err)
	}

	// The etcd leader dies: b's lease lives on (etcd hands leases to the
	// new leader), and b holds its key again within a few renewals.
	leader, err := c.Leader(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	time.Sleep(2 * ttl)
	b2.drain(key)
	if acq, err := b2.g.Acquire(context.Background(), key); err != nil || !acq.Held {
		t.Errorf("b after the etcd leader's death: %+v err %v (%+v)", acq, err, b2.g.Stats())
	} else {
		b2.state.Acquired(acq.Lease, acq.RenewedAt)
		t.Logf("etcd leader %s killed: b still holds the key %v later, lease losses %d", c.Members[leader].Name, time.Since(killed).Round(time.Millisecond), b2.g.Stats().Losses)
	}

	// Close with revoke frees the key at once; no goroutine is left.
	if err := b2.g.Close(true); err != nil {
		t.Fatal(err)
	}
	if h, err := a.g.Holder(context.Background(), key); err != nil || h != "" {
		t.Errorf("holder after b's revoke: %q, %v", h, err)
	}
	if err := a.g.Close(true); err != nil {
		t.Fatal(err)
	}
	var now int
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= base+2 {
			break
		}
	}
	if now > base+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before the guards:\n%s", now, base, buf[:runtime.Stack(buf, true)])
	}
}
