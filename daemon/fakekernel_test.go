package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// The fake kernel of the loop tests: a segment that carries adverts
// between the runtimes of several nodes, each node's VIP table and
// announcer, and one fake clock for all. Everything runs in the test's
// goroutine: cluster.advance moves the clock timer by timer and, after
// each, lets every node's loop handle what it has (settle), as
// etcd/raft's node tests drive a node by hand. Nothing needs root.

// cluster is the nodes on one segment and their clock.
type cluster struct {
	t     *testing.T
	clock *fakeClock
	nodes []*node
	// sent records every advert put on the segment.
	sent []sentAdvert
	// check, when set, runs after every settled step (an invariant).
	check func()
	// etcd, when set, is the fake etcd of the guarded nodes
	// (guard_loop_test.go).
	etcd *fakeEtcd
}

type sentAdvert struct {
	at       time.Time
	from     string
	src, dst netip.Addr
	adv      vrrp.Advertisement
	// ahSeq is the AH sequence number of an AH advert (ah_test.go).
	ahSeq uint32
	// ttl is the TTL it went out with.
	ttl int
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	return &cluster{t: t, clock: newFakeClock()}
}

// node is one host: its runtime (nil while stopped), its VIP table and
// announcer, which outlive a daemon restart as the kernel's do, and a
// state directory kept across restarts.
type node struct {
	cl     *cluster
	name   string
	addr   netip.Addr
	r      *runtime
	vips   *fakeVIPs
	garp   *fakeAnnouncer
	conns  map[sockKey]*fakeConn
	vmacs  *fakeVMACs
	dir    string
	logs   *syncBuffer
	frozen bool // crashed or stopped: handles nothing, sends nothing
	deaf   bool // receives nothing (a one-way link fault)
	mute   bool // what it sends is lost, without a word
	cfg    string
}

// addNode adds a host with source address addr; start runs its daemon.
func (cl *cluster) addNode(name, addr string) *node {
	n := &node{cl: cl, name: name, addr: netip.MustParseAddr(addr), vips: newFakeVIPs(cl.clock), garp: &fakeAnnouncer{}, vmacs: &fakeVMACs{},
		dir: cl.t.TempDir(), logs: &syncBuffer{}}
	cl.nodes = append(cl.nodes, n)
	cl.t.Cleanup(n.cleanup)
	return n
}

// start runs the daemon on n with the config text conf, up to its first
// settled state (the loop's part of Run, without its sockets, netlink and
// control socket).
func (n *node) start(conf string) {
	t := n.cl.t
	t.Helper()
	r := n.boot(conf)
	r.startInstances()
	n.cl.settle()
}

// boot builds n's runtime on the fake kernel, with trackers, but steps
// nothing yet.
func (n *node) boot(conf string) *runtime {
	t := n.cl.t
	t.Helper()
	cfg := parseConf(t, conf)
	n.cfg = conf
	log := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := Options{StateFile: filepath.Join(n.dir, "state"), SocketGID: -1}
	r := newRuntime(context.Background(), opts, log, cfg, n.cl.clock)
	r.metrics = metrics.New(metrics.Options{Log: log})
	r.daemon = api.Daemon{Name: "hactl", Hostname: n.name, StartedAt: r.start, ConfigFile: "keepalived.conf"}
	r.vips = n.vips
	// The kernel's address events: every deletion reaches the loop, our
	// own too (dropped, never blocking, if the loop's queue is full).
	n.vips.gone = func(v vip.VIP) {
		g := addrGone{addr: v.Prefix.Addr(), dev: v.Dev, at: n.cl.clock.Now()}
		select {
		case r.events <- func(r *runtime) { r.vipGone(g) }:
		default:
		}
	}
	n.vips.routeGone = func(d vip.DeletedRoute) { // as the kernel's route events
		g := routeGone{d: d, at: n.cl.clock.Now()}
		select {
		case r.events <- func(r *runtime) { r.routeGone(g) }:
		default:
		}
	}
	n.conns = map[sockKey]*fakeConn{}
	r.vmacs = n.vmacs // use_vmac's interfaces (vmac_loop_test.go)
	if err := r.setupVMACs(func(string) (netip.Addr, []byte) { return netip.MustParseAddr("fe80::1"), nil }, nil); err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	listen := func(c *config.Instance, key sockKey) (*sock, error) {
		// A VMAC's socket is on its base interface's segment.
		seg := key
		seg.ifname = c.Interface
		fc := &fakeConn{n: n, key: key, seg: seg, joined: map[netip.Addr]bool{}}
		s := &sock{key: key, ifi: &net.Interface{Name: c.Interface}, family: key.family, conn: fc, byVRID: map[uint8]*instance{}, joined: map[netip.Addr]bool{}}
		fc.s = s
		n.conns[key] = fc
		return s, nil
	}
	if err := r.installStatic(cfg); err != nil { // as Run does
		t.Fatalf("%s: %v", n.name, err)
	}
	if err := r.buildInstances(listen, func(string) announcer { return n.garp }); err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	if err := r.startTrackers(r.ctx, cfg, nil); err != nil {
		t.Fatalf("%s: trackers: %v", n.name, err)
	}
	if e := n.cl.etcd; e != nil {
		r.guards.newGuard, r.guards.async = e.maker, func(f func()) { f() }
	}
	r.reconcileGuards(cfg)
	n.r, n.frozen = r, false
	return r
}

// stop stops n's daemon gracefully (SIGTERM): masters resign with a
// priority-0 advert and remove their VIPs.
func (n *node) stop() {
	n.r.shutdown(nil)
	n.r.closeSockets()
	n.r, n.frozen = nil, true
	n.cl.settle()
}

// crash freezes n's daemon (kill -9, a hung host): it sends, receives
// and does nothing more, and leaves its VIPs in the kernel.
func (n *node) crash() {
	n.frozen = true
	n.release()
	close(n.r.done) // late timers' posts give up
	n.r = nil
}

// release stops what runs beside a loop (tracker goroutines, the state
// writer), once.
func (n *node) release() {
	if n.r == nil || n.r.state.ch == nil {
		return
	}
	n.r.mon.Stop()
	close(n.r.state.ch)
	<-n.r.state.done
	n.r.state.ch = nil
}

func (n *node) cleanup() {
	if n.r != nil && !n.frozen {
		n.release()
	}
}

// pump handles what n's loop has waiting, as one turn of Run's select.
func (n *node) pump() bool {
	r := n.r
	if r == nil || n.frozen {
		return false
	}
	select {
	case ev := <-r.events:
		ev(r)
	case <-r.timers.wake.C():
		r.fireDue()
	case <-r.mon.Ready():
		r.trackersChanged()
	default:
		return false
	}
	r.flushState()
	return true
}

// settle lets every loop handle what it has until none has anything.
func (cl *cluster) settle() {
	cl.t.Helper()
	for range 1_000_000 {
		busy := false
		for _, n := range cl.nodes {
			for n.pump() {
				busy = true
			}
		}
		if cl.check != nil {
			cl.check()
		}
		if !busy {
			return
		}
	}
	cl.t.Fatal("the loops did not settle")
}

// advance moves the clock by d, firing every timer due on the way, in
// order, and settling after each.
func (cl *cluster) advance(d time.Duration) {
	cl.t.Helper()
	until := cl.clock.Now().Add(d)
	cl.settle()
	for range 10_000_000 {
		if !cl.clock.fireNext(until) {
			break
		}
		cl.settle()
	}
	cl.clock.set(until)
	cl.settle()
}

// advanceUntil advances in steps of step until cond holds, at most max; it
// returns how long that took.
func (cl *cluster) advanceUntil(step, max time.Duration, cond func() bool) time.Duration {
	cl.t.Helper()
	start := cl.clock.Now()
	for cl.clock.Now().Sub(start) < max {
		if cond() {
			return cl.clock.Now().Sub(start)
		}
		cl.advance(step)
	}
	if !cond() {
		cl.t.Fatalf("condition not met within %v", max)
	}
	return cl.clock.Now().Sub(start)
}

// fakeConn is a node's socket on the segment: what it writes reaches the
// other running nodes' sockets of the same interface and family that
// joined the group (multicast) or own the address (unicast).
type fakeConn struct {
	n      *node
	key    sockKey
	seg    sockKey // the segment: the base interface's key
	s      *sock
	joined map[netip.Addr]bool
	closed bool
}

func (c *fakeConn) JoinGroup(g netip.Addr) error { c.joined[g] = true; return nil }
func (c *fakeConn) Close() error                 { c.closed = true; return nil }

func (c *fakeConn) WriteTo(b []byte, src, dst netip.Addr) error {
	return c.WriteToTTL(b, src, dst, 0)
}

// WriteToTTL delivers with TTL ttl (0: 255), as vrrpsock's does
// (unicast_ttl); an AH packet carries its own.
func (c *fakeConn) WriteToTTL(b []byte, src, dst netip.Addr, ttl int) error {
	if ttl == 0 {
		ttl = 255
	}
	cl := c.n.cl
	if c.n.frozen || c.closed {
		return net.ErrClosed
	}
	if c.n.mute {
		return nil
	}
	var hdr []byte
	msg := b
	if c.key.ah { // the whole IPv4 packet: as the AH socket reads it
		var err error
		var pc vrrp.PacketContext
		if hdr, msg, pc, err = vrrp.SplitAH(b); err != nil {
			return err
		}
		ttl = pc.TTL
	}
	var a vrrp.Advertisement
	if err := vrrp.Decode(&a, msg, vrrp.PacketContext{Src: src, Dst: dst, TTL: 255}); err == nil {
		sa := sentAdvert{at: cl.clock.Now(), from: c.n.name, src: src, dst: dst, adv: a, ttl: ttl}
		if hdr != nil {
			sa.ahSeq = binary.BigEndian.Uint32(hdr[len(hdr)-16:])
		}
		cl.sent = append(cl.sent, sa)
	}
	for _, o := range cl.nodes {
		oc := o.conns[c.seg]
		if o == c.n || o.r == nil || o.frozen || o.deaf || oc == nil || oc.closed {
			continue
		}
		if dst.IsMulticast() && !oc.joined[dst] || !dst.IsMulticast() && dst != o.addr {
			continue
		}
		o.deliverPacket(oc.s, vrrpsock.Packet{Header: hdr, Payload: msg, Src: src, Dst: dst, TTL: ttl})
	}
	return nil
}

// deliver hands a packet to n's loop, as its socket's reader would.
func (n *node) deliver(s *sock, b []byte, src, dst netip.Addr) {
	n.deliverPacket(s, vrrpsock.Packet{Payload: b, Src: src, Dst: dst, TTL: 255})
}

// deliverPacket is deliver with the whole Packet (an AH socket's has a
// Header); it is copied, as the reader copies it.
func (n *node) deliverPacket(s *sock, p vrrpsock.Packet) {
	p = p.Clone()
	n.r.post(func(r *runtime) { r.receive(s, p) })
}

// inject puts an advert from a source outside the cluster on n's socket
// for ifname (IPv4).
func (n *node) inject(t *testing.T, ifname string, src netip.Addr, a vrrp.Advertisement) {
	t.Helper()
	b, err := a.Marshal(src, vrrpsock.Group4)
	if err != nil {
		t.Fatal(err)
	}
	n.deliver(n.conns[sockKey{ifname: ifname, family: 4}].s, b, src, vrrpsock.Group4)
}

// fakeVIPs is a host's address and route table. A lease runs out on the
// clock, as the kernel's valid_lft does.
type fakeVIPs struct {
	clock     *fakeClock
	addrs     map[string]time.Time // VIP -> lease end (zero: forever)
	routes    map[string]bool
	rules     map[string]bool
	added     int
	refreshed int
	removed   int
	// gone, when set, is told of every address removed (the kernel's
	// RTM_DELADDR), by the daemon or by hand (delByHand).
	gone func(vip.VIP)
	// routeGone, when set, is told of every route removed.
	routeGone func(vip.DeletedRoute)
}

func newFakeVIPs(c *fakeClock) *fakeVIPs {
	return &fakeVIPs{clock: c, addrs: map[string]time.Time{}, routes: map[string]bool{}, rules: map[string]bool{}}
}

func vipKey(v vip.VIP) string { return v.Prefix.String() + "@" + v.Dev }

func (f *fakeVIPs) expire() {
	now := f.clock.Now()
	for k, end := range f.addrs {
		if !end.IsZero() && !now.Before(end) {
			delete(f.addrs, k)
		}
	}
}

func (f *fakeVIPs) put(v vip.VIP, lease vip.Lifetime) {
	end := time.Time{}
	if lease > 0 {
		end = f.clock.Now().Add(time.Duration(lease))
	}
	f.addrs[vipKey(v)] = end
}

func (f *fakeVIPs) Add(v vip.VIP, lease vip.Lifetime) error { f.added++; f.put(v, lease); return nil }
func (f *fakeVIPs) Refresh(v vip.VIP, lease vip.Lifetime) error {
	f.refreshed++
	f.put(v, lease)
	return nil
}
func (f *fakeVIPs) Remove(v vip.VIP) error { f.removed++; f.del(v); return nil }

func (f *fakeVIPs) del(v vip.VIP) {
	if _, ok := f.addrs[vipKey(v)]; !ok {
		return
	}
	delete(f.addrs, vipKey(v))
	if f.gone != nil {
		f.gone(v)
	}
}

// delByHand deletes v as an operator's ip addr del does.
func (f *fakeVIPs) delByHand(v vip.VIP) { f.del(v) }
func (f *fakeVIPs) Present(v vip.VIP) (bool, int, error) {
	f.expire()
	_, ok := f.addrs[vipKey(v)]
	return ok, v.Prefix.Bits(), nil
}
func (f *fakeVIPs) AddRoute(r vip.Route) error {
	if r.Src.IsValid() && !f.holds(netip.PrefixFrom(r.Src, 24).String()) {
		return errors.New("invalid prefsrc") // as the kernel, for a src the host lacks
	}
	f.routes[r.Dest.String()] = true
	return nil
}
func (f *fakeVIPs) RemoveRoute(r vip.Route) error {
	if f.routes[r.Dest.String()] {
		f.delRoute(r)
	}
	return nil
}
func (f *fakeVIPs) RoutePresent(r vip.Route) (bool, error) { return f.routes[r.Dest.String()], nil }

// delRoute deletes r and tells routeGone (the kernel's RTM_DELROUTE), by
// the daemon or by hand (route_test.go).
func (f *fakeVIPs) delRoute(r vip.Route) {
	delete(f.routes, r.Dest.String())
	if f.routeGone != nil {
		f.routeGone(r.Deleted())
	}
}

func (f *fakeVIPs) AddRule(r vip.Rule) error             { f.rules[r.String()] = true; return nil }
func (f *fakeVIPs) RemoveRule(r vip.Rule) error          { delete(f.rules, r.String()); return nil }
func (f *fakeVIPs) RulePresent(r vip.Rule) (bool, error) { return f.rules[r.String()], nil }

// holds reports whether the host has the VIP prefix (on any device).
func (f *fakeVIPs) holds(prefix string) bool {
	f.expire()
	for k := range f.addrs {
		if strings.HasPrefix(k, prefix+"@") {
			return true
		}
	}
	return false
}

// fakeAnnouncer counts the announcement rounds.
type fakeAnnouncer struct {
	mu     sync.Mutex
	rounds int
}

func (a *fakeAnnouncer) Announce([]netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rounds++
	return nil
}
func (a *fakeAnnouncer) Close() error { return nil }

// syncBuffer is a log buffer written by the loop and the tracker
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func parseConf(t *testing.T, conf string) *config.Config {
	t.Helper()
	cfg, diags := config.Parse("keepalived.conf", []byte(conf), config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags.Errors())
	}
	return cfg
}

// in is n's instance name.
func (n *node) in(name string) *instance {
	n.cl.t.Helper()
	in := n.r.byName[name]
	if in == nil {
		n.cl.t.Fatalf("%s has no instance %s", n.name, name)
	}
	return in
}

func (n *node) state(name string) vrrp.State { return n.in(name).m.State() }

// vipOf is the VIP vrrpInstance gives VRID vrid, as n's daemon installs it.
func (n *node) vipOf(t *testing.T, vrid int) vip.VIP {
	t.Helper()
	return vip.VIP{Prefix: netip.MustParsePrefix(vipOf(vrid)), Dev: "eth0"}
}
