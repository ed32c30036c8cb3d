package sim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// scenario builds a simulation of v3 IPv4 nodes with the given priorities
// (node i gets address 192.0.2.(10+i)) and optional config tweaks.
func scenario(t *testing.T, prios []uint8, mod func(i int, c *vrrp.Config)) *Sim {
	t.Helper()
	specs := make([]NodeSpec, len(prios))
	for i, p := range prios {
		c := vrrp.Config{VRID: 7, Version: vrrp.Version3, Priority: p, Interval: time.Second,
			Primary: netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)})}
		if mod != nil {
			mod(i, &c)
		}
		specs[i].Config = c
	}
	s, err := New(1, Network{MaxDelay: time.Millisecond}, specs, testing.Verbose())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, s *Sim, until time.Duration) {
	t.Helper()
	if err := s.RunUntil(until); err != nil {
		t.Fatalf("%v\n%s", err, s.Trace())
	}
}

func wantMasters(t *testing.T, s *Sim, want ...int) {
	t.Helper()
	if got := s.Masters(); !slices.Equal(got, want) {
		t.Fatalf("at %v masters %v, want %v\n%s", s.Now(), got, want, s.Trace())
	}
}

// TestScenarioNoPreempt: a higher-priority node that restarts does not take
// over from the lower-priority master that replaced it (RFC 5798 §6.4.2
// Preempt_Mode false), and takes over only when that master goes.
func TestScenarioNoPreempt(t *testing.T) {
	s := scenario(t, []uint8{200, 100}, func(_ int, c *vrrp.Config) { c.NoPreempt = true })
	s.CheckElection = false // the election invariant assumes preemption
	s.At(0, "start n0", func(s *Sim) { s.Start(0) })
	s.At(0, "start n1", func(s *Sim) { s.Start(1) })
	run(t, s, 10*time.Second)
	wantMasters(t, s, 0)
	s.At(11*time.Second, "shutdown n0", func(s *Sim) { s.Shutdown(0) })
	s.At(13*time.Second, "start n0", func(s *Sim) { s.Start(0) })
	run(t, s, 40*time.Second)
	wantMasters(t, s, 1)
	s.At(41*time.Second, "crash n1", func(s *Sim) { s.Crash(1) })
	run(t, s, 50*time.Second)
	wantMasters(t, s, 0)
}

// TestScenarioPreemptDelay: the higher-priority node takes over only after
// preempt_delay from first hearing the lower master, plus the
// Master_Down_Interval (keepalived semantics).
func TestScenarioPreemptDelay(t *testing.T) {
	const delay = 20 * time.Second
	s := scenario(t, []uint8{200, 100}, func(i int, c *vrrp.Config) {
		if i == 0 {
			c.PreemptDelay = delay
		}
	})
	s.CheckElection = false
	s.At(0, "start n1", func(s *Sim) { s.Start(1) })
	s.At(10*time.Second, "start n0", func(s *Sim) { s.Start(0) })
	run(t, s, 10*time.Second+delay-time.Second)
	wantMasters(t, s, 1)
	mdi := 3*time.Second + 56*time.Second/256
	run(t, s, 10*time.Second+delay+time.Second+mdi+10*time.Millisecond)
	wantMasters(t, s, 0)
}

// TestScenarioPromotionHandover: promoting the lowest-priority backup makes
// it master with no instant without a master, and it stays master against
// every priority; clearing the override lets preemption restore the
// highest-priority node.
func TestScenarioPromotionHandover(t *testing.T) {
	s := scenario(t, []uint8{250, 100, 5}, nil)
	for i := range 3 {
		s.At(0, "start", func(s *Sim) { s.Start(i) })
	}
	run(t, s, 10*time.Second)
	wantMasters(t, s, 0)
	s.At(10*time.Second, "promote n2", func(s *Sim) { s.Promote(2) })
	run(t, s, 10*time.Second+5*time.Millisecond)
	if !s.handover {
		t.Fatal("handover watch not armed")
	}
	wantMasters(t, s, 2) // old master stepped down once it heard the 255
	s.At(11*time.Second, "trackers n0 +100", func(s *Sim) { s.SetTrackers(0, 100, false) })
	run(t, s, 30*time.Second)
	wantMasters(t, s, 2)
	s.At(30*time.Second, "clear n2", func(s *Sim) { s.ClearPromotion(2) })
	run(t, s, 40*time.Second)
	wantMasters(t, s, 0)
}

// TestScenarioHandoverHoldNoDualOwner: with hactl's handover hold a
// promotion and the preemption back after clearing it never have two VIP
// holders at once; with the plain RFC behaviour both have about one
// delivery of overlap.
func TestScenarioHandoverHoldNoDualOwner(t *testing.T) {
	for _, hold := range []time.Duration{0, 5 * time.Millisecond} {
		s := scenario(t, []uint8{250, 100, 5}, func(_ int, c *vrrp.Config) { c.Handover = hold })
		for i := range 3 {
			s.At(0, "start", func(s *Sim) { s.Start(i) })
		}
		run(t, s, 10*time.Second)
		wantMasters(t, s, 0)
		s.DualHolding = 0
		s.At(10*time.Second, "promote n2", func(s *Sim) { s.Promote(2) })
		run(t, s, 20*time.Second)
		wantMasters(t, s, 2)
		s.At(20*time.Second, "clear n2", func(s *Sim) { s.ClearPromotion(2) })
		run(t, s, 30*time.Second)
		wantMasters(t, s, 0)
		switch {
		case hold > 0 && s.DualHolding != 0:
			t.Errorf("hold %v: two VIP holders for %v\n%s", hold, s.DualHolding, s.Trace())
		case hold == 0 && s.DualHolding == 0:
			t.Errorf("no hold: expected the RFC's overlap, saw none")
		}
		t.Logf("hold %v: dual holding %v over a promotion and a preemption back", hold, s.DualHolding)
	}
}

// TestScenarioPromotionBeatsOwner: an address owner yields to a promoted
// node and recovers when the promotion is cleared.
func TestScenarioPromotionBeatsOwner(t *testing.T) {
	s := scenario(t, []uint8{255, 100}, nil)
	s.At(0, "start n0", func(s *Sim) { s.Start(0) })
	s.At(0, "start n1", func(s *Sim) { s.Start(1) })
	s.At(5*time.Second, "promote n1", func(s *Sim) { s.Promote(1) })
	run(t, s, 20*time.Second)
	wantMasters(t, s, 1)
	s.At(20*time.Second, "clear n1", func(s *Sim) { s.ClearPromotion(1) })
	run(t, s, 30*time.Second)
	wantMasters(t, s, 0)
}

// TestScenarioSplitBrainHeals: a partition makes two masters; healing
// leaves the higher priority.
func TestScenarioSplitBrainHeals(t *testing.T) {
	s := scenario(t, []uint8{150, 100}, nil)
	s.At(0, "start n0", func(s *Sim) { s.Start(0) })
	s.At(0, "start n1", func(s *Sim) { s.Start(1) })
	s.At(5*time.Second, "partition", func(s *Sim) { s.Partition([]int{0, 1}) })
	run(t, s, 15*time.Second)
	wantMasters(t, s, 0, 1)
	s.At(15*time.Second, "heal", func(s *Sim) { s.Heal() })
	run(t, s, 17*time.Second)
	wantMasters(t, s, 0)
}

// TestRandomRunDeterministic: the same seed gives the same run.
func TestRandomRunDeterministic(t *testing.T) {
	a, b := RandomRun(42, true), RandomRun(42, true)
	if a.Trace != b.Trace || a.Events != b.Events {
		t.Fatal("seed 42 did not replay identically")
	}
}
