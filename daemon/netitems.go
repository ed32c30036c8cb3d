package daemon

import (
	"fmt"
	"strconv"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/config"
)

// The configuration's addresses, routes and rules as the vip package
// installs them: pure translations, tested without a kernel
// (netitems_test.go).

// vipFlags are the address flags a VIP line can name.
var vipFlags = map[string]uint32{"home": vip.FlagHome, "mngtmpaddr": vip.FlagMngTmpAddr,
	"noprefixroute": vip.FlagNoPrefixRoute, "autojoin": vip.FlagAutoJoin}

// installedVIP is a virtual_ipaddress(_excluded) or static_ipaddress line as
// keepalived's netlink_ipaddress adds it; dev is the line's interface or
// the instance's.
func installedVIP(v config.VIP, dev string) (vip.VIP, error) {
	scope, err := vip.ParseScope(v.Scope)
	if n, nerr := strconv.Atoi(v.Scope); nerr == nil && n >= 0 && n < 256 {
		scope, err = vip.Scope(n), nil
	} else if v.Scope == "nowhere" {
		scope, err = 255, nil
	}
	if err != nil {
		return vip.VIP{}, fmt.Errorf("VIP %s: %w", v.Prefix, err)
	}
	out := vip.VIP{Prefix: v.Prefix, Dev: dev, Label: v.Label, Scope: scope, Broadcast: v.Broadcast, Peer: v.Peer, DAD: v.NoDAD}
	for _, o := range v.Options {
		out.Flags |= vipFlags[o]
	}
	if v.Prefix.Addr().Is6() {
		switch {
		case v.PreferredLft != nil:
			if *v.PreferredLft != 0xffffffff {
				p := *v.PreferredLft
				out.PreferredLft = &p
			}
		case v.Prefix.Bits() == 128:
			// keepalived's default for a /128 without preferred_lft:
			// deprecated, never chosen as a source address.
			var zero uint32
			out.PreferredLft = &zero
		}
	}
	return out, nil
}

// routeOf is a virtual_routes or static_routes line as keepalived's
// netlink_route sends it.
func routeOf(rt config.Route) (vip.Route, error) {
	r := vip.Route{Type: rt.Type, Dest: rt.Dest, Src: rt.Src, From: rt.From, Via: rt.Via, Dev: rt.Dev, VRF: rt.VRF,
		Protocol: rt.Protocol, Realms: rt.Realms, OnLink: rt.OnLink, Mode: rt.Mode, Congctl: rt.Congctl, CongctlLock: rt.CongctlLock,
		Features: rt.Features, Pref: rt.Pref, Expires: rt.Expires, TTLPropagate: rt.TTLPropagate, Encap: encapOf(rt.Encap)}
	var err error
	if rt.Scope == "nowhere" {
		r.Scope = 255
	} else if n, nerr := strconv.Atoi(rt.Scope); nerr == nil && n >= 0 && n < 256 {
		r.Scope = vip.Scope(n)
	} else if r.Scope, err = vip.ParseScope(rt.Scope); err != nil {
		return r, err
	}
	if r.Table, err = vip.ParseTable(rt.Table); err != nil {
		return r, err
	}
	if rt.Metric != nil {
		r.Metric = int(*rt.Metric)
	}
	if rt.Tos != nil {
		r.Tos = *rt.Tos
	}
	for _, m := range rt.Metrics {
		r.Metrics = append(r.Metrics, vip.Metric{Name: m.Name, Value: m.Value, Lock: m.Lock})
	}
	for _, nh := range rt.Nexthops {
		r.Nexthops = append(r.Nexthops, vip.Nexthop{Via: nh.Via, Dev: nh.Dev, Weight: nh.Weight, OnLink: nh.OnLink, Realms: nh.Realms,
			Encap: encapOf(nh.Encap)})
	}
	return r, nil
}

// encapOf is a route's or next hop's encap as vip sends it.
func encapOf(e *config.RouteEncap) *vip.Encap {
	if e == nil {
		return nil
	}
	return &vip.Encap{Type: e.Type, ID: e.ID, Dst: e.Dst, Src: e.Src, Tos: e.Tos, TTL: e.TTL, Flags: e.Flags, Labels: e.Labels,
		Locator: e.Locator}
}

var ruleActions = map[string]uint8{"table": vip.RuleToTable, "goto": vip.RuleGoto, "nop": vip.RuleNop,
	"blackhole": vip.RuleBlackhole, "unreachable": vip.RuleUnreachable, "prohibit": vip.RuleProhibit}

// ruleOf is a virtual_rules or static_rules line as keepalived's
// netlink_rule sends it.
func ruleOf(c config.Rule) (vip.Rule, error) {
	act, ok := ruleActions[c.Action]
	if !ok {
		return vip.Rule{}, fmt.Errorf("rule: unknown action %q", c.Action)
	}
	return vip.Rule{V6: c.Family == config.FamilyIPv6, From: c.From, To: c.To, Invert: c.Invert, Priority: c.Priority,
		Action: act, Table: c.Table, Goto: c.Goto, L3mdev: c.L3mdev, Tos: c.Tos, Fwmark: c.Fwmark, Fwmask: c.Fwmask,
		HasFwmark: c.HasFwmark, HasFwmask: c.HasFwmask, Realms: c.Realms, SuppressPrefixLen: c.SuppressPrefixLen,
		SuppressIfgroup: c.SuppressIfgroup, Iif: c.Iif, Oif: c.Oif, TunID: c.TunID, UIDRange: c.UIDRange,
		Sport: c.Sport, Dport: c.Dport, IPProto: c.IPProto, Protocol: c.Protocol}, nil
}

// statics are the static_ipaddress, static_routes and static_rules of a
// configuration, as installed.
type statics struct {
	vips   []vip.VIP
	routes []vip.Route
	rules  []vip.Rule
	// tracked are the addresses without no_track: one deleted by hand is
	// added again (keepalived's reinstate_static_address).
	tracked []vip.VIP
	// trackedRules are the rules without no_track: one deleted by hand
	// is added again (keepalived's reinstate_static_rule).
	trackedRules []vip.Rule
	// trackedRoutes are the routes with dev and without no_track: one
	// deleted by hand is added again (keepalived's
	// reinstate_static_route; routewatch.go).
	trackedRoutes []vip.Route
}

func staticsOf(cfg *config.Config) (statics, error) {
	var s statics
	for _, v := range cfg.StaticVIPs {
		x, err := installedVIP(v, v.Dev)
		if err != nil {
			return s, fmt.Errorf("static_ipaddress: %w", err)
		}
		s.vips = append(s.vips, x)
		if !v.NoTrack {
			s.tracked = append(s.tracked, x)
		}
	}
	for _, rt := range cfg.StaticRoutes {
		x, err := routeOf(rt)
		if err != nil {
			return s, fmt.Errorf("static_routes: %w", err)
		}
		s.routes = append(s.routes, x)
		if !rt.NoTrack {
			s.trackedRoutes = append(s.trackedRoutes, x)
		}
	}
	for _, ru := range cfg.StaticRules {
		x, err := ruleOf(ru)
		if err != nil {
			return s, fmt.Errorf("static_rules: %w", err)
		}
		s.rules = append(s.rules, x)
		if !ru.NoTrack {
			s.trackedRules = append(s.trackedRules, x)
		}
	}
	return s, nil
}
