//go:build linux

package track

import (
	"context"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// resubscribeDelay is the pause before a lost link subscription is opened
// again.
const resubscribeDelay = time.Second

// linkUp is keepalived's IF_FLAGS_UP: administratively up and running
// (carrier).
func linkUp(flags uint32) bool {
	return flags&(unix.IFF_UP|unix.IFF_RUNNING) == unix.IFF_UP|unix.IFF_RUNNING
}

// ifWatch follows the links of one network namespace by name.
type ifWatch struct {
	m      *Monitor
	ns     netns.NsHandle
	names  map[string]bool  // tracked names
	byIdx  map[int32]string // last name seen per ifindex, to notice renames
	nameUp map[string]bool  // the state in force (after any delay)
	// seenUp: the interface has been up (keepalived's seen_up); only
	// then do interface_up_down_delays apply.
	seenUp map[string]bool
	// pending are link changes held by interface_up_down_delays; a timer
	// reports its expiry on expired with the change's generation.
	pending map[string]*pendingLink
	expired chan pendingExpiry
	gen     uint64
}

// pendingLink is a link change waiting for its debounce delay.
type pendingLink struct {
	up    bool
	why   string
	gen   uint64
	timer *time.Timer
}

type pendingExpiry struct {
	name string
	gen  uint64
}

// startInterfaces subscribes to link updates in the calling thread's
// network namespace, reads the current state of the tracked interfaces
// (one that does not exist is down) and starts following them. A lost
// subscription (socket error, receive buffer overrun) is reopened, in the
// same namespace, and the states are read again.
func (m *Monitor) startInterfaces(ctx context.Context, names []string) error {
	ns, err := netns.Get()
	if err != nil {
		return fmt.Errorf("current network namespace: %w", err)
	}
	w := &ifWatch{m: m, ns: ns, names: map[string]bool{}, byIdx: map[int32]string{}, nameUp: map[string]bool{},
		seenUp: map[string]bool{}, pending: map[string]*pendingLink{},
		// Each interface has at most one live timer and one that fired
		// as it was replaced: no expiry is dropped.
		expired: make(chan pendingExpiry, 2*len(names)+1)}
	for _, n := range names {
		w.names[n] = true
	}
	sub, err := w.subscribe()
	if err != nil {
		ns.Close()
		return err
	}
	if err := w.resync(true); err != nil {
		sub.close()
		ns.Close()
		return err
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer ns.Close()
		w.loop(ctx, sub)
	}()
	return nil
}

type subscription struct {
	ch   chan netlink.LinkUpdate
	done chan struct{}
	errs chan error
}

// close stops the subscription and drains its channel, so that the
// library's reader goroutine is not left blocked on a send.
func (s *subscription) close() {
	close(s.done)
	for range s.ch {
	}
}

func (w *ifWatch) subscribe() (*subscription, error) {
	s := &subscription{ch: make(chan netlink.LinkUpdate, 64), done: make(chan struct{}), errs: make(chan error, 1)}
	opts := netlink.LinkSubscribeOptions{
		Namespace: &w.ns,
		ErrorCallback: func(err error) {
			select {
			case s.errs <- err:
			default:
			}
		},
	}
	if err := netlink.LinkSubscribeWithOptions(s.ch, s.done, opts); err != nil {
		return nil, fmt.Errorf("subscribing to link updates: %w", err)
	}
	return s, nil
}

// resync lists the namespace's links and sets every tracked interface's
// state; initial sets them without events.
func (w *ifWatch) resync(initial bool) error {
	h, err := netlink.NewHandleAt(w.ns)
	if err != nil {
		return fmt.Errorf("netlink handle: %w", err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return fmt.Errorf("listing links: %w", err)
	}
	up := map[string]bool{}
	clear(w.byIdx)
	for _, l := range links {
		a := l.Attrs()
		w.byIdx[int32(a.Index)] = a.Name
		up[a.Name] = linkUp(a.RawFlags)
	}
	for n := range w.names {
		if initial {
			w.nameUp[n], w.seenUp[n] = up[n], up[n]
			w.m.initState(Key{KindInterface, n}, ifState(up[n], "initial state"))
			continue
		}
		w.update(n, up[n], "resynchronised", false)
	}
	return nil
}

func ifState(up bool, why string) State {
	if up {
		return State{Status: StatusOK, Detail: "up"}
	}
	return State{Status: StatusFailed, Detail: "down (" + why + ")"}
}

// update applies a link state, or holds it for the interface's debounce
// delay as keepalived's update_interface_flags does: only once the
// interface has been seen up, not for a deletion (immediate); a change
// back before the delay ends cancels it, and a change in the direction
// already pending leaves its timer running.
func (w *ifWatch) update(name string, up bool, why string, immediate bool) {
	if !w.names[name] {
		return
	}
	if p, ok := w.pending[name]; ok {
		if p.up == up && !immediate {
			p.why = why
			return
		}
		p.timer.Stop()
		delete(w.pending, name)
		w.m.log.Info("link change delay cancelled", "interface", name, "up", up)
	}
	delay := w.m.ifDelays[name].Down
	if up {
		delay = w.m.ifDelays[name].Up
	}
	if up != w.nameUp[name] && delay > 0 && w.seenUp[name] && !immediate {
		w.gen++
		e := pendingExpiry{name: name, gen: w.gen}
		w.pending[name] = &pendingLink{up: up, why: why, gen: w.gen, timer: time.AfterFunc(delay, func() {
			select {
			case w.expired <- e:
			default: // cannot happen (see expired's size)
			}
		})}
		w.m.log.Info("link change delayed", "interface", name, "up", up, "delay", delay)
		return
	}
	w.apply(name, up, why)
	if immediate && !up {
		w.seenUp[name] = false
	}
}

// expire applies a delayed change whose delay ran out.
func (w *ifWatch) expire(e pendingExpiry) {
	p, ok := w.pending[e.name]
	if !ok || p.gen != e.gen {
		return
	}
	delete(w.pending, e.name)
	w.apply(e.name, p.up, p.why+", after its delay")
}

func (w *ifWatch) apply(name string, up bool, why string) {
	w.nameUp[name] = up
	if up {
		w.seenUp[name] = true
	}
	if w.m.set(Key{KindInterface, name}, ifState(up, why)) {
		lvl := w.m.log.Info
		if !up {
			lvl = w.m.log.Warn
		}
		lvl("tracked interface changed", "interface", name, "up", up, "why", why)
	}
}

func (w *ifWatch) handle(u netlink.LinkUpdate) {
	name := u.Link.Attrs().Name
	if old, ok := w.byIdx[u.Index]; ok && old != name {
		w.update(old, false, "renamed to "+name, true)
	}
	if u.Header.Type == unix.RTM_DELLINK {
		delete(w.byIdx, u.Index)
		w.update(name, false, "deleted", true)
		return
	}
	w.byIdx[u.Index] = name
	why := "link down"
	if u.Flags&unix.IFF_UP != 0 {
		why = "no carrier"
	}
	w.update(name, linkUp(u.Flags), why, false)
}

func (w *ifWatch) loop(ctx context.Context, sub *subscription) {
	for {
		select {
		case <-ctx.Done():
			sub.close()
			for _, p := range w.pending {
				p.timer.Stop()
			}
			return
		case e := <-w.expired:
			w.expire(e)
		case u, ok := <-sub.ch:
			if ok {
				w.handle(u)
				continue
			}
			w.m.log.Warn("link subscription closed; reopening", "retry_in", resubscribeDelay)
			sub = w.reopen(ctx, sub)
			if sub == nil {
				return
			}
		case err := <-sub.errs:
			w.m.log.Warn("link subscription error; reading link states again", "err", err)
			if rerr := w.resync(false); rerr != nil {
				w.m.log.Error("reading link states", "err", rerr)
			}
		}
	}
}

// reopen replaces a lost subscription, retrying until ctx ends (nil then).
func (w *ifWatch) reopen(ctx context.Context, old *subscription) *subscription {
	close(old.done)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(resubscribeDelay):
		}
		sub, err := w.subscribe()
		if err != nil {
			w.m.log.Error("reopening link subscription", "err", err)
			continue
		}
		if err := w.resync(false); err != nil {
			w.m.log.Error("reading link states", "err", err)
		}
		return sub
	}
}
