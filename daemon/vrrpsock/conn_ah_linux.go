//go:build linux

package vrrpsock

import "encoding/binary"

// ListenAH opens the IPsec-AH socket of interface ifname: IPv4 protocol 51,
// as keepalived opens it for instances with auth_type AH, with IP_HDRINCL
// so that the daemon sends whole IPv4 packets (WriteTo's payload is then
// the IPv4 header, the AH header and the VRRP message, as
// vrrp.AHAuth.Append builds them). ReadPacket hands up the IPv4 and AH
// headers as Packet.Header and the VRRP message after them as Payload.
// The kernel does not process the AH itself (there is no IPsec security
// association); a raw socket sees the packet as sent.
func ListenAH(ifname string) (*Conn, error) {
	return listen(ifname, 4, "ip4:51", true)
}

// ahLen is the length of keepalived's AH header (vrrp.AHLen).
const ahLen = 24

// splitAH splits a received IPv4 packet of protocol 51 into the IPv4 and
// AH headers and what follows them, up to the IPv4 total length. A packet
// too short for both headers comes back whole as the header, with no
// payload: the verifier reports its length.
func splitAH(pkt []byte) (hdr, payload []byte) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return pkt, nil
	}
	hl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	if hl < 20 || total > len(pkt) || total < hl+ahLen {
		return pkt, nil
	}
	return pkt[:hl+ahLen], pkt[hl+ahLen : total]
}
