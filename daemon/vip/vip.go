package vip

import (
	"fmt"
	"net/netip"
	"time"
)

// Scope is an address scope as `ip addr` names it.
type Scope uint8

// Scopes of rtnetlink (include/uapi/linux/rtnetlink.h).
const (
	ScopeGlobal Scope = 0
	ScopeSite   Scope = 200
	ScopeLink   Scope = 253
	ScopeHost   Scope = 254
)

// ParseScope reads a scope name as keepalived and ip accept it.
func ParseScope(s string) (Scope, error) {
	switch s {
	case "", "global", "universe":
		return ScopeGlobal, nil
	case "site":
		return ScopeSite, nil
	case "link":
		return ScopeLink, nil
	case "host":
		return ScopeHost, nil
	}
	return 0, fmt.Errorf("unknown scope %q (want global, site, link or host)", s)
}

func (s Scope) String() string {
	switch s {
	case ScopeGlobal:
		return "global"
	case ScopeSite:
		return "site"
	case ScopeLink:
		return "link"
	case ScopeHost:
		return "host"
	}
	return fmt.Sprintf("scope-%d", uint8(s))
}

// VIP is one virtual address and where it goes.
type VIP struct {
	// Prefix is the address with its prefix length (keepalived's default
	// is /32 or /128 when the config gives none).
	Prefix netip.Prefix
	// Dev is the interface that carries it.
	Dev string
	// Label is the IPv4 label (e.g. eth0:vip); it must start with Dev.
	Label string
	// Scope defaults to global.
	Scope Scope
	// Broadcast is an optional IPv4 broadcast address; without one the
	// address has none (keepalived sets one only when asked).
	Broadcast netip.Addr
	// Peer is the other end of a point-to-point address (IFA_ADDRESS).
	Peer netip.Addr
	// Flags are IFA_F_* flags from the line: home, noprefixroute,
	// autojoin, mngtmpaddr.
	Flags uint32
	// DAD keeps IPv6 duplicate address detection on (keepalived's
	// -nodad); otherwise an IPv6 VIP is added with IFA_F_NODAD.
	DAD bool
	// PreferredLft is an IPv6 address's preferred lifetime in seconds;
	// nil is forever. keepalived gives a /128 without preferred_lft 0
	// (deprecated, so never picked as a source address).
	PreferredLft *uint32
}

// Address flags a VIP line can set (IFA_F_*, if_addr.h).
const (
	FlagHome          = 0x10
	FlagMngTmpAddr    = 0x100
	FlagNoPrefixRoute = 0x200
	FlagAutoJoin      = 0x400
)

func (v VIP) String() string {
	s := v.Prefix.String() + " dev " + v.Dev
	if v.Label != "" {
		s += " label " + v.Label
	}
	return s
}

// Lifetime is the validity a VIP is added or refreshed with; zero means
// permanent.
type Lifetime time.Duration

// seconds rounds up, so a lease is never shorter than asked.
func (l Lifetime) seconds() int {
	d := time.Duration(l)
	return int((d + time.Second - 1) / time.Second)
}
