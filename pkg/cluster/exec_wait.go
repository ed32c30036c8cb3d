package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// The executor's checks: each looks at the cluster until what it waits
// for is true, for at most its bound.

// waitOwner polls until want is the only owner (and, for hactl, its
// instance is MASTER), for at most limit.
func (e *executor) waitOwner(ctx context.Context, want string, limit time.Duration) error {
	return waitFor(ctx, e.ms, e.opt.Timeout, e.opt.Parallel, e.opt.Poll, limit, func(obs []*Observation, errs []error) (bool, string) {
		own := owners(e.ms, obs, e.p.VIPs)
		desc := fmt.Sprintf("owners %v", own)
		if len(own) == 0 {
			desc = "nobody holds the VIP"
		}
		if len(own) != 1 || own[0] != want {
			return false, desc
		}
		for _, err := range errs {
			if err != nil {
				return false, err.Error()
			}
		}
		if in := obs[memberIndex(e.ms, want)].ClusterInstance(e.p.Instance); in != nil && in.State != api.StateMaster && !in.StateInferred {
			return false, want + " holds the VIP but is " + string(in.State)
		}
		return true, ""
	})
}

// waitBack waits until node runs a daemon again that is not oldPID and
// reports the instance in BACKUP or MASTER.
func (e *executor) waitBack(ctx context.Context, node string, oldPID int, limit time.Duration) error {
	i := memberIndex(e.ms, node)
	return waitFor(ctx, e.ms[i:i+1], e.opt.Timeout, e.opt.Parallel, e.opt.Poll, limit, func(obs []*Observation, errs []error) (bool, string) {
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
		in := obs[0].ClusterInstance(e.p.Instance)
		switch {
		case in == nil:
			return false, "instance " + e.p.Instance + " not running yet"
		case !in.State.Ready():
			return false, "instance " + e.p.Instance + " is " + string(in.State)
		}
		return true, ""
	})
}

// restart restarts s.Node's daemon and waits until it is a new process,
// in BACKUP, hearing s.Hears, then settles and checks one owner. With
// Hears "" (the old master's restart is the handover) MASTER counts as
// back too: a keepalived that preempts may be master again before the
// next look.
func (e *executor) restart(ctx context.Context, s PlanStep) error {
	m := e.member(s.Node)
	start := time.Now()
	e.progress("%s: restarting (%s, pid %d)", s.Node, s.Command, s.OldPID)
	if err := e.step("restart command: "+s.Command, s.Node, func() error { return runCommand(ctx, m, s.Command, s.Wait) }); err != nil {
		return &stepError{"restarting " + s.Node, err}
	}
	var newPID int
	err := e.step("back in BACKUP", s.Node, func() error {
		return waitFor(ctx, []Member{m}, e.opt.Timeout, e.opt.Parallel, e.opt.Poll, s.Wait, func(obs []*Observation, errs []error) (bool, string) {
			if errs[0] != nil {
				return false, errs[0].Error()
			}
			pid, why := restartedBack(obs[0], s, e.p.Instance)
			newPID = pid
			return why == "", why
		})
	})
	if err != nil {
		return &stepError{"waiting for " + s.Node + " to come back in BACKUP", err}
	}
	e.restarted = append(e.restarted, RestartedNode{Node: s.Node, OldPID: s.OldPID, NewPID: newPID, TookMS: ms(time.Since(start))})
	e.progress("%s: back in BACKUP (pid %d -> %d), settling %v", s.Node, s.OldPID, newPID, s.Settle)
	select {
	case <-ctx.Done():
		return &stepError{"settling after " + s.Node, ctx.Err()}
	case <-time.After(s.Settle):
	}
	own, err := e.verifyOne(ctx, "restarting "+s.Node)
	if err != nil {
		return err
	}
	if s.Hears != "" && own != s.Hears {
		return &stepError{"checking the owner after restarting " + s.Node, fmt.Errorf("the VIP moved to %s, want %s", own, s.Hears)}
	}
	return nil
}

// restartedBack says why the node observed as o is not back from the
// restart s yet ("" when it is), and its daemon's pid.
func restartedBack(o *Observation, s PlanStep, inst string) (int, string) {
	d := o.Daemon
	if d.Kind == DaemonNone || d.PID == 0 {
		return 0, "no daemon answers yet"
	}
	if d.PID == s.OldPID && d.StartedAt.Equal(s.OldStart) {
		return d.PID, fmt.Sprintf("still the old daemon (pid %d)", d.PID)
	}
	in := o.ClusterInstance(inst)
	if in == nil {
		return d.PID, "instance " + inst + " not running yet"
	}
	if in.State != api.StateBackup && (s.Hears != "" || in.State != api.StateMaster) {
		return d.PID, "instance " + inst + " is " + string(in.State)
	}
	if ai := o.Instance(inst); ai != nil && s.Hears != "" {
		if ai.Master == nil || ai.Master.LastSeen.Before(d.StartedAt) {
			return d.PID, "back in BACKUP but has not heard the master yet"
		}
	}
	return d.PID, ""
}

// verifyOne checks that exactly one node holds the VIP, waiting up to 2 s
// for a handover in flight; it returns the owner.
func (e *executor) verifyOne(ctx context.Context, after string) (string, error) {
	var owner string
	err := waitFor(ctx, e.ms, e.opt.Timeout, e.opt.Parallel, e.opt.Poll, 2*time.Second, func(obs []*Observation, errs []error) (bool, string) {
		own := owners(e.ms, obs, e.p.VIPs)
		for _, err := range errs {
			if err != nil {
				return false, err.Error()
			}
		}
		if len(own) == 1 {
			owner = own[0]
			return true, ""
		}
		return false, fmt.Sprintf("%d owners %v", len(own), own)
	})
	if err != nil {
		return "", &stepError{"checking for exactly one owner after " + after, err}
	}
	e.progress("one owner: %s", owner)
	return owner, nil
}

// waitFor observes every member each poll until ok says so; the error
// names the last thing ok complained about.
func waitFor(ctx context.Context, members []Member, timeout time.Duration, parallel int, poll, limit time.Duration, ok func([]*Observation, []error) (bool, string)) error {
	deadline := time.Now().Add(limit)
	for {
		obs, errs := observeAll(ctx, members, timeout, parallel)
		done, why := ok(obs, errs)
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not reached within %v: %s", limit, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
