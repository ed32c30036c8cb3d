package config

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// vipFlags are VIP options without a value, kept in VIP.Options.
var vipFlags = set("home", "noprefixroute", "autojoin", "mngtmpaddr", "use_vmac")

// scopeNames are the route scopes "ip" knows by name.
var scopeNames = set("global", "universe", "site", "link", "host", "nowhere")

// vip reads one line of virtual_ipaddress(_excluded):
// ADDR[/LEN] [dev DEV] [brd ADDR|+|-] [scope SCOPE] [label LABEL] [peer ADDR] ...
func (b *builder) vip(words []Arg) (VIP, bool) {
	first := words[0]
	pfx, err := parsePrefix(first.Text)
	if err != nil {
		b.diag.correctf(first.Pos, "virtual address: %v: keepalived reports it and skips the address, and so does hactl", err)
		return VIP{}, false
	}
	v := VIP{Prefix: pfx, Pos: first.Pos}
	is6 := pfx.Addr().Is6()
	brd := ""
	var brdPos Pos
	ok := true
	// drop: keepalived skips the whole address; ignore: only the option.
	drop := func(p Pos, format string, args ...any) {
		b.diag.correctf(p, "%s: keepalived reports it and skips the address, and so does hactl", fmt.Sprintf(format, args...))
		ok = false
	}
	ignore := func(p Pos, format string, args ...any) {
		b.diag.correctf(p, "%s: keepalived reports it and ignores the option, and so does hactl", fmt.Sprintf(format, args...))
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		needValue := func() (Arg, bool) {
			if i+1 >= len(words) {
				drop(w.Pos, "%s needs a value for address %s", w.Text, first.Text)
				return Arg{}, false
			}
			i++
			return words[i], true
		}
		switch w.Text {
		case "dev":
			a, has := needValue()
			if !has {
				break
			}
			if v.Dev != "" {
				drop(a.Pos, "dev is given twice for address %s", first.Text)
			} else if !validIfName(a.Text) {
				drop(a.Pos, "interface name %q is invalid", a.Text)
			}
			v.Dev = a.Text
		case "scope":
			a, has := needValue()
			if !has {
				break
			}
			if _, err := parseUint(a.Text, 0, 255); err != nil && !scopeNames[a.Text] {
				ignore(a.Pos, "invalid scope %q for address %s", a.Text, first.Text)
			} else if is6 {
				b.diag.correctf(a.Pos, "scope cannot be set on an IPv6 address (%s): keepalived reports it and ignores the scope, and so does hactl", first.Text)
			} else {
				v.Scope = a.Text
			}
		case "brd", "broadcast":
			a, has := needValue()
			if !has {
				break
			}
			if is6 {
				drop(w.Pos, "an IPv6 address (%s) cannot have a broadcast address", first.Text)
				break
			}
			brd, brdPos = a.Text, a.Pos
		case "label":
			a, has := needValue()
			if !has {
				break
			}
			switch {
			case len(a.Text) >= 16:
				drop(a.Pos, "label %q is longer than 15 bytes", a.Text)
			case is6:
				b.diag.correctf(a.Pos, "labels cannot be set on IPv6 addresses (%s): keepalived reports it and ignores the label, and so does hactl", first.Text)
			default:
				v.Label = a.Text
			}
		case "peer":
			a, has := needValue()
			if !has {
				break
			}
			// keepalived parses the peer without a prefix length
			// (parse_ipaddress with allow_subnet_mask false), and the
			// address then takes the peer's full length.
			p, err := parseAddr(a.Text)
			withLen := strings.Contains(a.Text, "/")
			switch {
			case v.Peer.IsValid():
				ignore(a.Pos, "a peer is already given for %s", first.Text)
			case err != nil && withLen:
				ignore(a.Pos, "invalid peer address %q (a peer takes no prefix length)", a.Text)
			case err != nil:
				ignore(a.Pos, "invalid peer address %q", a.Text)
			case p.Is6() != is6:
				ignore(a.Pos, "peer address %s is not of the address's family", a.Text)
			default:
				if strings.Contains(first.Text, "/") && v.Prefix.Bits() != v.Prefix.Addr().BitLen() {
					b.diag.correctf(first.Pos, "%s: an address with a peer takes no prefix length: keepalived reports it and uses the peer's full length, and so does hactl", first.Text)
				}
				v.Peer = p
				v.Prefix = netip.PrefixFrom(v.Prefix.Addr(), p.BitLen())
			}
		case "preferred_lft":
			a, has := needValue()
			if !has {
				break
			}
			var lft uint32 = math.MaxUint32
			if a.Text != "forever" {
				n, err := parseUint(a.Text, 0, math.MaxUint32)
				if err != nil {
					ignore(a.Pos, "preferred_lft: %v", err)
					break
				}
				lft = uint32(n)
			}
			v.PreferredLft = &lft
		case "no_track":
			v.NoTrack = true
		case "-nodad":
			v.NoDAD = true
		default:
			if vipFlags[w.Text] {
				v.Options = append(v.Options, w.Text)
				continue
			}
			ignore(w.Pos, "unknown option %q for address %s", w.Text, first.Text)
		}
	}
	if brd != "" && ok {
		switch {
		case v.Peer.IsValid():
			b.diag.correctf(brdPos, "broadcast and peer cannot both be given: keepalived reports it and ignores the broadcast, and so does hactl")
		case brd == "+" || brd == "-":
			if v.Prefix.Bits() > 30 {
				b.diag.correctf(brdPos, "prefix length /%d is too long for a broadcast address: keepalived reports it and sets none, and so does hactl", v.Prefix.Bits())
				break
			}
			v.Broadcast = broadcastOf(v.Prefix, brd == "+")
		default:
			a, err := parseAddr(brd)
			if err != nil || !a.Is4() {
				drop(brdPos, "invalid broadcast address %q", brd)
				break
			}
			v.Broadcast = a
		}
	}
	return v, ok
}

// broadcastOf computes the all-ones (or, with ones false, all-zeros)
// host address of an IPv4 prefix.
func broadcastOf(p netip.Prefix, ones bool) netip.Addr {
	a := p.Addr().As4()
	mask := net.CIDRMask(p.Bits(), 32)
	for i := range a {
		if ones {
			a[i] |= ^mask[i]
		} else {
			a[i] &= mask[i]
		}
	}
	return netip.AddrFrom4(a)
}

// unicastPeer reads "ADDR [min_ttl N] [max_ttl N]".
func (b *builder) unicastPeer(words []Arg) (UnicastPeer, bool) {
	const skip = ": keepalived reports it and skips the peer, and so does hactl"
	a, err := parseAddr(words[0].Text)
	if err != nil {
		b.diag.correctf(words[0].Pos, "unicast_peer: %v"+skip, err)
		return UnicastPeer{}, false
	}
	p := UnicastPeer{Addr: a, MinTTL: 0, MaxTTL: 255, Pos: words[0].Pos}
	for i := 1; i < len(words); i += 2 {
		w := words[i]
		if w.Text != "min_ttl" && w.Text != "max_ttl" {
			b.diag.correctf(w.Pos, "unknown unicast_peer option %q"+skip, w.Text)
			return p, false
		}
		if i+1 >= len(words) {
			b.diag.correctf(w.Pos, "%s needs a value"+skip, w.Text)
			return p, false
		}
		n, err := parseUint(words[i+1].Text, 0, 255)
		if err != nil {
			b.diag.correctf(words[i+1].Pos, "%s: %v"+skip, w.Text, err)
			return p, false
		}
		if w.Text == "min_ttl" {
			p.MinTTL = int(n)
		} else {
			p.MaxTTL = int(n)
		}
	}
	if p.MinTTL > p.MaxTTL {
		b.diag.warnf(words[0].Pos, "unicast_peer %s: min_ttl %d > max_ttl %d, every advert will be dropped", a, p.MinTTL, p.MaxTTL)
	}
	return p, true
}

// trackInterfaces reads a track_interface block: "IFNAME [weight N [reverse]]".
// keepalived reads each line as one interface: "eth1 eth2" is eth1 with
// an unknown option eth2, and the line tracks nothing.
func (b *builder) trackInterfaces(s *Statement, have []TrackInterface) []TrackInterface {
	var out []TrackInterface
	for _, line := range b.valueLines(s) {
		name := line[0]
		if !validIfName(name.Text) {
			b.diag.correctf(name.Pos, "track_interface: invalid interface name %q: keepalived reports it and does not track it, and so does hactl", name.Text)
			continue
		}
		dup := false
		for _, t := range append(slices.Clone(have), out...) {
			if t.Name == name.Text {
				b.diag.correctf(name.Pos, "duplicate track_interface %s: keepalived reports it and ignores the line, and so does hactl", name.Text)
				dup = true
			}
		}
		if dup {
			continue
		}
		r, ok := b.weightOpts("track_interface "+name.Text, line[1:], kindInterface)
		if !ok {
			continue
		}
		t := TrackInterface{Name: name.Text, Pos: name.Pos}
		if r.weight != nil {
			t.Weight = *r.weight
		}
		if r.reverse != nil {
			t.Reverse = *r.reverse
		}
		out = append(out, t)
	}
	return out
}

// trackRefs reads a track_script, track_file or track_process block: "NAME [weight N
// [reverse|noreverse]]". keepalived looks the name up as it reads the
// line: a vrrp_script (track_file block) defined further down is not
// found, and the reference is dropped. known records whether it was.
func (b *builder) trackRefs(s *Statement) []refDraft {
	var out []refDraft
	kind := kindScript
	if s.Keyword == "track_file" {
		kind = kindFile
	} else if s.Keyword == "track_process" {
		kind = kindProcess
	}
	for _, line := range b.valueLines(s) {
		r, ok := b.weightOpts(s.Keyword+" "+line[0].Text, line[1:], kind)
		if !ok {
			continue
		}
		r.name, r.pos = line[0].Text, line[0].Pos
		switch kind {
		case kindScript:
			_, r.known = b.scripts[r.name]
		case kindProcess:
			_, r.known = b.procs[r.name]
		default:
			_, r.known = b.tfiles[r.name]
		}
		out = append(out, r)
	}
	return out
}

// Kinds of tracker for weightOpts.
const (
	kindInterface = iota
	kindScript
	kindFile
	kindProcess
)

// weightOpts reads "[weight N [reverse|noreverse]]" with N in [-254, 254],
// as keepalived's alloc_track_if/alloc_track_script do: an option other
// than weight, or weight without a value, drops the line; an invalid
// weight is 0 for an interface and the script's own weight for a script;
// an unknown word after the weight is ignored. For interfaces and scripts
// keepalived turns ±254 into ±253 (a tracker may not by itself take a
// priority to 0 or 255). Track files keep ±254, the weight multiplies the
// file's value; track_process keeps ±254 too (keepalived's
// alloc_track_process reads [-254, 254] and leaves it).
func (b *builder) weightOpts(what string, words []Arg, kind int) (refDraft, bool) {
	const limit = 254
	var r refDraft
	if len(words) == 0 {
		return r, true
	}
	if words[0].Text != "weight" {
		b.diag.correctf(words[0].Pos, "%s: unknown option %q (want weight; one tracker a line): keepalived reports it and does not track it, and so does hactl", what, words[0].Text)
		return r, false
	}
	if len(words) < 2 {
		b.diag.correctf(words[0].Pos, "%s: weight needs a value: keepalived reports it and does not track it, and so does hactl", what)
		return r, false
	}
	n, err := parseInt(words[1].Text, -limit, limit)
	switch {
	case err != nil && kind == kindInterface:
		b.diag.correctf(words[1].Pos, "%s: weight: %v: keepalived reports it and tracks it with weight 0, and so does hactl", what, err)
		n = 0
	case err != nil:
		b.diag.correctf(words[1].Pos, "%s: weight: %v: keepalived reports it and uses the weight of the definition, and so does hactl", what, err)
	case kind != kindFile && kind != kindProcess && (n == 254 || n == -254):
		b.diag.correctf(words[1].Pos, "%s: weight %d is out of range: keepalived reports it and uses %d, and so does hactl", what, n, n/254*253)
		n = n / 254 * 253
	}
	if err == nil || kind == kindInterface {
		w := int(n)
		r.weight, r.weightPos = &w, words[1].Pos
	}
	if len(words) > 2 {
		switch words[2].Text {
		case "reverse", "noreverse":
			rev := words[2].Text == "reverse"
			r.reverse = &rev
		default:
			b.diag.correctf(words[2].Pos, "%s: unknown weight option %q (want reverse): keepalived reports it and ignores it, and so does hactl", what, words[2].Text)
		}
	}
	if len(words) > 3 {
		b.diag.warnf(words[3].Pos, "%s: keepalived ignores %q and what follows, and so does hactl", what, words[3].Text)
	}
	return r, true
}

// vmacAddr reads use_vmac's MAC as keepalived's vrrp_vmac_handler does:
// six hex octets of one or two digits separated by ':', or five (with or
// without a trailing ':'), the VRID then being the sixth. A multicast MAC
// or one of RFC 5798's own (00:00:5e:00:01:xx, 00:00:5e:00:02:xx) is
// reported and ignored.
func (b *builder) vmacAddr(d *instDraft, a Arg) {
	in := d.in
	if in.VMACAddr != "" {
		b.diag.correctf(a.Pos, "use_vmac: the VMAC address is already given: keepalived reports it and ignores %q, and so does hactl", a.Text)
		return
	}
	hw, useVRID, err := parseVMAC(a.Text)
	switch {
	case err != nil:
		b.diag.correctf(a.Pos, "use_vmac: invalid MAC address %q: keepalived reports it and ignores it, and so does hactl", a.Text)
	case hw[0]&1 != 0:
		b.diag.correctf(a.Pos, "use_vmac: MAC address %s is multicast: keepalived reports it and ignores it, and so does hactl", a.Text)
	case hw[0] == 0 && hw[1] == 0 && hw[2] == 0x5e && hw[3] == 0 && (hw[4] == 1 || hw[4] == 2):
		b.diag.correctf(a.Pos, "use_vmac: MAC address %s is one of RFC 5798's own (the default): keepalived reports it and ignores it, and so does hactl", a.Text)
	default:
		in.VMACAddr, in.VMACAddrVRID, d.vmacMAC = hw.String(), useVRID, a.Pos
	}
}

// parseVMAC parses a MAC as use_vmac accepts it; useVRID reports that
// only five octets were given (the sixth is left zero).
func parseVMAC(s string) (hw net.HardwareAddr, useVRID bool, err error) {
	if s == "" || strings.Trim(s, "0123456789ABCDEFabcdef:") != "" {
		return nil, false, fmt.Errorf("invalid MAC address %q", s)
	}
	parts := strings.Split(s, ":")
	if len(parts) == 6 && parts[5] == "" {
		parts = parts[:5] // a trailing ':' after five octets
	}
	if len(parts) != 5 && len(parts) != 6 {
		return nil, false, fmt.Errorf("invalid MAC address %q", s)
	}
	hw = make(net.HardwareAddr, 6)
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return nil, false, fmt.Errorf("invalid MAC address %q", s)
		}
		n, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return nil, false, fmt.Errorf("invalid MAC address %q", s)
		}
		hw[i] = byte(n)
	}
	return hw, len(parts) == 5, nil
}
