package vrrp

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Append encodes the advertisement and appends it to b. src and dst are the
// IP source and destination the packet will carry; VRRPv3 needs them for the
// checksum pseudo-header, and they fix the address family. With enough
// capacity in b it does not allocate.
//
// The message is checked first so that hactl never emits what it would
// itself reject: version, interval range and granularity, v2 auth type,
// family agreement between src, dst and the carried addresses.
func (a *Advertisement) Append(b []byte, src, dst netip.Addr) ([]byte, error) {
	src, dst = src.Unmap(), dst.Unmap()
	fam, err := encodeFamily(a, src, dst)
	if err != nil {
		return b, err
	}
	ivl, err := encodeInterval(a.Version, a.Interval)
	if err != nil {
		return b, err
	}
	if a.Version == Version2 && a.AuthType > AuthAH {
		return b, invalid(ErrAuthType, "cannot encode VRRPv2 auth type %d", a.AuthType)
	}
	start := len(b)
	b = append(b, byte(a.Version)<<4|1, a.VRID, a.Priority, a.naddr)
	if a.Version == Version2 {
		b = append(b, byte(a.AuthType), byte(ivl), 0, 0)
	} else {
		b = append(b, byte(ivl>>8), byte(ivl), 0, 0)
	}
	n := int(a.naddr) * 4
	if fam == IPv6 {
		n = int(a.naddr) * 16
	}
	b = append(b, a.addrs[:n]...)
	if a.Version == Version2 {
		b = append(b, a.AuthData[:]...)
	}
	msg := b[start:]
	binary.BigEndian.PutUint16(msg[6:], checksum(a.Version, msg, src, dst))
	return b, nil
}

// Marshal is Append into a new buffer sized exactly for the message.
func (a *Advertisement) Marshal(src, dst netip.Addr) ([]byte, error) {
	return a.Append(make([]byte, 0, a.Len()), src, dst)
}

// Len is the encoded length of the VRRP message in bytes.
func (a *Advertisement) Len() int {
	n := headerLen + a.usedAddrBytes()
	if a.Version == Version2 {
		n += authDataLen
	}
	return n
}

// encodeFamily checks that the version, addresses and endpoints agree on one
// family and returns it.
func encodeFamily(a *Advertisement, src, dst netip.Addr) (Family, error) {
	if a.Version != Version2 && a.Version != Version3 {
		return 0, invalid(ErrVersion, "cannot encode version %d", a.Version)
	}
	fam := FamilyOf(src)
	if fam == 0 || FamilyOf(dst) != fam {
		return 0, invalid(ErrFamily, "source %v and destination %v", src, dst)
	}
	if a.naddr > 0 && a.family != fam {
		return 0, invalid(ErrFamily, "%s addresses in a %s packet", a.family, fam)
	}
	if a.Version == Version2 && fam != IPv4 {
		return 0, invalid(ErrFamily, "VRRPv2 is IPv4 only")
	}
	return fam, nil
}

// encodeInterval converts the interval to the wire unit of the version:
// VRRPv2 whole seconds in 8 bits, VRRPv3 centiseconds in 12 bits.
func encodeInterval(v Version, d time.Duration) (uint16, error) {
	unit, max := 10*time.Millisecond, time.Duration(0xfff)
	if v == Version2 {
		unit, max = time.Second, 0xff
	}
	if d <= 0 || d%unit != 0 || d/unit > max {
		return 0, invalid(ErrInterval, "VRRPv%d cannot carry interval %v (unit %v, max %v)", v, d, unit, max*unit)
	}
	return uint16(d / unit), nil
}
