//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// addEth1 gives a lab node a second interface, eth1 (a veth whose peer
// stays in the node), up with its carrier.
func addEth1(t *testing.T, n *netlab.Host) {
	t.Helper()
	for _, args := range [][]string{
		{"link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"},
		{"link", "set", "eth1p", "up"},
		{"link", "set", "eth1", "up"},
	} {
		ipIn(t, n, args...)
	}
}

func ipIn(t *testing.T, n *netlab.Host, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := n.Run(ctx, append([]string{"ip"}, args...)...); err != nil {
		t.Fatalf("%s: ip %v: %v %s", n.Name, args, err, out)
	}
}

// vipIfConf is an instance advertising on eth0 with a second VIP on eth1
// (opts are that VIP's options, "no_track" or ""), or, with route set, a
// virtual route through eth1 instead.
func vipIfConf(prio int, vipAddr netip.Prefix, opts string, route bool) string {
	second := "        10.78.0.100/24 dev eth1 " + opts + "\n    }\n"
	if route {
		second = "    }\n    virtual_routes {\n        10.79.0.0/24 dev eth1 " + opts + "\n    }\n"
	}
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 63
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
%s}
`, prio, vipAddr, second)
}

// TestE2EVIPInterfaceTracked is issue 17's acceptance for the interfaces
// of VIPs: a VIP on eth1 while adverts go out on eth0; eth1 down faults the
// instance and the peer takes over; with no_track on that VIP, the master
// stays master. The same for a virtual route's dev.
func TestE2EVIPInterfaceTracked(t *testing.T) {
	labtest.Require(t)
	for _, tc := range []struct {
		name    string
		opts    string
		route   bool
		faulted bool
	}{
		{"tracked", "", false, true},
		{"no_track", "no_track", false, false},
		{"route", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := labtest.Up(t, netlab.Config{Nodes: 2})
			vipAddr := netip.MustParsePrefix("10.77.0.100/24")
			for i, n := range l.Nodes {
				addEth1(t, n)
				startDaemon(t, n, vipIfConf(110-10*i, vipAddr, tc.opts, tc.route))
			}
			h := newHolders(t, l.Nodes, vipAddr)
			if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
				t.Fatalf("election: %v", err)
			}
			n1 := l.Node(1)
			ipIn(t, n1, "link", "set", "eth1", "down")
			if tc.faulted {
				d, err := h.waitOwner("node2", 5*time.Second)
				if err != nil {
					t.Fatalf("after node1's eth1 went down: %v", err)
				}
				t.Logf("eth1 down: node2 took over after %v", d.Round(time.Millisecond))
				in := status(t, n1).Instances[0]
				if in.State != api.StateFault {
					t.Errorf("node1 with eth1 down: %s, want FAULT (trackers %+v)", in.State, in.Trackers)
				}
				ipIn(t, n1, "link", "set", "eth1", "up")
				if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
					t.Fatalf("after eth1 came back: %v", err)
				}
				return
			}
			time.Sleep(time.Second) // five adverts: time to fault, were it tracked
			if owners := h.owners(); len(owners) != 1 || owners[0] != "node1" {
				t.Errorf("no_track VIP's interface down: VIP held by %v, want node1", owners)
			}
			if in := status(t, n1).Instances[0]; in.State != api.StateMaster {
				t.Errorf("node1: %s, want MASTER", in.State)
			}
		})
	}
}

// TestE2EKeepalivedVIPInterface compares with keepalived 2.2.7 on the same
// configuration in a lab node: eth1 down puts its instance in FAULT, and
// with no_track it does not; hactl, on the same node and configuration,
// agrees.
func TestE2EKeepalivedVIPInterface(t *testing.T) {
	labtest.Require(t, "keepalived")
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	fault := regexp.MustCompile(`\(VI_1\) Entering FAULT STATE`)
	for _, tc := range []struct {
		name    string
		opts    string
		faulted bool
	}{
		{"tracked", "", true},
		{"no_track", "no_track", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := labtest.Up(t, netlab.Config{Nodes: 1})
			n := l.Node(1)
			addEth1(t, n)
			conf := vipIfConf(100, vipAddr, tc.opts, false)
			kconf := filepath.Join(n.Dir, "keepalived.conf")
			write(t, kconf, conf, 0o644)
			kp, err := n.Start("keepalived", netlab.KeepalivedArgv(n, kconf)...)
			if err != nil {
				t.Fatal(err)
			}
			h := newHolders(t, l.Nodes, vipAddr)
			if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
				kp.Stop(3 * time.Second)
				b, _ := os.ReadFile(kp.Log)
				t.Fatalf("keepalived alone: %v\n%s", err, lastLines(string(b), 30))
			}
			ipIn(t, n, "link", "set", "eth1", "down")
			var klog []byte
			for i := 0; i < 20; i++ {
				klog, _ = os.ReadFile(kp.Log)
				if fault.Match(klog) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			kp.Stop(3 * time.Second)
			if fault.Match(klog) != tc.faulted {
				t.Errorf("keepalived, eth1 down: FAULT %v, want %v:\n%s", !tc.faulted, tc.faulted, lastLines(string(klog), 20))
			}
			for _, re := range []string{`Netlink reports eth1 down`, `Entering FAULT STATE`} {
				if m := regexp.MustCompile(`.*` + re + `.*`).Find(klog); m != nil {
					t.Logf("keepalived: %s", m)
				}
			}

			ipIn(t, n, "link", "set", "eth1", "up")
			startDaemon(t, n, conf)
			if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
				t.Fatalf("hactl alone: %v", err)
			}
			ipIn(t, n, "link", "set", "eth1", "down")
			want := api.StateMaster
			if tc.faulted {
				want = api.StateFault
			}
			var got api.State
			for i := 0; i < 20; i++ {
				if got = status(t, n).Instances[0].State; got == want && (tc.faulted || i >= 10) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got != want {
				t.Errorf("hactl, eth1 down: %s, want %s as keepalived", got, want)
			}
		})
	}
}
