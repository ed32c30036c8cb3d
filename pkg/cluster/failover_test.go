package cluster

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// fakeVRRP is a cluster whose owner follows the promotions as pkg/vrrp
// does: a promoted node wins; two promoted nodes are both masters.
type fakeVRRP struct {
	mu    sync.Mutex
	prio  map[string]int
	promo map[string]bool
	log   []string
}

type fakeMember struct {
	c    *fakeVRRP
	name string
}

func (m fakeMember) Name() string { return m.name }

func (c *fakeVRRP) masters() []string {
	var out []string
	for n, p := range c.promo {
		if p {
			out = append(out, n)
		}
	}
	if len(out) > 0 {
		return out
	}
	best, bp := "", -1
	for n, p := range c.prio {
		if p > bp {
			best, bp = n, p
		}
	}
	return []string{best}
}

func (m fakeMember) Observe(context.Context) (*Observation, error) {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	state, addrs := api.StateBackup, []netip.Prefix{}
	for _, n := range m.c.masters() {
		if n == m.name {
			state, addrs = api.StateMaster, []netip.Prefix{netip.MustParsePrefix("10.0.0.100/24")}
		}
	}
	in := api.Instance{Name: "VI_1", State: state, BasePriority: m.c.prio[m.name], EffectivePriority: m.c.prio[m.name], Preempt: true, VIPs: []string{"10.0.0.100/24"}}
	if m.c.promo[m.name] {
		in.Promotion = &api.Promotion{Since: time.Now()}
	}
	st := &api.Status{Daemon: api.Daemon{PID: 1}, Instances: []api.Instance{in}}
	return &Observation{Node: m.name, Ifs: []Interface{{Name: "eth0", Addrs: addrs}}, API: st, Daemon: hactlDaemon(st)}, nil
}

func (m fakeMember) Promote(_ context.Context, _ string, _ time.Duration) error {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	m.c.promo[m.name] = true
	m.c.log = append(m.c.log, "promote "+m.name)
	return nil
}

func (m fakeMember) ClearPromotion(context.Context, string) error {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	m.c.promo[m.name] = false
	m.c.log = append(m.c.log, "clear "+m.name)
	return nil
}

func (m fakeMember) Run(context.Context, string, time.Duration) (string, error) {
	return "", errors.New("no shell")
}

func newFake() (*fakeVRRP, []Member) {
	c := &fakeVRRP{prio: map[string]int{"n1": 101, "n2": 102, "n3": 103}, promo: map[string]bool{}}
	return c, []Member{fakeMember{c, "n1"}, fakeMember{c, "n2"}, fakeMember{c, "n3"}}
}

func TestFailoverClearsOthersBeforePromoting(t *testing.T) {
	c, ms := newFake()
	c.promo["n2"] = true
	res, err := Failover(context.Background(), ms, FailoverOptions{To: "n1", Poll: time.Millisecond, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.log, ", "); got != "clear n2, promote n1" {
		t.Errorf("order %q, want clear n2, promote n1", got)
	}
	if len(res.Owners) != 1 || res.Owners[0] != "n1" || res.From[0] != "n2" {
		t.Errorf("owners %v from %v", res.Owners, res.From)
	}
}

func TestFailoverDryRunChangesNothing(t *testing.T) {
	c, ms := newFake()
	res, err := Failover(context.Background(), ms, FailoverOptions{To: "n1", DryRun: true})
	if err != nil || !res.DryRun || len(c.log) != 0 || len(res.Plan) != 2 {
		t.Fatalf("err %v, log %v, plan %v", err, c.log, res.Plan)
	}
}

func TestFailoverClearWaitsForPriorityOrder(t *testing.T) {
	c, ms := newFake()
	c.promo["n1"] = true
	res, err := Failover(context.Background(), ms, FailoverOptions{Clear: true, Poll: time.Millisecond, Wait: time.Second})
	if err != nil || res.Owners[0] != "n3" {
		t.Fatalf("err %v owners %v", err, res.Owners)
	}
}

func TestFailoverUnknownTarget(t *testing.T) {
	_, ms := newFake()
	if _, err := Failover(context.Background(), ms, FailoverOptions{To: "n9"}); err == nil || !strings.Contains(err.Error(), "n9") {
		t.Fatalf("err %v", err)
	}
}

func TestLockLineRoundTrip(t *testing.T) {
	in := NewLockInfo("alice@laptop", 42, time.Hour)
	out, ok := parseLockLine(in.line())
	if !ok || out.Owner != in.Owner || out.PID != 42 || out.Token != in.Token || !out.Expires.Equal(in.Expires.Truncate(time.Second)) {
		t.Fatalf("%+v vs %+v", out, in)
	}
}
