package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// Defaults of the event bus.
const (
	// DefaultSubscriberBuffer is how many events wait for a slow
	// subscriber before the next ones are dropped (and counted).
	DefaultSubscriberBuffer = 256
	// DefaultMaxSubscribers bounds the streams open at once; the control
	// socket's connection caps bound them too.
	DefaultMaxSubscribers = 64
)

// ErrTooManySubscribers: Subscribe refused a subscriber over the bound.
var ErrTooManySubscribers = errors.New("too many event subscribers")

// ErrBusClosed: the daemon is stopping.
var ErrBusClosed = errors.New("the daemon is stopping")

// Bus hands every notification to its subscribers (the streams of GET
// /v1/events) without ever waiting for one: Publish appends to each
// subscriber's bounded queue, and a full queue drops the event and counts
// it; the subscriber then reads an api.EventDropped where the events went
// missing.
type Bus struct {
	log  *slog.Logger
	buf  int
	max  int
	mu   sync.Mutex
	seq  uint64
	subs map[*Subscription]struct{}
	// dropped counts the events every subscriber missed, all together,
	// since the bus started (hactl_events_dropped_total).
	dropped uint64
	closed  bool
}

// NewBus returns a bus; buf and max of 0 take the defaults.
func NewBus(log *slog.Logger, buf, max int) *Bus {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if buf <= 0 {
		buf = DefaultSubscriberBuffer
	}
	if max <= 0 {
		max = DefaultMaxSubscribers
	}
	return &Bus{log: log, buf: buf, max: max, subs: map[*Subscription]struct{}{}}
}

// Subscription is one subscriber's queue.
type Subscription struct {
	b    *Bus
	wake chan struct{} // one token: something was queued, or closed
	// Under b.mu: q holds events and drop markers (items with
	// dropped > 0), at most b.buf+2 items: an event is queued only when
	// fewer than b.buf items wait before it (a marker excepted), and a
	// marker only after a full queue's last event.
	q       []item
	closed  bool
	dropped uint64 // all this subscriber missed
}

type item struct {
	ev      api.Event
	dropped uint64
}

// Subscribe adds a subscriber; it sees the notifications published from
// now on.
func (b *Bus) Subscribe() (*Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrBusClosed
	}
	if len(b.subs) >= b.max {
		return nil, ErrTooManySubscribers
	}
	s := &Subscription{b: b, wake: make(chan struct{}, 1)}
	b.subs[s] = struct{}{}
	return s, nil
}

// Publish numbers c and queues it for every subscriber; it never waits.
func (b *Bus) Publish(c Change, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	if len(b.subs) == 0 {
		return
	}
	ev := c.Event(b.seq, at)
	for s := range b.subs {
		n := len(s.q)
		switch {
		case n > 0 && s.q[n-1].dropped > 0:
			// Dropping already: the marker grows until the reader
			// has made room (a marker only ends a full queue).
			if n-1 < b.buf {
				s.q = append(s.q, item{ev: ev})
			} else {
				s.q[n-1].dropped++
				s.dropped++
				b.dropped++
			}
		case n < b.buf:
			s.q = append(s.q, item{ev: ev})
		default:
			s.q = append(s.q, item{dropped: 1})
			s.dropped++
			b.dropped++
			b.log.Warn("event stream reader too slow; dropping events until it catches up", "buffer", b.buf)
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Dropped is how many events the subscribers missed since the bus
// started, all of them together (one event two slow readers miss counts
// twice); it never goes down, also when a subscriber leaves.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// Close ends every subscription once its queue is read.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		s.closed = true
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Next returns the next event, waiting until there is one, ctx ends
// (ctx's error) or the bus closed and the queue is read (io.EOF).
func (s *Subscription) Next(ctx context.Context) (api.Event, error) {
	for {
		s.b.mu.Lock()
		if len(s.q) > 0 {
			it := s.q[0]
			s.q[0] = item{}
			s.q = s.q[1:]
			s.b.mu.Unlock()
			if it.dropped > 0 {
				return api.Event{Type: api.EventDropped, Time: time.Now(), Dropped: it.dropped}, nil
			}
			return it.ev, nil
		}
		closed := s.closed
		s.b.mu.Unlock()
		if closed {
			return api.Event{}, io.EOF
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return api.Event{}, ctx.Err()
		}
	}
}

// Dropped is how many events this subscriber missed.
func (s *Subscription) Dropped() uint64 {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.dropped
}

// Close removes the subscriber.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	delete(s.b.subs, s)
	s.closed, s.q = true, nil
}
