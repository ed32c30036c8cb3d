package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// disrupt marks a change that restarts the settle period.
func (s *Sim) disrupt() {
	s.lastDisruption = s.now
	s.handover = false
	s.takeoverSet = false
}

// healthy: one segment, no loss (delay and duplication are tolerated).
func (s *Sim) healthy() bool { return !s.partitioned && s.Net.Loss == 0 }

// Start starts node i's instance (first boot or after a graceful stop).
func (s *Sim) Start(i int) {
	n := s.nodes[i]
	if n.running {
		return
	}
	s.disrupt()
	if n.crashed {
		n.crashed = false
		n.inc++
		if err := n.reset(); err != nil {
			s.violate("node %d reset: %v", i, err)
			return
		}
	}
	n.running = true
	if n.promoted {
		s.step(n, vrrp.Promote())
	}
	s.step(n, vrrp.TrackersChanged(n.weight, n.fault))
	s.step(n, vrrp.Startup())
}

// Crash kills node i's host: no priority-0 advert, VIPs gone with it.
func (s *Sim) Crash(i int) {
	n := s.nodes[i]
	watch := s.settledMaster(i)
	s.disrupt()
	n.running, n.crashed, n.vips = false, true, false
	n.inc++
	if watch {
		s.watchTakeover(n.spec.Config.Interval*4 + 2*s.Net.MaxDelay)
	}
}

// Shutdown stops node i's instance gracefully.
func (s *Sim) Shutdown(i int) {
	n := s.nodes[i]
	if !n.running {
		return
	}
	watch := s.settledMaster(i)
	s.disrupt()
	s.step(n, vrrp.Shutdown())
	n.running = false
	if watch {
		// Backups wait only their skew time after a priority-0 advert.
		s.watchTakeover(n.spec.Config.Interval + time.Second + 2*s.Net.MaxDelay)
	}
}

// Partition splits the segment: node i joins group groups[i].
func (s *Sim) Partition(groups []int) {
	s.disrupt()
	s.partitioned = false
	for i, g := range groups {
		s.nodes[i].group = g
		if g != groups[0] {
			s.partitioned = true
		}
	}
}

// Heal rejoins all partitions.
func (s *Sim) Heal() {
	s.disrupt()
	for _, n := range s.nodes {
		n.group = 0
	}
	s.partitioned = false
}

// SetLoss changes the loss rate; going to zero starts the settle period.
func (s *Sim) SetLoss(p float64) {
	s.disrupt()
	s.Net.Loss = p
}

// SetTrackers sets node i's tracker state.
func (s *Sim) SetTrackers(i, weight int, fault bool) {
	n := s.nodes[i]
	s.disrupt()
	n.weight, n.fault = weight, fault
	if !n.crashed {
		s.step(n, vrrp.TrackersChanged(weight, fault))
	}
}

// Promote sets the override on node i, clearing it everywhere else first,
// as the CLI does. A promotion on a settled network is a handover that must
// never leave the segment without a master.
func (s *Sim) Promote(i int) {
	settled := s.settled() && len(s.Masters()) == 1
	for _, n := range s.nodes {
		if n.id != i && n.promoted {
			s.ClearPromotion(n.id)
		}
	}
	s.disrupt()
	s.handover = settled
	n := s.nodes[i]
	n.promoted = true
	if !n.crashed { // a stopped instance records the override too
		s.step(n, vrrp.Promote())
	}
}

// ClearPromotion clears node i's override.
func (s *Sim) ClearPromotion(i int) {
	n := s.nodes[i]
	s.disrupt()
	n.promoted = false
	if !n.crashed {
		s.step(n, vrrp.ClearPromotion())
	}
}

func (s *Sim) settled() bool {
	return s.healthy() && s.now-s.lastDisruption >= s.Settle
}

// Chosen returns the nodes the election rules allow as master: among running,
// unfaulted nodes, the promoted one, else those with the highest effective
// priority. Equal priorities allow any of them: RFC 5798 §6.4.2 lets a backup
// of equal priority keep the current master, so the address tie-break only
// decides between simultaneous masters.
func (s *Sim) Chosen() []int {
	var out []int
	best := -1
	for _, n := range s.nodes {
		if !n.running || n.fault {
			continue
		}
		p := s.modelPriority(n)
		switch {
		case p > best:
			best, out = p, append(out[:0], n.id)
		case p == best:
			out = append(out, n.id)
		}
	}
	return out
}

// modelPriority is the test's own model of a node's priority, computed from
// the spec rather than asked of the instance under test.
func (s *Sim) modelPriority(n *node) int {
	base := int(n.spec.Config.Priority)
	switch {
	case n.promoted:
		return 256
	case base == vrrp.PriorityOwner:
		return base
	}
	return min(max(base+n.weight, 1), 254)
}

// check runs the invariants after an event.
func (s *Sim) check() {
	masters, holders := 0, 0
	for _, n := range s.nodes {
		if n.vips {
			holders++
		}
	}
	switch {
	case holders > 1 && !s.dual:
		s.dual, s.dualSince = true, s.now
	case holders <= 1 && s.dual:
		s.dual = false
		s.DualHolding += s.now - s.dualSince
	}
	for _, n := range s.nodes {
		isMaster := n.running && n.in.State() == vrrp.Master
		if n.vips && !isMaster {
			s.violate("node %d holds VIPs in %v", n.id, n.in.State())
			return
		}
		if isMaster && !n.vips && !n.in.Status().Pending {
			s.violate("node %d is master without VIPs", n.id)
			return
		}
		if isMaster {
			masters++
		}
	}
	if s.handover && masters == 0 {
		s.violate("no master during a promotion handover")
		return
	}
	if !s.CheckElection || !s.settled() {
		return
	}
	chosen, got := s.Chosen(), s.Masters()
	switch {
	case len(chosen) == 0 && len(got) != 0:
		s.violate("masters %v but no eligible node", got)
	case len(chosen) > 0 && len(got) != 1:
		s.violate("%d masters %v after settling, want one of %v", len(got), got, chosen)
	case len(chosen) > 0 && !slices.Contains(chosen, got[0]):
		s.violate("master is node %d, rules choose %v", got[0], chosen)
	}
}

// settledMaster reports whether node i is the single master of a settled
// network.
func (s *Sim) settledMaster(i int) bool {
	m := s.Masters()
	return s.settled() && len(m) == 1 && m[0] == i
}

// watchTakeover starts the skew-time check after the settled master left:
// Skew_Time exists so that the highest-priority backup's timer fires first
// and the others hear it before theirs do (RFC 5798 §6.1). When the gap
// between the best and second-best backup's skew exceeds twice the maximum
// delay, no other backup may become master, and the best one must by the
// deadline.
func (s *Sim) watchTakeover(within time.Duration) {
	best, second := -1, -1
	for _, n := range s.nodes {
		if !n.running || n.fault {
			continue
		}
		switch {
		case best < 0 || s.prioOf(n) > s.prioOf(s.nodes[best]):
			best, second = n.id, best
		case second < 0 || s.prioOf(n) > s.prioOf(s.nodes[second]):
			second = n.id
		}
	}
	if best < 0 || second < 0 {
		return
	}
	chosen := s.Chosen()
	if len(chosen) != 1 || chosen[0] != best {
		return // the instance and the model disagree (a yielding owner): no timing claim
	}
	cfg := s.nodes[best].spec.Config
	unit := time.Second / 256
	if cfg.Version == vrrp.Version3 {
		// Skew scales with the Master_Adver_Interval the backups adopted.
		mai := s.nodes[best].in.Status().MasterAdverInt
		for _, n := range s.nodes {
			if n.running && !n.fault && n.id != best && n.in.Status().MasterAdverInt != mai {
				return // backups disagree on the interval: no ordering claim
			}
		}
		unit = mai / 256
	}
	gap := time.Duration(s.prioOf(s.nodes[best])-s.prioOf(s.nodes[second])) * unit
	if gap <= 2*s.Net.MaxDelay {
		return
	}
	s.takeover, s.takeoverSet = best, true
	s.takeoverGen++
	gen := s.takeoverGen
	deadline := s.now + within
	s.At(deadline, fmt.Sprintf("check n%d took over", best), func(s *Sim) {
		// Only this watch's claim: a later master leaving starts another.
		if s.takeoverSet && s.takeoverGen == gen && s.nodes[best].in.State() != vrrp.Master {
			s.violate("n%d (highest priority) is not master %v after the master left", best, within)
		}
	})
}

// prioOf is the priority node n's instance advertises.
func (s *Sim) prioOf(n *node) int { return int(n.in.Status().Priority) }

// checkTakeover runs when n becomes master during a takeover watch.
func (s *Sim) checkTakeover(n *node) {
	if s.takeoverSet && n.id != s.takeover {
		s.violate("n%d became master before higher-priority n%d: skew time not respected", n.id, s.takeover)
	}
}

// checkYield runs when master n stepped down on an advert from src with
// priority prio: RFC 5798 §6.4.3 allows that only for a higher priority, or
// an equal one from a higher primary address. (Exceptions: an owner yields
// to any other 255; a promoted instance never yields.)
func (s *Sim) checkYield(n *node, src netip.Addr, prio uint8) {
	mine := s.modelPriority(n)
	switch {
	case mine == 256:
		s.violate("promoted n%d yielded to %v (prio %d)", n.id, src, prio)
	case mine == vrrp.PriorityOwner && prio == vrrp.PriorityOwner:
	case int(prio) < mine:
		s.violate("n%d (prio %d) yielded to lower priority %d from %v", n.id, mine, prio, src)
	case int(prio) == mine && src.Compare(n.spec.Config.Primary) < 0:
		s.violate("n%d (prio %d, %v) yielded to equal priority from lower address %v: tie-break inverted",
			n.id, mine, n.spec.Config.Primary, src)
	}
}
