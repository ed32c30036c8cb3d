package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
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
	// Parallel is the most members asked at once (0: remote.DefaultLimit).
	Parallel int
	DryRun   bool
	Force    bool
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
func (o *FailoverOptions) masterCommands(master, kind string) (stop, start string) {
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
	Method Method `json:"method"`
	// GiveBack, with --clear, is how mastership went back: handover (the
	// release handover to the node that owns it by priority), in-place
	// (it held the VIP already), wait (it runs keepalived, or is not
	// known: VRRP's timers decided).
	GiveBack string `json:"give_back,omitempty"`
	DryRun   bool   `json:"dry_run"`
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

// Failover moves mastership of one instance to opt.To, or with opt.Clear
// removes the promotions: it looks at every node (refusing, with nothing
// changed, when one cannot be asked), plans (PlanFailover: the order and
// its reasons), and, unless opt.DryRun, runs that plan.
func Failover(ctx context.Context, members []Member, opt FailoverOptions) (*FailoverResult, error) {
	start := time.Now()
	p, res, err := prepareFailover(ctx, members, opt)
	if p == nil || err != nil || len(p.Steps) == 0 || opt.DryRun {
		if res != nil {
			res.TookMS = ms(time.Since(start))
		}
		return res, err
	}
	opt.defaults()
	e := newExecutor(members, p, runOptions{Timeout: opt.Timeout, Poll: opt.Poll, Wait: opt.Wait, Progress: opt.Progress, Parallel: opt.Parallel})
	err = e.run(ctx)
	res.Steps, res.Owners, res.Final = e.steps, e.owners, e.final
	res.Notes = append(res.Notes, e.notes...)
	res.HandoverMS, res.ExpiresAt = ms(e.handover), e.expiresAt
	res.TookMS = ms(time.Since(start))
	return res, err
}

// prepareFailover looks and plans: the plan Failover runs, and the
// result as --dry-run shows it (its Plan is the plan's sentences). An
// error is a refusal: nothing was changed.
func prepareFailover(ctx context.Context, members []Member, opt FailoverOptions) (*Plan, *FailoverResult, error) {
	opt.defaults()
	obs, err := observeChecked(ctx, members, opt.Timeout, opt.Parallel)
	if err != nil {
		return nil, nil, err
	}
	p, err := PlanFailover(obs, opt)
	if p == nil {
		return nil, nil, err
	}
	res := &FailoverResult{Instance: p.Instance, VIPs: addrStrings(p.VIPs), From: p.From, To: p.To, Method: p.Method, GiveBack: p.GiveBack,
		Plan: p.Sentences(), Steps: []Step{}, Owners: []string{}, Notes: slices.Clone(p.Notes)}
	switch {
	case err != nil:
		return p, res, err
	case len(p.Steps) == 0:
		res.Owners = p.From // nothing to do
	case opt.DryRun:
		res.DryRun, res.Owners = true, p.From
	}
	return p, res, p.Refused
}

func addrStrings(a []netip.Addr) []string {
	out := []string{}
	for _, x := range a {
		out = append(out, x.String())
	}
	return out
}

// observeChecked looks at every member; a member that cannot be asked
// makes it an *UnreachableError (nothing was changed).
func observeChecked(ctx context.Context, members []Member, timeout time.Duration, parallel int) ([]*Observation, error) {
	obs, errs := observeAll(ctx, members, timeout, parallel)
	if bad := slices.DeleteFunc(slices.Clone(errs), func(e error) bool { return e == nil }); len(bad) > 0 {
		return nil, &UnreachableError{Errs: bad}
	}
	return obs, nil
}
