package vrrp

import (
	"fmt"
	"net/netip"
	"time"
)

// Version is the VRRP protocol version carried in the message.
type Version uint8

// Supported protocol versions.
const (
	Version2 Version = 2 // RFC 3768, IPv4 only, interval in seconds, optional password
	Version3 Version = 3 // RFC 5798, IPv4 and IPv6, interval in centiseconds
)

// Family is an IP address family.
type Family uint8

// Address families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "IPv4" or "IPv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// FamilyOf returns the family of addr (IPv4-mapped IPv6 counts as IPv4), or
// 0 if addr is invalid.
func FamilyOf(addr netip.Addr) Family {
	switch {
	case !addr.IsValid():
		return 0
	case addr.Unmap().Is4():
		return IPv4
	}
	return IPv6
}

// AuthType is the VRRPv2 authentication type (RFC 3768 §5.3.6).
type AuthType uint8

// VRRPv2 authentication types. RFC 3768 removed both; keepalived still
// speaks them, and so does hactl, for mixed clusters.
const (
	AuthNone   AuthType = 0
	AuthSimple AuthType = 1 // plain-text password, 8 bytes
	// AuthAH is IPsec AH (ah.go): the VRRP message carries type 2 and zero
	// authentication data; the AH header in front of it authenticates.
	AuthAH AuthType = 2
)

// Wire constants.
const (
	// Protocol is the IP protocol number / IPv6 next header of VRRP.
	Protocol = 112
	// TTL is the only TTL / hop limit a multicast advertisement may carry.
	TTL = 255
	// PriorityOwner is the priority of the address owner.
	PriorityOwner = 255
	// PriorityStop is advertised by a master that is shutting down.
	PriorityStop = 0
	// MaxAddrsIPv4 is the most IPv4 addresses an advertisement can carry:
	// the count field is 8 bits, and 255 of them still fit a 1500-byte MTU.
	MaxAddrsIPv4 = 255
	// MaxAddrsIPv6 is the most IPv6 addresses this package decodes: what fits
	// a 1500-byte MTU after the IPv6 and VRRP headers ((1500-40-8)/16). More
	// would need fragmentation, which VRRP never does; keepalived caps its own
	// adverts the same way.
	MaxAddrsIPv6 = 90

	headerLen   = 8
	authDataLen = 8
	addrBufLen  = MaxAddrsIPv6 * 16 // >= MaxAddrsIPv4*4
)

// Multicast groups VRRP advertisements are sent to (RFC 5798 §5.1.1.2 and
// §5.1.2.2), as functions because netip.Addr values cannot be constants.

// MulticastIPv4 returns 224.0.0.18.
func MulticastIPv4() netip.Addr { return netip.AddrFrom4([4]byte{224, 0, 0, 18}) }

// MulticastIPv6 returns ff02::12.
func MulticastIPv6() netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12})
}

// Advertisement is one VRRP advertisement (the only VRRP message type).
//
// Addresses are held in a fixed buffer inside the value, so decoding into a
// reused Advertisement allocates nothing. The zero value is an empty message;
// values are comparable with ==, which tests rely on.
type Advertisement struct {
	Version  Version
	VRID     uint8
	Priority uint8
	// Interval is the advertisement interval: whole seconds for VRRPv2,
	// centiseconds (the Max Adver Int field) for VRRPv3.
	Interval time.Duration
	// AuthType and AuthData are VRRPv2 only. AuthData is encoded as is, so
	// set it to zero for AuthNone (RFC 3768 §5.3.10); decoding keeps what was
	// received, which makes re-encoding byte-exact.
	AuthType AuthType
	AuthData [authDataLen]byte
	// Checksum is the value seen on decode; Append computes a fresh one.
	Checksum uint16

	family Family
	naddr  uint8
	addrs  [addrBufLen]byte
}

// Family returns the family of the carried addresses (0 when there are
// none).
func (a *Advertisement) Family() Family { return a.family }

// NumAddrs returns how many addresses the advertisement carries.
func (a *Advertisement) NumAddrs() int { return int(a.naddr) }

// Addr returns the i'th address; it panics if i is out of range, like a
// slice index would.
func (a *Advertisement) Addr(i int) netip.Addr {
	if i < 0 || i >= int(a.naddr) {
		panic(fmt.Sprintf("vrrp: address index %d out of range [0,%d)", i, a.naddr))
	}
	if a.family == IPv4 {
		return netip.AddrFrom4([4]byte(a.addrs[i*4 : i*4+4]))
	}
	return netip.AddrFrom16([16]byte(a.addrs[i*16 : i*16+16]))
}

// AppendAddrs appends the carried addresses to dst and returns it; with
// enough capacity in dst it does not allocate.
func (a *Advertisement) AppendAddrs(dst []netip.Addr) []netip.Addr {
	for i := 0; i < int(a.naddr); i++ {
		dst = append(dst, a.Addr(i))
	}
	return dst
}

// SetAddrs replaces the carried addresses. All must be of one family (zones
// are dropped; IPv4-mapped IPv6 is stored as IPv4).
func (a *Advertisement) SetAddrs(addrs ...netip.Addr) error {
	if len(addrs) == 0 {
		clear(a.addrs[:a.usedAddrBytes()])
		a.naddr, a.family = 0, 0
		return nil
	}
	fam := FamilyOf(addrs[0])
	max := MaxAddrsIPv4
	if fam == IPv6 {
		max = MaxAddrsIPv6
	}
	if len(addrs) > max {
		return invalid(ErrAddrCount, "%d %s addresses, at most %d fit", len(addrs), fam, max)
	}
	for _, ad := range addrs {
		if FamilyOf(ad) != fam || fam == 0 {
			return invalid(ErrFamily, "address %v in a %s list", ad, fam)
		}
	}
	old := a.usedAddrBytes()
	for i, ad := range addrs {
		if fam == IPv4 {
			b := ad.Unmap().As4()
			copy(a.addrs[i*4:], b[:])
		} else {
			b := ad.As16()
			copy(a.addrs[i*16:], b[:])
		}
	}
	a.family, a.naddr = fam, uint8(len(addrs))
	a.clearTail(old)
	return nil
}

// usedAddrBytes is how much of the address buffer holds live data.
func (a *Advertisement) usedAddrBytes() int {
	if a.family == IPv6 {
		return int(a.naddr) * 16
	}
	return int(a.naddr) * 4
}

// clearTail zeroes buffer bytes that were used before and are not now, so
// that == compares only meaningful content.
func (a *Advertisement) clearTail(oldUsed int) {
	if now := a.usedAddrBytes(); oldUsed > now {
		clear(a.addrs[now:oldUsed])
	}
}

// Password converts a VRRPv2 simple password into the 8-byte Authentication
// Data field, zero padded. Longer passwords are an error rather than being
// silently truncated (keepalived truncates, with a warning).
func Password(s string) ([authDataLen]byte, error) {
	var b [authDataLen]byte
	if len(s) > authDataLen {
		return b, invalid(ErrAuth, "password is %d bytes, at most %d", len(s), authDataLen)
	}
	copy(b[:], s)
	return b, nil
}

// String renders the advertisement on one line for traces and logs.
func (a *Advertisement) String() string {
	s := fmt.Sprintf("VRRPv%d vrid=%d prio=%d intvl=%v", a.Version, a.VRID, a.Priority, a.Interval)
	if a.Version == Version2 && a.AuthType != AuthNone {
		s += fmt.Sprintf(" auth=%d", a.AuthType)
	}
	for i := 0; i < int(a.naddr); i++ {
		s += " " + a.Addr(i).String()
	}
	return s
}
