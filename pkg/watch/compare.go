package watch

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Flags are the conditions the Table reports on a packet or a row.
type Flags uint8

// The flags, in the order they are printed.
const (
	// FlagConflict: another source advertises the same VRID on the same
	// segment with a different VIP set, version, interval or authentication.
	FlagConflict Flags = 1 << iota
	// FlagDualMaster: another source advertises the same VRID and VIP set,
	// and both have kept advertising for longer than a Master_Down_Interval.
	FlagDualMaster
	// FlagResign: a priority-0 advertisement (a master stopping).
	FlagResign
	// FlagInvalid: a packet failed a validation rule.
	FlagInvalid
)

var flagNames = [...]string{"CONFLICT", "DUAL-MASTER", "RESIGN", "INVALID"}

// Names lists the set flags' names in a fixed order; never nil, so JSON
// shows an empty list rather than null.
func (f Flags) Names() []string {
	out := []string{}
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// String joins the names with commas.
func (f Flags) String() string { return strings.Join(f.Names(), ",") }

// Mismatch says how two advertisements of one VRID disagree. Any bit set
// is a conflict: VRRP routers that see it drop each other's adverts
// (keepalived's "bogus VRRP packet received") or, with different VIP sets,
// log "ip address associated with VRID not present in MASTER advert".
type Mismatch uint8

// The kinds of disagreement.
const (
	MismatchVIPs     Mismatch = 1 << iota // different sets of virtual addresses
	MismatchVersion                       // VRRPv2 against VRRPv3
	MismatchInterval                      // different advertisement intervals
	MismatchAuth                          // VRRPv2 authentication type or password differ
)

// mismatchNames is the one table of the kinds' names, bit by bit: key is
// the word the daemon's API, logs and metrics use (api.Conflict's
// differences, conflict_counts), text the one people read in hactl watch.
var mismatchNames = [...]struct{ key, text string }{
	{"vips", "VIPs"}, {"version", "version"}, {"interval", "interval"}, {"auth", "authentication"},
}

// String lists the differences, "VIPs, interval"; "" for none.
func (m Mismatch) String() string {
	var out []string
	for i, n := range mismatchNames {
		if m&(1<<i) != 0 {
			out = append(out, n.text)
		}
	}
	return strings.Join(out, ", ")
}

// Keys lists the differences by their keys, ["vips", "interval"]; nil for
// none. The daemon's conflict records and counters use them.
func (m Mismatch) Keys() []string {
	var out []string
	for i, n := range mismatchNames {
		if m&(1<<i) != 0 {
			out = append(out, n.key)
		}
	}
	return out
}

// Advert is what an advertisement says about its virtual router, in a form
// that two routers' adverts (or an advert and a configuration) can be
// compared in. Priority is not part of it: routers of one cluster differ in
// priority by design.
type Advert struct {
	Version  vrrp.Version
	Interval time.Duration
	// AuthType and AuthData are VRRPv2 only (zero for VRRPv3).
	AuthType vrrp.AuthType
	AuthData [8]byte
	// VIPs are compared as a set: order and repetition do not matter.
	VIPs []netip.Addr
}

// AdvertOf returns the comparable part of a decoded advertisement.
func AdvertOf(a *vrrp.Advertisement) Advert {
	ad := Advert{Version: a.Version, Interval: a.Interval, VIPs: a.AppendAddrs(nil)}
	if a.Version == vrrp.Version2 {
		ad.AuthType, ad.AuthData = a.AuthType, a.AuthData
	}
	return ad
}

// advertOf returns the comparable part of a valid packet.
func advertOf(p *Packet) Advert {
	ad := Advert{Version: vrrp.Version(p.Version), Interval: p.Interval(), VIPs: p.Addresses}
	if p.Version == 2 {
		ad.AuthType, ad.AuthData = vrrp.AuthType(p.AuthType), p.AuthData
	}
	return ad
}

// Compare reports how a and b, two adverts of one VRID on one segment,
// disagree; 0 means they could come from routers of one cluster.
func Compare(a, b Advert) Mismatch {
	var m Mismatch
	if !sameSet(a.VIPs, b.VIPs) {
		m |= MismatchVIPs
	}
	if a.Version != b.Version {
		m |= MismatchVersion
	}
	if a.Interval != b.Interval {
		m |= MismatchInterval
	}
	if a.Version == vrrp.Version2 && b.Version == vrrp.Version2 &&
		(a.AuthType != b.AuthType || (a.AuthType == vrrp.AuthSimple && a.AuthData != b.AuthData)) {
		m |= MismatchAuth
	}
	return m
}

// sameSet compares address lists as sets (IPv4-mapped counts as IPv4).
// Short lists, every real advert's, are compared in place: the daemon
// compares every advert it receives with its own, and must not allocate
// for it. Long ones (an advert may carry 255) are sorted copies.
func sameSet(a, b []netip.Addr) bool {
	if len(a) <= 16 && len(b) <= 16 {
		return Within(a, b) && Within(b, a)
	}
	norm := func(l []netip.Addr) []netip.Addr {
		out := make([]netip.Addr, len(l))
		for i, x := range l {
			out[i] = canon(x)
		}
		slices.SortFunc(out, netip.Addr.Compare)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// Within says whether every address of a is in b (IPv4-mapped counts as
// IPv4, zones ignored), in place: the daemon's address check of every
// advert uses it too (daemon/receive.go, advertAddrsDrop).
func Within(a, b []netip.Addr) bool {
	for _, x := range a {
		x = canon(x)
		found := false
		for _, y := range b {
			if canon(y) == x {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func canon(x netip.Addr) netip.Addr { return x.Unmap().WithZone("") }
