//go:build linux

package vrrpsock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Conn is a raw VRRP socket bound to one interface and one family.
type Conn struct {
	ifi *net.Interface
	is6 bool
	// ah: an IPsec-AH socket (ListenAH): protocol 51, IP_HDRINCL.
	ah  bool
	raw net.PacketConn
	ipc *net.IPConn
	// oobs and dsts cache WriteTo's control messages and destinations.
	oobs map[netip.Addr][]byte
	dsts map[netip.Addr]unix.Sockaddr
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	// oob receives ReadPacket's control messages.
	oob []byte
	// rc sends through sendmsg(2) on the socket's own descriptor; w* are
	// the arguments of the send in progress and writeFn the callback,
	// built once, so that a send allocates nothing (net.IPConn.WriteMsgIP
	// builds a new sockaddr on every call).
	rc      syscall.RawConn
	wbuf    []byte
	woob    []byte
	wsa     unix.Sockaddr
	werr    error
	writeFn func(fd uintptr) bool
}

// Listen opens the VRRP socket of family (4 or 6) on interface ifname, in
// the calling thread's network namespace. SO_BINDTODEVICE keeps packets of
// other interfaces out, so each interface's socket sees its own segment.
func Listen(ifname string, family int) (*Conn, error) {
	network := "ip4:112"
	if family == 6 {
		network = "ip6:112"
	} else if family != 4 {
		return nil, fmt.Errorf("vrrp socket: family %d: want 4 or 6", family)
	}
	return listen(ifname, family, network, false)
}

func listen(ifname string, family int, network string, ah bool) (*Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrrp socket: interface %s: %w", ifname, err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = unix.BindToDevice(int(fd), ifname) })
		return errors.Join(err, serr)
	}}
	raw, err := lc.ListenPacket(context.Background(), network, "")
	if err != nil {
		return nil, fmt.Errorf("vrrp socket on %s (IPv%d): %w (needs root or CAP_NET_RAW)", ifname, family, err)
	}
	c := &Conn{ifi: ifi, is6: family == 6, ah: ah, raw: raw, ipc: raw.(*net.IPConn), oobs: map[netip.Addr][]byte{}, dsts: map[netip.Addr]unix.Sockaddr{}}
	if c.rc, err = c.ipc.SyscallConn(); err != nil {
		raw.Close()
		return nil, fmt.Errorf("vrrp socket on %s: %w", ifname, err)
	}
	c.writeFn = c.sendmsg
	if err := c.setup(); err != nil {
		raw.Close()
		return nil, fmt.Errorf("vrrp socket on %s (IPv%d): %w", ifname, family, err)
	}
	return c, nil
}

func (c *Conn) setup() error {
	// The kernel counts what a full receive buffer drops and reports it
	// with every later packet: the one sign that the daemon fell behind.
	var serr error
	if err := c.rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1) }); err != nil || serr != nil {
		return fmt.Errorf("SO_RXQ_OVFL: %w", errors.Join(err, serr))
	}
	if c.is6 {
		c.p6 = ipv6.NewPacketConn(c.raw)
		return errors.Join(
			c.p6.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true),
			c.p6.SetMulticastInterface(c.ifi),
			c.p6.SetMulticastHopLimit(255),
			c.p6.SetHopLimit(255),
			c.p6.SetMulticastLoopback(false),
		)
	}
	c.p4 = ipv4.NewPacketConn(c.raw)
	if c.ah {
		// keepalived builds the IPv4 header of AH adverts itself, since
		// the ICV covers it; so does hactl (pkg/vrrp AHAuth.Append).
		if err := c.rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_HDRINCL, 1) }); err != nil || serr != nil {
			return fmt.Errorf("IP_HDRINCL: %w", errors.Join(err, serr))
		}
	}
	return errors.Join(
		c.p4.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true),
		c.p4.SetMulticastInterface(c.ifi),
		c.p4.SetMulticastTTL(255),
		c.p4.SetTTL(255),
		c.p4.SetMulticastLoopback(false),
	)
}

// Interface is the interface the socket is bound to.
func (c *Conn) Interface() *net.Interface { return c.ifi }

// JoinGroup joins a multicast group on the socket's interface.
func (c *Conn) JoinGroup(group netip.Addr) error {
	g := &net.IPAddr{IP: group.AsSlice()}
	if c.is6 {
		return c.p6.JoinGroup(c.ifi, g)
	}
	return c.p4.JoinGroup(c.ifi, g)
}

// LeaveGroup leaves a multicast group.
func (c *Conn) LeaveGroup(group netip.Addr) error {
	g := &net.IPAddr{IP: group.AsSlice()}
	if c.is6 {
		return c.p6.LeaveGroup(c.ifi, g)
	}
	return c.p4.LeaveGroup(c.ifi, g)
}

// ReadPacket reads one packet into buf. Payload aliases buf. It is meant
// for one goroutine (the socket's reader): the control-message buffer is
// the Conn's own.
func (c *Conn) ReadPacket(buf []byte) (Packet, error) {
	if c.oob == nil {
		c.oob = make([]byte, 256)
	}
	n, oobn, _, src, err := c.ipc.ReadMsgIP(buf, c.oob)
	if err != nil {
		return Packet{}, err
	}
	oob := c.oob[:oobn]
	p := Packet{Payload: buf[:n], TTL: -1, QueueDrops: queueDrops(oob)}
	if src != nil {
		p.Src = ipAddr(src.IP)
	}
	if c.is6 {
		var cm ipv6.ControlMessage
		if cm.Parse(oob) == nil {
			p.TTL, p.Dst, p.IfIndex = cm.HopLimit, ipAddr(cm.Dst), cm.IfIndex
		}
		return p, nil
	}
	if c.ah {
		p.Header, p.Payload = splitAH(p.Payload)
	} else if n >= 20 && p.Payload[0]>>4 == 4 {
		// Raw IPv4 sockets deliver the IP header; strip it.
		hl := int(p.Payload[0]&0x0f) * 4
		if hl >= 20 && hl <= n {
			p.Payload = p.Payload[hl:]
		}
	}
	var cm ipv4.ControlMessage
	if cm.Parse(oob) == nil {
		p.TTL, p.Dst, p.IfIndex = cm.TTL, ipAddr(cm.Dst), cm.IfIndex
	}
	return p, nil
}

// queueDrops is the SO_RXQ_OVFL count in a packet's control messages: the
// socket's drops for a full receive buffer so far. The kernel leaves it
// out until the first drop.
func queueDrops(oob []byte) uint32 {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data)
		}
	}
	return 0
}

// WriteTo sends a VRRP message to dst (a group or a unicast peer), from src
// when src is valid (unicast_src_ip, or the IPv6 link-local address the
// checksum was computed with), else from the kernel's choice. It is meant
// for one goroutine (the daemon's loop): the control message and the
// destination of each (src, dst) are built once and reused, so a send
// allocates nothing.
func (c *Conn) WriteTo(payload []byte, src, dst netip.Addr) error {
	to, ok := c.dsts[dst]
	if !ok {
		if c.is6 {
			// Link-scoped destinations (ff02::12, fe80::) need their zone:
			// the interface index (a name would be looked up in the
			// namespace of whichever thread sends).
			to = &unix.SockaddrInet6{Addr: dst.As16(), ZoneId: uint32(c.ifi.Index)}
		} else {
			to = &unix.SockaddrInet4{Addr: dst.Unmap().As4()}
		}
		c.dsts[dst] = to
	}
	oob, ok := c.oobs[src]
	if !ok {
		if c.is6 {
			cm := &ipv6.ControlMessage{HopLimit: 255, IfIndex: c.ifi.Index}
			if src.IsValid() {
				cm.Src = src.AsSlice()
			}
			oob = cm.Marshal()
		} else {
			cm := &ipv4.ControlMessage{IfIndex: c.ifi.Index}
			if src.IsValid() {
				cm.Src = src.AsSlice()
			}
			oob = cm.Marshal()
		}
		c.oobs[src] = oob
	}
	c.wbuf, c.woob, c.wsa, c.werr = payload, oob, to, nil
	err := c.rc.Write(c.writeFn)
	c.wbuf, c.woob = nil, nil
	if err != nil {
		return err
	}
	return c.werr
}

// sendmsg is the RawConn.Write callback: one sendmsg(2) of the send in
// progress; false asks the poller to wait when the socket buffer is full.
func (c *Conn) sendmsg(fd uintptr) bool {
	c.werr = unix.Sendmsg(int(fd), c.wbuf, c.woob, c.wsa, 0)
	return !errors.Is(c.werr, unix.EAGAIN)
}

// SetReadDeadline bounds the next ReadPacket.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// Close closes the socket; a blocked ReadPacket returns an error.
func (c *Conn) Close() error { return c.raw.Close() }

func ipAddr(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}
