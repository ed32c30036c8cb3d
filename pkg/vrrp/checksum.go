package vrrp

import (
	"encoding/binary"
	"net/netip"
)

// sum16 adds b to acc as big-endian 16-bit words (RFC 1071), padding an odd
// trailing byte with zero. The carry is folded later by fold.
func sum16(acc uint32, b []byte) uint32 {
	for len(b) >= 2 {
		acc += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

// fold reduces a 32-bit accumulator to the one's complement 16-bit sum.
func fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// pseudoSum returns the partial sum of the VRRPv3 pseudo-header: RFC 5798
// §5.2.8 borrows the IPv4 (RFC 768 style) and IPv6 (RFC 8200 §8.1) upper
// layer pseudo-headers. Summing the fields directly is equivalent to laying
// the header out in memory and avoids a buffer.
func pseudoSum(src, dst netip.Addr, length int) uint32 {
	var acc uint32
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		acc = sum16(acc, s[:])
		acc = sum16(acc, d[:])
	} else {
		s, d := src.As16(), dst.As16()
		acc = sum16(acc, s[:])
		acc = sum16(acc, d[:])
		acc += uint32(length) >> 16 // upper half of the 32-bit length
	}
	acc += uint32(length) & 0xffff
	acc += Protocol
	return acc
}

// checksum computes the VRRP checksum of msg, whose checksum field must be
// zero or is being verified (a correct message then sums to zero). For
// VRRPv3 the pseudo-header of src/dst is included; VRRPv2 covers only the
// message (RFC 3768 §5.3.8).
func checksum(v Version, msg []byte, src, dst netip.Addr) uint16 {
	var acc uint32
	if v == Version3 {
		acc = pseudoSum(src, dst, len(msg))
	}
	return ^fold(sum16(acc, msg))
}
