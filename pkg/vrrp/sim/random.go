package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Result is the outcome of one seeded random run.
type Result struct {
	Seed      uint64
	Violation error // nil when every invariant held
	Events    int
	Trace     string // filled only when tracing was requested
	Setup     string // one-line description of the generated topology
}

// RandomRun generates a topology and a fault schedule from seed, runs it and
// checks the invariants. The same seed always gives the same run.
func RandomRun(seed uint64, trace bool) Result {
	gen := rand.New(rand.NewPCG(seed, 0x5eed))
	specs, net, setup := randomTopology(gen)
	s, err := New(seed, net, specs, trace)
	if err != nil {
		return Result{Seed: seed, Violation: err, Setup: setup}
	}
	ivl := specs[0].Config.Interval
	for i := range specs {
		s.At(time.Duration(gen.Int64N(int64(ivl))), fmt.Sprintf("start n%d", i), func(s *Sim) { s.Start(i) })
	}
	t := ivl
	for range 4 + gen.IntN(7) {
		f := gen.Float64()
		t += time.Duration(f * f * float64(2*s.Settle))
		name, fn := randomFault(gen, len(specs))
		s.At(t, name, fn)
	}
	t += time.Millisecond
	s.At(t, "heal all, no loss", func(s *Sim) { s.Heal(); s.SetLoss(0) })
	end := t + s.Settle + 3*ivl
	err = s.RunUntil(end)
	return Result{Seed: seed, Violation: err, Events: s.Events(), Trace: s.Trace(), Setup: setup}
}

// randomTopology picks version, family, interval, delay and priorities.
func randomTopology(g *rand.Rand) ([]NodeSpec, Network, string) {
	n := 2 + g.IntN(4)
	v := vrrp.Version3
	ivls := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, time.Second, 2500 * time.Millisecond}
	ivl := ivls[g.IntN(len(ivls))]
	if g.IntN(10) < 3 {
		v, ivl = vrrp.Version2, time.Duration(1+g.IntN(2))*time.Second
	}
	v6 := v == vrrp.Version3 && g.IntN(2) == 0
	delayDiv := time.Duration(10 + g.IntN(90))
	noDelay := g.IntN(4) == 0
	net := Network{}
	specs := make([]NodeSpec, n)
	setup := fmt.Sprintf("v%d ivl=%v", v, ivl)
	// VRRPv3 lets routers disagree on the interval: backups adopt the
	// master's. Sometimes give every node its own.
	mixed := v == vrrp.Version3 && g.IntN(3) == 0
	if mixed {
		setup += " mixed-intervals"
	}
	perm := g.Perm(n) // address order independent of node order
	ties := g.IntN(4) == 0
	owner := g.IntN(10) == 0
	for i := range specs {
		prio := uint8(1 + g.IntN(254))
		if ties {
			prio = uint8(100 + 50*g.IntN(2))
		}
		if owner && i == 0 {
			prio = vrrp.PriorityOwner
		}
		addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + perm[i])})
		if v6 {
			addr = netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: byte(10 + perm[i])})
		}
		nodeIvl := ivl
		if mixed {
			nodeIvl = ivls[g.IntN(len(ivls))]
		}
		specs[i].Config = vrrp.Config{VRID: 51, Version: v, Priority: prio, Interval: nodeIvl, Primary: addr}
		setup += fmt.Sprintf(" n%d=%v/p%d/%v", i, addr, prio, nodeIvl)
	}
	// Delay is bounded well below the shortest interval: beyond that no
	// VRRP deployment works, and the invariants would be meaningless.
	minIvl := specs[0].Config.Interval
	for _, sp := range specs {
		minIvl = min(minIvl, sp.Config.Interval)
	}
	if !noDelay {
		net.MaxDelay = minIvl / delayDiv
	}
	setup += fmt.Sprintf(" delay<=%v", net.MaxDelay)
	// hactl's handover hold (vrrp.Config.Handover) on half of the runs.
	if g.IntN(2) == 0 {
		hold := max(2*net.MaxDelay, time.Millisecond)
		for i := range specs {
			specs[i].Config.Handover = hold
		}
		setup += fmt.Sprintf(" handover-hold=%v", hold)
	}
	return specs, net, setup
}

// randomFault draws one fault and returns its trace name and effect.
func randomFault(g *rand.Rand, n int) (string, func(*Sim)) {
	i := g.IntN(n)
	switch g.IntN(11) {
	case 0:
		return fmt.Sprintf("crash n%d", i), func(s *Sim) { s.Crash(i) }
	case 1:
		return fmt.Sprintf("restart n%d", i), func(s *Sim) { s.Start(i) }
	case 2:
		return fmt.Sprintf("shutdown n%d", i), func(s *Sim) { s.Shutdown(i) }
	case 3:
		groups := make([]int, n)
		for j := range groups {
			groups[j] = g.IntN(2)
		}
		return fmt.Sprintf("partition %v", groups), func(s *Sim) { s.Partition(groups) }
	case 4:
		return "heal", func(s *Sim) { s.Heal() }
	case 5:
		p := []float64{0, 0.1, 0.5}[g.IntN(3)]
		return fmt.Sprintf("loss %.1f", p), func(s *Sim) { s.SetLoss(p) }
	case 6:
		p := []float64{0, 0.2}[g.IntN(2)]
		return fmt.Sprintf("dup %.1f", p), func(s *Sim) { s.disrupt(); s.Net.Dup = p }
	case 7, 8:
		w, f := g.IntN(121)-60, g.IntN(6) == 0
		return fmt.Sprintf("trackers n%d weight=%d fault=%t", i, w, f), func(s *Sim) { s.SetTrackers(i, w, f) }
	case 9:
		return fmt.Sprintf("promote n%d", i), func(s *Sim) { s.Promote(i) }
	default:
		return fmt.Sprintf("clear-promotion n%d", i), func(s *Sim) { s.ClearPromotion(i) }
	}
}
