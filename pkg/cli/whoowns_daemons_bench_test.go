//go:build linux

package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// BenchmarkWhoOwnsDaemons3 times `hactl who-owns` on a 3-node lab whose
// nodes all run hactl daemons (the demo lab's size): 15 runs, reporting
// the median and the fastest. HACTL_BENCH_BIN names the hactl binary to
// use for both the daemons and the command (to compare builds); by
// default the tree's. Run it with:
//
//	go test -run '^$' -bench WhoOwnsDaemons3 -benchtime 1x ./pkg/cli/
func BenchmarkWhoOwnsDaemons3(b *testing.B) {
	labtest.Require(b, "ssh")
	bin := os.Getenv("HACTL_BENCH_BIN")
	if bin == "" {
		bin = buildHactl(b)
	}
	l := labtest.Up(b, netlab.Config{Nodes: 3, SSH: true})
	for i, n := range l.Nodes {
		conf := filepath.Join(n.Dir, "hactl.conf")
		if err := os.WriteFile(conf, []byte(vrrpConf(100+10*i)), 0o644); err != nil {
			b.Fatal(err)
		}
		p, err := n.Start("daemon", bin, "daemon", "-f", conf, "--state-file", filepath.Join(n.Dir, "state"),
			"--socket", n.Socket(), "--pid-file", filepath.Join(n.Dir, "hactl.pid"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.Stop(3 * time.Second) })
	}
	ctx := context.Background()
	run := func() (time.Duration, string) {
		start := time.Now()
		out, _ := l.Operator.Command(ctx, bin, "who-owns", "10.77.0.100", "--inventory", l.Inventory).CombinedOutput()
		return time.Since(start), string(out)
	}
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, out := run(); strings.Contains(out, "owner: node3") {
			break
		} else if time.Now().After(end) {
			b.Fatalf("no owner after 20s:\n%s", out)
		}
	}
	b.ResetTimer()
	var ds []time.Duration
	for range 15 {
		d, out := run()
		if !strings.Contains(out, "owner: node3") {
			b.Fatalf("who-owns:\n%s", out)
		}
		ds = append(ds, d)
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(ds[0].Microseconds())/1000, "min-ms")
	b.Logf("who-owns on 3 daemon nodes, 15 runs: median %v, min %v, max %v", ds[len(ds)/2], ds[0], ds[len(ds)-1])
}
