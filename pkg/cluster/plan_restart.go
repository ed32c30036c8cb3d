package cluster

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// PlanRestart decides what RestartSafe does, from one look at every node
// (obs, in the cluster's node order) and the options; it changes nothing.
// The order (docs/failover.md): the backups, lowest priority first, each
// waited for until it is back in BACKUP and hears the master; mastership
// moved to the best backup (a failover) when both run hactl; the old
// master restarted and waited for (with keepalived on either side, that
// restart is the handover); mastership given back (unless NoRestore).
func PlanRestart(obs []*Observation, opt RestartOptions) (*Plan, error) {
	opt.defaults()
	inst, vips, err := pickInstance(obs, opt.Instance, netip.Addr{})
	if err != nil {
		return nil, err
	}
	p := &Plan{Instance: inst, VIPs: vips, From: obsOwners(obs, vips), CheckEnd: true}
	if len(p.From) != 1 {
		return nil, fmt.Errorf("refusing to start: the VIP has %d owners %v; restart-safe starts from exactly one (hactl who-owns, hactl status)", len(p.From), p.From)
	}
	mi := obsIndex(obs, p.From[0])
	master := obs[mi].Node
	p.Master = master
	backups, err := restartOrder(obs, mi, inst)
	if err != nil {
		return nil, err
	}
	settle := opt.Settle
	if settle <= 0 {
		// One Master_Down_Interval and one interval, from hactl's API or
		// keepalived's JSON dump (3 s when unknown).
		settle = obs[mi].ClusterInstance(inst).masterDown()
	}
	for _, b := range backups {
		p.Order = append(p.Order, obs[b].Node)
		p.add(restartStep(obs[b], opt, master, settle,
			fmt.Sprintf("restart %s (%s); wait until it is back in BACKUP and hears %s; settle %v; check one owner", obs[b].Node, opt.command(obs[b]), master, settle)))
	}
	best := -1
	if len(backups) > 0 && takeoverPriority(obs[backups[len(backups)-1]], inst) > 0 {
		best = backups[len(backups)-1]
	}
	p.Order = append(p.Order, master)
	hactlMaster := obs[mi].Daemon.Kind == DaemonHactl
	// promoteBest: both run hactl, so mastership moves by a promotion and
	// is given back by one; otherwise the master's restart is the handover.
	promoteBest := best >= 0 && hactlMaster && obs[best].Daemon.Kind == DaemonHactl
	switch {
	case best < 0:
		// Nobody can take over: the master comes back as backup and, with
		// nobody to hear, becomes master again after its
		// Master_Down_Interval. It has no master to wait for.
		p.add(PlanStep{Action: ActNote, Node: master, Text: fmt.Sprintf("restart %s, the only node: the VIP is down while it restarts", master)})
		p.add(restartStep(obs[mi], opt, "", settle,
			fmt.Sprintf("restart %s (%s); wait until it is back in BACKUP; check one owner", master, opt.command(obs[mi]))))
	case promoteBest:
		bn := obs[best].Node
		p.add(PlanStep{Action: ActFailover, Node: bn, Text: fmt.Sprintf("hactl failover --to %s (promote it; the old master steps down)", bn)})
		p.add(restartStep(obs[mi], opt, bn, settle,
			fmt.Sprintf("restart %s (%s); wait until it is back in BACKUP; check one owner", master, opt.command(obs[mi]))))
		planRestore(p, obs, mi, best, opt)
	default:
		planRestartHandover(p, obs, mi, best, backups, opt, settle)
	}
	return p, nil
}

// restartOrder is the backups (every node but the master mi), lowest
// takeover priority first; it refuses a node without a daemon.
func restartOrder(obs []*Observation, mi int, inst string) ([]int, error) {
	var backups []int
	for i, o := range obs {
		if i == mi {
			continue
		}
		if o.Daemon.Kind == DaemonNone {
			return nil, fmt.Errorf("%s: no VRRP daemon runs there; restart-safe restarts running daemons only", o.Node)
		}
		backups = append(backups, i)
	}
	slices.SortStableFunc(backups, func(a, b int) int {
		return takeoverPriority(obs[a], inst) - takeoverPriority(obs[b], inst)
	})
	return backups, nil
}

// takeoverPriority is the node's effective priority for inst, -1 when it
// cannot take over (no such instance, FAULT).
func takeoverPriority(o *Observation, inst string) int {
	if in := o.ClusterInstance(inst); in != nil && in.State != api.StateFault {
		return in.EffectivePriority
	}
	return -1
}

// restartStep restarts o's daemon; hears is the master it must hear once
// back ("" when its restart is the handover).
func restartStep(o *Observation, opt RestartOptions, hears string, settle time.Duration, text string) PlanStep {
	return PlanStep{Action: ActRestart, Node: o.Node, Command: opt.command(o), Hears: hears, Settle: settle, Wait: opt.Wait,
		OldPID: o.Daemon.PID, OldStart: o.Daemon.StartedAt, Text: text}
}

// planRestore gives mastership back to the old master mi after the best
// backup was promoted: a failover to it, then (when it was master by
// priority, not promoted) its promotion cleared: it stays master.
func planRestore(p *Plan, obs []*Observation, mi, best int, opt RestartOptions) {
	master := obs[mi].Node
	if opt.NoRestore {
		p.add(PlanStep{Action: ActNote, Node: obs[best].Node,
			Text: fmt.Sprintf("leave %s promoted (--no-restore); hactl failover --clear returns to priority order", obs[best].Node)})
		return
	}
	orig := promotionOf(obs[mi], p.Instance)
	st := PlanStep{Action: ActFailover, Node: master, Text: fmt.Sprintf("hactl failover --to %s (give mastership back)", master)}
	if orig != nil {
		st.Until = orig.ExpiresAt
	}
	p.add(st)
	if orig == nil {
		p.add(PlanStep{Action: ActRestoreClear, Node: master, Stop: "clearing " + master + "'s promotion",
			Text: fmt.Sprintf("clear %s's promotion: it was master by priority, and stays master", master)})
	}
}

// planRestartHandover is the master's restart when keepalived runs on the
// master or the best backup: that restart moves the VIP to the best
// backup, and who holds it at the end is up to the priorities: the old
// master takes it back when it outranks every other node and preempts.
func planRestartHandover(p *Plan, obs []*Observation, mi, best int, backups []int, opt RestartOptions, settle time.Duration) {
	master, bn := obs[mi].Node, obs[best].Node
	p.add(PlanStep{Action: ActNote, Node: master, Text: fmt.Sprintf("keepalived: restarting %s moves the VIP to %s (best backup)", master, bn)})
	p.add(restartStep(obs[mi], opt, "", settle,
		fmt.Sprintf("restart %s (%s); wait until it is back (BACKUP, or MASTER again by preemption); settle %v; check one owner", master, opt.command(obs[mi]), settle)))
	takesBack := false
	if in := obs[mi].ClusterInstance(p.Instance); in != nil {
		takesBack = in.preempts() && !slices.ContainsFunc(backups, func(b int) bool { return takeoverPriority(obs[b], p.Instance) >= in.EffectivePriority })
	}
	if takesBack {
		p.add(PlanStep{Action: ActTakeBack, Node: master, Wait: opt.Wait, Stop: "waiting for " + master + " to take the VIP back by preemption",
			Text: fmt.Sprintf("wait up to %v until %s takes the VIP back by preemption (it outranks every other node)", opt.Wait, master)})
		return
	}
	p.add(PlanStep{Action: ActNote, Node: bn,
		Text: fmt.Sprintf("%s keeps the VIP (%s does not preempt it); keepalived has no promotion to give it back", bn, master),
		Note: fmt.Sprintf("%s does not take the VIP back (it does not outrank every other node, or nopreempt)", master)})
}

// command is the restart command for the node observed as o.
func (o *RestartOptions) command(ob *Observation) string {
	if o.Command != "" {
		return strings.ReplaceAll(o.Command, "{node}", ob.Node)
	}
	svc := o.Service
	if ob.Daemon.Kind == DaemonKeepalived && svc == "hactl" {
		svc = "keepalived"
	}
	return "systemctl restart " + svc
}

func (o *RestartOptions) defaults() {
	defaultOps(&o.Wait, &o.Poll, &o.Timeout, &o.Service, 60*time.Second, 100*time.Millisecond, "hactl")
}
