package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// runOptions say how the executor waits and reports.
type runOptions struct {
	// Timeout bounds each node's answer; Poll is the time between looks.
	Timeout, Poll time.Duration
	// Wait bounds the handover of a nested failover (ActFailover).
	Wait time.Duration
	// Progress, when set, receives one line per step as it happens.
	Progress func(string)
	// Parallel is the most members asked at once (0: remote.DefaultLimit).
	Parallel int
}

// executor runs one Plan on the members, step by step, and stops at the
// first failed step with a *StoppedError that says what state the
// cluster is in. It decides nothing the plan has not.
type executor struct {
	ms  []Member
	p   *Plan
	opt runOptions

	// What happened.
	steps     []Step
	notes     []string
	owners    []string
	final     *Snapshot
	restarted []RestartedNode
	handover  time.Duration
	expiresAt *time.Time
	lastOwner string
	// ran are the indices of the plan's steps run, in order.
	ran []int

	handoverStart time.Time
	startedAt     time.Time
	// held is the failure of a Deferred step, reported after the next.
	held *stepError
}

func newExecutor(ms []Member, p *Plan, opt runOptions) *executor {
	return &executor{ms: ms, p: p, opt: opt, steps: []Step{}, owners: []string{}, restarted: []RestartedNode{}}
}

// stepError is a failed step: at names it in the exit-5 message.
type stepError struct {
	at  string
	err error
}

func (e *stepError) Error() string { return e.at + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// run runs the plan's steps in order; after the last, with CheckEnd, it
// checks that exactly one node holds the VIPs.
func (e *executor) run(ctx context.Context) error {
	for i, s := range e.p.Steps {
		e.ran = append(e.ran, i)
		err := e.do(ctx, s)
		var se *stepError
		if err != nil && s.Deferred && errors.As(err, &se) {
			e.held = se
			continue
		}
		if err == nil && e.held != nil {
			err, e.held = e.held, nil
		}
		if err != nil {
			return e.fail(ctx, err)
		}
	}
	if e.p.CheckEnd {
		own, err := e.verifyOne(ctx, "the end")
		if err != nil {
			return e.fail(ctx, err)
		}
		e.lastOwner = own
	}
	return nil
}

// fail turns a step's failure into the exit-5 error (a nested failover's
// is one already).
func (e *executor) fail(ctx context.Context, err error) error {
	var se *stepError
	if errors.As(err, &se) {
		return e.stopped(ctx, se.at, se.err)
	}
	return err
}

// stopped builds the exit-5 error with a fresh look at the cluster.
func (e *executor) stopped(ctx context.Context, at string, err error) error {
	obs, errs := observeAll(context.WithoutCancel(ctx), e.ms, e.opt.Timeout, e.opt.Parallel)
	snap := snapshot(e.p.Instance, e.p.VIPs, e.ms, obs, errs)
	e.final, e.owners = &snap, snap.Owners
	return &StoppedError{Step: at, Err: err, State: snap.String()}
}

func (e *executor) progress(format string, args ...any) { say(e.opt.Progress, format, args...) }

// say reports one line of progress, when asked for.
func say(progress func(string), format string, args ...any) {
	if progress != nil {
		progress(fmt.Sprintf(format, args...))
	}
}

// step runs fn, records it with its duration, and reports it.
func (e *executor) step(action, node string, fn func() error) error {
	start := time.Now()
	err := fn()
	s := Step{Action: action, Node: node, TookMS: ms(time.Since(start))}
	if err != nil {
		s.Error = err.Error()
	}
	e.steps = append(e.steps, s)
	if err == nil {
		e.progress("%s: %s (%.0f ms)", node, action, s.TookMS)
	}
	return err
}

func (e *executor) member(name string) Member { return e.ms[memberIndex(e.ms, name)] }

// do runs one step; a failure is a *stepError (or a nested failover's
// *StoppedError).
func (e *executor) do(ctx context.Context, s PlanStep) error {
	if s.Action != ActNote && memberIndex(e.ms, s.Node) < 0 && (s.Node != "" || s.Action != ActWaitDecided) {
		return &stepError{"step " + string(s.Action), fmt.Errorf("%q is not one of the nodes", s.Node)}
	}
	var err error
	switch s.Action {
	case ActNote:
		if s.Note != "" {
			e.notes = append(e.notes, s.Note)
		}
	case ActClearPromotion:
		err = e.step("promotion cleared", s.Node, func() error { return e.member(s.Node).ClearPromotion(ctx, e.p.Instance) })
	case ActRestoreClear:
		err = e.step("promotion cleared (master by priority again)", s.Node, func() error { return e.member(s.Node).ClearPromotion(ctx, e.p.Instance) })
		if err == nil {
			e.expiresAt = nil // no promotion is left to expire
		}
	case ActPromote:
		err = e.promote(ctx, s)
	case ActWaitAlone:
		if err = e.step("holds the VIP alone", s.Node, func() error { return e.waitOwner(ctx, s.Node, s.Wait) }); err == nil {
			e.handover, e.owners = time.Since(e.handoverStart), []string{s.Node}
		}
	case ActWaitDecided:
		err = e.waitDecided(ctx, s)
	case ActStopDaemon:
		e.handoverStart = time.Now()
		err = e.step("stopped: "+s.Command, s.Node, func() error { return runCommand(ctx, e.member(s.Node), s.Command, s.Wait) })
	case ActStartDaemon:
		return e.startDaemon(ctx, s)
	case ActTakeBack:
		err = e.takeBack(ctx, s)
	case ActStillHolds:
		err = e.step(fmt.Sprintf("still holds the VIP alone after %v", s.Hold), s.Node, func() error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(s.Hold):
			}
			return e.waitOwner(ctx, s.Node, s.Wait)
		})
		if err == nil {
			e.owners = []string{s.Node}
		}
	case ActRestart:
		return e.restart(ctx, s)
	case ActFailover:
		return e.failover(ctx, s)
	default:
		return &stepError{"step " + string(s.Action), errors.New("unknown action")}
	}
	if err != nil {
		return &stepError{s.Stop, err}
	}
	return nil
}

func (e *executor) promote(ctx context.Context, s PlanStep) error {
	at := time.Now()
	e.handoverStart = at
	if err := e.step("promoted", s.Node, func() error { return e.member(s.Node).Promote(ctx, e.p.Instance, s.For) }); err != nil {
		return err
	}
	if s.For > 0 {
		exp := at.Add(s.For)
		e.expiresAt = &exp
	}
	return nil
}

// waitDecided waits until exactly one node holds the VIPs: s.Node when
// set. The handover is timed from the start of the wait unless a
// promotion (a give-back's) started it.
func (e *executor) waitDecided(ctx context.Context, s PlanStep) error {
	start := time.Now()
	if s.Note != "" {
		e.progress("%s", s.Note)
	}
	var final []string
	err := e.step("priorities decided", s.Node, func() error {
		return waitFor(ctx, e.ms, e.opt.Timeout, e.opt.Parallel, e.opt.Poll, s.Wait, func(obs []*Observation, _ []error) (bool, string) {
			own := owners(e.ms, obs, e.p.VIPs)
			final = own
			if len(own) != 1 {
				return false, fmt.Sprintf("owners %v", own)
			}
			return s.Node == "" || own[0] == s.Node, "owner " + own[0] + ", want " + s.Node
		})
	})
	if err == nil {
		e.owners = final
		if e.handoverStart.IsZero() { // else the handover was timed already
			e.handover = time.Since(start)
		}
	}
	return err
}

// startDaemon starts the master's daemon again, whatever the step before
// (a Deferred wait) found: a stopped master helps nobody. Then it reports
// that step's failure, or waits until the daemon is back.
func (e *executor) startDaemon(ctx context.Context, s PlanStep) error {
	held := e.held
	e.held = nil
	if err := e.step("started: "+s.Command, s.Node, func() error {
		return runCommand(context.WithoutCancel(ctx), e.member(s.Node), s.Command, s.Wait)
	}); err != nil {
		if held != nil {
			err = errors.Join(held.err, err)
		}
		return &stepError{s.Stop, err}
	}
	if held != nil {
		return held
	}
	e.startedAt = time.Now()
	if err := e.step("daemon back", s.Node, func() error { return e.waitBack(ctx, s.Node, s.OldPID, s.Wait) }); err != nil {
		return &stepError{"waiting for the daemon on " + s.Node + " to come back", err}
	}
	return nil
}

func (e *executor) takeBack(ctx context.Context, s PlanStep) error {
	if err := e.step("took the VIP back (preemption)", s.Node, func() error { return e.waitOwner(ctx, s.Node, s.Wait) }); err != nil {
		return err
	}
	if s.Target != "" {
		e.notes = append(e.notes, fmt.Sprintf("%s held the VIP alone %.0f ms after %s stopped; %s took it back by preemption %.0f ms after it was started again (--force)",
			s.Target, ms(e.handover), s.Node, s.Node, ms(time.Since(e.startedAt))))
	}
	e.owners = []string{s.Node}
	return nil
}

// failover runs a whole failover to s.Node, planned on a fresh look.
func (e *executor) failover(ctx context.Context, s PlanStep) error {
	e.progress("moving mastership to %s", s.Node)
	var d time.Duration
	if !s.Until.IsZero() {
		d = max(time.Until(s.Until), time.Second)
	}
	fr, err := Failover(ctx, e.ms, FailoverOptions{To: s.Node, Instance: e.p.Instance, For: d, Wait: e.opt.Wait,
		Poll: 20 * time.Millisecond, Timeout: e.opt.Timeout, Progress: e.opt.Progress})
	if fr != nil {
		e.steps = append(e.steps, fr.Steps...)
	}
	if err != nil {
		var se *StoppedError
		if errors.As(err, &se) {
			e.final = fr.Final
			return err
		}
		return &stepError{"moving mastership to " + s.Node, err}
	}
	e.progress("%s holds the VIP alone (handover %.0f ms)", s.Node, fr.HandoverMS)
	return nil
}

// runCommand runs cmd on m; a failure carries the command's output.
func runCommand(ctx context.Context, m Member, cmd string, timeout time.Duration) error {
	out, err := m.Run(ctx, cmd, timeout)
	if err != nil && strings.TrimSpace(out) != "" {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
	}
	return err
}
