//go:build linux

package garp_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/garp"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ndp"
)

// TestE2EAnnounce sends a gratuitous ARP and an unsolicited NA from node1
// and checks node2 sees both, naming the VIP and node1's MAC.
func TestE2EAnnounce(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	v4, v6 := netip.MustParseAddr("10.77.0.100"), netip.MustParseAddr("fd77::100")

	var arpc *arp.Client
	var ndpc *ndp.Conn
	var mac1 net.HardwareAddr
	if err := l.Node(2).Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if arpc, err = arp.Dial(ifi); err != nil {
			return err
		}
		ndpc, _, err = ndp.Listen(ifi, ndp.LinkLocal)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arpc.Close(); ndpc.Close() })
	if err := ndpc.JoinGroup(netip.IPv6LinkLocalAllNodes()); err != nil {
		t.Fatal(err)
	}

	a := garp.New("eth0", nil)
	t.Cleanup(func() { a.Close() })
	if err := l.Node(1).Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		mac1 = ifi.HardwareAddr
		return a.Announce([]netip.Addr{v4, v6})
	}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(3 * time.Second)
	arpc.SetReadDeadline(deadline)
	for i := 0; ; i++ {
		p, _, err := arpc.Read()
		if err != nil || i > 100 {
			t.Fatalf("no gratuitous ARP for %s: %v", v4, err)
		}
		if p.SenderIP == v4 && p.TargetIP == v4 {
			if p.SenderHardwareAddr.String() != mac1.String() || p.Operation != arp.OperationRequest {
				t.Errorf("GARP %+v: want request from %s", p, mac1)
			}
			break
		}
	}
	ndpc.SetReadDeadline(deadline)
	for i := 0; ; i++ {
		m, _, _, err := ndpc.ReadFrom()
		if err != nil || i > 100 {
			t.Fatalf("no unsolicited NA for %s: %v", v6, err)
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != v6 {
			continue
		}
		if !na.Override || na.Solicited || len(na.Options) != 1 {
			t.Errorf("NA %+v: want override, unsolicited, one option", na)
		}
		if lla, ok := na.Options[0].(*ndp.LinkLayerAddress); !ok || lla.Addr.String() != mac1.String() {
			t.Errorf("NA option %+v: want target link-layer address %s", na.Options[0], mac1)
		}
		break
	}
}

// TestE2EAnnounceWithoutLinkLocal: on an interface without an IPv6
// link-local address (a VMAC with vmac_xmit_base) the unsolicited NA
// goes out from the address announced, with the interface's MAC.
func TestE2EAnnounceWithoutLinkLocal(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1 := l.Node(1)
	v6 := netip.MustParseAddr("fd77::105")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, args := range [][]string{
		{"link", "add", "link", "eth0", "name", "vm1", "address", "00:00:5e:00:02:05", "type", "macvlan", "mode", "private"},
		{"link", "set", "vm1", "addrgenmode", "none"},
		{"link", "set", "vm1", "up"},
		{"addr", "add", "fd77::105/64", "dev", "vm1", "nodad"},
	} {
		if out, err := n1.Run(ctx, append([]string{"ip"}, args...)...); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	var ndpc *ndp.Conn
	if err := l.Node(2).Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		ndpc, _, err = ndp.Listen(ifi, ndp.LinkLocal)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ndpc.Close() })
	if err := ndpc.JoinGroup(netip.IPv6LinkLocalAllNodes()); err != nil {
		t.Fatal(err)
	}
	a := garp.New("vm1", nil)
	t.Cleanup(func() { a.Close() })
	if err := n1.Do(func() error { return a.Announce([]netip.Addr{v6}) }); err != nil {
		t.Fatal(err)
	}
	ndpc.SetReadDeadline(time.Now().Add(3 * time.Second))
	for i := 0; ; i++ {
		m, _, src, err := ndpc.ReadFrom()
		if err != nil || i > 100 {
			t.Fatalf("no unsolicited NA for %s: %v", v6, err)
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != v6 {
			continue
		}
		if src.WithZone("") != v6 {
			t.Errorf("NA from %s, want from %s (the interface has no link-local address)", src, v6)
		}
		if lla, ok := na.Options[0].(*ndp.LinkLayerAddress); !ok || lla.Addr.String() != "00:00:5e:00:02:05" {
			t.Errorf("NA option %+v: want the VMAC", na.Options[0])
		}
		break
	}
}
