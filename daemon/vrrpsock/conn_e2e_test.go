//go:build linux

package vrrpsock_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"golang.org/x/net/ipv4"
)

func listenIn(t *testing.T, h *netlab.Host, family int) *vrrpsock.Conn {
	t.Helper()
	var c *vrrpsock.Conn
	if err := h.Do(func() (err error) { c, err = vrrpsock.Listen("eth0", family); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// linkLocal returns the host's IPv6 link-local address on eth0.
func linkLocal(t *testing.T, h *netlab.Host) netip.Addr {
	t.Helper()
	var ll netip.Addr
	err := h.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().IsLinkLocalUnicast() {
				ll = p.Addr()
			}
		}
		return err
	})
	if err != nil || !ll.IsValid() {
		t.Fatalf("%s: no link-local address (%v)", h.Name, err)
	}
	return ll
}

// receive reads until a packet with payload arrives, for at most 3 s.
func receive(t *testing.T, c *vrrpsock.Conn, payload []byte) vrrpsock.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	deadline := time.Now().Add(3 * time.Second)
	if err := c.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		p, err := c.ReadPacket(buf)
		if err != nil {
			t.Fatalf("no packet after %v: %v", time.Since(deadline.Add(-3*time.Second)), err)
		}
		if bytes.Equal(p.Payload, payload) {
			return p
		}
	}
	t.Fatal("too many unrelated packets")
	return vrrpsock.Packet{}
}

func TestE2EMulticastAndUnicast(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	for _, family := range []int{4, 6} {
		tx, rx := listenIn(t, n1, family), listenIn(t, n2, family)
		group, src, peer := vrrpsock.Group4, n1.Addr4, n2.Addr4
		if family == 6 {
			group, src, peer = vrrpsock.Group6, linkLocal(t, n1), n2.Addr6
		}
		if err := rx.JoinGroup(group); err != nil {
			t.Fatal(err)
		}
		msg := []byte{0x31, 7, 100, 1, 0, 100, 0, 0, 10, 77, 0, 100, byte(family)}
		if err := tx.WriteTo(msg, src, group); err != nil {
			t.Fatalf("IPv%d multicast send: %v", family, err)
		}
		p := receive(t, rx, msg)
		if p.TTL != 255 || p.Src != src || p.Dst != group || p.IfIndex != rx.Interface().Index {
			t.Errorf("IPv%d multicast: got src %s dst %s ttl %d ifindex %d; want src %s dst %s ttl 255", family, p.Src, p.Dst, p.TTL, p.IfIndex, src, group)
		}
		msg[len(msg)-1] = 0x40 | byte(family)
		if family == 6 {
			src = n1.Addr6
		}
		if err := tx.WriteTo(msg, src, peer); err != nil {
			t.Fatalf("IPv%d unicast send: %v", family, err)
		}
		p = receive(t, rx, msg)
		if p.TTL != 255 || p.Src != src || p.Dst != peer {
			t.Errorf("IPv%d unicast: got src %s dst %s ttl %d; want src %s dst %s ttl 255", family, p.Src, p.Dst, p.TTL, src, peer)
		}
		// A master sends every interval for every instance: once the
		// destination is known, a send allocates nothing.
		if n := testing.AllocsPerRun(50, func() { _ = tx.WriteTo(msg, src, peer) }); n != 0 {
			t.Errorf("IPv%d: WriteTo allocates %.1f times per send", family, n)
		}
	}
}

// TestE2EReceivedTTLIsReported sends a VRRP-protocol packet with TTL 64, as
// a forger off the segment would, and checks that the socket reports the
// TTL so that validation can drop it.
func TestE2EReceivedTTLIsReported(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	rx := listenIn(t, l.Node(2), 4)
	if err := rx.JoinGroup(vrrpsock.Group4); err != nil {
		t.Fatal(err)
	}
	msg := []byte("forged ttl 64")
	err := l.Node(1).Do(func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv4.NewPacketConn(c)
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if err := p.SetMulticastInterface(ifi); err != nil {
			return err
		}
		if err := p.SetMulticastTTL(64); err != nil {
			return err
		}
		_, err = p.WriteTo(msg, nil, &net.IPAddr{IP: vrrpsock.Group4.AsSlice()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := receive(t, rx, msg); p.TTL != 64 {
		t.Errorf("TTL reported as %d, want 64", p.TTL)
	}
}

func TestE2EBoundToItsInterface(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	err := l.Node(1).Do(func() error {
		_, err := vrrpsock.Listen("nosuch0", 4)
		return err
	})
	if err == nil {
		t.Fatal("Listen on a missing interface: no error")
	}
}

// TestE2EQueueDropsReported: packets the kernel drops for a full receive
// buffer are counted (SO_RXQ_OVFL) and the count comes with the next
// packet read.
func TestE2EQueueDropsReported(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	tx, rx := listenIn(t, n1, 4), listenIn(t, n2, 4)
	msg := []byte{0x31, 7, 100, 1, 0, 100, 0, 0, 10, 77, 0, 100}
	const n = 5000 // the default receive buffer holds a few hundred
	for range n {
		if err := tx.WriteTo(msg, n1.Addr4, n2.Addr4); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	buf := make([]byte, 1500)
	read := 0
	for range n {
		if err := rx.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if _, err := rx.ReadPacket(buf); err != nil {
			break
		}
		read++
	}
	last := []byte("after the overflow")
	if err := tx.WriteTo(last, n1.Addr4, n2.Addr4); err != nil {
		t.Fatal(err)
	}
	p := receive(t, rx, last)
	t.Logf("%d sent, %d read before the last; the last reports %d dropped", n, read, p.QueueDrops)
	if read >= n || p.QueueDrops == 0 || int(p.QueueDrops) > n-read {
		t.Errorf("%d of %d read, %d reported dropped; want drops reported, at most %d", read, n, p.QueueDrops, n-read)
	}
}
