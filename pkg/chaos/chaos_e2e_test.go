//go:build linux

package chaos_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/chaos"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EChaosShort is the short chaos run of make test: about 40 s of
// faults on a 3-node cluster, 0 violations expected. HACTL_CHAOS_SEED and
// HACTL_CHAOS_DURATION change it; make chaos runs the long one.
func TestE2EChaosShort(t *testing.T) {
	labtest.Require(t, "nft")
	seed := uint64(1)
	if s := os.Getenv("HACTL_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	dur := 40 * time.Second
	if s := os.Getenv("HACTL_CHAOS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	bin := filepath.Join(t.TempDir(), "hactl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/hactl").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	log := &testLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()
	rep, err := chaos.Run(ctx, chaos.Config{Lab: l, Bin: bin, Duration: dur, Seed: seed, Log: log})
	if rep != nil {
		t.Log(rep.String())
	}
	if err != nil {
		t.Fatalf("%v (replay: HACTL_CHAOS_SEED=%d go test -run TestE2EChaosShort ./pkg/chaos)", err, seed)
	}
	if len(rep.Violations) > 0 {
		t.Errorf("%d violations (replay: HACTL_CHAOS_SEED=%d go test -run TestE2EChaosShort ./pkg/chaos):\n%v", len(rep.Violations), seed, rep.Violations)
	}
	if rep.Injected < 5 {
		t.Errorf("only %d faults injected", rep.Injected)
	}
}

type testLog struct{ t *testing.T }

func (w *testLog) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}
