// Package vrrpsock is the daemon's wire: one raw IP socket (protocol 112)
// per interface and address family, shared by the VRRP instances on that
// interface, and one of protocol 51 (IPsec AH, ListenAH) per interface
// with auth_type AH instances, as keepalived keeps them. It sends with TTL / hop limit 255, joins the VRRP multicast
// group on its interface, and hands every received packet up with what
// validation needs and the VRRP bytes do not carry: source, destination,
// received TTL or hop limit (from control messages) and interface. It does
// not parse VRRP; pkg/vrrp does.
package vrrpsock

import "net/netip"

// Protocol is VRRP's IP protocol number.
const Protocol = 112

// Default multicast groups (RFC 5798 §5.1.1.2, §5.1.2.2).
var (
	Group4 = netip.MustParseAddr("224.0.0.18")
	Group6 = netip.MustParseAddr("ff02::12")
)

// Packet is one received VRRP message and its IP context.
type Packet struct {
	// Payload is the VRRP message, without the IP header. It aliases the
	// buffer passed to ReadPacket.
	Payload []byte
	// Header is, on an AH socket (ListenAH), the IPv4 header and the AH
	// header as received, which the ICV covers; nil on a plain socket.
	// It aliases the buffer too.
	Header []byte
	Src    netip.Addr
	Dst    netip.Addr
	// TTL is the IPv4 TTL or IPv6 hop limit the packet arrived with, or -1
	// when the kernel did not report it.
	TTL     int
	IfIndex int
	// QueueDrops is the kernel's count of packets the socket dropped so
	// far because its receive buffer was full (SO_RXQ_OVFL), as of this
	// packet; 0 until the first such drop.
	QueueDrops uint32
}

// Clone returns p with Header and Payload copied out of the read buffer
// (one allocation), so that the buffer can be reused for the next read.
func (p Packet) Clone() Packet {
	b := make([]byte, len(p.Header)+len(p.Payload))
	n := copy(b, p.Header)
	copy(b[n:], p.Payload)
	if p.Header != nil {
		p.Header = b[:n:n]
	}
	p.Payload = b[n:]
	return p
}
