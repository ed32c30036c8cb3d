package watch

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Frame is one captured packet at the IP layer: what a capture file holds
// after its link-layer header, or what a packet socket delivers.
type Frame struct {
	// Time is when the packet was captured.
	Time time.Time
	// Interface is the interface it was captured on ("" when unknown, as in
	// a pcap file).
	Interface string
	// SrcMAC is the link-layer source, nil when the link has none.
	SrcMAC net.HardwareAddr
	// Data is the IPv4 or IPv6 packet, header included.
	Data []byte
	// LinkError, when not empty, is the rule the link layer already failed
	// (ErrLinkType, or vrrp's "length" for a truncated link header); Data
	// is then whatever followed, possibly nothing.
	LinkError string
}

// ErrLinkType is the rule name of a frame whose link-layer type the capture
// reader does not know, so its IP packet cannot be found.
const ErrLinkType = "link-type"

// Packet is one decoded VRRP packet, valid or not, with the flags the Table
// gave it. Fields the packet was too short to carry are zero, and HasIP /
// HasHeader say how far decoding got.
type Packet struct {
	Time      time.Time
	Interface string
	SrcMAC    net.HardwareAddr
	// Node is the name of the source (inventory, neighbour table, or
	// learned from the source MAC), set by Table.Observe.
	Node string

	// HasIP reports that the IP header was read: Src, Dst and TTL are set.
	HasIP bool
	Src   netip.Addr
	Dst   netip.Addr
	// TTL is the IPv4 TTL or the IPv6 hop limit.
	TTL int

	// HasHeader reports that the 8-byte VRRP header was read: Version to
	// Checksum are set.
	HasHeader bool
	Version   int
	Type      int
	VRID      int
	Priority  int
	// Count is the address count field as sent.
	Count int
	// IntervalCS is the advertisement interval in centiseconds: the field
	// for VRRPv3, seconds × 100 for VRRPv2.
	IntervalCS int
	// AuthType and AuthData are VRRPv2 only.
	AuthType int
	AuthData [8]byte
	// Addresses are the addresses carried (for an invalid packet, those
	// that were complete).
	Addresses []netip.Addr
	// Checksum is the checksum field as sent.
	Checksum int

	// AH reports that the advert came inside an IPsec authentication
	// header (IPv4 protocol 51 with next header 112: keepalived's auth_type
	// AH); AHSPI and AHSeq are that header's SPI and sequence number. watch
	// has no key, so the ICV is not checked: a valid AH packet is one whose
	// headers and VRRP message pass every other rule.
	AH    bool
	AHSPI uint32
	AHSeq uint32

	// Valid reports that the packet passed every rule pkg/vrrp applies
	// without local configuration; Error is the failed rule's name
	// otherwise ("ttl", "checksum", "length", "version"...), and Detail its
	// human-readable explanation.
	Valid  bool
	Error  string
	Detail string

	// Flags, ConflictWith and DualMasterWith describe the packet's row at
	// the time of the packet (Table.Observe sets them).
	Flags          Flags
	ConflictWith   []netip.Addr
	DualMasterWith []netip.Addr
}

// Family is the packet's address family, 0 when the IP header was not read.
func (p *Packet) Family() vrrp.Family { return vrrp.FamilyOf(p.Src) }

// Interval is the advertisement interval as a duration.
func (p *Packet) Interval() time.Duration { return time.Duration(p.IntervalCS) * 10 * time.Millisecond }

// Decoder turns frames into packets with pkg/vrrp. It reuses one
// Advertisement, so decoding a valid packet allocates only the packet's
// address list. The zero value is ready to use; it is not safe for
// concurrent use.
type Decoder struct {
	adv vrrp.Advertisement
}

// Decode decodes one frame. It returns false for frames that are IP but
// not VRRP (another protocol, or IPv6 whose header chain leads elsewhere),
// which a capture without a filter is full of. Everything else, however
// malformed, gives a Packet: an invalid one carries the failed rule and as
// many fields as could be read, so nothing is dropped silently.
func (d *Decoder) Decode(f Frame) (Packet, bool) {
	p := Packet{Time: f.Time, Interface: f.Interface, SrcMAC: f.SrcMAC, TTL: -1}
	if f.LinkError != "" {
		p.Error, p.Detail = f.LinkError, "link-layer header: "+f.LinkError
		return p, true
	}
	if !isVRRP(f.Data) {
		return p, false
	}
	if isAH(f.Data) {
		d.decodeAH(&p, f.Data)
		return p, true
	}
	pc, _, err := vrrp.DecodeIP(&d.adv, f.Data)
	if err == nil {
		p.fromAdvert(&d.adv, pc)
		return p, true
	}
	p.readRaw(f.Data)
	p.Error, p.Detail = "invalid", err.Error()
	if r, ok := vrrp.ReasonOf(err); ok {
		p.Error = r.Name()
	}
	return p, true
}

// decodeAH decodes an IPv4 AH packet: the AH header as keepalived builds
// it (vrrp.SplitAH), then the VRRP message with pkg/vrrp. Without the key
// the ICV cannot be checked; what can be is: the SPI is the source address
// (keepalived's rule, "ah-spi") and the VRRP auth type is AH ("auth-type").
func (d *Decoder) decodeAH(p *Packet, pkt []byte) {
	hdr, msg, pc, err := vrrp.SplitAH(pkt)
	if err == nil {
		err = vrrp.Decode(&d.adv, msg, pc)
	}
	if err == nil {
		p.fromAdvert(&d.adv, pc)
		p.readAH(hdr[len(hdr)-vrrp.AHLen:])
		switch {
		case p.AHSPI != binary.BigEndian.Uint32(hdr[12:16]):
			p.invalid(vrrp.ErrAHSPI, fmt.Sprintf("AH SPI %#08x is not the source address %v", p.AHSPI, p.Src))
		case p.AuthType != int(vrrp.AuthAH):
			p.invalid(vrrp.ErrAuthType, fmt.Sprintf("VRRPv2 auth type %d inside an AH header, want %d (AH)", p.AuthType, vrrp.AuthAH))
		}
		return
	}
	p.readRaw(pkt)
	p.Error, p.Detail = "invalid", err.Error()
	if r, ok := vrrp.ReasonOf(err); ok {
		p.Error = r.Name()
	}
}

// invalid marks a decoded packet as failing rule r.
func (p *Packet) invalid(r vrrp.Reason, detail string) {
	p.Valid, p.Error, p.Detail = false, r.Name(), detail
}

// readAH reads the SPI and sequence number of a 24-byte AH header.
func (p *Packet) readAH(ah []byte) {
	p.AH, p.AHSPI, p.AHSeq = true, binary.BigEndian.Uint32(ah[4:]), binary.BigEndian.Uint32(ah[8:])
}

// fromAdvert fills the packet from a successful decode.
func (p *Packet) fromAdvert(a *vrrp.Advertisement, pc vrrp.PacketContext) {
	p.HasIP, p.Src, p.Dst, p.TTL = true, pc.Src.Unmap(), pc.Dst.Unmap(), pc.TTL
	p.HasHeader, p.Valid = true, true
	p.Version, p.Type, p.VRID, p.Priority = int(a.Version), 1, int(a.VRID), int(a.Priority)
	p.Count = a.NumAddrs()
	p.IntervalCS = int(a.Interval / (10 * time.Millisecond))
	if a.Version == vrrp.Version2 {
		p.AuthType, p.AuthData = int(a.AuthType), a.AuthData
	}
	p.Checksum = int(a.Checksum)
	p.Addresses = a.AppendAddrs(make([]netip.Addr, 0, a.NumAddrs()))
}

// isVRRP reports whether pkt is an IP packet for VRRP, or something too
// broken to tell (which then shows as invalid rather than vanishing).
func isVRRP(pkt []byte) bool {
	if len(pkt) == 0 {
		return true
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) >= 20 && pkt[9] == vrrp.ProtocolAH {
			next := ahNext(pkt)
			return next == vrrp.Protocol || next < 0
		}
		return len(pkt) < 20 || pkt[9] == vrrp.Protocol
	case 6:
		if len(pkt) < 40 {
			return true
		}
		up := upperProtocol6(pkt)
		return up == vrrp.Protocol || up < 0
	}
	return true
}

// isAH reports whether pkt is an IPv4 packet carrying an AH header (which
// isVRRP has already found to lead to VRRP, or to be too short to tell).
func isAH(pkt []byte) bool { return len(pkt) >= 20 && pkt[0]>>4 == 4 && pkt[9] == vrrp.ProtocolAH }

// ahNext returns the next-header field of the AH header after pkt's IPv4
// header, or -1 when the packet ends first.
func ahNext(pkt []byte) int {
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || ihl >= len(pkt) {
		return -1
	}
	return int(pkt[ihl])
}

// upperProtocol6 follows the IPv6 extension headers that may precede an
// upper-layer header (hop-by-hop, routing, destination options) and returns
// the upper-layer protocol, or -1 if the chain runs off the packet (a
// broken packet, shown rather than skipped). A fragment header ends the
// chain: VRRP is never fragmented.
func upperProtocol6(pkt []byte) int {
	next, off := int(pkt[6]), 40
	for range 8 {
		switch next {
		case 0, 43, 60:
			if off+2 > len(pkt) {
				return -1
			}
			next, off = int(pkt[off]), off+8+int(pkt[off+1])*8
		default:
			return next
		}
	}
	return -1
}

// readRaw fills what it can from a packet that failed validation, without
// trusting any length more than the bytes present.
func (p *Packet) readRaw(pkt []byte) {
	var payload []byte
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4:
		p.HasIP, p.TTL = true, int(pkt[8])
		p.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
		ihl := int(pkt[0]&0x0f) * 4
		end := min(int(binary.BigEndian.Uint16(pkt[2:])), len(pkt))
		if ihl >= 20 && ihl <= end {
			payload = pkt[ihl:end]
		}
		if pkt[9] == vrrp.ProtocolAH {
			if len(payload) < vrrp.AHLen {
				return
			}
			p.readAH(payload)
			payload = payload[vrrp.AHLen:]
		}
	case len(pkt) >= 40 && pkt[0]>>4 == 6:
		p.HasIP, p.TTL = true, int(pkt[7])
		p.Src = netip.AddrFrom16([16]byte(pkt[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(pkt[24:40]))
		if pkt[6] == vrrp.Protocol {
			payload = pkt[40:min(40+int(binary.BigEndian.Uint16(pkt[4:])), len(pkt))]
		}
	}
	if len(payload) < 8 {
		return
	}
	p.HasHeader = true
	p.Version, p.Type = int(payload[0]>>4), int(payload[0]&0x0f)
	p.VRID, p.Priority, p.Count = int(payload[1]), int(payload[2]), int(payload[3])
	p.Checksum = int(binary.BigEndian.Uint16(payload[6:]))
	if p.Version == 2 {
		p.AuthType, p.IntervalCS = int(payload[4]), int(payload[5])*100
	} else {
		p.IntervalCS = int(binary.BigEndian.Uint16(payload[4:]) & 0x0fff)
	}
	size := 4
	if p.Src.Is6() {
		size = 16
	}
	rest := payload[8:]
	for i := 0; i < p.Count && len(rest) >= size; i++ {
		a, _ := netip.AddrFromSlice(rest[:size])
		p.Addresses = append(p.Addresses, a)
		rest = rest[size:]
	}
	if p.Version == 2 && len(p.Addresses) == p.Count {
		copy(p.AuthData[:], rest)
	}
}
