//go:build linux

package garp_test

import (
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
