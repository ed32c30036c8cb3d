package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// rtnTypes are the route types keepalived knows by name
// (lib/rttables.c: rtntypes); a number 0-255 is a type too.
var rtnTypes = map[string]uint8{
	"unicast": 1, "local": 2, "broadcast": 3, "brd": 3, "anycast": 4, "multicast": 5,
	"blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9, "nat": 10, "xresolve": 11,
}

// rtnType reads a route type as keepalived's find_rttables_rtntype does.
func rtnType(s string) (uint8, bool) {
	if t, ok := rtnTypes[s]; ok {
		return t, true
	}
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return uint8(n), err == nil
}

// rtProtos are the route protocols keepalived knows by name
// (lib/rttables.c: rtprot_default).
var rtProtos = map[string]uint32{
	"none": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
	"mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
	"keepalived": 18, "babel": 42,
}

// rtTables are the routing tables every system names.
var rtTables = map[string]uint32{"default": 253, "main": 254, "local": 255}

// rtScopes are the scopes keepalived knows by name.
var rtScopes = map[string]uint32{"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}

// rtEntry reads a number (C's strtoul base 0: 0x.. hex, 0.. octal) up to
// max, or one of names, as keepalived's find_entry does. The files under
// /etc/iproute2 that keepalived also reads for names are not read: a
// name defined only there is refused.
func rtEntry(s string, names map[string]uint32, max uint64) (uint32, bool) {
	if n, err := strconv.ParseUint(s, 0, 64); err == nil {
		return uint32(n), n <= max
	}
	v, ok := names[s]
	return v, ok
}

// routePrefs are the IPv6 router preferences pref takes by name
// (ICMPV6_ROUTER_PREF_*).
var routePrefs = map[string]uint8{"low": 3, "medium": 0, "high": 1}

// ttlPropagate are ttl-propagate's values.
var ttlPropagate = map[string]uint8{"enabled": 1, "disabled": 0}

// RTProtoKeepalived is the protocol keepalived marks its routes and
// rules with (RTPROT_KEEPALIVED), as hactl does.
const RTProtoKeepalived = 18

// metricNames are the route metrics keepalived reads, with whether "lock"
// may precede the value and the rtt unit multiplier (0: a plain number).
var metricNames = map[string]struct {
	lock bool
	rtt  uint32
	max  uint64
}{
	"mtu": {true, 0, math.MaxUint32}, "hoplimit": {false, 0, 255}, "advmss": {true, 0, math.MaxUint32},
	"rtt": {true, 8, 0}, "rttvar": {true, 4, 0}, "reordering": {true, 0, math.MaxUint32},
	"window": {false, 0, math.MaxUint32}, "cwnd": {true, 0, math.MaxUint32}, "ssthresh": {true, 0, math.MaxUint32},
	"rto_min": {true, 1, 0}, "initcwnd": {false, 0, math.MaxUint32}, "initrwnd": {false, 0, math.MaxUint32},
	"quickack": {false, 0, 1}, "fastopen_no_cookie": {false, 0, 1},
}

// rttValue reads an rtt-like time as keepalived's get_time_rtt does: a
// raw number in the kernel's units, or a time with s/ms, multiplied by
// unit; then clamped to [0.2 s, 120 s].
func rttValue(s string, unit uint32) (uint32, error) {
	raw := true
	mult := 1.0
	t := s
	if i := strings.IndexAny(t, "sS"); i >= 0 {
		switch strings.ToLower(t[i:]) {
		case "s", "sec", "secs":
		default:
			return 0, fmt.Errorf("invalid time %q", s)
		}
		raw = false
		t = t[:i]
		mult = 1000
		if strings.HasSuffix(strings.ToLower(t), "m") {
			t, mult = t[:len(t)-1], 1
		}
	}
	if t == "" || strings.ContainsAny(t, "eE-+") {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	v := f * mult
	if !raw {
		v *= float64(unit)
	}
	lo, hi := 200*float64(unit), 120000*float64(unit)
	v = math.Min(math.Max(v, lo), hi)
	return uint32(v), nil
}

// realmsValue reads "realms [FROM/]TO" (numbers 0-255; keepalived also
// takes names from /etc/iproute2/rt_realms).
func realmsValue(s string) (uint32, bool) {
	from, to, slash := strings.Cut(s, "/")
	a, ok := rtEntry(from, nil, 255)
	if !ok {
		return 0, false
	}
	if !slash {
		return a, true
	}
	b, ok := rtEntry(to, nil, 255)
	return a<<16 | b, ok
}

// routeDest reads a destination or rule address as keepalived's
// parse_route does: ADDR[/LEN], or default/any/all (length 0, of the
// line's family).
func routeDest(s string) (netip.Prefix, bool, error) {
	switch s {
	case "default", "any", "all":
		return netip.Prefix{}, true, nil
	}
	p, err := parsePrefix(s)
	return p, false, err
}

// route reads one virtual_routes or static_routes line, as keepalived's
// alloc_route does: an error drops the line.
func (b *builder) route(words []Arg) (Route, bool) {
	r := Route{Pos: words[0].Pos}
	var fam Family
	haveDest, destAll := false, false
	protoGiven := false
	setFam := func(p Pos, f Family) bool {
		if fam == "" {
			fam = f
			return true
		}
		if fam != f {
			b.dropRoute(p, "virtual_routes: cannot mix IPv4 and IPv6 addresses in a route")
			return false
		}
		return true
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		value := func() (Arg, bool) {
			if i+1 >= len(words) {
				b.dropRoute(w.Pos, "virtual_routes: %s needs a value", w.Text)
				return Arg{}, false
			}
			i++
			return words[i], true
		}
		addr := func() (netip.Addr, Pos, bool) {
			a, ok := value()
			if !ok {
				return netip.Addr{}, a.Pos, false
			}
			ip, err := parseAddr(a.Text)
			if err != nil {
				b.dropRoute(a.Pos, "virtual_routes: %s: %v", w.Text, err)
				return ip, a.Pos, false
			}
			return ip, a.Pos, setFam(a.Pos, familyOf(ip))
		}
		if m, ok := metricNames[w.Text]; ok {
			a, ok := value()
			if !ok {
				return r, false
			}
			lock := false
			if m.lock && a.Text == "lock" {
				if a, ok = value(); !ok {
					return r, false
				}
				lock = true
			}
			var v uint32
			if m.rtt != 0 {
				n, err := rttValue(a.Text, m.rtt)
				if err != nil {
					b.dropRoute(a.Pos, "virtual_routes: %s: %v", w.Text, err)
					return r, false
				}
				v = n
			} else {
				n, err := parseUint(a.Text, 0, m.max)
				if err != nil {
					b.dropRoute(a.Pos, "virtual_routes: %s: %v", w.Text, err)
					return r, false
				}
				v = uint32(n)
			}
			r.Metrics = append(r.Metrics, RouteMetric{Name: w.Text, Value: v, Lock: lock})
			continue
		}
		switch w.Text {
		case "inet", "inet6":
			f := FamilyIPv4
			if w.Text == "inet6" {
				f = FamilyIPv6
			}
			if !setFam(w.Pos, f) {
				return r, false
			}
			// keepalived 2.2.7 steps over the word after inet/inet6 too
			// (alloc_route advances twice).
			if i+1 < len(words) {
				i++
				b.diag.warnf(words[i].Pos, "virtual_routes: keepalived skips the word after %s (%q), and so does hactl: put %s last on the line", w.Text, words[i].Text, w.Text)
			}
		case "src":
			ip, _, ok := addr()
			if !ok {
				return r, false
			}
			r.Src = ip
		case "as":
			if i+1 < len(words) && words[i+1].Text == "to" {
				i++
			}
			i++ // keepalived reports "as to" as MPLS only and ignores it
			b.diag.warnf(w.Pos, "virtual_routes: \"as to\" is for MPLS only: keepalived reports it and ignores it, and so does hactl")
		case "via", "gw":
			if w.Text == "gw" {
				b.diag.warnf(w.Pos, "virtual_routes: gw is deprecated; use via")
			}
			if i+1 < len(words) && (words[i+1].Text == "inet" || words[i+1].Text == "inet6") {
				i++
				f := FamilyIPv4
				if words[i].Text == "inet6" {
					f = FamilyIPv6
				}
				if !setFam(words[i].Pos, f) {
					return r, false
				}
			}
			ip, _, ok := addr()
			if !ok {
				return r, false
			}
			r.Via = ip
		case "from":
			a, ok := value()
			if !ok {
				return r, false
			}
			p, all, err := routeDest(a.Text)
			if err != nil || all || !p.Addr().Is6() {
				b.dropRoute(a.Pos, "virtual_routes: route from address %q: only an IPv6 prefix is supported", a.Text)
				return r, false
			}
			if !setFam(a.Pos, FamilyIPv6) {
				return r, false
			}
			r.From = p
		case "tos", "dsfield":
			a, ok := value()
			if !ok {
				return r, false
			}
			v, ok := rtEntry(a.Text, nil, 255)
			if !ok {
				b.dropRoute(a.Pos, "virtual_routes: TOS value %q is invalid", a.Text)
				return r, false
			}
			t := uint8(v)
			r.Tos = &t
		case "table":
			a, ok := value()
			if !ok {
				return r, false
			}
			if _, ok := rtEntry(a.Text, rtTables, math.MaxUint32); !ok {
				b.dropRoute(a.Pos, "virtual_routes: routing table %q not found (hactl knows numbers, main, local and default)", a.Text)
				return r, false
			}
			r.Table, r.VRF = a.Text, ""
		case "protocol":
			a, ok := value()
			if !ok {
				return r, false
			}
			v, ok := rtEntry(a.Text, rtProtos, 255)
			if !ok {
				b.dropRoute(a.Pos, "virtual_routes: protocol %q not found or invalid", a.Text)
				return r, false
			}
			r.Protocol, protoGiven = uint8(v), true
		case "scope":
			a, ok := value()
			if !ok {
				return r, false
			}
			if _, ok := rtEntry(a.Text, rtScopes, 255); !ok {
				b.dropRoute(a.Pos, "virtual_routes: scope %q not found or invalid", a.Text)
				return r, false
			}
			r.Scope = a.Text
		case "metric", "priority", "preference":
			a, ok := value()
			if !ok {
				return r, false
			}
			n, err := parseUint(a.Text, 0, math.MaxUint32)
			if err != nil {
				b.dropRoute(a.Pos, "virtual_routes: %s: %v", w.Text, err)
				return r, false
			}
			m := uint32(n)
			r.Metric = &m
		case "dev", "oif":
			a, ok := value()
			if !ok {
				return r, false
			}
			r.Dev = a.Text
		case "onlink":
			r.OnLink = true
		case "realms":
			a, ok := value()
			if !ok {
				return r, false
			}
			v, ok := realmsValue(a.Text)
			if !ok {
				b.dropRoute(a.Pos, "virtual_routes: invalid realms %q", a.Text)
				return r, false
			}
			if !setFam(a.Pos, FamilyIPv4) {
				return r, false
			}
			r.Realms = v
		case "vrf":
			// keepalived takes the VRF's table here (alloc_route); the
			// daemon looks it up when it installs the route.
			a, ok := value()
			if !ok {
				return r, false
			}
			r.VRF, r.Table = a.Text, ""
		case "encap":
			e, next, ok := b.encap(words, i)
			if !ok {
				return r, false
			}
			r.Encap, i = e, next-1
		case "expires":
			a, ok := value()
			if !ok {
				return r, false
			}
			n, err := parseUint(a.Text, 0, math.MaxUint32)
			if err != nil || !setFam(a.Pos, FamilyIPv6) {
				if err != nil {
					b.dropRoute(a.Pos, "virtual_routes: expires (IPv6 only): %v", err)
				}
				return r, false
			}
			e := uint32(n)
			r.Expires = &e
		case "features":
			a, ok := value()
			if !ok {
				return r, false
			}
			if a.Text == "ecn" {
				r.Features |= 1
			} else {
				b.diag.correctf(a.Pos, "virtual_routes: feature %q is not supported: keepalived reports it and ignores it, and so does hactl", a.Text)
			}
		case "congctl":
			a, ok := value()
			if !ok {
				return r, false
			}
			if a.Text == "lock" {
				if a, ok = value(); !ok {
					return r, false
				}
				r.CongctlLock = true
			}
			r.Congctl = a.Text
		case "pref":
			a, ok := value()
			if !ok {
				return r, false
			}
			v, named := routePrefs[a.Text]
			if !named {
				n, err := parseUint(a.Text, 0, 255)
				if err != nil {
					b.dropRoute(a.Pos, "virtual_routes: pref: %v", err)
					return r, false
				}
				v = uint8(n)
			}
			if !setFam(a.Pos, FamilyIPv6) {
				return r, false
			}
			r.Pref = &v
		case "ttl-propagate":
			a, ok := value()
			if !ok {
				return r, false
			}
			v, known := ttlPropagate[a.Text]
			if !known {
				b.diag.correctf(a.Pos, "virtual_routes: ttl-propagate value %q not recognised: keepalived reports it and uses disabled, and so does hactl", a.Text)
			}
			r.TTLPropagate = &v
		case "add", "append":
			r.Mode = w.Text
		case "prepend":
			r.Mode = ""
		case "or":
			b.diag.warnf(w.Pos, "virtual_routes: \"or\" is deprecated; use nexthop")
			a, ok := value()
			if !ok {
				return r, false
			}
			if len(r.Nexthops) > 0 {
				b.diag.correctf(a.Pos, "virtual_routes: an \"or\" route is already given: keepalived reports it and ignores this one, and so does hactl")
				continue
			}
			ip, err := parseAddr(a.Text)
			if err != nil {
				b.dropRoute(a.Pos, "virtual_routes: invalid \"or\" address %q", a.Text)
				return r, false
			}
			r.Nexthops = []Nexthop{{Via: r.Via}, {Via: ip}}
			r.Via = netip.Addr{}
		case "nexthop":
			if len(r.Nexthops) > 0 {
				b.diag.correctf(w.Pos, "virtual_routes: nexthop cannot be given with an \"or\" route: keepalived reports it and ignores the nexthops, and so does hactl")
				i = len(words)
				break
			}
			nhs, ok := b.nexthops(words[i:], &fam)
			if !ok {
				return r, false
			}
			r.Nexthops = nhs
			i = len(words)
		case "no_track":
			r.NoTrack = true
		default:
			t := w
			// After "to" keepalived 2.2.7 reads the destination at once:
			// a type there ("to blackhole X") is not one (alloc_route
			// tests the word "to" for a type).
			afterTo := false
			switch t.Text {
			case "to":
				if i+1 >= len(words) {
					b.dropRoute(t.Pos, "virtual_routes: to needs a destination")
					return r, false
				}
				i++
				t, afterTo = words[i], true
			}
			if typ, ok := rtnType(t.Text); ok && !afterTo && i+1 < len(words) {
				r.Type = t.Text
				if typ == 1 {
					r.Type = ""
				}
				i++
				t = words[i]
			}
			p, all, err := routeDest(t.Text)
			if err != nil {
				b.dropRoute(t.Pos, "virtual_routes: unknown keyword or invalid destination %q", t.Text)
				return r, false
			}
			if !all && !setFam(t.Pos, familyOf(p.Addr())) {
				return r, false
			}
			r.Dest, haveDest, destAll = p, true, all
		}
	}
	if !haveDest {
		b.dropRoute(words[0].Pos, "virtual_routes: no destination given")
		return r, false
	}
	if fam == "" {
		fam = FamilyIPv4
	}
	r.Family = fam
	if destAll {
		if fam == FamilyIPv6 {
			r.Dest = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dest = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	if !r.NoTrack {
		if protoGiven && r.Protocol != RTProtoKeepalived {
			b.diag.warnf(words[0].Pos, "virtual_routes: a tracked route's protocol is keepalived's (%d): keepalived reports it and resets the protocol, and so does hactl (add no_track to keep it)", RTProtoKeepalived)
		}
		r.Protocol = RTProtoKeepalived
		if r.Dev == "" {
			b.diag.warnf(words[0].Pos, "virtual_routes: cannot track route %s with no interface specified: keepalived reports it and does not track the route, and neither does hactl (add dev, or no_track to say so)", r.Dest)
			r.NoTrack = true
		}
	} else if !protoGiven {
		r.Protocol = RTProtoKeepalived
	}
	return r, true
}

// nexthops reads "nexthop [via ADDR] [dev DEV] [weight N] [onlink]
// [realms R] [encap ...] nexthop ..." as keepalived's parse_nexthops does.
func (b *builder) nexthops(words []Arg, fam *Family) ([]Nexthop, bool) {
	var out []Nexthop
	i := 0
hops:
	for i < len(words) {
		switch words[i].Text {
		case "nexthop":
		default:
			break hops
		}
		i++
		var nh Nexthop
	opts:
		for i < len(words) {
			w := words[i]
			value := func() (Arg, bool) {
				if i+1 >= len(words) {
					b.dropRoute(w.Pos, "virtual_routes: nexthop %s needs a value", w.Text)
					return Arg{}, false
				}
				i++
				return words[i], true
			}
			switch w.Text {
			case "via":
				a, ok := value()
				if !ok {
					return nil, false
				}
				if a.Text == "inet" || a.Text == "inet6" {
					if a, ok = value(); !ok {
						return nil, false
					}
				}
				ip, err := parseAddr(a.Text)
				if err != nil {
					b.dropRoute(a.Pos, "virtual_routes: invalid nexthop address %q", a.Text)
					return nil, false
				}
				if *fam != "" && familyOf(ip) != *fam {
					b.dropRoute(a.Pos, "virtual_routes: address family mismatch for next hop %s", a.Text)
					return nil, false
				}
				*fam = familyOf(ip)
				nh.Via = ip
			case "dev":
				a, ok := value()
				if !ok {
					return nil, false
				}
				nh.Dev = a.Text
			case "weight":
				a, ok := value()
				if !ok {
					return nil, false
				}
				n, err := parseUint(a.Text, 1, 256)
				if err != nil {
					b.dropRoute(a.Pos, "virtual_routes: nexthop weight: %v", err)
					return nil, false
				}
				nh.Weight = int(n)
			case "onlink":
				nh.OnLink = true
			case "realms":
				a, ok := value()
				if !ok {
					return nil, false
				}
				v, ok := realmsValue(a.Text)
				if !ok {
					b.dropRoute(a.Pos, "virtual_routes: invalid realms %q", a.Text)
					return nil, false
				}
				nh.Realms = v
			case "encap":
				e, next, ok := b.encap(words, i)
				if !ok {
					return nil, false
				}
				nh.Encap, i = e, next-1
			default:
				break opts
			}
			i++
		}
		out = append(out, nh)
	}
	if i < len(words) {
		b.dropRoute(words[i].Pos, "virtual_routes: trailing %q after the nexthops", words[i].Text)
		return nil, false
	}
	return out, true
}

// dropRoute reports a virtual_routes line keepalived skips.
func (b *builder) dropRoute(p Pos, format string, args ...any) {
	b.diag.correctf(p, "%s: keepalived reports it and skips the route, and so does hactl", fmt.Sprintf(format, args...))
}

// encap reads "encap TYPE ..." at words[i] as keepalived's parse_encap
// does: ip and ip6 take "KEY VALUE" pairs while KEY is one of theirs
// (id, dst, src, tos/tc, ttl/hoplimit, flags: so src and tos here are
// the tunnel's, not the route's), mpls one LABEL[/LABEL] stack, ila one
// locator. It returns the encap, the index of the word after it, and
// false when the route is dropped. keepalived reports
// a bad value and installs the route with the encap read so far (or
// none); hactl reports it and skips the route.
func (b *builder) encap(words []Arg, i int) (*RouteEncap, int, bool) {
	w := words[i]
	if i+1 >= len(words) {
		b.diag.correctf(w.Pos, "virtual_routes: missing encap type: keepalived reports it and installs the route without an encap; hactl skips the route")
		return nil, 0, false
	}
	i++
	t := words[i]
	i++
	bad := func(p Pos, format string, args ...any) (*RouteEncap, int, bool) {
		b.diag.correctf(p, "virtual_routes: encap %s: %s: keepalived reports it and installs the route with the encap read so far; hactl skips the route", t.Text, fmt.Sprintf(format, args...))
		return nil, 0, false
	}
	e := &RouteEncap{Type: t.Text}
	switch t.Text {
	case "mpls":
		if i >= len(words) {
			return bad(t.Pos, "missing address")
		}
		labels, ok := mplsLabels(words[i].Text)
		if !ok {
			return bad(words[i].Pos, "invalid mpls address %q", words[i].Text)
		}
		e.Labels = labels
		return e, i + 1, true
	case "ila":
		if i >= len(words) {
			return bad(t.Pos, "missing locator")
		}
		l, ok := ilaLocator(words[i].Text)
		if !ok {
			return bad(words[i].Pos, "invalid locator %q", words[i].Text)
		}
		e.Locator = &l
		return e, i + 1, true
	case "ip", "ip6":
	default:
		b.diag.correctf(t.Pos, "virtual_routes: unknown encap type %q: keepalived reports it and reads the line on from the word after the next, without an encap; hactl skips the route", t.Text)
		return nil, 0, false
	}
	fam, tc, hl := FamilyIPv4, "tos", "ttl"
	if t.Text == "ip6" {
		fam, tc, hl = FamilyIPv6, "tc", "hoplimit"
	}
	for i+1 < len(words) {
		k, v := words[i], words[i+1]
		switch k.Text {
		case "id":
			n, err := strconv.ParseUint(v.Text, 0, 64)
			if err != nil {
				return bad(v.Pos, "id %q is invalid", v.Text)
			}
			e.ID = &n
		case "dst", "src":
			ip, err := parseAddr(v.Text)
			if err != nil {
				return bad(v.Pos, "invalid %s %q", k.Text, v.Text)
			}
			if familyOf(ip) != fam {
				return bad(v.Pos, "address %s is not valid for %s encapsulation", v.Text, t.Text)
			}
			if k.Text == "dst" {
				e.Dst = ip
			} else {
				e.Src = ip
			}
		case tc:
			n, ok := rtEntry(v.Text, nil, 255)
			if !ok {
				return bad(v.Pos, "%s %q is invalid", k.Text, v.Text)
			}
			x := uint8(n)
			e.Tos = &x
		case hl:
			n, err := parseUint(v.Text, 0, 255)
			if err != nil {
				return bad(v.Pos, "%s: %v", k.Text, err)
			}
			x := uint8(n)
			e.TTL = &x
		case "flags":
			n, err := parseUint(v.Text, 0, 65535)
			if err != nil {
				return bad(v.Pos, "flags: %v", err)
			}
			x := uint16(n)
			e.Flags = &x
		default:
			if !e.Dst.IsValid() && e.ID == nil {
				return bad(t.Pos, "address or id missing")
			}
			return e, i, true
		}
		i += 2
	}
	if !e.Dst.IsValid() && e.ID == nil {
		return bad(t.Pos, "address or id missing")
	}
	return e, i, true
}

// mplsLabels reads LABEL[/LABEL] (at most two, each below 2^20, C's
// strtoul base 0) as keepalived's parse_mpls_address does.
func mplsLabels(s string) ([]uint32, bool) {
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return nil, false
	}
	var out []uint32
	for _, p := range parts {
		if p == "" || p[0] == '-' || p[0] == '+' {
			return nil, false
		}
		n, err := strconv.ParseUint(p, 0, 32)
		if err != nil || n >= 1<<20 {
			return nil, false
		}
		out = append(out, uint32(n))
	}
	return out, true
}

// ilaLocator reads an ILA locator, four hex groups of at most 16 bits
// separated by ':', as keepalived's get_addr64 does.
func ilaLocator(s string) (uint64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 {
		return 0, false
	}
	var v uint64
	for _, p := range parts {
		if p == "" || !strings.ContainsRune("0123456789abcdefABCDEF", rune(p[0])) {
			return 0, false
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(p, "0x"), "0X"), 16, 64)
		if err != nil || n > 0xffff {
			return 0, false
		}
		v = v<<16 | n
	}
	return v, true
}
