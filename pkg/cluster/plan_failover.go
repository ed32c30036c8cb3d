package cluster

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// PlanFailover decides what Failover does, from one look at every node
// (obs, in the cluster's node order) and the options; it changes nothing.
// An error is a pre-check that failed (nothing will be changed); the plan
// returned with it, when not nil, says as much as was known. A plan with
// Refused set is shown by --dry-run but not run. The order, and why
// (docs/failover.md):
//
//  1. clear the promotion of every other node that has one: a promoted
//     node never yields, so promoting the target beside it would leave two
//     masters. The old master, cleared, stays master (it advertises its own
//     priority, and a preempting backup waits a whole Master_Down_Interval
//     before it acts), so no window without a master opens;
//  2. promote the target: it becomes master at once and advertises 255;
//     the old master steps down when it hears that advert;
//  3. wait until the target holds the VIP and every other node released it.
//
// A keepalived target cannot be promoted: see planKeepalived.
func PlanFailover(obs []*Observation, opt FailoverOptions) (*Plan, error) {
	opt.defaults()
	look := obs
	t := -1
	if !opt.Clear {
		if t = obsIndex(obs, opt.To); t >= 0 {
			look = obs[t : t+1]
		}
	}
	inst, vips, err := pickInstance(look, opt.Instance, opt.VIP)
	if err != nil {
		return nil, err
	}
	p := &Plan{Instance: inst, VIPs: vips, From: obsOwners(obs, vips)}
	switch {
	case opt.Clear:
		planClear(p, obs, opt)
		return p, nil
	case t < 0:
		return nil, fmt.Errorf("--to %s: not one of the nodes (%s)", opt.To, obsNames(obs))
	case obs[t].Daemon.Kind == DaemonKeepalived:
		p.To, p.Method = opt.To, MethodKeepalivedRestart
		if err := checkTarget(obs[t], inst); err != nil {
			return p, err
		}
		return p, planKeepalived(p, obs, t, opt)
	}
	if err := checkTarget(obs[t], inst); err != nil {
		return p, err
	}
	planPromote(p, obs, t, opt)
	return p, nil
}

// planPromote is the hactl path: clear the others' promotions (non-owners
// first: clearing them changes nothing on the wire), promote, wait.
func planPromote(p *Plan, obs []*Observation, t int, opt FailoverOptions) {
	target := obs[t].Node
	p.To, p.Method = target, MethodPromote
	clear := slices.DeleteFunc(promoted(obs, p.Instance), func(i int) bool { return i == t })
	slices.SortStableFunc(clear, func(a, b int) int {
		return boolInt(obs[a].Holds(p.VIPs)) - boolInt(obs[b].Holds(p.VIPs))
	})
	for _, i := range clear {
		n := obs[i].Node
		p.add(PlanStep{Action: ActClearPromotion, Node: n, Stop: "clearing the promotion on " + n,
			Text: fmt.Sprintf("clear the promotion of %s on %s (a promoted node never yields)", p.Instance, n)})
	}
	until := "until hactl failover --clear"
	if opt.For > 0 {
		until = "for " + opt.For.String()
	}
	p.add(PlanStep{Action: ActPromote, Node: target, For: opt.For, Stop: "promoting " + target,
		Text: fmt.Sprintf("promote %s on %s (sticky %s; it survives a daemon restart)", p.Instance, target, until)})
	p.add(PlanStep{Action: ActWaitAlone, Node: target, Wait: opt.Wait, Stop: "waiting for " + target + " to hold the VIP alone",
		Text: fmt.Sprintf("wait up to %v until %s holds %s and no other node does", opt.Wait, target, p.vipList())})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// planKeepalived is the path for a target running plain keepalived: it
// cannot be promoted, so the master's daemon is stopped until the target
// holds the VIP, then started again; then it waits until the master's
// daemon is back and checks who holds the VIP: the master again when it
// outranks the target and preempts (allowed with --force only), else the
// target. The error is a refusal before any plan.
func planKeepalived(p *Plan, obs []*Observation, t int, opt FailoverOptions) error {
	target := obs[t].Node
	if len(p.From) == 1 && p.From[0] == target {
		p.Notes = append(p.Notes, target+" already holds the VIP; keepalived has no sticky promotion, nothing to do")
		return nil
	}
	if len(p.From) != 1 {
		return fmt.Errorf("the VIP has %d owners (%v); with keepalived, fix that first (hactl who-owns)", len(p.From), p.From)
	}
	m := obsIndex(obs, p.From[0])
	master := obs[m].Node
	mi := obs[m].ClusterInstance(p.Instance)
	if mi == nil {
		return fmt.Errorf("%s holds the VIP but its daemon (%s) does not report instance %s; cannot plan a keepalived failover", master, obs[m].Daemon.Kind, p.Instance)
	}
	why, comesBack := keepalivedRisks(p, obs, m, t)
	stopCmd, startCmd := opt.masterCommands(master, obs[m].Daemon.Kind)
	back := mi.masterDown()
	p.add(PlanStep{Action: ActStopDaemon, Node: master, Command: stopCmd, Wait: opt.Wait, Stop: "stopping the daemon on " + master + " (" + stopCmd + ")",
		Text: fmt.Sprintf("%s runs keepalived, which has no promotion: stop the %s daemon on the master %s (%s)", target, obs[m].Daemon.Kind, master, stopCmd)})
	p.add(PlanStep{Action: ActWaitAlone, Node: target, Wait: opt.Wait, Deferred: true, Stop: "waiting for " + target + " to hold the VIP",
		Text: fmt.Sprintf("wait up to %v until %s holds %s alone", opt.Wait, target, p.vipList())})
	p.add(PlanStep{Action: ActStartDaemon, Node: master, Command: startCmd, Wait: opt.Wait, OldPID: obs[m].Daemon.PID,
		Stop: "starting the daemon on " + master + " again (" + startCmd + ")",
		Text: fmt.Sprintf("start it on %s again (%s); wait up to %v until it is back", master, startCmd, opt.Wait)})
	if comesBack {
		p.add(PlanStep{Action: ActTakeBack, Node: master, Target: target, Wait: opt.Wait, Stop: "waiting for " + master + " to take the VIP back",
			Text: fmt.Sprintf("expect %s to take the VIP back by preemption; wait up to %v until it holds it alone", master, opt.Wait)})
	} else {
		p.add(PlanStep{Action: ActStillHolds, Node: target, Hold: back, Wait: stillHoldsWait,
			Stop: "checking that " + target + " kept the VIP after " + master + " started again",
			Text: fmt.Sprintf("wait %v (one Master_Down_Interval and one interval), then check that %s still holds the VIP alone", back, target)})
	}
	if len(why) > 0 && !opt.Force {
		p.Refused = fmt.Errorf("refusing: %s; change the priorities (or set nopreempt), or use --force to do it anyway", strings.Join(why, "; "))
		return nil
	}
	p.Notes = append(p.Notes, why...)
	return nil
}

// stillHoldsWait bounds the last look of a keepalived failover, once the
// old master's Master_Down_Interval has passed.
const stillHoldsWait = 2 * time.Second

// keepalivedRisks says why a keepalived failover to t would not stick:
// another backup that outranks the target takes the VIP when the master m
// stops; a preempting master that outranks it takes the VIP straight back
// (comesBack). A master that outranks it but does not preempt is noted.
func keepalivedRisks(p *Plan, obs []*Observation, m, t int) (why []string, comesBack bool) {
	master, target := obs[m].Node, obs[t].Node
	mi, ti := obs[m].ClusterInstance(p.Instance), obs[t].ClusterInstance(p.Instance)
	for i, o := range obs {
		if i == m || i == t {
			continue
		}
		if in := o.ClusterInstance(p.Instance); in != nil && in.State == api.StateBackup && in.EffectivePriority >= ti.EffectivePriority {
			why = append(why, fmt.Sprintf("%s (priority %d) outranks %s (%d) and would take the VIP instead", o.Node, in.EffectivePriority, target, ti.EffectivePriority))
		}
	}
	outranks := mi.EffectivePriority > ti.EffectivePriority
	comesBack = outranks && mi.preempts()
	switch {
	case comesBack:
		delay := ""
		if mi.PreemptDelay > 0 {
			delay = fmt.Sprintf(" (after its preempt_delay of %v)", mi.PreemptDelay)
		}
		why = append(why, fmt.Sprintf("%s (priority %d) outranks %s (%d) and preempts: it takes the VIP straight back when it starts again%s", master, mi.EffectivePriority, target, ti.EffectivePriority, delay))
	case outranks:
		p.Notes = append(p.Notes, fmt.Sprintf("%s (priority %d) outranks %s (%d) but does not preempt (nopreempt): %s keeps the VIP", master, mi.EffectivePriority, target, ti.EffectivePriority, target))
	}
	return why, comesBack
}
