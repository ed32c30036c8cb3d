package cluster

import (
	"context"
	"errors"
	"slices"
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
	// Parallel is the most members asked at once (0: remote.DefaultLimit).
	Parallel int
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

// RestartSafe restarts the daemon of every member, one at a time, so that
// exactly one node holds the VIP after every step (docs/failover.md): it
// takes the cluster-wide lock (not with opt.DryRun), looks at every node,
// plans (PlanRestart) and runs that plan. The plan is made under the lock,
// so a second run is refused by the lock, not by what the first one is
// doing to the nodes. Any failed check stops it with a *StoppedError.
func RestartSafe(ctx context.Context, members []Member, opt RestartOptions) (res *RestartResult, err error) {
	start := time.Now()
	opt.defaults()
	if opt.DryRun {
		_, res, err := prepareRestart(ctx, members, opt)
		if err != nil {
			return nil, err
		}
		res.DryRun, res.FinalOwner = true, res.Master
		res.TookMS = ms(time.Since(start))
		return res, nil
	}
	lock, err := AcquireLock(ctx, members, opt.Lock)
	if err != nil {
		return nil, err
	}
	say(opt.Progress, "lock taken on %d nodes (%s)", len(members), LockDir(members[0]))
	defer func() {
		if rerr := lock.Release(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			say(opt.Progress, "lock released")
		}
		if res != nil {
			res.TookMS = ms(time.Since(start))
		}
	}()
	p, res, err := prepareRestart(ctx, members, opt)
	if err != nil {
		return nil, err
	}
	info := lock.Info()
	res.Lock = &info
	e := newExecutor(members, p, runOptions{Timeout: opt.Timeout, Poll: opt.Poll, Wait: opt.Wait, Progress: opt.Progress, Parallel: opt.Parallel})
	err = e.run(ctx)
	res.Steps, res.Restarted, res.Final = e.steps, e.restarted, e.final
	res.Notes = append(res.Notes, e.notes...)
	if err == nil {
		res.FinalOwner = e.lastOwner
	}
	return res, err
}

// prepareRestart looks and plans: the plan RestartSafe runs, and the
// result as --dry-run shows it (its Plan is the plan's sentences).
func prepareRestart(ctx context.Context, members []Member, opt RestartOptions) (*Plan, *RestartResult, error) {
	opt.defaults()
	obs, err := observeChecked(ctx, members, opt.Timeout, opt.Parallel)
	if err != nil {
		return nil, nil, err
	}
	p, err := PlanRestart(obs, opt)
	if err != nil {
		return nil, nil, err
	}
	res := &RestartResult{Instance: p.Instance, VIPs: addrStrings(p.VIPs), Master: p.Master, Order: p.Order,
		Plan: p.Sentences(), Steps: []Step{}, Restarted: []RestartedNode{}, Notes: slices.Clone(p.Notes)}
	return p, res, nil
}
