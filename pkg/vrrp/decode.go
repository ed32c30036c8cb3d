package vrrp

import (
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
	"time"
)

// PacketContext carries the IP-level facts about a received advertisement
// that are not in the VRRP bytes. For IPv4 they come from the IP header; for
// IPv6, raw sockets do not deliver the header, so the daemon fills them in
// from control messages (IPV6_PKTINFO, IPV6_HOPLIMIT) and the source
// address.
type PacketContext struct {
	Src netip.Addr // IP source: the sender's primary address
	Dst netip.Addr // IP destination: the VRRP group or our unicast address
	// TTL is the IPv4 TTL or IPv6 hop limit. A negative value means unknown
	// (for example the control message was missing) and skips the check,
	// as keepalived does; the zero value is a real TTL of 0 and fails.
	TTL int
}

// Decode parses the VRRP message b (no IP header) into a, applying the
// receive checks that need no local configuration, in the order of RFC 5798
// §7.1: family, TTL for multicast, version, type, length and address count,
// checksum, then the v2 auth type and the interval. On error a is left in
// an unspecified state. Decode never allocates when it succeeds.
func Decode(a *Advertisement, b []byte, pc PacketContext) error {
	src, dst := pc.Src.Unmap(), pc.Dst.Unmap()
	fam := FamilyOf(src)
	if fam == 0 || FamilyOf(dst) != fam {
		return invalid(ErrFamily, "source %v and destination %v", pc.Src, pc.Dst)
	}
	if dst.IsMulticast() && pc.TTL >= 0 && pc.TTL != TTL {
		return invalid(ErrTTL, "multicast advert with TTL %d", pc.TTL)
	}
	if len(b) < headerLen {
		return invalid(ErrLength, "%d bytes, header needs %d", len(b), headerLen)
	}
	v := Version(b[0] >> 4)
	if v != Version2 && v != Version3 {
		return invalid(ErrVersion, "version %d", v)
	}
	if t := b[0] & 0x0f; t != 1 {
		return invalid(ErrType, "type %d, only 1 (advertisement) exists", t)
	}
	if v == Version2 && fam != IPv4 {
		return invalid(ErrFamily, "VRRPv2 over %s", fam)
	}
	if err := checkLength(v, fam, b); err != nil {
		return err
	}
	if checksum(v, b, src, dst) != 0 {
		return invalid(ErrChecksum, "checksum %#04x does not verify", binary.BigEndian.Uint16(b[6:]))
	}
	return fill(a, v, fam, b)
}

// checkLength verifies that b is exactly as long as its address count says
// (RFC 5798 §7.1 "contains the complete VRRP packet"; keepalived also
// rejects trailing bytes), and that the count fits the decode buffer.
func checkLength(v Version, fam Family, b []byte) error {
	n, size, max := int(b[3]), 4, MaxAddrsIPv4
	if fam == IPv6 {
		size, max = 16, MaxAddrsIPv6
	}
	if n > max {
		return invalid(ErrAddrCount, "%d %s addresses, at most %d decoded", n, fam, max)
	}
	want := headerLen + n*size
	if v == Version2 {
		want += authDataLen
	}
	if len(b) != want {
		return invalid(ErrLength, "%d bytes, %d addresses need %d", len(b), n, want)
	}
	return nil
}

// fill copies the verified message into a.
func fill(a *Advertisement, v Version, fam Family, b []byte) error {
	old := a.usedAddrBytes()
	a.Version, a.VRID, a.Priority, a.naddr = v, b[1], b[2], b[3]
	a.family = fam
	if a.naddr == 0 {
		a.family = 0 // as SetAddrs leaves it, so values compare equal
	}
	a.Checksum = binary.BigEndian.Uint16(b[6:])
	used := a.usedAddrBytes()
	copy(a.addrs[:used], b[headerLen:headerLen+used])
	a.clearTail(old)
	if v == Version2 {
		a.AuthType = AuthType(b[4])
		a.Interval = time.Duration(b[5]) * time.Second
		copy(a.AuthData[:], b[headerLen+used:])
		if a.AuthType > AuthAH {
			return invalid(ErrAuthType, "VRRPv2 auth type %d is unknown", a.AuthType)
		}
	} else {
		// The top 4 bits are reserved: ignored on receipt (RFC 5798 §5.2.6).
		a.Interval = time.Duration(binary.BigEndian.Uint16(b[4:])&0x0fff) * 10 * time.Millisecond
		a.AuthType, a.AuthData = AuthNone, [authDataLen]byte{}
	}
	if a.Interval == 0 {
		return invalid(ErrInterval, "zero advertisement interval")
	}
	return nil
}

// Expect is the local instance's configuration that receive validation
// compares against (the checks of RFC 5798 §7.1 / RFC 3768 §7.1 that depend
// on configuration). The VRID is not checked here: the daemon demultiplexes
// by VRID before it picks the instance.
type Expect struct {
	Version Version // the configured version; a packet of the other is "version"
	Family  Family  // the instance's family; 0 accepts either
	// AuthType and Password are VRRPv2 only.
	AuthType AuthType
	Password [authDataLen]byte
	// Interval is the configured advertisement interval; VRRPv2 requires an
	// exact match (RFC 3768 §7.1). VRRPv3 does not: backups adopt the
	// master's interval. Zero skips the check.
	Interval time.Duration
	// CheckUnicastTTL also requires TTL 255 on unicast adverts. Off by
	// default: keepalived does not check unicast TTL and sends IPv6 unicast
	// with hop limit 64.
	CheckUnicastTTL bool
}

// Decode is the package-level Decode followed by Check.
func (e *Expect) Decode(a *Advertisement, b []byte, pc PacketContext) error {
	if err := Decode(a, b, pc); err != nil {
		return err
	}
	return e.Check(a, pc)
}

// Check applies the configuration-dependent checks to an advertisement that
// Decode accepted. The password is compared in constant time.
func (e *Expect) Check(a *Advertisement, pc PacketContext) error {
	if e.CheckUnicastTTL && pc.TTL >= 0 && pc.TTL != TTL {
		return invalid(ErrTTL, "unicast advert with TTL %d", pc.TTL)
	}
	if e.Family != 0 && FamilyOf(pc.Src) != e.Family {
		return invalid(ErrFamily, "%s advert for a %s instance", FamilyOf(pc.Src), e.Family)
	}
	if a.Version != e.Version {
		return invalid(ErrVersion, "version %d, configured %d", a.Version, e.Version)
	}
	if a.Version != Version2 {
		return nil
	}
	if a.AuthType != e.AuthType {
		return invalid(ErrAuthType, "auth type %d, configured %d", a.AuthType, e.AuthType)
	}
	if e.AuthType == AuthSimple && subtle.ConstantTimeCompare(a.AuthData[:], e.Password[:]) != 1 {
		return invalid(ErrAuth, "password mismatch")
	}
	if e.Interval != 0 && a.Interval != e.Interval {
		return invalid(ErrInterval, "interval %v, configured %v", a.Interval, e.Interval)
	}
	return nil
}

// DecodeIP parses a whole IP packet (IPv4 or IPv6 header followed by VRRP),
// as found in captures, and decodes the VRRP part with Decode. It returns
// the context taken from the IP header and the VRRP payload so that callers
// can go on to Expect.Check or re-encode. IPv6 extension headers and IPv4
// options other than a longer header are not followed: VRRP uses neither.
// The IPv4 header checksum is not verified; the kernel already has.
func DecodeIP(a *Advertisement, pkt []byte) (PacketContext, []byte, error) {
	pc, payload, err := splitIP(pkt)
	if err != nil {
		return pc, nil, err
	}
	return pc, payload, Decode(a, payload, pc)
}

// splitIP separates the IP header from the VRRP payload.
func splitIP(pkt []byte) (PacketContext, []byte, error) {
	var pc PacketContext
	if len(pkt) < 1 {
		return pc, nil, invalid(ErrLength, "empty packet")
	}
	switch pkt[0] >> 4 {
	case 4:
		ihl := int(pkt[0]&0x0f) * 4
		if len(pkt) < 20 || ihl < 20 || len(pkt) < ihl {
			return pc, nil, invalid(ErrLength, "IPv4 header: %d bytes, IHL %d", len(pkt), ihl)
		}
		total := int(binary.BigEndian.Uint16(pkt[2:]))
		if total < ihl || total > len(pkt) {
			return pc, nil, invalid(ErrLength, "IPv4 total length %d, have %d", total, len(pkt))
		}
		if pkt[9] != Protocol {
			return pc, nil, invalid(ErrProtocol, "IPv4 protocol %d", pkt[9])
		}
		pc.TTL = int(pkt[8])
		pc.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
		pc.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
		return pc, pkt[ihl:total], nil
	case 6:
		if len(pkt) < 40 {
			return pc, nil, invalid(ErrLength, "IPv6 header: %d bytes", len(pkt))
		}
		plen := int(binary.BigEndian.Uint16(pkt[4:]))
		if 40+plen > len(pkt) {
			return pc, nil, invalid(ErrLength, "IPv6 payload length %d, have %d", plen, len(pkt)-40)
		}
		if pkt[6] != Protocol {
			return pc, nil, invalid(ErrProtocol, "IPv6 next header %d", pkt[6])
		}
		pc.TTL = int(pkt[7])
		pc.Src = netip.AddrFrom16([16]byte(pkt[8:24]))
		pc.Dst = netip.AddrFrom16([16]byte(pkt[24:40]))
		return pc, pkt[40 : 40+plen], nil
	}
	return pc, nil, invalid(ErrFamily, "IP version %d", pkt[0]>>4)
}
