//go:build linux

package bench

import (
	"context"
	"testing"
	"time"
)

// TestE2EWhoOwnsScale runs the scale harness small (4 in-process SSH
// nodes, plain and with daemons, 1 run, with the xargs ssh rival) so that
// it keeps working: hactl finds node1 the one owner, OpenSSH's client the
// VIP on node1 alone, and the rows carry a time, a CPU time and a peak
// RSS. The figures are make bench's.
func TestE2EWhoOwnsScale(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bin := buildHactl(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, plain := range []bool{true, false} {
		rows, err := Scale(ctx, ScaleSpec{Bin: bin, Sizes: []int{4}, Runs: 1, Plain: plain, Rival: true, Log: testLog{t}})
		if err != nil {
			t.Fatalf("plain=%v: %v", plain, err)
		}
		if len(rows) != 3 {
			t.Fatalf("plain=%v: %d rows, want 3 (time, CPU, peak RSS)", plain, len(rows))
		}
		for _, r := range rows {
			if len(r.Trials["hactl"]) != 1 || r.Median["hactl"] <= 0 {
				t.Errorf("plain=%v: row %q: trials %v: want one figure above 0", plain, r.Name, r.Trials["hactl"])
			}
			if r.Unit != "MB" && len(r.Trials[r.Rival]) != 1 {
				t.Errorf("plain=%v: row %q: rival %q trials %v: want one", plain, r.Name, r.Rival, r.Trials[r.Rival])
			}
		}
	}
}
