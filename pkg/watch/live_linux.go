//go:build linux

package watch

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Live capture uses one AF_PACKET socket per interface (SOCK_DGRAM, so the
// kernel strips whatever link header the interface has and hands over the
// IP packet, with the source MAC in the socket address). Unlike the
// daemon's raw protocol-112 socket it sees:
//   - this host's own adverts (a packet socket gets outgoing frames too),
//     so `watch` on a cluster node lists that node as well;
//   - packets the IP layer would drop: a bad IP header, a wrong checksum,
//     TTL 1 from off the segment (they show as INVALID);
//   - unicast adverts between other hosts when they reach the interface
//     (a hub, a mirror port, a flooding bridge, or a promiscuous interface).
//
// The socket asks the interface for all multicast (PACKET_MR_ALLMULTI, undone
// when the socket closes), so custom vrrp_mcast_group addresses are heard,
// and joins 224.0.0.18 and ff02::12 with a UDP socket so that IGMP/MLD
// snooping switches forward the groups to this port. A BPF filter keeps
// everything but IPv4 protocol 112, IPv4 AH (protocol 51) whose next header
// is 112 (keepalived's auth_type AH), and IPv6 next header 112 (or a
// hop-by-hop header, behind which VRRP is invalid but shown) in the kernel.

// vrrpFilter is the BPF program. On a SOCK_DGRAM packet socket the packet
// starts at the IP header and the ethertype is in the protocol extension.
var vrrpFilter = []bpf.Instruction{
	/* 0 */ bpf.LoadExtension{Num: bpf.ExtProto},
	/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 7},
	/* 2 */ bpf.LoadAbsolute{Off: 9, Size: 1},
	/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: vrrp.Protocol, SkipTrue: 9},
	/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: vrrp.ProtocolAH, SkipFalse: 3},
	// AH: the next-header byte follows the IPv4 header (X = IHL × 4).
	/* 5 */ bpf.LoadMemShift{Off: 0},
	/* 6 */ bpf.LoadIndirect{Off: 0, Size: 1},
	/* 7 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: vrrp.Protocol, SkipTrue: 5},
	/* 8 */ bpf.RetConstant{Val: 0},
	/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd, SkipFalse: 4},
	/* 10 */ bpf.LoadAbsolute{Off: 6, Size: 1},
	/* 11 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: vrrp.Protocol, SkipTrue: 1},
	/* 12 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipFalse: 1},
	/* 13 */ bpf.RetConstant{Val: 65535},
	/* 14 */ bpf.RetConstant{Val: 0},
}

// packetCapture reads VRRP from packet sockets on a set of interfaces: a
// LiveSource.
type packetCapture struct {
	conns  []*packet.Conn
	groups []interface{ Close() error }
	frames chan Frame
	errs   chan error
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// OpenLive starts capturing on the named interfaces; now stamps each frame
// (nil means time.Now). It needs root or CAP_NET_RAW.
func OpenLive(ifaces []string, now func() time.Time) (LiveSource, error) {
	if now == nil {
		now = time.Now
	}
	prog, err := bpf.Assemble(vrrpFilter)
	if err != nil {
		return nil, err
	}
	c := &packetCapture{frames: make(chan Frame, 256), errs: make(chan error, len(ifaces)), done: make(chan struct{})}
	for _, name := range ifaces {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("interface %s: %w", name, err)
		}
		conn, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_ALL, &packet.Config{Filter: prog})
		if err != nil {
			c.Close()
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return nil, fmt.Errorf("capture on %s: %w (live capture needs root or CAP_NET_RAW; or read a capture with --file)", name, err)
			}
			return nil, fmt.Errorf("capture on %s: %w", name, err)
		}
		c.conns = append(c.conns, conn)
		if err := allMulticast(conn, ifi.Index); err != nil {
			c.Close()
			return nil, fmt.Errorf("capture on %s: all-multicast: %w", name, err)
		}
		c.joinGroups(ifi)
		c.wg.Add(1)
		go c.read(conn, name, now)
	}
	return c, nil
}

// allMulticast makes the interface accept every multicast frame for as long
// as the socket is open.
func allMulticast(conn *packet.Conn, ifindex int) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptPacketMreq(int(fd), unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP,
			&unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_ALLMULTI})
	})
	return errors.Join(err, serr)
}

// joinGroups joins the VRRP groups on ifi from UDP sockets that receive
// nothing else, so that snooping switches send the groups here. Failures
// (an interface without IPv6, say) are harmless: the packet socket still
// hears what reaches the port.
func (c *packetCapture) joinGroups(ifi *net.Interface) {
	if u, err := net.ListenPacket("udp4", "0.0.0.0:0"); err == nil {
		if ipv4.NewPacketConn(u).JoinGroup(ifi, &net.UDPAddr{IP: vrrp.MulticastIPv4().AsSlice()}) == nil {
			c.groups = append(c.groups, u)
		} else {
			u.Close()
		}
	}
	if u, err := net.ListenPacket("udp6", "[::]:0"); err == nil {
		if ipv6.NewPacketConn(u).JoinGroup(ifi, &net.UDPAddr{IP: vrrp.MulticastIPv6().AsSlice()}) == nil {
			c.groups = append(c.groups, u)
		} else {
			u.Close()
		}
	}
}

func (c *packetCapture) read(conn *packet.Conn, name string, now func() time.Time) {
	defer c.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-c.done:
			case c.errs <- fmt.Errorf("capture on %s: %w", name, err):
			}
			return
		}
		f := Frame{Time: now(), Interface: name, Data: bytes.Clone(buf[:n])}
		if a, ok := addr.(*packet.Addr); ok && len(a.HardwareAddr) > 0 {
			f.SrcMAC = bytes.Clone(a.HardwareAddr)
		}
		select {
		case c.frames <- f:
		case <-c.done:
			return
		}
	}
}

func (c *packetCapture) Frames() <-chan Frame { return c.frames }
func (c *packetCapture) Errors() <-chan error { return c.errs }

// Close stops the readers and closes the sockets (which also drops the
// all-multicast request and the group memberships).
func (c *packetCapture) Close() error {
	c.once.Do(func() {
		close(c.done)
		for _, conn := range c.conns {
			conn.Close()
		}
		for _, g := range c.groups {
			g.Close()
		}
		c.wg.Wait()
	})
	return nil
}

// NeighbourMACs adds to names the MACs of neighbour-table (ARP and NDP)
// entries whose address byAddr names, mapped to that name. Errors only mean
// fewer names.
func NeighbourMACs(names map[string]string, byAddr func(net.IP) string) {
	neighs, err := netlink.NeighList(0, 0)
	if err != nil {
		return
	}
	for _, n := range neighs {
		if len(n.HardwareAddr) == 0 || n.IP == nil {
			continue
		}
		if name := byAddr(n.IP); name != "" {
			names[n.HardwareAddr.String()] = name
		}
	}
}
