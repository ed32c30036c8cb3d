//go:build linux

package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// buildHactl builds the binary under test (quick from the build cache).
func buildHactl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hactl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/hactl").CombinedOutput(); err != nil {
		t.Fatalf("building hactl: %v\n%s", err, out)
	}
	return bin
}

// TestE2EWhoOwnsFleet runs the fleet benchmark small (4 nodes, 1 run, both
// shapes) so that it keeps working; the figures are make bench's.
func TestE2EWhoOwnsFleet(t *testing.T) {
	labtest.Require(t, "ssh", "xargs")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 4, SSH: true, CheapShell: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The cheap shell: root's ~/.bashrc (pyenv here) is not read by the
	// nodes' sessions, and the host's file is untouched.
	out, err := l.Operator.Command(ctx, "ssh", "-F", l.SSHConfig, "node1", `echo "rc=$(wc -c < ~/.bashrc) pyenv=$PYENV_ROOT"`).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "rc=0 pyenv=" {
		t.Errorf("node1's login shell: %q, %v: want an empty ~/.bashrc", out, err)
	}
	for _, shape := range []string{ShapePlain, ShapeDaemon} {
		rows, err := WhoOwnsFleet(ctx, l, FleetSpec{Bin: bin, Shape: shape, Runs: 1, Log: testLog{t}})
		if err != nil {
			t.Fatalf("%s: %v", shape, err)
		}
		// Both rivals, in one interleaved run: OpenSSH's default key
		// exchange with the targets, then the like-for-like one.
		if len(rows) != 2 || rows[0].SpeedupTarget == 0 || rows[1].SpeedupTarget != 0 || !strings.Contains(rows[1].Rival, FleetKex) {
			t.Fatalf("%s: rows %+v: want the default-kex row with targets, then the %s row without", shape, rows, FleetKex)
		}
		for _, row := range rows {
			if len(row.Trials["hactl"]) != 1 || len(row.Trials[row.Rival]) != 1 || row.Speedup <= 0 {
				t.Errorf("%s: row %+v: want one trial each and a speedup", shape, row)
			}
		}
	}
}

type testLog struct{ t *testing.T }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
