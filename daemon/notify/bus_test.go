package notify

import (
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func change(i int) Change {
	return Change{Kind: Instance, Name: "VI_1", State: Master, Priority: i}
}

// next reads one event, failing after a second.
func next(t *testing.T, s *Subscription) api.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

// TestBusSlowSubscriber: a subscriber that does not read loses the events
// past its buffer, learns how many where they went missing, and does not
// hold up another subscriber or the publisher.
func TestBusSlowSubscriber(t *testing.T) {
	b := NewBus(nil, 3, 0)
	slow, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := b.Subscribe()
	for i := 1; i <= 5; i++ {
		b.Publish(change(i), testTime)
		if ev := next(t, fast); ev.Seq != uint64(i) || ev.Priority != i {
			t.Fatalf("fast subscriber: %+v, want seq %d", ev, i)
		}
	}
	// slow holds 1 2 3, then a marker for 4 and 5.
	var got []string
	read := func(n int) {
		for range n {
			ev := next(t, slow)
			if ev.Type == api.EventDropped {
				got = append(got, "dropped:"+itoa(int(ev.Dropped)))
			} else {
				got = append(got, itoa(int(ev.Seq)))
			}
		}
	}
	read(1)                        // 1; room for one
	b.Publish(change(6), testTime) // after the marker
	b.Publish(change(7), testTime) // full again: a second marker
	read(5)
	want := []string{"1", "2", "3", "dropped:2", "6", "dropped:1"}
	if !equal(got, want) {
		t.Errorf("slow subscriber read %v, want %v", got, want)
	}
	if d := slow.Dropped(); d != 3 {
		t.Errorf("Dropped() = %d, want 3", d)
	}
	b.Publish(change(8), testTime)
	if ev := next(t, slow); ev.Seq != 8 {
		t.Errorf("after catching up: %+v", ev)
	}
}

// TestBusBounded: a flood into a subscriber that never reads keeps its
// queue bounded.
func TestBusBounded(t *testing.T) {
	b := NewBus(nil, 4, 0)
	s, _ := b.Subscribe()
	for i := range 10000 {
		b.Publish(change(i), testTime)
	}
	b.mu.Lock()
	n := len(s.q)
	b.mu.Unlock()
	if n > 4+2 {
		t.Errorf("queue holds %d items, want at most 6", n)
	}
	if s.Dropped() != 10000-4 {
		t.Errorf("dropped %d, want %d", s.Dropped(), 10000-4)
	}
}

func TestBusCloseAndLimits(t *testing.T) {
	b := NewBus(nil, 0, 2)
	s1, _ := b.Subscribe()
	if _, err := b.Subscribe(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe(); !errors.Is(err, ErrTooManySubscribers) {
		t.Errorf("third subscriber: %v", err)
	}
	b.Publish(change(1), testTime)
	b.Close()
	if ev := next(t, s1); ev.Seq != 1 {
		t.Errorf("queued before Close: %+v", ev)
	}
	if _, err := s1.Next(context.Background()); err != io.EOF {
		t.Errorf("after Close: %v, want EOF", err)
	}
	if _, err := b.Subscribe(); !errors.Is(err, ErrBusClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b2 := NewBus(nil, 0, 0)
	s, _ := b2.Subscribe()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Next: %v", err)
	}
	s.Close()
	b2.Publish(change(1), testTime) // no subscriber left: nothing to do
}

func itoa(i int) string { return strconv.Itoa(i) }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBusDroppedMonotonic: the bus's drop count sums every subscriber's
// and keeps it when a subscriber leaves.
func TestBusDroppedMonotonic(t *testing.T) {
	b := NewBus(nil, 2, 4)
	a, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		b.Publish(Change{Kind: Instance, Name: "VI_1", State: Backup, Priority: i}, time.Now())
	}
	if a.Dropped() != 3 || c.Dropped() != 3 || b.Dropped() != 6 {
		t.Fatalf("dropped: a %d, c %d, bus %d; want 3, 3, 6", a.Dropped(), c.Dropped(), b.Dropped())
	}
	a.Close()
	c.Close()
	if b.Dropped() != 6 {
		t.Errorf("after the subscribers left the bus counts %d, want 6", b.Dropped())
	}
}
