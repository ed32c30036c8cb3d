package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ruleStartPriority is the preference keepalived gives the first rule
// of a family without one (vrrp_iprule.c: RULE_START_PRIORITY); each
// further one gets one less.
const ruleStartPriority = 16384

// ipProtos are the IP protocol names ipproto takes (keepalived reads
// /etc/protocols through getprotobyname; these are the names every
// system has).
var ipProtos = map[string]uint32{
	"ip": 0, "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47, "esp": 50,
	"ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "ospf": 89, "vrrp": 112, "l2tp": 115, "sctp": 132, "udplite": 136,
}

// ruleTypeActions are the route types a rule takes as its action, by
// their number (keepalived's find_rttables_rtntype, then FR_ACT_*).
var ruleTypeActions = map[string]uint8{"blackhole": 6, "unreachable": 7, "prohibit": 8}

// rule reads one virtual_rules or static_rules line, as keepalived's
// alloc_rule does: an error drops the line.
func (b *builder) rule(words []Arg) (Rule, bool) {
	r := Rule{Pos: words[0].Pos, SuppressPrefixLen: -1}
	var fam Family
	havePrio, tableOption, protoGiven := false, false, false
	drop := func(p Pos, format string, args ...any) (Rule, bool) {
		b.diag.correctf(p, "virtual_rules: %s: keepalived reports it and skips the rule, and so does hactl", fmt.Sprintf(format, args...))
		return r, false
	}
	setFam := func(f Family) bool {
		if fam == "" {
			fam = f
		}
		return fam == f
	}
	setAction := func(a string) bool {
		if r.Action != "" {
			return false
		}
		r.Action = a
		return true
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var v Arg
		value := func() bool {
			if i+1 >= len(words) {
				return false
			}
			i++
			v = words[i]
			return true
		}
		needs := func() (Rule, bool) { return drop(w.Pos, "%s needs a value", w.Text) }
		switch w.Text {
		case "inet", "inet6":
			f := FamilyIPv4
			if w.Text == "inet6" {
				f = FamilyIPv6
			}
			if !setFam(f) {
				return drop(w.Pos, "%s given for a rule of the other family", w.Text)
			}
			// keepalived 2.2.7 steps over the word after inet/inet6 too
			// (alloc_rule advances twice): "inet6 from X" loses "from".
			if i+1 < len(words) {
				i++
				b.diag.warnf(words[i].Pos, "virtual_rules: keepalived skips the word after %s (%q), and so does hactl: put %s last on the line", w.Text, words[i].Text, w.Text)
			}
		case "from", "to":
			if !value() {
				return needs()
			}
			p, all, err := routeDest(v.Text)
			if err != nil {
				return drop(v.Pos, "invalid rule %s address %q", w.Text, v.Text)
			}
			if !all && !setFam(familyOf(p.Addr())) {
				return drop(v.Pos, "rule specification has mixed IPv4 and IPv6")
			}
			if w.Text == "from" {
				r.From = p
			} else {
				r.To = p
			}
		case "table", "lookup":
			if !value() {
				return needs()
			}
			t, ok := rtEntry(v.Text, rtTables, math.MaxUint32)
			switch {
			case !ok:
				return drop(v.Pos, "routing table %q not found (hactl knows numbers, main, local and default)", v.Text)
			case t == 0:
				return drop(v.Pos, "table 0 is not valid")
			}
			r.Table = t
			if !setAction("table") {
				return drop(w.Pos, "cannot give more than one of table/nop/goto/blackhole/prohibit/unreachable")
			}
		case "not":
			r.Invert = true
		case "preference", "order", "priority":
			if !value() {
				return needs()
			}
			n, err := parseUintBase0(v.Text, math.MaxUint32)
			if err != nil {
				return drop(v.Pos, "invalid rule preference %q", v.Text)
			}
			r.Priority, havePrio = uint32(n), true
		case "tos", "dsfield":
			if !value() {
				return needs()
			}
			t, ok := rtEntry(v.Text, nil, 255)
			if !ok {
				return drop(v.Pos, "TOS value %q is invalid", v.Text)
			}
			r.Tos = uint8(t)
		case "fwmark":
			if !value() {
				return needs()
			}
			mark, mask, hasMask := strings.Cut(strings.TrimLeft(v.Text, " \t"), "/")
			m, err := parseUintBase0(mark, math.MaxUint32)
			if err != nil || strings.HasPrefix(mark, "-") {
				return drop(v.Pos, "invalid rule fwmark %q", v.Text)
			}
			if hasMask {
				k, err := parseUintBase0(mask, math.MaxUint32)
				if err != nil || strings.HasPrefix(mask, "-") {
					return drop(v.Pos, "invalid rule fwmark %q", v.Text)
				}
				r.Fwmask, r.HasFwmask = uint32(k), true
			}
			r.Fwmark, r.HasFwmark = uint32(m), true
		case "realms":
			if !value() {
				return needs()
			}
			re, ok := realmsValue(v.Text)
			if !ok {
				return drop(v.Pos, "invalid realms %q", v.Text)
			}
			if !setFam(FamilyIPv4) {
				return drop(v.Pos, "realms is only valid for IPv4")
			}
			r.Realms, tableOption = re, true
		case "suppress_prefixlength", "sup_pl":
			if !value() {
				return needs()
			}
			n, err := parseUint(v.Text, 0, math.MaxInt32)
			if err != nil {
				return drop(v.Pos, "invalid suppress_prefixlength %q", v.Text)
			}
			r.SuppressPrefixLen, tableOption = int32(n), true
		case "suppress_ifgroup", "sup_group":
			if !value() {
				return needs()
			}
			g, ok := rtEntry(v.Text, map[string]uint32{"default": 0}, math.MaxInt32)
			if !ok {
				return drop(v.Pos, "suppress_ifgroup %q is invalid", v.Text)
			}
			r.SuppressIfgroup, tableOption = &g, true
		case "dev", "iif", "oif":
			if !value() {
				return needs()
			}
			if !validIfName(v.Text) {
				return drop(v.Pos, "interface name %q is invalid", v.Text)
			}
			if w.Text == "oif" {
				r.Oif = v.Text
			} else {
				r.Iif = v.Text
			}
		case "tunnel-id":
			if !value() {
				return needs()
			}
			n, err := parseUint(v.Text, 0, math.MaxUint64)
			if err != nil {
				return drop(v.Pos, "invalid tunnel-id %q", v.Text)
			}
			r.TunID = n
		case "uidrange":
			if !value() {
				return needs()
			}
			lo, hi, ok := cutRange(v.Text, math.MaxUint32, false)
			if !ok {
				return drop(v.Pos, "invalid uidrange %q", v.Text)
			}
			r.UIDRange = &[2]uint32{uint32(lo), uint32(hi)}
		case "l3mdev":
			r.L3mdev = true
			if !setAction("table") {
				return drop(w.Pos, "cannot give l3mdev with another action")
			}
		case "protocol":
			if !value() {
				return needs()
			}
			n, err := parseUint(v.Text, 0, 255)
			if err != nil {
				b.diag.correctf(v.Pos, "virtual_rules: invalid protocol %q: keepalived reports it and ignores it, and so does hactl", v.Text)
				break
			}
			p := uint8(n)
			r.Protocol, protoGiven = &p, true
		case "ipproto":
			if !value() {
				return needs()
			}
			n, ok := ipProtos[v.Text]
			if !ok {
				k, err := parseUint(v.Text, 0, 255)
				n, ok = uint32(k), err == nil
			}
			if !ok {
				b.diag.correctf(v.Pos, "virtual_rules: invalid ipproto %q: keepalived reports it and ignores it, and so does hactl", v.Text)
				break
			}
			p := uint8(n)
			r.IPProto = &p
		case "sport", "dport":
			if !value() {
				return needs()
			}
			// keepalived 2.2.7 takes only LO-HI: a single port is
			// reported as an invalid range and ignored (alloc_rule
			// checks sscanf's count after defaulting the end).
			lo, hi, ok := cutRange(v.Text, math.MaxUint16, false)
			if !ok {
				b.diag.correctf(v.Pos, "virtual_rules: invalid %s range %q (keepalived takes only START-END): keepalived reports it and ignores it, and so does hactl", w.Text, v.Text)
				break
			}
			rg := &[2]uint16{uint16(lo), uint16(hi)}
			if w.Text == "sport" {
				r.Sport = rg
			} else {
				r.Dport = rg
			}
		case "no_track":
			r.NoTrack = true
		default:
			t := w
			if t.Text == "type" {
				if !value() {
					return needs()
				}
				t = v
			}
			var action string
			switch t.Text {
			case "goto":
				if !value() {
					return needs()
				}
				n, err := parseUint(v.Text, 0, math.MaxUint32)
				if err != nil {
					return drop(v.Pos, "invalid goto target %q", v.Text)
				}
				r.Goto, action = uint32(n), "goto"
			case "nop":
				action = "nop"
			default:
				typ, ok := rtnType(t.Text)
				if !ok {
					return drop(t.Pos, "unknown rule option %q", t.Text)
				}
				for name, n := range ruleTypeActions {
					if n == typ {
						action = name
					}
				}
				if action == "" {
					return drop(t.Pos, "invalid rule action %q", t.Text)
				}
			}
			if !setAction(action) {
				return drop(t.Pos, "cannot give more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev")
			}
		}
	}
	switch {
	case r.Action == "goto" && !havePrio:
		return drop(r.Pos, "goto target %d given without preference", r.Goto)
	case r.Action == "goto" && r.Priority >= r.Goto:
		return drop(r.Pos, "preference %d >= goto target %d", r.Priority, r.Goto)
	case r.Action == "":
		return drop(r.Pos, "no action given for the rule (table, goto, nop, blackhole, prohibit, unreachable or l3mdev)")
	case r.Action != "table" && tableOption:
		return drop(r.Pos, "suppressor or realms given for a non-table action")
	case r.L3mdev && r.Table != 0:
		return drop(r.Pos, "table cannot be given for l3mdev rules")
	}
	if !r.NoTrack {
		if protoGiven && *r.Protocol != RTProtoKeepalived {
			b.diag.warnf(r.Pos, "virtual_rules: a tracked rule's protocol is keepalived's (%d): keepalived reports it and resets the protocol, and so does hactl (add no_track to keep it)", RTProtoKeepalived)
		}
		p := uint8(RTProtoKeepalived)
		r.Protocol = &p
	}
	if fam == "" {
		fam = FamilyIPv4
	}
	r.Family = fam
	if !havePrio {
		next := &b.rulePrio4
		if fam == FamilyIPv6 {
			next = &b.rulePrio6
		}
		r.Priority = ruleStartPriority - *next
		*next++
		b.diag.warnf(r.Pos, "virtual_rules: the rule has no preference: keepalived reports it and gives it %d, and so does hactl (this is probably not what you want)", r.Priority)
	}
	return r, true
}

// parseUintBase0 reads a number as C's strtoul with base 0 does (0x.. hex,
// 0.. octal), up to max.
func parseUintBase0(s string, max uint64) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimLeft(s, " \t"), "+"), 0, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return n, nil
}

// cutRange reads "LO-HI" (or, with single, "N" for N-N).
func cutRange(s string, max uint64, single bool) (uint64, uint64, bool) {
	a, c, has := strings.Cut(s, "-")
	lo, err := parseUint(a, 0, max)
	if err != nil {
		return 0, 0, false
	}
	if !has {
		return lo, lo, single
	}
	hi, err := parseUint(c, 0, max)
	return lo, hi, err == nil
}

// rules reads a virtual_rules or static_rules block.
func (b *builder) rules(s *Statement) []Rule {
	var out []Rule
	for _, line := range b.valueLines(s) {
		if r, ok := b.rule(line); ok {
			out = append(out, r)
		}
	}
	return out
}

// static reads the static_ipaddress, static_routes and static_rules
// blocks. keepalived puts a static address without dev on its default
// interface (eth0 unless default_interface says otherwise; hactl does
// not read default_interface).
func (b *builder) static(s *Statement) {
	switch s.Keyword {
	case "static_ipaddress":
		for _, line := range b.valueLines(s) {
			if v, ok := b.vip(line); ok {
				if v.Dev == "" {
					v.Dev = "eth0"
				}
				b.cfg.StaticVIPs = append(b.cfg.StaticVIPs, v)
			}
		}
	case "static_routes":
		for _, line := range b.valueLines(s) {
			if r, ok := b.route(line); ok {
				b.cfg.StaticRoutes = append(b.cfg.StaticRoutes, r)
			}
		}
	case "static_rules":
		b.cfg.StaticRules = append(b.cfg.StaticRules, b.rules(s)...)
	}
}
