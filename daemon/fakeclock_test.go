package daemon

import (
	"sync"
	"time"
)

// fakeClock is a clock that moves only when a test advances it. Its
// AfterFunc callbacks run in the goroutine that advances it (in time
// order), and a wake timer's tick waits in its channel for the loop, so a
// loop test is one goroutine and deterministic.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	seq    uint64
}

type fakeTimer struct {
	c     *fakeClock
	at    time.Time
	seq   uint64 // arming order, to break ties
	armed bool
	f     func()         // AfterFunc
	ch    chan time.Time // NewTimer
	fired int            // how many times it fired
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) stopper {
	t := &fakeTimer{c: c, f: f}
	t.Reset(d)
	return t
}

func (c *fakeClock) NewTimer() wakeTimer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	was := t.armed
	if !was && t.f != nil {
		c.timers = append(c.timers, t)
	}
	c.seq++
	t.at, t.seq, t.armed = c.now.Add(d), c.seq, true
	return was
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.armed = false
	return was
}

// fireNext fires the earliest armed timer due at or before until, moving
// the clock to its time; it reports whether there was one.
func (c *fakeClock) fireNext(until time.Time) bool {
	c.mu.Lock()
	var next *fakeTimer
	live := c.timers[:0]
	for _, t := range c.timers {
		if !t.armed && t.f != nil {
			continue // a stopped or fired AfterFunc is forgotten
		}
		live = append(live, t)
		if t.armed && !t.at.After(until) && (next == nil || t.at.Before(next.at) || t.at.Equal(next.at) && t.seq < next.seq) {
			next = t
		}
	}
	c.timers = live
	if next == nil {
		c.mu.Unlock()
		return false
	}
	if next.at.After(c.now) {
		c.now = next.at
	}
	next.armed = false
	next.fired++
	now := c.now
	c.mu.Unlock()
	if next.f != nil {
		next.f()
	} else {
		select {
		case next.ch <- now:
		default: // a tick not yet taken stands for this one
		}
	}
	return true
}

// set moves the clock to t (never back) without firing anything.
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}
