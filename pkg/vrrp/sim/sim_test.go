package sim

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	flagSeed  = flag.Int64("seed", -1, "run only this seed of TestSim, with a full trace")
	flagSeeds = flag.Int("seeds", 20000, "number of seeds TestSim runs")
	flagFirst = flag.Uint64("first-seed", 1, "first seed of TestSim")
)

// TestSim runs many seeded random runs in parallel shards. A failing seed is
// re-run with tracing (the runs are deterministic) and reported with the
// command that reproduces it.
func TestSim(t *testing.T) {
	if *flagSeed >= 0 {
		r := RandomRun(uint64(*flagSeed), true)
		t.Logf("seed %d: %s\n%s", r.Seed, r.Setup, r.Trace)
		if r.Violation != nil {
			t.Fatalf("seed %d: %v", r.Seed, r.Violation)
		}
		return
	}
	seeds := *flagSeeds
	if testing.Short() {
		seeds /= 10
	}
	shards := runtime.GOMAXPROCS(0)
	var next atomic.Uint64
	var events atomic.Int64
	var mu sync.Mutex
	var failed []Result
	t.Run("shards", func(t *testing.T) {
		for sh := range shards {
			t.Run(fmt.Sprint(sh), func(t *testing.T) {
				t.Parallel()
				for {
					k := next.Add(1) - 1
					if k >= uint64(seeds) {
						return
					}
					r := RandomRun(*flagFirst+k, false)
					events.Add(int64(r.Events))
					if r.Violation != nil {
						mu.Lock()
						failed = append(failed, r)
						mu.Unlock()
					}
				}
			})
		}
	})
	t.Logf("%d seeds, %d events", seeds, events.Load())
	for i, r := range failed {
		if i == 3 {
			t.Errorf("... and %d more failing seeds", len(failed)-3)
			break
		}
		tr := RandomRun(r.Seed, true)
		t.Errorf("seed %d failed: %v\nsetup: %s\nreproduce: go test ./pkg/vrrp/sim -run 'TestSim$' -seed=%d -v\ntrace:\n%s",
			r.Seed, r.Violation, r.Setup, r.Seed, tail(tr.Trace, 60))
	}
}

// tail keeps the last n lines of a trace: the violation is at the end.
func tail(s string, n int) string {
	lines := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			lines++
			if lines > n {
				return "...\n" + s[i+1:]
			}
		}
	}
	return s
}
