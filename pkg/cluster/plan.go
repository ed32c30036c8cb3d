package cluster

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// Plan, then act. failover and restart-safe first look at every node,
// then decide everything they will do in a Plan (PlanFailover,
// PlanRestart: pure functions of what was observed and the options), and
// only then change anything: --dry-run prints the Plan's sentences, and
// the executor (exec.go) runs the very same Plan value, step by step,
// stopping at the first failed check with the cluster's state (exit 5).

// Method is how failover moves mastership (the result's "method").
type Method string

// Failover methods.
const (
	// MethodPromote: the target runs hactl and is promoted.
	MethodPromote Method = "promote"
	// MethodKeepalivedRestart: the target runs keepalived, which has no
	// promotion: the master's daemon is stopped and started again.
	MethodKeepalivedRestart Method = "keepalived-restart"
	// MethodClear: the promotions are removed; priorities decide.
	MethodClear Method = "clear"
	// MethodNone: nothing to do.
	MethodNone Method = "none"
)

// Action is what one step of a Plan does.
type Action string

// Actions of a plan's steps.
const (
	// ActNote changes nothing: it says what happens by itself (and adds
	// Note to the result's notes when the executor reaches it).
	ActNote Action = "note"
	// ActClearPromotion clears Node's promotion of the instance.
	ActClearPromotion Action = "clear-promotion"
	// ActPromote promotes Node (for For; 0: until cleared).
	ActPromote Action = "promote"
	// ActWaitAlone waits up to Wait until Node holds the VIPs alone (and,
	// for hactl, is MASTER).
	ActWaitAlone Action = "wait-alone"
	// ActWaitDecided waits up to Wait until exactly one node holds the
	// VIPs: Node, when set.
	ActWaitDecided Action = "wait-decided"
	// ActStopDaemon runs Command (which stops the daemon) on Node.
	ActStopDaemon Action = "stop-daemon"
	// ActStartDaemon runs Command (which starts the daemon) on Node, also
	// when the step before failed, then waits up to Wait until a daemon
	// other than OldPID reports the instance in BACKUP or MASTER.
	ActStartDaemon Action = "start-daemon"
	// ActTakeBack waits up to Wait until Node, which preempts, holds the
	// VIPs alone again.
	ActTakeBack Action = "take-back"
	// ActStillHolds waits Hold, then checks that Node still holds the VIPs
	// alone.
	ActStillHolds Action = "still-holds"
	// ActRestart runs Command (a restart) on Node and waits up to Wait
	// until a new daemon reports the instance in BACKUP (or MASTER when
	// Hears is ""), having heard the master Hears since it started; then
	// settles for Settle and checks exactly one owner (Hears, when set).
	ActRestart Action = "restart"
	// ActFailover runs a whole failover to Node, planned when it is
	// reached (the cluster has changed by then). Until is the end of the
	// promotion to set (zero: until cleared).
	ActFailover Action = "failover"
	// ActRestoreClear clears the promotion of Node, which is master by
	// priority and stays master (restart-safe's restore, --clear's
	// give-back).
	ActRestoreClear Action = "restore-clear"
)

// PlanStep is one step of a Plan.
type PlanStep struct {
	Action Action
	// Node is the node acted on or waited for.
	Node string
	// Text is the step as the plan prints it, with its reason.
	Text string
	// Stop names the step in the exit-5 message when it fails ("" for
	// ActRestart and ActFailover, whose parts name themselves).
	Stop string
	// Note, on an ActNote, is added to the result's notes when reached;
	// on an ActWaitDecided it is the progress line said as the wait
	// starts (the plan's notes have it already).
	Note string
	// Command is the shell command line run on Node.
	Command string
	// Wait bounds the step's wait; Hold is waited before a check; Settle
	// after a restart.
	Wait, Hold, Settle time.Duration
	// For is the promotion's length (ActPromote; 0: until cleared).
	For time.Duration
	// Until is the end of the promotion an ActFailover sets (zero: until
	// cleared).
	Until time.Time
	// Hears is the master a restarted node must hear (ActRestart).
	Hears string
	// OldPID and OldStart are Node's daemon before (ActStartDaemon,
	// ActRestart): back means another process.
	OldPID   int
	OldStart time.Time
	// Target is the node failover moved mastership to, named in the note
	// of an ActTakeBack.
	Target string
	// Deferred: a failure is reported after the next step (which starts
	// again what the step before stopped).
	Deferred bool
}

// Plan is everything an operation will do, decided from one look at the
// cluster before anything is changed.
type Plan struct {
	Instance string
	VIPs     []netip.Addr
	// From are the nodes holding the VIPs when the plan was made.
	From []string
	// To is the node failover moves mastership to; Method how.
	To     string
	Method Method
	// GiveBack is how --clear gives mastership back: GiveBackHandover,
	// GiveBackInPlace or GiveBackWait ("" for the other methods).
	GiveBack string
	// Master, Order (restart-safe): the owner before, and the restart
	// order.
	Master string
	Order  []string
	Steps  []PlanStep
	Notes  []string
	// Refused, when set, is why the plan must not run: --dry-run still
	// prints it (it says what --force would do).
	Refused error
	// CheckEnd: after the last step, check exactly one owner
	// (restart-safe).
	CheckEnd bool
}

// Sentences are the plan as it is printed, one sentence per step.
func (p *Plan) Sentences() []string {
	out := []string{}
	for _, s := range p.Steps {
		out = append(out, s.Text)
	}
	return out
}

func (p *Plan) add(s PlanStep) { p.Steps = append(p.Steps, s) }

func (p *Plan) vipList() string {
	var s []string
	for _, a := range p.VIPs {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

// pickInstance finds the instance and its VIPs among the instances the
// observations report; look names where it looked, for the messages.
func pickInstance(look []*Observation, name string, vip netip.Addr) (string, []netip.Addr, error) {
	var cands []Instance
	for _, o := range look {
		for _, in := range o.Daemon.Instances {
			switch {
			case name != "" && in.Name != name:
			case vip.IsValid() && !in.configures(vip):
			case slices.ContainsFunc(cands, func(c Instance) bool { return c.Name == in.Name }):
			default:
				cands = append(cands, in)
			}
		}
	}
	where := "on any node"
	if len(look) == 1 {
		where = "on " + look[0].Node
	}
	switch {
	case len(cands) == 0 && name != "":
		return "", nil, fmt.Errorf("instance %s: not configured %s", name, where)
	case len(cands) == 0 && vip.IsValid():
		return "", nil, fmt.Errorf("no instance %s has %s among its VIPs", where, vip)
	case len(cands) == 0:
		return "", nil, fmt.Errorf("no VRRP instance found %s (is a daemon running there?)", where)
	case len(cands) > 1:
		var n []string
		for _, c := range cands {
			n = append(n, c.Name)
		}
		return "", nil, fmt.Errorf("several instances %s (%s): say which with --instance or --vip", where, strings.Join(n, ", "))
	}
	var vips []netip.Addr
	for _, p := range cands[0].VIPs {
		vips = append(vips, p.Addr())
	}
	if len(vips) == 0 {
		return cands[0].Name, nil, fmt.Errorf("instance %s has no VIPs", cands[0].Name)
	}
	return cands[0].Name, vips, nil
}

// obsOwners lists the observed nodes holding one of vips.
func obsOwners(obs []*Observation, vips []netip.Addr) []string {
	var out []string
	for _, o := range obs {
		if o.Holds(vips) {
			out = append(out, o.Node)
		}
	}
	return out
}

func obsIndex(obs []*Observation, name string) int {
	return slices.IndexFunc(obs, func(o *Observation) bool { return o.Node == name })
}

func obsNames(obs []*Observation) string {
	var n []string
	for _, o := range obs {
		n = append(n, o.Node)
	}
	return strings.Join(n, ", ")
}

// checkTarget refuses a target that cannot take over.
func checkTarget(o *Observation, inst string) error {
	in := o.ClusterInstance(inst)
	switch {
	case o.Daemon.Kind == DaemonNone:
		return fmt.Errorf("%s: no VRRP daemon answers there (hactl's socket, keepalived)", o.Node)
	case in == nil:
		return fmt.Errorf("%s: instance %s is not configured there", o.Node, inst)
	case in.State == api.StateFault:
		return fmt.Errorf("%s: instance %s is in FAULT (failing: %s); a faulty node cannot take over", o.Node, inst, orNone(in.FailingTrackers))
	case len(in.FailingTrackers) > 0:
		return fmt.Errorf("%s: instance %s has failing trackers (%s); fix them or pick another node", o.Node, inst, strings.Join(in.FailingTrackers, ", "))
	case !in.State.Ready():
		return fmt.Errorf("%s: instance %s is in %s, not ready to take over", o.Node, inst, in.State)
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// promoted lists the nodes with a promotion of inst, in node order.
func promoted(obs []*Observation, inst string) []int {
	var out []int
	for i, o := range obs {
		if promotionOf(o, inst) != nil {
			out = append(out, i)
		}
	}
	return out
}

// promotionOf is a node's promotion of inst (nil when none).
func promotionOf(o *Observation, inst string) *api.Promotion {
	if in := o.Instance(inst); in != nil {
		return in.Promotion
	}
	return nil
}
