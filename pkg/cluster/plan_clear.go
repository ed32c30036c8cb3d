package cluster

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// How failover --clear gives mastership back (the result's "give_back").
const (
	// GiveBackHandover: the rightful node takes the VIP through the
	// release handover of --to (promoted for the moment, then cleared).
	GiveBackHandover = "handover"
	// GiveBackInPlace: the rightful node holds the VIP already; the
	// promotions are cleared where they are and nothing moves.
	GiveBackInPlace = "in-place"
	// GiveBackWait: the rightful node cannot take a handover (keepalived)
	// or cannot be known: the promotions are cleared and VRRP's own timers
	// decide (a Master_Down_Interval).
	GiveBackWait = "wait"
)

// clearPromotionMargin is added to --wait for the moment's promotion of
// the rightful node during a give-back: should the run be cut short
// between the promotion and its clear, the promotion ends by itself and
// the node stays master by priority.
const clearPromotionMargin = time.Minute

// planClear removes every promotion of the instance and gives mastership
// to the node that owns it by priority once none is left (rightfulOwner):
//
//   - that node holds the VIP alone already: clear the promotions, the
//     others first, its own last; nothing moves;
//   - it runs hactl: the release handover of --to (PlanFailover): clear the
//     other promotions (non-owners first), promote it, wait until it holds
//     the VIP alone, then clear its promotion: it is master by priority and
//     stays master (advertising its own priority, which wins the election).
//     No moment with two owners, and no Master_Down_Interval;
//   - it runs keepalived (no promotion, so no handover), or it cannot be
//     known: clear the promotions and wait for VRRP's timers (about one
//     Master_Down_Interval).
func planClear(p *Plan, obs []*Observation, opt FailoverOptions) {
	p.Method = MethodClear
	prom := promoted(obs, p.Instance)
	if len(prom) == 0 {
		p.Method = MethodNone
		p.Notes = append(p.Notes, "no node has a promotion of "+p.Instance+"; nothing to clear")
		return
	}
	w, why := rightfulOwner(p.Instance, obs)
	// Non-owners first: clearing them changes nothing on the wire.
	slices.SortStableFunc(prom, func(a, b int) int {
		return boolInt(obs[a].Holds(p.VIPs)) - boolInt(obs[b].Holds(p.VIPs))
	})
	clearOthers := func(reason string) {
		for _, i := range prom {
			if i == w {
				continue
			}
			n := obs[i].Node
			p.add(PlanStep{Action: ActClearPromotion, Node: n, Stop: "clearing the promotion on " + n,
				Text: fmt.Sprintf("clear the %s promotion of %s on %s%s", promotionKind(promotionOf(obs[i], p.Instance)), p.Instance, n, reason)})
		}
	}
	switch {
	case w >= 0 && len(p.From) == 1 && p.From[0] == obs[w].Node:
		want := obs[w].Node
		p.GiveBack = GiveBackInPlace
		clearOthers("")
		if pr := promotionOf(obs[w], p.Instance); pr != nil {
			p.add(PlanStep{Action: ActRestoreClear, Node: want, Stop: "clearing " + want + "'s promotion",
				Text: fmt.Sprintf("clear the %s promotion of %s on %s, which holds the VIP and is master by priority (%s): nothing moves", promotionKind(pr), p.Instance, want, why)})
		}
		p.add(PlanStep{Action: ActWaitDecided, Node: want, Wait: opt.Wait, Stop: "checking that " + want + " holds the VIP alone",
			Text: fmt.Sprintf("check (up to %v) that %s still holds the VIP alone", opt.Wait, want)})
	case w >= 0 && obs[w].Daemon.Kind == DaemonHactl:
		want := obs[w].Node
		p.GiveBack = GiveBackHandover
		clearOthers(" (a promoted node never yields)")
		d := opt.Wait + clearPromotionMargin
		p.add(PlanStep{Action: ActPromote, Node: want, For: d, Stop: "promoting " + want,
			Text: fmt.Sprintf("promote %s on %s, the master by priority (%s), for at most %v: it takes the VIP through the release handover, without waiting a Master_Down_Interval", p.Instance, want, why, d)})
		p.add(PlanStep{Action: ActWaitAlone, Node: want, Wait: opt.Wait, Stop: "waiting for " + want + " to hold the VIP alone",
			Text: fmt.Sprintf("wait up to %v until %s holds %s and no other node does", opt.Wait, want, p.vipList())})
		// No look after the clear: it changes only the priority want
		// advertises, to one that wins the election (rightfulOwner), and
		// a look over SSH is a third of the whole give-back's time.
		p.add(PlanStep{Action: ActRestoreClear, Node: want, Stop: "clearing " + want + "'s promotion",
			Text: fmt.Sprintf("clear the promotion of %s on %s: it is master by priority and stays master", p.Instance, want)})
	default:
		p.GiveBack = GiveBackWait
		clearOthers("")
		if w >= 0 {
			// A promotion of the keepalived node itself cannot exist.
			want := obs[w].Node
			note := fmt.Sprintf("%s (%s) should hold the VIP by priority but runs keepalived, which cannot take a release handover: waiting for its Master_Down_Interval (about %v)",
				want, why, waitDown(obs[w].ClusterInstance(p.Instance)))
			p.Notes = append(p.Notes, note)
			p.add(PlanStep{Action: ActWaitDecided, Node: want, Wait: opt.Wait, Stop: "waiting for priorities to decide", Note: note,
				Text: fmt.Sprintf("wait up to %v until priorities decide: %s should hold the VIP alone (%s runs keepalived: no handover, its Master_Down_Interval)", opt.Wait, want, want)})
			return
		}
		note := "the node that should hold the VIP cannot be known (" + why + "): waiting until priorities decide"
		p.Notes = append(p.Notes, note)
		p.add(PlanStep{Action: ActWaitDecided, Wait: opt.Wait, Stop: "waiting for priorities to decide", Note: note,
			Text: fmt.Sprintf("wait up to %v until exactly one node holds the VIP", opt.Wait)})
	}
}

// promotionKind says whether a promotion is sticky or ends by itself.
func promotionKind(pr *api.Promotion) string {
	if pr == nil || pr.ExpiresAt.IsZero() {
		return "sticky"
	}
	return "timed (until " + pr.ExpiresAt.UTC().Format(time.RFC3339) + ")"
}

// waitDown is how long a backup of in waits at most before it takes
// over: its Master_Down_Interval.
func waitDown(in *Instance) time.Duration {
	if in == nil || in.AdvertInterval <= 0 {
		return in.masterDown()
	}
	return vrrp.MasterDownInterval(vrrp.Version3, in.EffectivePriority, in.AdvertInterval).Round(10 * time.Millisecond)
}

// rightfulOwner is the index of the node that holds the VIP once no node
// is promoted, and why (-1 and the reason when that cannot be known). It
// is VRRP's election (RFC 5798 §6.4.3) over the nodes whose instance is
// BACKUP or MASTER: the highest effective priority, ties to the highest
// primary address; but a current master keeps the VIP against a better
// node that does not preempt.
func rightfulOwner(inst string, obs []*Observation) (int, string) {
	best, cur := -1, -1
	var bestAddr netip.Addr
	tie := false
	for i, o := range obs {
		in := o.ClusterInstance(inst)
		if in == nil || !in.State.Ready() {
			continue // no daemon, not configured, FAULT, INIT
		}
		if in.State == api.StateMaster && o.Holds(in.Addrs()) {
			cur = i
		}
		addr := primaryAddr(o, in)
		if best < 0 {
			best, bestAddr, tie = i, addr, false
			continue
		}
		bp := obs[best].ClusterInstance(inst).EffectivePriority
		switch {
		case in.EffectivePriority > bp:
			best, bestAddr, tie = i, addr, false
		case in.EffectivePriority < bp:
		case !addr.IsValid() || !bestAddr.IsValid():
			tie = true
		case addr.Compare(bestAddr) > 0:
			best, bestAddr, tie = i, addr, false
		}
	}
	switch {
	case best < 0:
		return -1, "no node is in BACKUP or MASTER"
	case tie:
		return -1, fmt.Sprintf("a tie at priority %d whose primary addresses are not known", obs[best].ClusterInstance(inst).EffectivePriority)
	}
	bi := obs[best].ClusterInstance(inst)
	if cur >= 0 && cur != best && !bi.preempts() {
		return cur, fmt.Sprintf("%s (priority %d) outranks it but does not preempt", obs[best].Node, bi.EffectivePriority)
	}
	why := fmt.Sprintf("priority %d", bi.EffectivePriority)
	if bestAddr.IsValid() {
		why += ", " + bestAddr.String()
	}
	return best, why
}

// Addrs are the instance's VIPs as addresses.
func (in *Instance) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, p := range in.VIPs {
		out = append(out, p.Addr())
	}
	return out
}

// primaryAddr is the address the node advertises from, as far as its
// observation says: the first address of the VIPs' family on the
// instance's interface that is not a VIP, link-local for IPv6 (invalid
// when unknown).
func primaryAddr(o *Observation, in *Instance) netip.Addr {
	if len(in.VIPs) == 0 {
		return netip.Addr{}
	}
	v4 := in.VIPs[0].Addr().Is4()
	for _, ifc := range o.Ifs {
		if in.Interface != "" && ifc.Name != in.Interface {
			continue
		}
		for _, a := range ifc.Addrs {
			// VRRP over IPv6 advertises from the link-local address.
			if a.Addr().Is4() == v4 && !in.configures(a.Addr()) && a.Addr().IsLinkLocalUnicast() == !v4 {
				return a.Addr()
			}
		}
	}
	return netip.Addr{}
}
