package guard

import (
	"testing"
	"time"
)

func TestVIPLifetime(t *testing.T) {
	for _, tc := range []struct {
		left, lease, want time.Duration
	}{
		{left: 1780 * time.Millisecond, want: time.Second}, // just renewed, ttl 2
		{left: 1299 * time.Millisecond, want: 0},           // under a second after the kernel's lag
		{left: 1300 * time.Millisecond, want: time.Second}, // exactly one
		{left: 9 * time.Second, want: 8 * time.Second},     // ttl 10
		{left: 9 * time.Second, lease: 3 * time.Second, want: 3 * time.Second},
		{left: 2 * time.Second, lease: 3 * time.Second, want: time.Second},
		{left: -time.Second, want: 0},
	} {
		until := t0.Add(tc.left)
		if got := Lifetime(tc.lease, t0, until); got != tc.want {
			t.Errorf("%v left, lease %v: lifetime %v, want %v", tc.left, tc.lease, got, tc.want)
		}
		// Whatever is given, the kernel is done before the deadline.
		if got := Lifetime(tc.lease, t0, until); got > 0 && t0.Add(got+KernelLag).After(until) {
			t.Errorf("%v left: a lifetime of %v outlives the deadline", tc.left, got)
		}
	}
}

// TestLifetimeAfterRenewal: with ttl 2 and a refresh on every renewal, the
// VIP always gets a lifetime, and a daemon that dies after any refresh
// leaves a VIP that is gone before its deadline.
func TestLifetimeAfterRenewal(t *testing.T) {
	s := NewState("a", 2*time.Second)
	s.Acquired(1, at(0))
	for ms := 0; ms < 5000; ms += 500 {
		s.Renewed(1, at(ms))
		now := at(ms + 30) // the answer and the loop's turn
		d := s.Decide(now)
		lt := Lifetime(0, now, d.Until)
		if lt != time.Second {
			t.Fatalf("at %d ms: lifetime %v", ms, lt)
		}
		if now.Add(lt + KernelLag).After(d.Until) {
			t.Fatalf("at %d ms: the kernel keeps the VIP past the deadline", ms)
		}
	}
}

// TestRoundDelay: the lease's rounds come every quarter ttl, and soon
// after a failure, so that one lost renewal does not outlast a VIP's
// whole-second kernel lifetime.
func TestRoundDelay(t *testing.T) {
	for _, c := range []struct {
		ttl  time.Duration
		ok   bool
		want time.Duration
	}{
		{2 * time.Second, true, 500 * time.Millisecond},
		{2 * time.Second, false, 62500 * time.Microsecond},
		{time.Second, false, 50 * time.Millisecond},
		{10 * time.Second, false, 312500 * time.Microsecond},
	} {
		if got := roundDelay(c.ttl, c.ok); got != c.want {
			t.Errorf("roundDelay(%v, %v) = %v, want %v", c.ttl, c.ok, got, c.want)
		}
	}
}
