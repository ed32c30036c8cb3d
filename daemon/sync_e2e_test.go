//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2ESyncGroup: two instances in a vrrp_sync_group move together. A
// fault in one member (track_file, weight 0) faults both on node1, so node2
// takes both VIPs; when it clears, node1 takes both back.
func TestE2ESyncGroup(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	vipA, vipB := netip.MustParsePrefix("10.77.0.100/24"), netip.MustParsePrefix("10.77.0.101/24")
	for i, n := range l.Nodes {
		flag := filepath.Join(n.Dir, "fault")
		write(t, flag, "0\n", 0o644)
		prio := 110 - 10*i
		startDaemon(t, n, fmt.Sprintf(`track_file fault {
    file %s
    weight 0
}
vrrp_sync_group G {
    group {
        VI_A
        VI_B
    }
}
vrrp_instance VI_A {
    interface eth0
    virtual_router_id 70
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
}
vrrp_instance VI_B {
    interface eth0
    virtual_router_id 71
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
    track_file {
        fault
    }
}
`, flag, prio, vipA, prio, vipB))
	}
	ha, hb := newHolders(t, l.Nodes, vipA), newHolders(t, l.Nodes, vipB)
	for _, h := range []*holders{ha, hb} {
		if _, err := h.waitOwner("node1", 3*time.Second); err != nil {
			t.Fatalf("election: %v", err)
		}
	}
	write(t, filepath.Join(l.Node(1).Dir, "fault"), "1\n", 0o644)
	for _, h := range []*holders{ha, hb} {
		if _, err := h.waitOwner("node2", 3*time.Second); err != nil {
			t.Fatalf("after VI_B's fault on node1: %v (VI_A must follow VI_B into FAULT)", err)
		}
	}
	for _, in := range status(t, l.Node(1)).Instances {
		if in.State != api.StateFault {
			t.Errorf("node1 %s: %s, want FAULT", in.Name, in.State)
		}
	}
	write(t, filepath.Join(l.Node(1).Dir, "fault"), "0\n", 0o644)
	for _, h := range []*holders{ha, hb} {
		if _, err := h.waitOwner("node1", 3*time.Second); err != nil {
			t.Fatalf("after the fault cleared: %v", err)
		}
	}
}

// TestE2EVirtualRoutes: virtual_routes come with mastership and go with it.
func TestE2EVirtualRoutes(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n := l.Node(1)
	d := startDaemon(t, n, `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 80
    version 3
    advert_int 0.2
    virtual_ipaddress {
        10.77.0.100/24
    }
    virtual_routes {
        192.0.2.0/24 via 10.77.0.12 src 10.77.0.100
        blackhole 198.51.100.0/24
    }
}
`)
	h := newHolders(t, []*netlab.Host{n}, netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	routes := func() string {
		out, _ := n.Run(context.Background(), "ip", "route")
		return string(out)
	}
	// proto keepalived: the protocol keepalived marks its routes with.
	for _, w := range []string{"192.0.2.0/24 via 10.77.0.12 dev eth0 proto keepalived src 10.77.0.100", "blackhole 198.51.100.0/24 proto keepalived"} {
		if !strings.Contains(routes(), w) {
			t.Errorf("master lacks route %q:\n%s", w, routes())
		}
	}
	d.Stop(3 * time.Second)
	if r := routes(); strings.Contains(r, "192.0.2.0") || strings.Contains(r, "198.51.100.0") {
		t.Errorf("routes left after the daemon stopped:\n%s", r)
	}
}
