package vrrp

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"net/netip"
)

// IPsec AH (RFC 2402) as keepalived 2.2.7 puts it around VRRPv2 adverts
// (auth_type AH): the IPv4 header carries protocol 51, a 24-byte AH
// header follows it, then the VRRP message with auth type 2 and eight zero
// bytes of authentication data. The ICV is HMAC-MD5 truncated to 96 bits
// (RFC 2403) over the IPv4 header with its mutable fields zeroed, the AH
// header with its ICV zeroed, and the VRRP message. RFC 3768 removed AH
// from VRRP; hactl speaks it only so that it can share a virtual router
// with keepalived nodes configured for it. keepalived's code:
// keepalived/vrrp/vrrp.c (vrrp_build_ip4, vrrp_build_ipsecah,
// vrrp_update_pkt, vrrp_in_chk_ipsecah) and vrrp_ipsecah.c (hmac_md5).
const (
	// ProtocolAH is the IP protocol number of the authentication header.
	ProtocolAH = 51
	// AHLen is the length of keepalived's AH header: next header, payload
	// length, reserved, SPI, sequence number and a 12-byte ICV.
	AHLen = 24
	// AHKeyLen is the key length: keepalived keys the HMAC with its whole
	// 8-byte auth_data field, auth_pass zero padded (or truncated).
	AHKeyLen = authDataLen

	ahICVLen = 12
	// ahPayloadLen is AH's length in 32-bit words minus 2 (RFC 2402 §2.2).
	ahPayloadLen = AHLen/4 - 2
	// ahTOS is the IPv4 TOS keepalived sends with (internetwork control).
	ahTOS         = 0xc0
	ipv4HeaderLen = 20
	maxIPv4Header = 60
)

// AHSeqMax is the highest sequence number keepalived's counter reaches:
// past 0xFFFFFFFD it stops incrementing and marks itself cycled
// (AHCounter).
const AHSeqMax = 0xFFFFFFFE

// AHKey returns the HMAC key for an auth_pass: the password zero padded to
// 8 bytes; longer passwords are an error, as for Password (the config
// layer truncates with a warning, as keepalived does).
func AHKey(pass string) ([AHKeyLen]byte, error) { return Password(pass) }

// AHPacket is what varies between the AH adverts of one instance: the
// IPv4 header fields hactl sets and the AH sequence number.
type AHPacket struct {
	Src, Dst netip.Addr
	// ID is the IPv4 identification. keepalived counts it per instance
	// from 1, skipping 0 (the kernel would choose one), once per advert
	// round; AHCounter.NextID does the same.
	ID uint16
	// TTL is the IPv4 TTL; keepalived sends 255, unicast included.
	TTL uint8
	Seq uint32
	// Unicast also zeroes the TTL in the ICV, as keepalived does for
	// instances with unicast peers (and only for them).
	Unicast bool
}

// AHAuth computes and checks ICVs with one key. It keeps its HMAC state
// and scratch space, so it allocates nothing per packet, and it is not
// safe for concurrent use: the daemon keeps one per instance on its loop.
type AHAuth struct {
	mac hash.Hash
	sum [md5.Size]byte
	hdr [maxIPv4Header + AHLen]byte
}

// NewAHAuth returns an AHAuth keyed with key.
func NewAHAuth(key [AHKeyLen]byte) *AHAuth {
	return &AHAuth{mac: hmac.New(md5.New, key[:])}
}

// Append appends a complete IPv4 packet to b: the IPv4 header (with its
// checksum; the kernel recomputes the same value under IP_HDRINCL), the AH
// header with the ICV, and msg, the VRRP message (Advertisement.Append
// with AuthType AuthAH). This is the byte sequence keepalived sends.
func (h *AHAuth) Append(b, msg []byte, p AHPacket) ([]byte, error) {
	src, dst := p.Src.Unmap(), p.Dst.Unmap()
	if !src.Is4() || !dst.Is4() {
		return b, invalid(ErrFamily, "AH needs IPv4 source and destination, have %v and %v", p.Src, p.Dst)
	}
	total := ipv4HeaderLen + AHLen + len(msg)
	if total > 0xffff {
		return b, invalid(ErrLength, "%d-byte packet", total)
	}
	start := len(b)
	s4, d4 := src.As4(), dst.As4()
	b = append(b, 0x45, ahTOS, byte(total>>8), byte(total), byte(p.ID>>8), byte(p.ID), 0, 0, p.TTL, ProtocolAH, 0, 0)
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	// AH: next header VRRP, payload length, reserved, SPI = the source
	// address (keepalived's rule: the sender picks it, unique by its IP).
	b = append(b, Protocol, ahPayloadLen, 0, 0)
	b = append(b, s4[:]...)
	b = binary.BigEndian.AppendUint32(b, p.Seq)
	b = append(b, make([]byte, ahICVLen)...)
	b = append(b, msg...)
	pkt := b[start:]
	icv := h.icv(pkt[:ipv4HeaderLen+AHLen], pkt[ipv4HeaderLen+AHLen:], ipv4HeaderLen, p.Unicast)
	copy(pkt[ipv4HeaderLen+12:], icv)
	binary.BigEndian.PutUint16(pkt[10:], ipv4Checksum(pkt[:ipv4HeaderLen]))
	return b, nil
}

// AHInfo is what VerifyAH read from a received AH header.
type AHInfo struct {
	SPI uint32
	Seq uint32
}

// Verify checks the AH of a received packet, in keepalived's order:
// the next header must be VRRP ("protocol": keepalived ignores such a
// packet, as AH for another protocol), then the ICV ("ah-icv": a wrong key
// or a changed packet, which look the same on the wire), then the SPI
// must be the IP source ("ah-spi"). hdr is the IPv4 header as received
// (options included) followed by the AH header; msg is the VRRP message
// after them (what Decode takes). unicast zeroes the TTL in the ICV, as
// for sending. The sequence number is not checked here: that is
// AHCounter.Accept, which needs the instance's counter.
func (h *AHAuth) Verify(hdr, msg []byte, unicast bool) (AHInfo, error) {
	var info AHInfo
	if len(hdr) < ipv4HeaderLen || hdr[0]>>4 != 4 {
		return info, invalid(ErrLength, "no IPv4 header (%d bytes)", len(hdr))
	}
	ihl := int(hdr[0]&0x0f) * 4
	if ihl < ipv4HeaderLen || len(hdr) != ihl+AHLen {
		return info, invalid(ErrLength, "IPv4 header of %d bytes and AH: have %d bytes, want %d", ihl, len(hdr), ihl+AHLen)
	}
	if hdr[9] != ProtocolAH {
		return info, invalid(ErrProtocol, "IPv4 protocol %d, want AH (%d)", hdr[9], ProtocolAH)
	}
	ah := hdr[ihl:]
	if ah[0] != Protocol {
		return info, invalid(ErrProtocol, "AH next header %d, want VRRP (%d)", ah[0], Protocol)
	}
	want := h.icv(hdr, msg, ihl, unicast)
	if subtle.ConstantTimeCompare(ah[12:12+ahICVLen], want) != 1 {
		return info, invalid(ErrAHICV, "HMAC-MD5-96 does not verify (wrong key, or the packet changed)")
	}
	info.SPI, info.Seq = binary.BigEndian.Uint32(ah[4:]), binary.BigEndian.Uint32(ah[8:])
	if [4]byte(ah[4:8]) != [4]byte(hdr[12:16]) {
		return info, invalid(ErrAHSPI, "SPI %#08x is not the source address %v", info.SPI, netip.AddrFrom4([4]byte(hdr[12:16])))
	}
	return info, nil
}

// icv computes the 12-byte ICV of a packet whose IPv4 header (ihl bytes)
// and AH header are hdr and whose VRRP message is msg. The mutable fields
// are zeroed as keepalived zeroes them: TOS, flags and fragment offset,
// header checksum, the ICV itself, and the TTL only for unicast. (RFC 2402
// would zero the TTL always; keepalived includes it for multicast, where
// it must be 255 anyway, and a receiver must do the same to agree.)
func (h *AHAuth) icv(hdr, msg []byte, ihl int, unicast bool) []byte {
	c := h.hdr[:len(hdr)]
	copy(c, hdr)
	c[1] = 0          // TOS
	c[6], c[7] = 0, 0 // flags, fragment offset
	c[10], c[11] = 0, 0
	if unicast {
		c[8] = 0
	}
	clear(c[ihl+12 : ihl+12+ahICVLen])
	h.mac.Reset()
	h.mac.Write(c)
	h.mac.Write(msg)
	return h.mac.Sum(h.sum[:0])[:ahICVLen]
}

// ipv4Checksum is the IPv4 header checksum of hdr (its checksum field
// zero).
func ipv4Checksum(hdr []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(hdr); i += 2 {
		s += uint32(hdr[i])<<8 | uint32(hdr[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// SplitAH separates a whole IPv4 AH packet (as captured, or as a raw
// socket of protocol 51 reads it) into the IPv4 and AH headers, the VRRP
// message, and the PacketContext Decode needs.
func SplitAH(pkt []byte) (hdr, msg []byte, pc PacketContext, err error) {
	if len(pkt) < ipv4HeaderLen || pkt[0]>>4 != 4 {
		return nil, nil, pc, invalid(ErrLength, "IPv4 header: %d bytes", len(pkt))
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	if ihl < ipv4HeaderLen || total > len(pkt) || total < ihl+AHLen {
		return nil, nil, pc, invalid(ErrLength, "IPv4 header of %d bytes, total length %d, have %d; AH needs %d", ihl, total, len(pkt), AHLen)
	}
	if pkt[9] != ProtocolAH {
		return nil, nil, pc, invalid(ErrProtocol, "IPv4 protocol %d, want AH (%d)", pkt[9], ProtocolAH)
	}
	pc.TTL = int(pkt[8])
	pc.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
	pc.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
	return pkt[:ihl+AHLen], pkt[ihl+AHLen : total], pc, nil
}

// AHCounter is keepalived's per-instance ipsecah_counter: one sequence
// number shared by sending and receiving, so that whichever node becomes
// master continues above the sequence numbers it last accepted, and the
// IPv4 identification, which keepalived counts beside it. The zero value
// is a fresh counter (keepalived starts at 0 and does not persist it
// across restarts; it keeps it across reloads, and so does hactl). It is
// not safe for concurrent use.
type AHCounter struct {
	Seq uint32
	// Cycled is set once Seq has reached AHSeqMax; keepalived then sends
	// AHSeqMax again and again, and resets to 0 when it next becomes
	// master (BecomeMaster).
	Cycled bool
	id     uint16
}

// Next is the sequence number of the next advert round: Seq incremented,
// or, past 0xFFFFFFFD, AHSeqMax again with Cycled set (vrrp_update_pkt).
// keepalived numbers rounds, not packets: with several unicast peers each
// gets the same number.
func (c *AHCounter) Next() uint32 {
	if c.Seq > AHSeqMax-1 {
		c.Cycled = true
	} else {
		c.Seq++
	}
	return c.Seq
}

// NextID is the IPv4 identification of the next advert round: keepalived
// increments its ip_id and skips 0, which would let the kernel choose.
func (c *AHCounter) NextID() uint16 {
	c.id++
	if c.id == 0 {
		c.id++
	}
	return c.id
}

// Accept applies keepalived's replay rule to an advert whose ICV and SPI
// verified (vrrp_in_chk_ipsecah): its sequence number must be greater than
// the counter, which then takes it; otherwise it is dropped ("ah-seq").
// An equal number is a replay too. A master restarted from 0 is thus
// refused by backups that heard a higher number, until one of them takes
// over and continues from its counter. Accepting also clears Cycled, as
// keepalived does for a backup and for a master that yields.
func (c *AHCounter) Accept(seq uint32) error {
	if seq <= c.Seq {
		return invalid(ErrAHSeq, "sequence number %d already processed (have %d)", seq, c.Seq)
	}
	c.Seq, c.Cycled = seq, false
	return nil
}

// SyncLower is what a keepalived master does on an accepted advert of
// lower priority (vrrp_state_master_rx): it sets its counter one above
// that advert's sequence number before answering it.
func (c *AHCounter) SyncLower(seq uint32) {
	c.Seq, c.Cycled = seq+1, false
}

// BecomeMaster resets a cycled counter to 0, as keepalived does on every
// transition to master (vrrp_state_goto_master); an uncycled one is kept.
func (c *AHCounter) BecomeMaster() {
	if c.Cycled {
		c.Seq, c.Cycled = 0, false
	}
}
