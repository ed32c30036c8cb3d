package daemon

import (
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/vrrp"
)

// A policy rule deleted by hand: a rule of ours without no_track
// (keepalived's protocol, 18) is added again, a static one as keepalived's
// netlink_rule_filter does, and a virtual one held by a master too, like
// its VIPs and routes (vipwatch.go, routewatch.go). keepalived instead makes
// the master leave MASTER over a deleted virtual rule, a failover for one
// "ip rule del": a deliberate difference (docs/daemon.md). Our own deletions come after holding was cleared (leaving
// mastership, stopping) or r.static changed (static.go), or find the rule
// back (a re-election in between), and do nothing. The edge
// (rulewatch_linux.go) posts every deletion the kernel reports.

func (r *runtime) ruleGone(d vip.Rule) {
	if d.Protocol != nil && *d.Protocol != 18 {
		return // not a rule keepalived (or hactl) tracks
	}
	for _, ru := range r.static.trackedRules {
		if !ru.Same(d) {
			continue
		}
		if ok, err := r.vips.RulePresent(ru); err == nil && ok {
			continue
		}
		if err := r.vips.AddRule(ru); err != nil {
			r.log.Error("static rule deleted, not restored", "rule", ru.String(), "err", err)
			continue
		}
		r.log.Warn("static rule deleted, restored", "rule", ru.String())
	}
	for _, in := range r.insts {
		if !in.holding || in.m.State() != vrrp.Master {
			continue
		}
		for _, ru := range in.trackedRules {
			if !ru.Same(d) {
				continue
			}
			if ok, err := r.vips.RulePresent(ru); err == nil && ok {
				continue
			}
			gone := r.clock.Now()
			if err := r.vips.AddRule(ru); err != nil {
				r.log.Warn("virtual rule deleted while master, not restored", "instance", in.c.Name, "rule", ru.String(), "err", err)
				continue
			}
			in.counters.RulesRestored++
			r.log.Warn("virtual rule deleted while master, restored", "instance", in.c.Name, "rule", ru.String(),
				"gone_at", gone.Format(time.RFC3339Nano), "restored_after", r.clock.Now().Sub(gone))
			r.writeState()
		}
	}
}
