package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// NodeSpec configures one simulated router.
type NodeSpec struct {
	Config vrrp.Config
}

// Network holds the segment's fault parameters; they can be changed while
// the simulation runs.
type Network struct {
	MaxDelay time.Duration // one-way delay is uniform in [0, MaxDelay]
	Loss     float64       // probability a delivery is dropped
	Dup      float64       // probability a delivery is duplicated
}

// node is one simulated host running one instance.
type node struct {
	id       int
	spec     NodeSpec
	in       *vrrp.Instance
	running  bool // host up and instance started (not crashed, not stopped)
	crashed  bool
	inc      int // incarnation: bumps on crash so old timers are ignored
	vips     bool
	group    int // partition group
	weight   int
	fault    bool
	promoted bool // the operator's sticky override, persisted by the daemon
	tmpl     vrrp.Advertisement
}

// MaxEvents bounds one run, so that an event storm (instances answering each
// other without end) is reported as a violation instead of hanging.
const MaxEvents = 1_000_000

// item is one queued event.
type item struct {
	at   time.Duration
	seq  uint64
	kind itemKind
	node int
	inc  int
	pkt  []byte
	src  netip.Addr
	dst  netip.Addr
	tk   vrrp.TimerKind
	gen  uint64
	name string
	fn   func(*Sim)
}

type itemKind uint8

const (
	itemDeliver itemKind = iota
	itemTimer
	itemFunc
)

type queue []*item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// Sim is one simulation run.
type Sim struct {
	rng   *rand.Rand
	now   time.Duration
	seq   uint64
	q     queue
	nodes []*node
	Net   Network

	partitioned    bool
	lastDisruption time.Duration
	// Settle is how long the network must be healthy before the election
	// invariant is enforced.
	Settle time.Duration
	// CheckElection enables the "exactly one, the chosen one" invariant;
	// scenario tests for nopreempt/preempt_delay turn it off and assert
	// their own expectations.
	CheckElection bool
	handover      bool // a promotion on a settled network is in progress
	// DualHolding is the simulated time during which two or more nodes
	// held the VIPs at once (tests reset it before the part they measure).
	DualHolding time.Duration
	dualSince   time.Duration
	dual        bool
	// takeover is set after the settled master left: only this node may
	// become master next (skew time orders the backups).
	takeover    int
	takeoverSet bool
	takeoverGen int // which watch is current

	linkLast  []time.Duration // last delivery time per (sender, receiver)
	trace     *strings.Builder
	violation string
	events    int
	scratch   vrrp.Advertisement
}

// New builds a simulation. Nodes are created but not started.
func New(seed uint64, net Network, specs []NodeSpec, trace bool) (*Sim, error) {
	s := &Sim{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Net: net, CheckElection: true}
	if trace {
		s.trace = &strings.Builder{}
	}
	maxIvl := time.Duration(0)
	for i, sp := range specs {
		n := &node{id: i, spec: sp}
		if err := n.reset(); err != nil {
			return nil, err
		}
		s.nodes = append(s.nodes, n)
		maxIvl = max(maxIvl, sp.Config.Interval)
	}
	// Master_Down_Interval < 4 intervals (v2 skew < 1s <= interval), plus one
	// interval, plus a round trip of propagation.
	s.Settle = 5*maxIvl + 2*net.MaxDelay
	s.linkLast = make([]time.Duration, len(specs)*len(specs))
	return s, nil
}

// reset builds a fresh instance, as after a crash, and reapplies what the
// daemon persists (trackers are re-read, the override is persisted).
func (n *node) reset() error {
	in, err := vrrp.New(n.spec.Config)
	if err != nil {
		return err
	}
	n.in = in
	cfg := n.spec.Config
	n.tmpl = vrrp.Advertisement{Version: cfg.Version, VRID: cfg.VRID, Interval: cfg.Interval}
	vip := netip.MustParseAddr("198.51.100.1")
	if vrrp.FamilyOf(cfg.Primary) == vrrp.IPv6 {
		vip = netip.MustParseAddr("2001:db8::1")
	}
	return n.tmpl.SetAddrs(vip)
}

// Now is the virtual time.
func (s *Sim) Now() time.Duration { return s.now }

// Rand exposes the run's generator to scenario code.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// Len is the number of nodes.
func (s *Sim) Len() int { return len(s.nodes) }

// Status returns node i's instance status.
func (s *Sim) Status(i int) vrrp.Status { return s.nodes[i].in.Status() }

// Running reports whether node i's instance is started.
func (s *Sim) Running(i int) bool { return s.nodes[i].running }

// Masters lists the running nodes in Master state.
func (s *Sim) Masters() []int {
	var out []int
	for _, n := range s.nodes {
		if n.running && n.in.State() == vrrp.Master {
			out = append(out, n.id)
		}
	}
	return out
}

// Trace returns the trace collected so far ("" unless tracing).
func (s *Sim) Trace() string {
	if s.trace == nil {
		return ""
	}
	return s.trace.String()
}

// Events is how many queue items were processed.
func (s *Sim) Events() int { return s.events }

func (s *Sim) tracef(format string, args ...any) {
	if s.trace != nil {
		fmt.Fprintf(s.trace, "%12v ", s.now)
		fmt.Fprintf(s.trace, format, args...)
		s.trace.WriteByte('\n')
	}
}

func (s *Sim) push(it *item) {
	s.seq++
	it.seq = s.seq
	heap.Push(&s.q, it)
}

// At schedules fn at time at; name appears in the trace.
func (s *Sim) At(at time.Duration, name string, fn func(*Sim)) {
	s.push(&item{at: at, kind: itemFunc, name: name, fn: fn})
}

// RunUntil processes events up to and including time end, checking the
// invariants after each. It returns the first violation as an error.
func (s *Sim) RunUntil(end time.Duration) error {
	for s.violation == "" && len(s.q) > 0 && s.q[0].at <= end {
		if s.events >= MaxEvents {
			s.violate("more than %d events: an event storm", MaxEvents)
			break
		}
		it := heap.Pop(&s.q).(*item)
		s.now = it.at
		s.events++
		s.process(it)
		if s.violation == "" {
			s.check()
		}
	}
	if s.violation != "" {
		return fmt.Errorf("at %v: %s", s.now, s.violation)
	}
	if end > s.now {
		s.now = end
	}
	return nil
}

func (s *Sim) violate(format string, args ...any) {
	if s.violation == "" {
		s.violation = fmt.Sprintf(format, args...)
		s.tracef("VIOLATION: %s", s.violation)
	}
}

func (s *Sim) process(it *item) {
	switch it.kind {
	case itemFunc:
		s.tracef("== %s", it.name)
		it.fn(s)
	case itemTimer:
		n := s.nodes[it.node]
		if !n.running || n.inc != it.inc {
			return
		}
		s.step(n, vrrp.TimerExpired(it.tk, it.gen))
	case itemDeliver:
		s.deliver(it)
	}
}

// deliver hands a packet to its receiver through the real validating
// decoder.
func (s *Sim) deliver(it *item) {
	n := s.nodes[it.node]
	if !n.running {
		return
	}
	cfg := n.spec.Config
	exp := vrrp.Expect{Version: cfg.Version, Family: vrrp.FamilyOf(cfg.Primary), Interval: cfg.Interval}
	if cfg.Version == vrrp.Version3 {
		exp.Interval = 0 // v3 backups adopt the master's interval instead
	}
	pc := vrrp.PacketContext{Src: it.src, Dst: it.dst, TTL: vrrp.TTL}
	if err := exp.Decode(&s.scratch, it.pkt, pc); err != nil {
		s.violate("node %d rejected a packet from %v: %v", n.id, it.src, err)
		return
	}
	s.step(n, vrrp.AdvertReceived(it.src, &s.scratch))
}

// step feeds ev to n and performs the resulting actions.
func (s *Sim) step(n *node, ev vrrp.Event) {
	before := n.in.State()
	wasMaster := before == vrrp.Master
	acts := n.in.Step(s.now, ev)
	if s.trace != nil {
		s.tracef("n%d %v: %v", n.id, ev, acts)
	}
	for _, a := range acts {
		s.apply(n, a, &before)
	}
	if ev.Kind == vrrp.EventAdvert && wasMaster && before == vrrp.Backup {
		s.checkYield(n, ev.Src, ev.Advert.Priority)
	}
	if !wasMaster && before == vrrp.Master {
		s.checkTakeover(n)
	}
}

func (s *Sim) apply(n *node, a vrrp.Action, state *vrrp.State) {
	switch a.Kind {
	case vrrp.ActionSendAdvert:
		s.send(n, a.Priority, a.Dst)
	case vrrp.ActionAddVIPs:
		n.vips = true
	case vrrp.ActionRemoveVIPs:
		n.vips = false
	case vrrp.ActionStateChange:
		if a.From != *state {
			s.violate("node %d reported %v->%v while in %v", n.id, a.From, a.To, *state)
		}
		*state = a.To
	case vrrp.ActionArmTimer:
		s.push(&item{at: a.At, kind: itemTimer, node: n.id, inc: n.inc, tk: a.Timer, gen: a.Gen})
	}
}

// send multicasts an advert from n to every other node in its partition,
// applying loss, duplication and delay per receiver.
func (s *Sim) send(n *node, prio uint8, only netip.Addr) {
	n.tmpl.Priority = prio
	src := n.spec.Config.Primary
	dst := vrrp.MulticastIPv4()
	if !src.Is4() {
		dst = vrrp.MulticastIPv6()
	}
	if only.IsValid() {
		dst = only
	}
	pkt, err := n.tmpl.Marshal(src, dst)
	if err != nil {
		s.violate("node %d cannot encode: %v", n.id, err)
		return
	}
	for _, r := range s.nodes {
		if r == n || r.group != n.group || only.IsValid() && r.spec.Config.Primary != only {
			continue
		}
		copies := 1
		if s.Net.Dup > 0 && s.rng.Float64() < s.Net.Dup {
			copies = 2
		}
		for range copies {
			if s.Net.Loss > 0 && s.rng.Float64() < s.Net.Loss {
				continue
			}
			d := time.Duration(0)
			if s.Net.MaxDelay > 0 {
				d = time.Duration(s.rng.Int64N(int64(s.Net.MaxDelay) + 1))
			}
			// One segment does not reorder one sender's packets: keep
			// each link FIFO, so delay is jitter, not reordering.
			at := max(s.now+d, s.linkLast[n.id*len(s.nodes)+r.id])
			s.linkLast[n.id*len(s.nodes)+r.id] = at
			s.push(&item{at: at, kind: itemDeliver, node: r.id, pkt: pkt, src: src, dst: dst})
		}
	}
}
