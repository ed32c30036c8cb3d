//go:build linux

package bench

import (
	"context"
	"os"
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

// TestE2EWhoOwnsScaleSocketOnly: over in-process nodes whose daemon
// answers (interfaces included), who-owns runs no remote command at all,
// one socket channel per node; over plain nodes one probe command per
// node, and the socket is tried once.
func TestE2EWhoOwnsScaleSocketOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	bin := buildHactl(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, daemons := range []bool{true, false} {
		dir, err := os.MkdirTemp("", "hactl-bench-fleet-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		f, err := StartSSHFleet(dir, 4, daemons)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		r, err := f.WhoOwns(ctx, bin, "")
		if err != nil {
			t.Fatalf("daemons=%v: %v", daemons, err)
		}
		wantExecs := int64(0)
		if !daemons {
			wantExecs = 4
		}
		if r.Execs != wantExecs || r.Streams != 4 {
			t.Errorf("daemons=%v: %d remote commands and %d socket channels over 4 nodes, want %d and 4", daemons, r.Execs, r.Streams, wantExecs)
		}
	}
}
