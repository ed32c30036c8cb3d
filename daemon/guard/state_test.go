package guard

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestStateNotAcquired(t *testing.T) {
	s := NewState("n1", 2*time.Second)
	if d := s.Decide(at(0)); d.Own || d.Why == "" {
		t.Fatalf("a key never acquired: %+v", d)
	}
}

// TestStateDeadline: the deadline is the renewal's send time plus the
// ttl, less the rate share and the margin; owning ends exactly there.
func TestStateDeadline(t *testing.T) {
	s := NewState("n1", 2*time.Second)
	s.Acquired(1, at(0))
	want := at(2000 - 20 - 200)
	if got := s.Deadline(); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
	if d := s.Decide(at(1779)); !d.Own || !d.Until.Equal(want) || d.Holder != "n1" {
		t.Fatalf("just before the deadline: %+v", d)
	}
	if d := s.Decide(at(1780)); d.Own || !strings.Contains(d.Why, "deadline") {
		t.Fatalf("at the deadline: %+v", d)
	}
}

func TestStateRenewals(t *testing.T) {
	s := NewState("n1", 2*time.Second)
	s.Acquired(1, at(0))
	s.Renewed(1, at(500))
	s.Renewed(1, at(300)) // a late answer to an older renewal
	if got, want := s.Deadline(), at(500+1780); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v (renewals only move it forward)", got, want)
	}
	if d := s.Decide(at(2000)); !d.Own {
		t.Fatalf("renewed at 500 ms, asked at 2 s: %+v", d)
	}
}

func TestStateLostAndReleased(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   func(*State)
		why  string
	}{
		{"lost", func(s *State) { s.Lost("lease expired") }, "lease expired"},
		{"released", (*State).Released, "released"},
		{"another holder", func(s *State) { s.Holder("n2") }, "held by n2"},
		{"key deleted", func(s *State) { s.Holder("") }, "held by nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState("n1", 2*time.Second)
			s.Acquired(1, at(0))
			tc.ev(s)
			d := s.Decide(at(10))
			if d.Own || !strings.Contains(d.Why, tc.why) {
				t.Fatalf("%+v, want not owned because %q", d, tc.why)
			}
			s.Acquired(1, at(20))
			if d := s.Decide(at(30)); !d.Own {
				t.Fatalf("acquired again: %+v", d)
			}
		})
	}
}

// TestStateHolderSelf: etcd reporting this node as holder (a watch echo of
// its own put) changes nothing.
func TestStateHolderSelf(t *testing.T) {
	s := NewState("n1", 2*time.Second)
	s.Acquired(1, at(0))
	s.Holder("n1")
	if d := s.Decide(at(10)); !d.Own {
		t.Fatalf("%+v", d)
	}
	s.Lost("lease expired")
	if d := s.Decide(at(10)); d.Holder != "" {
		t.Fatalf("holder after losing: %q", d.Holder)
	}
}

// TestStateNeverTwoOwners replays two nodes sharing one key on one
// timeline: whenever the second acquires after the first's lease expired
// in etcd (its last renewal + ttl, etcd timing up to Rate slower), the
// first's deadline has passed.
func TestStateNeverTwoOwners(t *testing.T) {
	ttl := 2 * time.Second
	a, b := NewState("a", ttl), NewState("b", ttl)
	a.Acquired(1, at(0))
	lastRenew := 0
	for ms := 0; ms <= 6000; ms += 10 {
		now := at(ms)
		if ms < 1500 && ms%500 == 0 { // renewals until a is cut from etcd at 1.5 s
			a.Renewed(1, now)
			lastRenew = ms
		}
		// etcd's earliest expiry of a's lease on this clock.
		expiry := at(lastRenew).Add(time.Duration(float64(ttl) * (1 - DefaultRate)))
		if !now.Before(expiry) && !b.Held() {
			b.Acquired(1, now)
		}
		if b.Held() && ms%500 == 0 {
			b.Renewed(1, now)
		}
		if a.Decide(now).Own && b.Decide(now).Own {
			t.Fatalf("both own at %d ms", ms)
		}
	}
	if !b.Decide(at(6000)).Own {
		t.Fatal("b never took over")
	}
}

func TestKey(t *testing.T) {
	if got := Key("/hactl/", "ipv6", 51); got != "/hactl/ipv6/51" {
		t.Fatal(got)
	}
}

// TestStateOtherLease: only the key's own lease counts. A later lease's
// renewals (granted after the key's lease was lost, whose LeaseLost event
// the loop may have missed) do not extend the key's deadline, and an old
// lease's loss does not drop a key acquired again under a new one.
func TestStateOtherLease(t *testing.T) {
	s := NewState("n1", 2*time.Second)
	s.Acquired(1, at(0))
	s.Renewed(2, at(1500))
	if got, want := s.Deadline(), at(1780); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v: another lease's renewal moved it", got, want)
	}
	if s.Decide(at(1800)).Own {
		t.Fatal("owned past the key's own lease's deadline")
	}
	s.Acquired(2, at(1600))
	if d := s.Decide(at(1800)); !d.Own || !d.Until.Equal(at(1600+1780)) {
		t.Fatalf("acquired under lease 2: %+v", d)
	}
	s.LeaseLost(1, "lease 1 expired")
	if !s.Decide(at(1800)).Own {
		t.Fatal("the old lease's loss dropped a key held under the new one")
	}
	s.LeaseLost(2, "lease 2 expired")
	if s.Decide(at(1800)).Own {
		t.Fatal("own after the key's lease was lost")
	}
}

// TestStateHolderRevisions: holder reports older than the acquisition (or
// than the last report taken in) are stale and change nothing; newer ones
// and reports without a revision are taken.
func TestStateHolderRevisions(t *testing.T) {
	s := NewState("n1", 2*time.Second)
	s.AcquiredAt(1, at(0), 10)
	if s.HolderAt("", 9) || !s.Held() {
		t.Fatal("a report of revision 9 took the key acquired at 10")
	}
	if !s.HolderAt("n1", 10) || !s.Held() {
		t.Fatal("our own put's report (revision 10) lost the key")
	}
	if !s.HolderAt("n2", 12) || s.Held() {
		t.Fatal("n2 at revision 12: the key should be lost")
	}
	if s.HolderAt("n1", 11) {
		t.Fatal("a report of 11 taken after one of 12")
	}
	if !s.HolderAt("", 0) {
		t.Fatal("a report without a revision was not taken")
	}
}
