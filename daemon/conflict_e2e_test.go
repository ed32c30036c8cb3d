//go:build linux

package daemon_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EConflictLoggedOncePerSource: two routers advertise VRID 60 with
// different VIPs. Each daemon logs the conflict once per source, not per
// packet, and counts it in /v1/status.
func TestE2EConflictLoggedOncePerSource(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	procs := map[string]*daemonProc{}
	for i, n := range l.Nodes {
		procs[n.Name] = startDaemon(t, n, fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        10.77.0.%d/24
    }
}
`, 110-10*i, 100+i))
	}
	// node1 (110) becomes master and advertises 10.77.0.100 every 0.2 s;
	// node2 hears it though it expects 10.77.0.101.
	time.Sleep(3 * time.Second)
	in := status(t, l.Node(2)).Instances[0]
	if len(in.Conflicts) != 1 || in.Conflicts[0].Source != l.Node(1).Addr4.String() || in.ConflictCounts["vips"] < 5 {
		t.Fatalf("node2 conflicts %+v counts %v; want node1 as the one source, counted per packet", in.Conflicts, in.ConflictCounts)
	}
	t.Logf("node2 saw %d conflicting adverts from %s (%v)", in.Conflicts[0].Packets, in.Conflicts[0].Source, in.Conflicts[0].Differences)
	b, _ := os.ReadFile(procs["node2"].Log)
	if n := strings.Count(string(b), "VRID conflict"); n != 1 {
		t.Errorf("node2 logged the conflict %d times, want once:\n%s", n, lastLines(string(b), 20))
	}
	if !strings.Contains(string(b), "source="+l.Node(1).Addr4.String()) || !strings.Contains(string(b), "differs_in=VIPs") {
		t.Errorf("the log line does not name the source and the difference:\n%s", lastLines(string(b), 20))
	}
}
