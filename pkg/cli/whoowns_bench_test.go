//go:build linux

package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// BenchmarkWhoOwns32 compares `hactl who-owns` over a 32-node lab (sshd
// only, no daemons) with the runbook's way, a sequential loop of
// `ssh -F ssh_config nodeN 'ip a'` over the same nodes, both run from the
// operator namespace in the same run. It reports both wall times (median
// of 3 rounds each) and their ratio. Run it with:
//
//	go test -run '^$' -bench WhoOwns32 -benchtime 1x ./pkg/cli/
//
// Both sides pay the nodes' login shell start-up per remote command
// (root's ~/.bashrc on this host); hactl runs one remote command per node,
// concurrently, over connections it opens in parallel.
func BenchmarkWhoOwns32(b *testing.B) {
	labtest.Require(b, "ssh")
	bin := buildHactl(b)
	l := labtest.Up(b, netlab.Config{Nodes: 32, SSH: true})
	ctx := context.Background()
	var loop strings.Builder
	for _, n := range l.Nodes {
		fmt.Fprintf(&loop, "ssh -F %s %s 'ip a' >/dev/null || exit 1\n", l.SSHConfig, n.Name)
	}
	timeIt := func(argv ...string) time.Duration {
		start := time.Now()
		out, err := l.Operator.Command(ctx, argv...).CombinedOutput()
		d := time.Since(start)
		// who-owns exits 2: nobody holds the address.
		if err != nil && !strings.Contains(string(out), "no node holds") {
			b.Fatalf("%v: %v\n%s", argv, err, out)
		}
		return d
	}
	median := func(ds []time.Duration) time.Duration {
		for i := range ds {
			for j := i + 1; j < len(ds); j++ {
				if ds[j] < ds[i] {
					ds[i], ds[j] = ds[j], ds[i]
				}
			}
		}
		return ds[len(ds)/2]
	}
	b.ResetTimer()
	var hactl, ssh []time.Duration
	for range 3 {
		hactl = append(hactl, timeIt(bin, "who-owns", "10.77.0.100", "--inventory", l.Inventory))
		ssh = append(ssh, timeIt("sh", "-c", loop.String()))
	}
	b.StopTimer()
	h, s := median(hactl), median(ssh)
	b.ReportMetric(float64(h.Milliseconds()), "whoowns-ms")
	b.ReportMetric(float64(s.Milliseconds()), "ssh-loop-ms")
	b.ReportMetric(float64(s)/float64(h), "speedup-x")
	b.Logf("32 nodes: hactl who-owns %v (rounds %v), sequential ssh 'ip a' loop %v (rounds %v): %.1fx", h, hactl, s, ssh, float64(s)/float64(h))
}
