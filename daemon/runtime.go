//go:build linux

package daemon

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/daemon/garp"
	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/daemon/sdnotify"
	"github.com/hactl/hactl/daemon/statefile"
	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// event is anything the loop handles; it runs on the loop goroutine.
type event func(r *runtime)

// sock is one raw socket and the instances that share it.
type sock struct {
	key    sockKey
	ifi    *net.Interface
	family int
	conn   *vrrpsock.Conn
	byVRID map[uint8]*instance
	// joined are the groups joined: instances sharing the socket share
	// the membership (joining twice is an error).
	joined map[netip.Addr]bool
	// otherVRID counts adverts for VRIDs no instance here runs (the loop's);
	// queueDrops is the kernel's count of receive-buffer drops, kept by
	// the reader.
	otherVRID  uint64
	queueDrops atomic.Uint64
}

type sockKey struct {
	ifname string
	family int
}

// runtime is the loop's state. Only the loop goroutine touches it.
type runtime struct {
	opts      Options
	ctx       context.Context
	log       *slog.Logger
	cfg       *config.Config
	stateFile string
	start     time.Time
	events    chan event
	done      chan struct{}
	vips      *vip.Manager
	socks     map[sockKey]*sock
	garps     map[string]*garp.Announcer // by interface
	insts     []*instance
	byName    map[string]*instance
	drops     map[string]uint64
	daemon    api.Daemon
	promos    *promotionStore
	runner    *scripts.Runner
	mon       *track.Monitor
	notifier  *notify.Notifier
	metrics   *metrics.Metrics
	sd        *sdnotify.Notifier
	// syncing guards sync-group propagation against recursion;
	// groupState is each group's last notified state.
	// timers are every instance's armed protocol timers; wake fires when
	// the earliest is due.
	timers     timerHeap
	wake       *time.Timer
	firing     bool // fireDue is running: arm leaves the wake-up to it
	syncing    bool
	groupState map[string]vrrp.State
	// scratch is the advert decoded into, reused for every packet.
	// stateDirty: the state file needs writing; stateCh feeds the writer.
	stateDirty bool
	stateCh    chan api.Status
	stateDone  chan struct{}
	scratch    vrrp.Advertisement
	addrs      []netip.Addr // a received advert's VIPs, for checkConflict
	buf        []byte
	onlyDst    [1]netip.Addr
}

// now is the protocol clock: time since start, as pkg/vrrp wants it.
func (r *runtime) now() time.Duration { return time.Since(r.start) }

// post queues an event for the loop; it gives up once the loop has ended.
func (r *runtime) post(ev event) bool {
	select {
	case r.events <- ev:
		return true
	case <-r.done:
		return false
	}
}

func (r *runtime) openSockets(ctx context.Context) error {
	for _, c := range r.cfg.Instances {
		fam := 4
		if c.Family == config.FamilyIPv6 {
			fam = 6
		}
		key := sockKey{c.Interface, fam}
		s, ok := r.socks[key]
		if !ok {
			ifi, err := net.InterfaceByName(c.Interface)
			if err != nil {
				return fmt.Errorf("%s: interface %s: %w", c.Name, c.Interface, err)
			}
			conn, err := vrrpsock.Listen(c.Interface, fam)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			s = &sock{key: key, ifi: ifi, family: fam, conn: conn, byVRID: map[uint8]*instance{}, joined: map[netip.Addr]bool{}}
			r.socks[key] = s
			go r.readLoop(ctx, s)
		}
		if !c.Unicast && !s.joined[c.McastGroup] {
			if err := s.conn.JoinGroup(c.McastGroup); err != nil {
				return fmt.Errorf("%s: join %s on %s: %w", c.Name, c.McastGroup, c.Interface, err)
			}
			s.joined[c.McastGroup] = true
		}
		in, err := newInstance(c, s)
		if err != nil {
			return err
		}
		if other, dup := s.byVRID[uint8(c.VRID)]; dup {
			return fmt.Errorf("%s: VRID %d on %s is also used by %s", c.Name, c.VRID, c.Interface, other.c.Name)
		}
		s.byVRID[uint8(c.VRID)] = in
		// One announcer per interface, shared by its instances: each opens
		// a packet socket (which the kernel hands every ARP on the link)
		// and looks up the interface's addresses, which with one VIP per
		// instance made a 100-instance start parse 100 address dumps.
		if r.garps[c.Interface] == nil {
			r.garps[c.Interface] = garp.New(c.Interface, r.log)
		}
		in.garp = r.garps[c.Interface]
		r.insts = append(r.insts, in)
		r.byName[c.Name] = in
	}
	return nil
}

// readLoop reads one socket and posts every packet to the loop.
func (r *runtime) readLoop(ctx context.Context, s *sock) {
	buf := make([]byte, 65536)
	for {
		p, err := s.conn.ReadPacket(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Warn("vrrp socket read", "interface", s.key.ifname, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if d := uint64(p.QueueDrops); d > s.queueDrops.Load() {
			s.queueDrops.Store(d) // only this goroutine stores
		}
		payload := append([]byte(nil), p.Payload...)
		p.Payload = payload
		if !r.post(func(r *runtime) { r.receive(s, p) }) {
			return
		}
	}
}

// receive validates a packet and hands it to its instance.
func (r *runtime) receive(s *sock, p vrrpsock.Packet) {
	a := &r.scratch
	if err := vrrp.Decode(a, p.Payload, vrrp.PacketContext{Src: p.Src, Dst: p.Dst, TTL: p.TTL}); err != nil {
		r.drop(nil, err, p)
		return
	}
	in := s.byVRID[a.VRID]
	if in == nil {
		s.otherVRID++ // another router's VRID on our segment: normal, counted only
		return
	}
	src := p.Src.Unmap()
	if in.peers != nil && !in.peers[src] {
		r.countDrop(in, "unknown_peer")
		r.log.Debug("advert from an unlisted unicast source dropped", "instance", in.c.Name, "src", p.Src)
		return
	}
	// Authenticate first: only an advert that passes the instance's checks
	// (or fails on what comes after authentication) is tracked as a
	// conflict; a wrong password is a drop and nothing more.
	err := in.expect.Check(a, vrrp.PacketContext{Src: p.Src, Dst: p.Dst, TTL: p.TTL})
	if err == nil || conflictEligible(in, err) {
		r.checkConflict(in, src, a)
	}
	if err != nil {
		r.drop(in, err, p)
		return
	}
	in.counters.AdvertsReceived++
	r.step(in, vrrp.AdvertReceived(p.Src, a))
}

func (r *runtime) drop(in *instance, err error, p vrrpsock.Packet) {
	reason := "malformed"
	if rs, ok := vrrp.ReasonOf(err); ok {
		reason = rs.Name()
	}
	r.countDrop(in, reason)
	r.log.Debug("advert dropped", "src", p.Src, "reason", reason, "err", err)
}

func (r *runtime) countDrop(in *instance, reason string) {
	r.drops[reason]++
	if in != nil {
		in.counters.Dropped++
		r.metrics.Drop(in.c.Name, reason)
	}
}

// step feeds one event to an instance and performs its actions.
func (r *runtime) step(in *instance, ev vrrp.Event) {
	for _, a := range in.m.Step(r.now(), ev) {
		r.perform(in, a)
	}
}

func (r *runtime) perform(in *instance, a vrrp.Action) {
	switch a.Kind {
	case vrrp.ActionSendAdvert:
		r.sendAdvert(in, a.Priority, a.Dst)
	case vrrp.ActionAddVIPs:
		r.addVIPs(in)
	case vrrp.ActionRemoveVIPs:
		r.removeVIPs(in)
	case vrrp.ActionAnnounce:
		r.announce(in)
	case vrrp.ActionStateChange:
		r.stateChanged(in, a.From, a.To)
	case vrrp.ActionArmTimer:
		r.arm(in, a.Timer, a.At, a.Gen)
	case vrrp.ActionStopTimer:
		r.disarm(in.timers[a.Timer])
	}
}

// sendAdvert sends an advert to the instance's destinations, or to only
// when it is valid (a handover release, see vrrp.Config.Handover).
func (r *runtime) sendAdvert(in *instance, prio uint8, only netip.Addr) {
	adv := vrrp.Advertisement{Version: vrrp.Version(in.c.Version), VRID: uint8(in.c.VRID), Priority: prio, Interval: in.c.AdvertInt,
		AuthType: in.expect.AuthType}
	if adv.AuthType == vrrp.AuthSimple {
		adv.AuthData = in.expect.Password
	}
	if err := adv.SetAddrs(in.advert...); err != nil {
		r.log.Error("advert", "instance", in.c.Name, "err", err)
		return
	}
	dsts := in.dsts
	if only.IsValid() {
		r.onlyDst[0] = only
		dsts = r.onlyDst[:]
	}
	for _, dst := range dsts {
		b, err := adv.Append(r.buf[:0], in.src, dst)
		if err != nil {
			r.log.Error("advert encode", "instance", in.c.Name, "err", err)
			return
		}
		r.buf = b
		if err := in.sock.conn.WriteTo(b, in.src, dst); err != nil {
			r.log.Warn("advert send", "instance", in.c.Name, "dst", dst, "err", err)
			continue
		}
		in.counters.AdvertsSent++
	}
	// A master renews its VIP leases as it advertises, once half the lease
	// has passed: a daemon that stops advertising (killed, frozen) also
	// stops renewing.
	if in.holding && in.lease > 0 && time.Since(in.lastRefresh) >= time.Duration(in.lease)/2 {
		r.refreshVIPs(in)
	}
}

func (r *runtime) addVIPs(in *instance) {
	for _, v := range in.vips {
		if err := r.vips.Add(v, in.lease); err != nil {
			r.log.Error("VIP not added", "instance", in.c.Name, "err", err)
		}
	}
	for _, rt := range in.routes {
		if err := r.vips.AddRoute(rt); err != nil {
			r.log.Error("virtual route not added", "instance", in.c.Name, "err", err)
		}
	}
	in.holding, in.lastRefresh = true, time.Now()
	r.log.Info("VIPs added", "instance", in.c.Name, "vips", len(in.vips), "lease", time.Duration(in.lease))
}

func (r *runtime) refreshVIPs(in *instance) {
	for _, v := range in.vips {
		if err := r.vips.Refresh(v, in.lease); err != nil {
			r.log.Error("VIP lease not renewed", "instance", in.c.Name, "err", err)
		}
	}
	in.lastRefresh = time.Now()
	r.metrics.LeaseRefresh(in.c.Name)
}

func (r *runtime) removeVIPs(in *instance) {
	for _, rt := range in.routes {
		if err := r.vips.RemoveRoute(rt); err != nil {
			r.log.Error("virtual route not removed", "instance", in.c.Name, "err", err)
		}
	}
	for _, v := range in.vips {
		if err := r.vips.Remove(v); err != nil {
			r.log.Error("VIP not removed", "instance", in.c.Name, "err", err)
		}
	}
	if in.holding {
		r.log.Info("VIPs removed", "instance", in.c.Name)
	}
	in.holding = false
	in.stopAnnouncing()
}

// removeLeftovers deletes configured VIPs an earlier run left on the host.
func (r *runtime) removeLeftovers(in *instance) {
	for _, v := range in.vips {
		if ok, _, err := r.vips.Present(v); err == nil && ok {
			r.log.Warn("removing a VIP left by an earlier run", "instance", in.c.Name, "vip", v.String())
			if err := r.vips.Remove(v); err != nil {
				r.log.Error("leftover VIP not removed", "instance", in.c.Name, "err", err)
			}
		}
	}
}

// timer is one protocol timer of an instance. All of them live in one
// heap owned by the loop, which sleeps on a single time.Timer until the
// earliest is due: adverts re-arm a timer every interval, and this costs
// no goroutine, channel send or allocation per advert (time.AfterFunc
// would start a goroutine at every expiry).
type timer struct {
	in    *instance
	kind  vrrp.TimerKind
	at    time.Duration // protocol time it is due
	gen   uint64
	index int // in the heap; -1 when not armed
}

// timerHeap orders armed timers by due time.
type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

func (r *runtime) arm(in *instance, k vrrp.TimerKind, at time.Duration, gen uint64) {
	tm := in.timers[k]
	if tm == nil {
		tm = &timer{in: in, kind: k, index: -1}
		in.timers[k] = tm
	}
	tm.at, tm.gen = at, gen
	if tm.index >= 0 {
		heap.Fix(&r.timers, tm.index)
	} else {
		heap.Push(&r.timers, tm)
	}
	r.rearm()
}

func (r *runtime) disarm(tm *timer) {
	if tm != nil && tm.index >= 0 {
		heap.Remove(&r.timers, tm.index)
		r.rearm()
	}
}

// rearm points the loop's wake-up timer at the earliest due timer
// (fireDue does it once at its end, not for every timer it re-arms).
func (r *runtime) rearm() {
	if r.firing {
		return
	}
	if len(r.timers) == 0 {
		r.wake.Stop()
		return
	}
	r.wake.Reset(max(r.timers[0].at-r.now(), 0))
}

// fireDue delivers every timer that is due, and the advert timers due
// within their coalescing slack: sending an advert a moment early is
// harmless (backups wait three intervals), and it lines up the instances'
// advert timers, so that many instances cost one wake-up per interval
// rather than one each. Master_Down and hold timers fire on time: their
// order between backups is the election.
func (r *runtime) fireDue() {
	r.firing = true
	now := r.now()
	for i := 0; len(r.timers) > 0 && i < 10000; i++ {
		tm := r.timers[0]
		if tm.at > now+slack(tm) {
			if now = r.now(); tm.at > now+slack(tm) {
				break
			}
		}
		heap.Pop(&r.timers)
		r.step(tm.in, vrrp.TimerExpired(tm.kind, tm.gen))
	}
	r.firing = false
	r.rearm()
}

// slack is how early timer tm may fire: a fiftieth of the advert interval
// for an Adver_Timer, at most 2 ms; nothing for the others.
func slack(tm *timer) time.Duration {
	if tm.kind != vrrp.AdverTimer {
		return 0
	}
	return min(tm.in.c.AdvertInt/50, 2*time.Millisecond)
}

func (r *runtime) stateChanged(in *instance, from, to vrrp.State) {
	in.since = time.Now()
	if to == vrrp.Master {
		in.counters.BecameMaster++
	}
	st := in.m.Status()
	r.log.Info("state change", "instance", in.c.Name, "from", apiState(from), "to", apiState(to), "priority", st.Priority, "master", st.MasterAddr)
	r.metrics.Transition(in.c.Name, apiState(from), apiState(to))
	r.notifyState(in, to)
	r.syncFollow(in, from, to)
	r.writeState()
}

// status copies the loop's state for the API, the metrics and the state
// file. It runs on the loop, so it only copies (each instance's conflicts
// are capped at conflictCap); the caller sorts, off the loop (sortStatus).
func (r *runtime) status() api.Status {
	now := time.Now()
	st := api.Status{Daemon: r.daemon, Instances: make([]api.Instance, 0, len(r.insts)), Drops: make(map[string]uint64, len(r.drops)),
		Sockets: make([]api.Socket, 0, len(r.socks))}
	for k, v := range r.drops {
		st.Drops[k] = v
	}
	for _, in := range r.insts {
		st.Instances = append(st.Instances, in.status(now))
	}
	for _, s := range r.socks {
		fam := string(config.FamilyIPv4)
		if s.family == 6 {
			fam = string(config.FamilyIPv6)
		}
		st.Sockets = append(st.Sockets, api.Socket{Interface: s.key.ifname, Family: fam, OtherVRID: s.otherVRID, KernelDrops: s.queueDrops.Load()})
	}
	return st
}

// writeState marks the state file stale; the loop writes it once per
// event (flushState), however many transitions the event caused (a start
// with 100 instances is one write, not 200).
func (r *runtime) writeState() { r.stateDirty = true }

// flushState hands a snapshot to the state writer, replacing one not yet
// written. Rendering and file I/O happen off the loop, so an advert that
// arrives meanwhile (a handover release, say) is not kept waiting.
func (r *runtime) flushState() {
	if !r.stateDirty {
		return
	}
	r.stateDirty = false
	st := r.status()
	select {
	case r.stateCh <- st:
		return
	default:
	}
	select {
	case <-r.stateCh: // superseded
	default:
	}
	r.stateCh <- st
}

// startStateWriter runs the state file writer until stopStateWriter.
func (r *runtime) startStateWriter() {
	r.stateCh, r.stateDone = make(chan api.Status, 1), make(chan struct{})
	go func() {
		defer close(r.stateDone)
		statefile.Serve(r.stateCh, r.stateFile, statefile.Options{Group: r.opts.SocketGID, Log: r.log, Prepare: sortStatus})
	}()
}

// stopStateWriter writes what is pending and waits for the writer.
func (r *runtime) stopStateWriter() {
	r.flushState()
	close(r.stateCh)
	<-r.stateDone
}

func (r *runtime) closeSockets() {
	for _, s := range r.socks {
		s.conn.Close()
	}
}

// hostname is best effort: the API shows it to tell nodes apart.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
