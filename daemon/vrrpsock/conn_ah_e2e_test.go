//go:build linux

package vrrpsock_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/vrrp"
)

// TestE2EAHSocket sends an AH advert built by pkg/vrrp through an AH socket
// (IP_HDRINCL) and reads it on another node's: the receiver gets the IPv4
// header exactly as built (the kernel fills in only the checksum, which
// the builder already computed) and the ICV verifies, multicast and
// unicast.
func TestE2EAHSocket(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	var tx, rx *vrrpsock.Conn
	for _, h := range []struct {
		n *netlab.Host
		c **vrrpsock.Conn
	}{{n1, &tx}, {n2, &rx}} {
		if err := h.n.Do(func() (err error) { *h.c, err = vrrpsock.ListenAH("eth0"); return err }); err != nil {
			t.Fatal(err)
		}
		c := *h.c
		t.Cleanup(func() { c.Close() })
	}
	if err := rx.JoinGroup(vrrpsock.Group4); err != nil {
		t.Fatal(err)
	}
	key, _ := vrrp.AHKey("hvsecret")
	auth := vrrp.NewAHAuth(key)
	var a vrrp.Advertisement
	a.Version, a.VRID, a.Priority, a.Interval, a.AuthType = vrrp.Version2, 51, 150, time.Second, vrrp.AuthAH
	if err := a.SetAddrs(n1.Addr4); err != nil {
		t.Fatal(err)
	}
	for i, dst := range []struct{ unicast bool }{{false}, {true}} {
		to := vrrpsock.Group4
		if dst.unicast {
			to = n2.Addr4
		}
		msg, err := a.Append(nil, n1.Addr4, to)
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := auth.Append(nil, msg, vrrp.AHPacket{Src: n1.Addr4, Dst: to, ID: uint16(i + 1), TTL: 255, Seq: uint32(i + 1), Unicast: dst.unicast})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.WriteTo(pkt, n1.Addr4, to); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
		p := receive(t, rx, msg)
		if !bytes.Equal(append(bytes.Clone(p.Header), p.Payload...), pkt) {
			t.Errorf("to %s: received %x%x\nsent %x", to, p.Header, p.Payload, pkt)
		}
		info, err := auth.Verify(p.Header, p.Payload, dst.unicast)
		if err != nil || info.Seq != uint32(i+1) {
			t.Errorf("to %s: Verify = %+v, %v", to, info, err)
		}
		if p.Src != n1.Addr4 || p.Dst != to || p.TTL != 255 {
			t.Errorf("to %s: src %s dst %s ttl %d", to, p.Src, p.Dst, p.TTL)
		}
		c := p.Clone()
		if !bytes.Equal(c.Header, p.Header) || !bytes.Equal(c.Payload, p.Payload) || &c.Payload[0] == &p.Payload[0] {
			t.Errorf("Clone did not copy")
		}
	}
}
