package pcapread

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// LinkType is a capture's link-layer header type (the LINKTYPE_ values of
// https://www.tcpdump.org/linktypes.html).
type LinkType uint32

// The link types Network understands.
const (
	LinkNull       LinkType = 0   // BSD loopback: 4-byte address family in the writer's byte order
	LinkEthernet   LinkType = 1   // Ethernet II, with 802.1Q / 802.1ad tags
	LinkRawOpenBSD LinkType = 12  // raw IP (DLT_RAW's value on some systems)
	LinkRawBSD     LinkType = 14  // raw IP (another DLT_RAW value)
	LinkRaw        LinkType = 101 // raw IP
	LinkLoop       LinkType = 108 // OpenBSD loopback: family in network byte order
	LinkLinuxSLL   LinkType = 113 // Linux cooked capture v1 (tcpdump -i any)
	LinkIPv4       LinkType = 228 // raw IPv4
	LinkIPv6       LinkType = 229 // raw IPv6
	LinkLinuxSLL2  LinkType = 276 // Linux cooked capture v2 (tcpdump -i any -y LINUX_SLL2)
)

// String names the link type.
func (t LinkType) String() string {
	switch t {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkRawOpenBSD, LinkRawBSD, LinkRaw:
		return "RAW"
	case LinkLoop:
		return "LOOP"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkLinuxSLL2:
		return "LINUX_SLL2"
	}
	return fmt.Sprintf("linktype %d", uint32(t))
}

// Errors of Network.
var (
	// ErrLinkType: the record's link type is not one Network knows.
	ErrLinkType = errors.New("unsupported link type")
	// ErrTruncated: the record ends inside its link-layer header.
	ErrTruncated = errors.New("link-layer header cut short")
)

// Network is a record's network layer.
type Network struct {
	// IP is the IPv4 or IPv6 packet; nil when the frame carries something
	// else (ARP, LLDP...), which callers skip.
	IP []byte
	// SrcMAC is the link-layer source, when the link has one.
	SrcMAC net.HardwareAddr
	// IfIndex is the capturing interface's index (Linux cooked v2 only).
	IfIndex int
}

// Ethertypes of the network layers looked for.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
	arphrdEth  = 1
)

// Network strips the link-layer header of rec. The returned slices alias
// rec.Data.
func (rec Record) Network() (Network, error) {
	b := rec.Data
	switch rec.LinkType {
	case LinkEthernet:
		if len(b) < 14 {
			return Network{}, ErrTruncated
		}
		n := Network{SrcMAC: net.HardwareAddr(b[6:12])}
		typ, off := binary.BigEndian.Uint16(b[12:]), 14
		for i := 0; i < 2 && (typ == etherVLAN || typ == etherQinQ || typ == etherQinQ2); i++ {
			if len(b) < off+4 {
				return Network{}, ErrTruncated
			}
			typ, off = binary.BigEndian.Uint16(b[off+2:]), off+4
		}
		if typ == etherIPv4 || typ == etherIPv6 {
			n.IP = b[off:]
		}
		return n, nil
	case LinkLinuxSLL:
		if len(b) < 16 {
			return Network{}, ErrTruncated
		}
		var n Network
		if hatype, halen := binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint16(b[4:]); hatype == arphrdEth && halen == 6 {
			n.SrcMAC = net.HardwareAddr(b[6:12])
		}
		if typ := binary.BigEndian.Uint16(b[14:]); typ == etherIPv4 || typ == etherIPv6 {
			n.IP = b[16:]
		}
		return n, nil
	case LinkLinuxSLL2:
		if len(b) < 20 {
			return Network{}, ErrTruncated
		}
		n := Network{IfIndex: int(binary.BigEndian.Uint32(b[4:]))}
		if hatype, halen := binary.BigEndian.Uint16(b[8:]), b[11]; hatype == arphrdEth && halen == 6 {
			n.SrcMAC = net.HardwareAddr(b[12:18])
		}
		if typ := binary.BigEndian.Uint16(b[0:]); typ == etherIPv4 || typ == etherIPv6 {
			n.IP = b[20:]
		}
		return n, nil
	case LinkRaw, LinkRawOpenBSD, LinkRawBSD, LinkIPv4, LinkIPv6:
		return Network{IP: b}, nil
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return Network{}, ErrTruncated
		}
		fam := binary.BigEndian.Uint32(b)
		if rec.LinkType == LinkNull && fam > 0xffff {
			fam = binary.LittleEndian.Uint32(b) // written on a little-endian host
		}
		switch fam {
		case 2, 10, 24, 28, 30: // AF_INET; AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
			return Network{IP: b[4:]}, nil
		}
		return Network{}, nil
	}
	return Network{}, fmt.Errorf("%w %s", ErrLinkType, rec.LinkType)
}
