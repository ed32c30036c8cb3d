package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// RestartOptions drive RestartSafe.
type RestartOptions struct {
	// Instance picks the instance whose VIP is checked (default: the only
	// one).
	Instance string
	// Command restarts the daemon on a node; "{node}" is replaced by the
	// node's name. Default: systemctl restart SERVICE.
	Command string
	// Service is the systemd unit (default hactl; keepalived nodes use
	// keepalived unless Command is set).
	Service string
	// Settle is waited after each node is back (default one
	// Master_Down_Interval, from the instance's advert interval).
	Settle    time.Duration
	NoRestore bool
	DryRun    bool
	// Wait bounds each wait (node back, handover; default 60 s).
	Wait    time.Duration
	Poll    time.Duration
	Timeout time.Duration
	// Lock describes this run as the lock's holder.
	Lock LockInfo
	// Progress receives one line per step.
	Progress func(string)
}

// RestartResult is what restart-safe did (docs/json.md).
type RestartResult struct {
	Instance string   `json:"instance"`
	VIPs     []string `json:"vips"`
	// Master is the master before; FinalOwner holds the VIP at the end.
	Master     string          `json:"master"`
	Order      []string        `json:"order"`
	Plan       []string        `json:"plan"`
	DryRun     bool            `json:"dry_run"`
	Steps      []Step          `json:"steps"`
	Restarted  []RestartedNode `json:"restarted"`
	FinalOwner string          `json:"final_owner,omitempty"`
	Lock       *LockInfo       `json:"lock,omitempty"`
	TookMS     float64         `json:"took_ms"`
	Notes      []string        `json:"notes,omitempty"`
	Final      *Snapshot       `json:"final,omitempty"`
}

// RestartedNode is one node's restart.
type RestartedNode struct {
	Node   string  `json:"node"`
	OldPID int     `json:"old_pid"`
	NewPID int     `json:"new_pid"`
	TookMS float64 `json:"took_ms"`
}

type restarter struct {
	opt  RestartOptions
	ms   []Member
	res  *RestartResult
	fo   *failover // for progress, steps and snapshots
	vips []netip.Addr
	inst string
}

// RestartSafe restarts the daemon of every member, one at a time, so that
// exactly one node holds the VIP after every step (docs/failover.md):
// lock; the backups, lowest priority first, each waited for until it is
// back in BACKUP and hears the master; mastership moved to the best backup
// (Failover); the old master restarted and waited for; mastership given
// back (unless NoRestore). Any failed check stops it with a *StoppedError.
func RestartSafe(ctx context.Context, members []Member, opt RestartOptions) (res *RestartResult, err error) {
	start := time.Now()
	defaultOps(&opt.Wait, &opt.Poll, &opt.Timeout, &opt.Service, 60*time.Second, 100*time.Millisecond, "hactl")
	r := &restarter{opt: opt, ms: members, res: &RestartResult{Plan: []string{}, Steps: []Step{}, Restarted: []RestartedNode{}, Order: []string{}, VIPs: []string{}}}
	r.fo = &failover{opt: FailoverOptions{Clear: true, Instance: opt.Instance, Timeout: opt.Timeout, Poll: opt.Poll, Progress: opt.Progress}, ms: members, res: &FailoverResult{}}
	obs, errs := observeAll(ctx, members, opt.Timeout)
	if bad := slices.DeleteFunc(slices.Clone(errs), func(e error) bool { return e == nil }); len(bad) > 0 {
		return nil, &UnreachableError{Errs: bad}
	}
	if err := r.fo.pickInstance(obs); err != nil {
		return nil, err
	}
	r.inst, r.vips = r.fo.inst, r.fo.vips
	r.res.Instance, r.res.VIPs = r.inst, r.fo.res.VIPs
	own := owners(members, obs, r.vips)
	if len(own) != 1 {
		return nil, fmt.Errorf("refusing to start: the VIP has %d owners %v; restart-safe starts from exactly one (hactl who-owns, hactl status)", len(own), own)
	}
	master := own[0]
	mi := memberIndex(members, master)
	r.res.Master = master
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
	prio := func(i int) int {
		if in := obs[i].ClusterInstance(r.inst); in != nil && in.State != "FAULT" {
			return in.EffectivePriority
		}
		return -1
	}
	slices.SortStableFunc(backups, func(a, b int) int { return prio(a) - prio(b) })
	settle := opt.Settle
	if settle <= 0 {
		// One Master_Down_Interval and one interval, from hactl's API or
		// keepalived's JSON dump (3 s when unknown).
		settle = obs[mi].ClusterInstance(r.inst).masterDown()
	}
	hactlMaster := obs[mi].Daemon.Kind == DaemonHactl
	for _, b := range backups {
		r.res.Order = append(r.res.Order, members[b].Name())
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("restart %s (%s); wait until it is back in BACKUP and hears %s; settle %v; check one owner", members[b].Name(), r.command(members[b], obs[b]), master, settle))
	}
	best := -1
	if len(backups) > 0 && prio(backups[len(backups)-1]) > 0 {
		best = backups[len(backups)-1]
	}
	switch {
	case best < 0:
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("restart %s, the only node: the VIP is down while it restarts", master))
	case hactlMaster && obs[best].Daemon.Kind == DaemonHactl:
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("hactl failover --to %s (promote it; the old master steps down)", members[best].Name()))
	default:
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("keepalived: restarting %s moves the VIP to %s (best backup)", master, members[best].Name()))
	}
	r.res.Order = append(r.res.Order, master)
	handover := best >= 0 && !(hactlMaster && obs[best].Daemon.Kind == DaemonHactl)
	if handover {
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("restart %s (%s); wait until it is back (BACKUP, or MASTER again by preemption); settle %v; check one owner", master, r.command(members[mi], obs[mi]), settle))
	} else {
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("restart %s (%s); wait until it is back in BACKUP; check one owner", master, r.command(members[mi], obs[mi])))
	}
	// With the master's restart as the handover, who holds the VIP at the
	// end is up to the priorities: the old master takes it back when it
	// outranks every other node and preempts.
	takesBack := false
	if handover {
		if in := obs[mi].ClusterInstance(r.inst); in != nil {
			takesBack = in.preempts() && slices.IndexFunc(backups, func(b int) bool { return prio(b) >= in.EffectivePriority }) < 0
		}
		if takesBack {
			r.res.Plan = append(r.res.Plan, fmt.Sprintf("wait up to %v until %s takes the VIP back by preemption (it outranks every other node)", opt.Wait, master))
		} else {
			r.res.Plan = append(r.res.Plan, fmt.Sprintf("%s keeps the VIP (%s does not preempt it); keepalived has no promotion to give it back", members[best].Name(), master))
		}
	}
	restore := !opt.NoRestore && best >= 0 && hactlMaster && obs[best].Daemon.Kind == DaemonHactl
	origPromo := promotionOf(obs[mi], r.inst)
	if restore {
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("hactl failover --to %s (give mastership back)", master))
		if origPromo == nil {
			r.res.Plan = append(r.res.Plan, fmt.Sprintf("clear %s's promotion: it was master by priority, and stays master", master))
		}
	} else if best >= 0 && hactlMaster {
		r.res.Plan = append(r.res.Plan, fmt.Sprintf("leave %s promoted (--no-restore); hactl failover --clear returns to priority order", members[best].Name()))
	}
	if opt.DryRun {
		r.res.DryRun, r.res.FinalOwner = true, master
		r.res.TookMS = ms(time.Since(start))
		return r.res, nil
	}

	lock, err := AcquireLock(ctx, members, opt.Lock)
	if err != nil {
		return nil, err
	}
	info := lock.Info()
	r.res.Lock = &info
	r.progress("lock taken on %d nodes (%s)", len(members), LockDir(members[0]))
	defer func() {
		if rerr := lock.Release(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			r.progress("lock released")
		}
		if res != nil {
			res.TookMS = ms(time.Since(start))
			res.Steps = r.fo.res.Steps
		}
	}()

	for _, b := range backups {
		if err := r.restartNode(ctx, b, obs[b], master, settle); err != nil {
			return r.res, err
		}
	}
	current := master
	if best >= 0 && hactlMaster && obs[best].Daemon.Kind == DaemonHactl {
		if err := r.failover(ctx, members[best].Name(), 0); err != nil {
			return r.res, err
		}
		current = members[best].Name()
	}
	if current == master && best >= 0 {
		// keepalived (or mixed): the master's restart is the handover.
		if err := r.restartNode(ctx, mi, obs[mi], "", settle); err != nil {
			return r.res, err
		}
		if takesBack {
			if err := r.fo.step("took the VIP back (preemption)", master, func() error { return r.fo.waitOwner(ctx, master, r.opt.Wait) }); err != nil {
				return r.res, r.stopped(ctx, "waiting for "+master+" to take the VIP back by preemption", err)
			}
		} else {
			r.res.Notes = append(r.res.Notes, fmt.Sprintf("%s does not take the VIP back (it does not outrank every other node, or nopreempt)", master))
		}
	} else if err := r.restartNode(ctx, mi, obs[mi], current, settle); err != nil {
		return r.res, err
	}
	if restore {
		var d time.Duration
		if origPromo != nil && !origPromo.ExpiresAt.IsZero() {
			d = max(time.Until(origPromo.ExpiresAt), time.Second)
		}
		if err := r.failover(ctx, master, d); err != nil {
			return r.res, err
		}
		if origPromo == nil {
			if err := r.fo.step("promotion cleared (master by priority again)", master, func() error { return members[mi].ClearPromotion(ctx, r.inst) }); err != nil {
				return r.res, r.stopped(ctx, "clearing "+master+"'s promotion", err)
			}
		}
	}
	final, err := r.verifyOne(ctx, "the end")
	if err != nil {
		return r.res, err
	}
	r.res.FinalOwner = final
	return r.res, nil
}

func (r *restarter) progress(format string, args ...any) { r.fo.progress(format, args...) }

func (r *restarter) stopped(ctx context.Context, step string, err error) error {
	r.fo.inst, r.fo.vips = r.inst, r.vips
	e := r.fo.stopped(ctx, step, err)
	r.res.Final = r.fo.res.Final
	r.res.Steps = r.fo.res.Steps
	return e
}

// command is the restart command for m.
func (r *restarter) command(m Member, o *Observation) string {
	if r.opt.Command != "" {
		return strings.ReplaceAll(r.opt.Command, "{node}", m.Name())
	}
	svc := r.opt.Service
	if o != nil && o.Daemon.Kind == DaemonKeepalived && svc == "hactl" {
		svc = "keepalived"
	}
	return "systemctl restart " + svc
}

// verifyOne checks that exactly one node holds the VIP, waiting up to one
// settle for a handover in flight; it returns the owner.
func (r *restarter) verifyOne(ctx context.Context, after string) (string, error) {
	var owner string
	err := waitFor(ctx, r.ms, r.opt.Timeout, r.opt.Poll, 2*time.Second, func(obs []*Observation, errs []error) (bool, string) {
		own := owners(r.ms, obs, r.vips)
		for _, e := range errs {
			if e != nil {
				return false, e.Error()
			}
		}
		if len(own) == 1 {
			owner = own[0]
			return true, ""
		}
		return false, fmt.Sprintf("%d owners %v", len(own), own)
	})
	if err != nil {
		return "", r.stopped(ctx, "checking for exactly one owner after "+after, err)
	}
	r.progress("one owner: %s", owner)
	return owner, nil
}

// restartNode restarts member i and waits until its daemon is a new process,
// in BACKUP, hearing master, then settles and checks one owner. With master
// "" (the old master's restart is the handover) MASTER counts as back too:
// a keepalived that preempts may be master again before the next look.
func (r *restarter) restartNode(ctx context.Context, i int, before *Observation, master string, settle time.Duration) error {
	m := r.ms[i]
	oldPID, oldStart := before.Daemon.PID, before.Daemon.StartedAt
	cmd := r.command(m, before)
	start := time.Now()
	r.progress("%s: restarting (%s, pid %d)", m.Name(), cmd, oldPID)
	if err := r.fo.step("restart command: "+cmd, m.Name(), func() error {
		out, err := m.Run(ctx, cmd, r.opt.Wait)
		if err != nil && strings.TrimSpace(out) != "" {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
		}
		return err
	}); err != nil {
		return r.stopped(ctx, "restarting "+m.Name(), err)
	}
	var newPID int
	err := r.fo.step("back in BACKUP", m.Name(), func() error {
		return waitFor(ctx, []Member{m}, r.opt.Timeout, r.opt.Poll, r.opt.Wait, func(obs []*Observation, errs []error) (bool, string) {
			if errs[0] != nil {
				return false, errs[0].Error()
			}
			o := obs[0]
			d := o.Daemon
			if d.Kind == DaemonNone || d.PID == 0 {
				return false, "no daemon answers yet"
			}
			if d.PID == oldPID && d.StartedAt.Equal(oldStart) {
				return false, fmt.Sprintf("still the old daemon (pid %d)", d.PID)
			}
			newPID = d.PID
			in := o.ClusterInstance(r.inst)
			if in == nil {
				return false, "instance " + r.inst + " not running yet"
			}
			if in.State != "BACKUP" && (master != "" || in.State != "MASTER") {
				return false, "instance " + r.inst + " is " + in.State
			}
			if ai := o.Instance(r.inst); ai != nil && master != "" {
				if ai.Master == nil || ai.Master.LastSeen.Before(d.StartedAt) {
					return false, "back in BACKUP but has not heard the master yet"
				}
			}
			return true, ""
		})
	})
	if err != nil {
		return r.stopped(ctx, "waiting for "+m.Name()+" to come back in BACKUP", err)
	}
	r.res.Restarted = append(r.res.Restarted, RestartedNode{Node: m.Name(), OldPID: oldPID, NewPID: newPID, TookMS: ms(time.Since(start))})
	r.progress("%s: back in BACKUP (pid %d -> %d), settling %v", m.Name(), oldPID, newPID, settle)
	select {
	case <-ctx.Done():
		return r.stopped(ctx, "settling after "+m.Name(), ctx.Err())
	case <-time.After(settle):
	}
	own, err := r.verifyOne(ctx, "restarting "+m.Name())
	if err != nil {
		return err
	}
	if master != "" && own != master {
		return r.stopped(ctx, "checking the owner after restarting "+m.Name(), fmt.Errorf("the VIP moved to %s, want %s", own, master))
	}
	return nil
}

// failover moves mastership with Failover and records its steps.
func (r *restarter) failover(ctx context.Context, to string, d time.Duration) error {
	r.progress("moving mastership to %s", to)
	fr, err := Failover(ctx, r.ms, FailoverOptions{To: to, Instance: r.inst, For: d, Wait: r.opt.Wait, Poll: 20 * time.Millisecond, Timeout: r.opt.Timeout, Progress: r.opt.Progress})
	if fr != nil {
		r.fo.res.Steps = append(r.fo.res.Steps, fr.Steps...)
	}
	if err != nil {
		var se *StoppedError
		if errors.As(err, &se) {
			r.res.Final = fr.Final
			return err
		}
		return r.stopped(ctx, "moving mastership to "+to, err)
	}
	r.progress("%s holds the VIP alone (handover %.0f ms)", to, fr.HandoverMS)
	return nil
}
