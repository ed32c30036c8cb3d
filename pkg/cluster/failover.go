package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// StoppedError is an operation (failover, restart-safe) that stopped
// part-way: something was changed, the next step failed. State says what
// the cluster looks like now. The CLI exits 5 with it.
type StoppedError struct {
	Step  string
	Err   error
	State string
}

func (e *StoppedError) Error() string {
	msg := "stopped at " + e.Step + ": " + e.Err.Error()
	if e.State != "" {
		msg += "\ncluster state now: " + e.State
	}
	return msg
}

func (e *StoppedError) Unwrap() error { return e.Err }

// UnreachableError is a pre-check that could not ask some nodes; nothing
// was changed. The CLI exits 4 with it.
type UnreachableError struct{ Errs []error }

func (e *UnreachableError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error() + " (nothing was changed)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d nodes could not be asked (nothing was changed):", len(e.Errs))
	for _, err := range e.Errs {
		b.WriteString("\n  " + err.Error())
	}
	return b.String()
}

// FailoverOptions say what to move where.
type FailoverOptions struct {
	// To is the node that should become master (empty with Clear).
	To string
	// Instance names the VRRP instance; VIP picks it by an address; with
	// neither, the target's only instance.
	Instance string
	VIP      netip.Addr
	// For bounds the promotion (0: until cleared).
	For time.Duration
	// Wait bounds the wait for the handover (default 30 s).
	Wait time.Duration
	// Poll is the time between looks while waiting (default 50 ms).
	Poll time.Duration
	// Timeout bounds each node's answer (default 10 s).
	Timeout time.Duration
	DryRun  bool
	Force   bool
	// Clear removes promotions instead of setting one.
	Clear bool
	// Service is the unit to stop and start on the master when the target
	// runs keepalived (default keepalived; hactl when the master runs
	// hactl).
	Service string
	// StopCommand and StartCommand replace "systemctl stop SERVICE" and
	// "systemctl start SERVICE" on the master; "{node}" is replaced by the
	// master's name.
	StopCommand, StartCommand string
	// Progress, when set, receives one line per step as it happens.
	Progress func(string)
}

func (o *FailoverOptions) defaults() {
	var svc string
	defaultOps(&o.Wait, &o.Poll, &o.Timeout, &svc, 30*time.Second, 50*time.Millisecond, "-")
}

// masterCommands are the commands that stop and start the master's daemon
// for a keepalived target.
func (o *FailoverOptions) masterCommands(master string, kind string) (stop, start string) {
	svc := o.Service
	if svc == "" {
		svc = "keepalived"
		if kind == DaemonHactl {
			svc = "hactl"
		}
	}
	stop, start = "systemctl stop "+svc, "systemctl start "+svc
	if o.StopCommand != "" {
		stop = strings.ReplaceAll(o.StopCommand, "{node}", master)
	}
	if o.StartCommand != "" {
		start = strings.ReplaceAll(o.StartCommand, "{node}", master)
	}
	return stop, start
}

// defaultOps fills the settings failover and restart-safe share: the wait
// bound, the polling period, the per-node timeout (always 10 s) and the
// service name.
func defaultOps(wait, poll, timeout *time.Duration, service *string, defWait, defPoll time.Duration, defService string) {
	if *wait <= 0 {
		*wait = defWait
	}
	if *poll <= 0 {
		*poll = defPoll
	}
	if *timeout <= 0 {
		*timeout = 10 * time.Second
	}
	if *service == "" {
		*service = defService
	}
}

// FailoverResult is what failover did (docs/json.md).
type FailoverResult struct {
	Instance string   `json:"instance"`
	VIPs     []string `json:"vips"`
	// From are the owners before; To the node asked for ("" with --clear).
	From []string `json:"from"`
	To   string   `json:"to,omitempty"`
	// Method is promote (hactl), keepalived-restart, clear or none.
	Method string `json:"method"`
	DryRun bool   `json:"dry_run"`
	// Plan is the steps, in order, as sentences.
	Plan  []string `json:"plan"`
	Steps []Step   `json:"steps"`
	// Owners hold the VIP at the end.
	Owners []string `json:"owners"`
	// ExpiresAt is when the promotion ends (absent: until cleared).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// HandoverMS is from the promotion to the verified single owner.
	HandoverMS float64   `json:"handover_ms"`
	TookMS     float64   `json:"took_ms"`
	Notes      []string  `json:"notes,omitempty"`
	Final      *Snapshot `json:"final,omitempty"`
}

// Step is one action taken and how long it took.
type Step struct {
	Action string  `json:"action"`
	Node   string  `json:"node,omitempty"`
	TookMS float64 `json:"took_ms"`
	Error  string  `json:"error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// failover is one run's working state.
type failover struct {
	opt  FailoverOptions
	ms   []Member
	res  *FailoverResult
	vips []netip.Addr
	inst string
}

func (f *failover) progress(format string, args ...any) {
	if f.opt.Progress != nil {
		f.opt.Progress(fmt.Sprintf(format, args...))
	}
}

// step runs fn, records it with its duration, and reports it.
func (f *failover) step(action, node string, fn func() error) error {
	start := time.Now()
	err := fn()
	s := Step{Action: action, Node: node, TookMS: ms(time.Since(start))}
	if err != nil {
		s.Error = err.Error()
	}
	f.res.Steps = append(f.res.Steps, s)
	if err == nil {
		f.progress("%s: %s (%.0f ms)", node, action, s.TookMS)
	}
	return err
}

// stopped builds the exit-5 error with a fresh look at the cluster.
func (f *failover) stopped(ctx context.Context, step string, err error) error {
	obs, errs := observeAll(context.WithoutCancel(ctx), f.ms, f.opt.Timeout)
	snap := snapshot(f.inst, f.vips, f.ms, obs, errs)
	f.res.Final = &snap
	f.res.Owners = snap.Owners
	return &StoppedError{Step: step, Err: err, State: snap.String()}
}

// Failover moves mastership of one instance to opt.To, or with opt.Clear
// removes the promotions. Order, and why (docs/failover.md):
//
//  1. look at every node; refuse (nothing changed) when one cannot be
//     asked, the target is not hactl or keepalived, lacks the instance, is
//     in FAULT or INIT, or has failing trackers;
//  2. clear the promotion of every other node that has one: a promoted
//     node never yields, so promoting the target beside it would leave two
//     masters. The old master, cleared, stays master (it advertises its own
//     priority, and a preempting backup waits a whole Master_Down_Interval
//     before it acts), so no window without a master opens;
//  3. promote the target: it becomes master at once and advertises 255;
//     the old master steps down when it hears that advert (one delivery),
//     the only moment with two owners;
//  4. wait until the target holds the VIP and every other node released it.
func Failover(ctx context.Context, members []Member, opt FailoverOptions) (*FailoverResult, error) {
	opt.defaults()
	start := time.Now()
	f := &failover{opt: opt, ms: members, res: &FailoverResult{From: []string{}, Plan: []string{}, Steps: []Step{}, Owners: []string{}, VIPs: []string{}}}
	obs, errs := observeAll(ctx, members, opt.Timeout)
	if bad := slices.DeleteFunc(slices.Clone(errs), func(e error) bool { return e == nil }); len(bad) > 0 {
		return nil, &UnreachableError{Errs: bad}
	}
	if err := f.pickInstance(obs); err != nil {
		return nil, err
	}
	f.res.From = owners(members, obs, f.vips)
	var err error
	switch {
	case opt.Clear:
		err = f.clear(ctx, obs)
	default:
		t := memberIndex(members, opt.To)
		if t < 0 {
			return nil, fmt.Errorf("--to %s: not one of the nodes (%s)", opt.To, names(members))
		}
		if obs[t].Daemon.Kind == DaemonKeepalived {
			err = f.keepalived(ctx, obs, t)
		} else {
			err = f.promote(ctx, obs, t)
		}
	}
	f.res.TookMS = ms(time.Since(start))
	return f.res, err
}

func names(ms []Member) string {
	var n []string
	for _, m := range ms {
		n = append(n, m.Name())
	}
	return strings.Join(n, ", ")
}

// pickInstance finds the instance and its VIPs: on the target, or with
// --clear on any node.
func (f *failover) pickInstance(obs []*Observation) error {
	look := obs
	if !f.opt.Clear {
		if t := memberIndex(f.ms, f.opt.To); t >= 0 {
			look = obs[t : t+1]
		}
	}
	var cands []Instance
	for _, o := range look {
		for _, in := range o.Daemon.Instances {
			switch {
			case f.opt.Instance != "" && in.Name != f.opt.Instance:
			case f.opt.VIP.IsValid() && !in.configures(f.opt.VIP):
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
	case len(cands) == 0 && f.opt.Instance != "":
		return fmt.Errorf("instance %s: not configured %s", f.opt.Instance, where)
	case len(cands) == 0 && f.opt.VIP.IsValid():
		return fmt.Errorf("no instance %s has %s among its VIPs", where, f.opt.VIP)
	case len(cands) == 0:
		return fmt.Errorf("no VRRP instance found %s (is a daemon running there?)", where)
	case len(cands) > 1:
		var n []string
		for _, c := range cands {
			n = append(n, c.Name)
		}
		return fmt.Errorf("several instances %s (%s): say which with --instance or --vip", where, strings.Join(n, ", "))
	}
	f.inst = cands[0].Name
	f.res.Instance = f.inst
	for _, p := range cands[0].VIPs {
		f.vips = append(f.vips, p.Addr())
		f.res.VIPs = append(f.res.VIPs, p.Addr().String())
	}
	if len(f.vips) == 0 {
		return fmt.Errorf("instance %s has no VIPs", f.inst)
	}
	return nil
}

// checkTarget refuses a target that cannot take over.
func (f *failover) checkTarget(o *Observation) error {
	in := o.ClusterInstance(f.inst)
	switch {
	case o.Daemon.Kind == DaemonNone:
		return fmt.Errorf("%s: no VRRP daemon answers there (hactl's socket, keepalived)", o.Node)
	case in == nil:
		return fmt.Errorf("%s: instance %s is not configured there", o.Node, f.inst)
	case in.State == "FAULT":
		return fmt.Errorf("%s: instance %s is in FAULT (failing: %s); a faulty node cannot take over", o.Node, f.inst, orNone(in.FailingTrackers))
	case len(in.FailingTrackers) > 0:
		return fmt.Errorf("%s: instance %s has failing trackers (%s); fix them or pick another node", o.Node, f.inst, strings.Join(in.FailingTrackers, ", "))
	case in.State != "MASTER" && in.State != "BACKUP":
		return fmt.Errorf("%s: instance %s is in %s, not ready to take over", o.Node, f.inst, in.State)
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// promote is the hactl path.
func (f *failover) promote(ctx context.Context, obs []*Observation, t int) error {
	if err := f.checkTarget(obs[t]); err != nil {
		return err
	}
	target := f.ms[t].Name()
	f.res.To, f.res.Method = target, "promote"
	var clear []int
	for i, o := range obs {
		if i == t {
			continue
		}
		if in := o.Instance(f.inst); in != nil && in.Promotion != nil {
			clear = append(clear, i)
		}
	}
	// Non-owners first: clearing them changes nothing on the wire.
	slices.SortStableFunc(clear, func(a, b int) int {
		return boolInt(obs[a].Holds(f.vips)) - boolInt(obs[b].Holds(f.vips))
	})
	for _, i := range clear {
		f.res.Plan = append(f.res.Plan, fmt.Sprintf("clear the promotion of %s on %s (a promoted node never yields)", f.inst, f.ms[i].Name()))
	}
	until := "until hactl failover --clear"
	if f.opt.For > 0 {
		until = "for " + f.opt.For.String()
	}
	f.res.Plan = append(f.res.Plan,
		fmt.Sprintf("promote %s on %s (sticky %s; it survives a daemon restart)", f.inst, target, until),
		fmt.Sprintf("wait up to %v until %s holds %s and no other node does", f.opt.Wait, target, strings.Join(f.res.VIPs, ", ")))
	if f.opt.DryRun {
		f.res.DryRun, f.res.Owners = true, f.res.From
		return nil
	}
	for _, i := range clear {
		if err := f.step("promotion cleared", f.ms[i].Name(), func() error { return f.ms[i].ClearPromotion(ctx, f.inst) }); err != nil {
			return f.stopped(ctx, "clearing the promotion on "+f.ms[i].Name(), err)
		}
	}
	promoted := time.Now()
	if err := f.step("promoted", target, func() error { return f.ms[t].Promote(ctx, f.inst, f.opt.For) }); err != nil {
		return f.stopped(ctx, "promoting "+target, err)
	}
	if f.opt.For > 0 {
		exp := promoted.Add(f.opt.For)
		f.res.ExpiresAt = &exp
	}
	if err := f.step("holds the VIP alone", target, func() error { return f.waitOwner(ctx, target, f.opt.Wait) }); err != nil {
		return f.stopped(ctx, "waiting for "+target+" to hold the VIP alone", err)
	}
	f.res.HandoverMS = ms(time.Since(promoted))
	f.res.Owners = []string{target}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// waitOwner polls until want is the only owner (and, for hactl, its
// instance is MASTER), for at most limit.
func (f *failover) waitOwner(ctx context.Context, want string, limit time.Duration) error {
	return waitFor(ctx, f.ms, f.opt.Timeout, f.opt.Poll, limit, func(obs []*Observation, errs []error) (bool, string) {
		own := owners(f.ms, obs, f.vips)
		desc := fmt.Sprintf("owners %v", own)
		if len(own) == 0 {
			desc = "nobody holds the VIP"
		}
		if len(own) != 1 || own[0] != want {
			return false, desc
		}
		for _, e := range errs {
			if e != nil {
				return false, e.Error()
			}
		}
		if in := obs[memberIndex(f.ms, want)].ClusterInstance(f.inst); in != nil && in.State != "MASTER" && !in.StateInferred {
			return false, want + " holds the VIP but is " + in.State
		}
		return true, ""
	})
}

// waitFor observes every member each poll until ok says so; the error
// names the last thing ok complained about.
func waitFor(ctx context.Context, members []Member, timeout, poll, limit time.Duration, ok func([]*Observation, []error) (bool, string)) error {
	deadline := time.Now().Add(limit)
	last := ""
	for {
		obs, errs := observeAll(ctx, members, timeout)
		done, why := ok(obs, errs)
		if done {
			return nil
		}
		last = why
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not reached within %v: %s", limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// clear removes every promotion of the instance and waits until priorities
// have decided: exactly one owner, the highest-priority node when a
// preempting one outranks the current master.
func (f *failover) clear(ctx context.Context, obs []*Observation) error {
	f.res.Method = "clear"
	var promoted []int
	for i, o := range obs {
		if in := o.Instance(f.inst); in != nil && in.Promotion != nil {
			promoted = append(promoted, i)
		}
	}
	if len(promoted) == 0 {
		f.res.Method = "none"
		f.res.Notes = append(f.res.Notes, "no node has a promotion of "+f.inst+"; nothing to clear")
		f.res.Owners = f.res.From
		return nil
	}
	want := expectedOwner(f.inst, f.ms, obs, promoted)
	for _, i := range promoted {
		f.res.Plan = append(f.res.Plan, fmt.Sprintf("clear the promotion of %s on %s", f.inst, f.ms[i].Name()))
	}
	if want != "" {
		f.res.Plan = append(f.res.Plan, fmt.Sprintf("wait up to %v until priorities decide: %s should hold the VIP alone", f.opt.Wait, want))
	} else {
		f.res.Plan = append(f.res.Plan, fmt.Sprintf("wait up to %v until exactly one node holds the VIP", f.opt.Wait))
	}
	if f.opt.DryRun {
		f.res.DryRun, f.res.Owners = true, f.res.From
		return nil
	}
	for _, i := range promoted {
		if err := f.step("promotion cleared", f.ms[i].Name(), func() error { return f.ms[i].ClearPromotion(ctx, f.inst) }); err != nil {
			return f.stopped(ctx, "clearing the promotion on "+f.ms[i].Name(), err)
		}
	}
	start := time.Now()
	var final []string
	err := f.step("priorities decided", want, func() error {
		return waitFor(ctx, f.ms, f.opt.Timeout, f.opt.Poll, f.opt.Wait, func(obs []*Observation, _ []error) (bool, string) {
			own := owners(f.ms, obs, f.vips)
			final = own
			if len(own) != 1 {
				return false, fmt.Sprintf("owners %v", own)
			}
			return want == "" || own[0] == want, "owner " + own[0] + ", want " + want
		})
	})
	if err != nil {
		return f.stopped(ctx, "waiting for priorities to decide", err)
	}
	f.res.HandoverMS = ms(time.Since(start))
	f.res.Owners = final
	return nil
}

// expectedOwner is the node that should hold the VIP once no node is
// promoted: the current master, unless a preempting node of higher
// effective priority exists. "" when that cannot be known (a tie, a
// keepalived node).
func expectedOwner(inst string, members []Member, obs []*Observation, _ []int) string {
	cur := ""
	best, bestPrio, tie := "", -1, false
	for i, o := range obs {
		in := o.Instance(inst)
		if in == nil {
			if o.ClusterInstance(inst) != nil {
				return "" // keepalived: preemption unknown
			}
			continue
		}
		if in.State == "MASTER" {
			cur = members[i].Name()
		}
		if in.State == "FAULT" || in.State == "INIT" {
			continue
		}
		switch {
		case in.EffectivePriority > bestPrio:
			best, bestPrio, tie = members[i].Name(), in.EffectivePriority, false
		case in.EffectivePriority == bestPrio:
			tie = true
		}
	}
	if tie {
		return ""
	}
	bi := memberIndex(members, best)
	if best != cur && bi >= 0 && !obs[bi].Instance(inst).Preempt && cur != "" {
		return cur
	}
	return best
}

// keepalived is the path for a target running plain keepalived: it cannot
// be promoted, so the master's daemon is stopped until the target holds the
// VIP, then started again; then it waits until the master's daemon is back
// and checks who holds the VIP: the master again when it outranks the
// target and preempts (allowed with --force only), else the target.
func (f *failover) keepalived(ctx context.Context, obs []*Observation, t int) error {
	target := f.ms[t].Name()
	f.res.To, f.res.Method = target, "keepalived-restart"
	if err := f.checkTarget(obs[t]); err != nil {
		return err
	}
	own := owners(f.ms, obs, f.vips)
	if len(own) == 1 && own[0] == target {
		f.res.Notes = append(f.res.Notes, target+" already holds the VIP; keepalived has no sticky promotion, nothing to do")
		f.res.Owners = own
		return nil
	}
	if len(own) != 1 {
		return fmt.Errorf("the VIP has %d owners (%v); with keepalived, fix that first (hactl who-owns)", len(own), own)
	}
	m := memberIndex(f.ms, own[0])
	master := own[0]
	mi := obs[m].ClusterInstance(f.inst)
	ti := obs[t].ClusterInstance(f.inst)
	if mi == nil {
		return fmt.Errorf("%s holds the VIP but its daemon (%s) does not report instance %s; cannot plan a keepalived failover", master, obs[m].Daemon.Kind, f.inst)
	}
	// Who takes over when the master stops: the best other node.
	var why []string
	for i, o := range obs {
		if i == m || i == t {
			continue
		}
		if in := o.ClusterInstance(f.inst); in != nil && in.State == "BACKUP" && in.EffectivePriority >= ti.EffectivePriority {
			why = append(why, fmt.Sprintf("%s (priority %d) outranks %s (%d) and would take the VIP instead", o.Node, in.EffectivePriority, target, ti.EffectivePriority))
		}
	}
	// Whether the master takes the VIP back when it starts again.
	comesBack := mi.EffectivePriority > ti.EffectivePriority && mi.preempts()
	if comesBack {
		delay := ""
		if mi.PreemptDelay > 0 {
			delay = fmt.Sprintf(" (after its preempt_delay of %v)", mi.PreemptDelay)
		}
		why = append(why, fmt.Sprintf("%s (priority %d) outranks %s (%d) and preempts: it takes the VIP straight back when it starts again%s", master, mi.EffectivePriority, target, ti.EffectivePriority, delay))
	} else if mi.EffectivePriority > ti.EffectivePriority {
		f.res.Notes = append(f.res.Notes, fmt.Sprintf("%s (priority %d) outranks %s (%d) but does not preempt (nopreempt): %s keeps the VIP", master, mi.EffectivePriority, target, ti.EffectivePriority, target))
	}
	stopCmd, startCmd := f.opt.masterCommands(master, obs[m].Daemon.Kind)
	back := mi.masterDown()
	f.res.Plan = append(f.res.Plan,
		fmt.Sprintf("%s runs keepalived, which has no promotion: stop the %s daemon on the master %s (%s)", target, obs[m].Daemon.Kind, master, stopCmd),
		fmt.Sprintf("wait up to %v until %s holds %s alone", f.opt.Wait, target, strings.Join(f.res.VIPs, ", ")),
		fmt.Sprintf("start it on %s again (%s); wait up to %v until it is back", master, startCmd, f.opt.Wait))
	if comesBack {
		f.res.Plan = append(f.res.Plan, fmt.Sprintf("expect %s to take the VIP back by preemption; wait up to %v until it holds it alone", master, f.opt.Wait))
	} else {
		f.res.Plan = append(f.res.Plan, fmt.Sprintf("wait %v (one Master_Down_Interval and one interval), then check that %s still holds the VIP alone", back, target))
	}
	if f.opt.DryRun {
		// The plan is shown even when refused: it says what --force does.
		f.res.DryRun, f.res.Owners = true, own
	}
	if len(why) > 0 && !f.opt.Force {
		return fmt.Errorf("refusing: %s; change the priorities (or set nopreempt), or use --force to do it anyway", strings.Join(why, "; "))
	}
	f.res.Notes = append(f.res.Notes, why...)
	if f.opt.DryRun {
		return nil
	}
	oldPID := obs[m].Daemon.PID
	run := func(ctx context.Context, cmd string) error {
		out, err := f.ms[m].Run(ctx, cmd, f.opt.Wait)
		if err != nil && strings.TrimSpace(out) != "" {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
		}
		return err
	}
	stopAt := time.Now()
	if err := f.step("stopped: "+stopCmd, master, func() error { return run(ctx, stopCmd) }); err != nil {
		return f.stopped(ctx, "stopping the daemon on "+master+" ("+stopCmd+")", err)
	}
	werr := f.step("holds the VIP alone", target, func() error { return f.waitOwner(ctx, target, f.opt.Wait) })
	if werr == nil {
		f.res.HandoverMS = ms(time.Since(stopAt))
	}
	// Start it again whatever happened: a stopped master helps nobody.
	if err := f.step("started: "+startCmd, master, func() error { return run(context.WithoutCancel(ctx), startCmd) }); err != nil {
		return f.stopped(ctx, "starting the daemon on "+master+" again ("+startCmd+")", errors.Join(werr, err))
	}
	if werr != nil {
		return f.stopped(ctx, "waiting for "+target+" to hold the VIP", werr)
	}
	startedAt := time.Now()
	if err := f.step("daemon back", master, func() error { return f.waitBack(ctx, m, oldPID) }); err != nil {
		return f.stopped(ctx, "waiting for the daemon on "+master+" to come back", err)
	}
	if comesBack {
		if err := f.step("took the VIP back (preemption)", master, func() error { return f.waitOwner(ctx, master, f.opt.Wait) }); err != nil {
			return f.stopped(ctx, "waiting for "+master+" to take the VIP back", err)
		}
		f.res.Notes = append(f.res.Notes, fmt.Sprintf("%s held the VIP alone %.0f ms after %s stopped; %s took it back by preemption %.0f ms after it was started again (--force)",
			target, f.res.HandoverMS, master, master, ms(time.Since(startedAt))))
		f.res.Owners = []string{master}
		return nil
	}
	if err := f.step(fmt.Sprintf("still holds the VIP alone after %v", back), target, func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(back):
		}
		return f.waitOwner(ctx, target, 2*time.Second)
	}); err != nil {
		return f.stopped(ctx, "checking that "+target+" kept the VIP after "+master+" started again", err)
	}
	f.res.Owners = []string{target}
	return nil
}

// waitBack waits until member i runs a daemon again that is not oldPID and
// reports the instance in BACKUP or MASTER.
func (f *failover) waitBack(ctx context.Context, i, oldPID int) error {
	return waitFor(ctx, f.ms[i:i+1], f.opt.Timeout, f.opt.Poll, f.opt.Wait, func(obs []*Observation, errs []error) (bool, string) {
		if errs[0] != nil {
			return false, errs[0].Error()
		}
		d := obs[0].Daemon
		switch {
		case d.Kind == DaemonNone || d.PID == 0:
			return false, "no daemon answers yet"
		case d.PID == oldPID:
			return false, fmt.Sprintf("still the old daemon (pid %d)", oldPID)
		}
		in := obs[0].ClusterInstance(f.inst)
		switch {
		case in == nil:
			return false, "instance " + f.inst + " not running yet"
		case in.State != "BACKUP" && in.State != "MASTER":
			return false, "instance " + f.inst + " is " + in.State
		}
		return true, ""
	})
}

// promotionOf is a node's promotion of inst (nil when none).
func promotionOf(o *Observation, inst string) *api.Promotion {
	if in := o.Instance(inst); in != nil {
		return in.Promotion
	}
	return nil
}
