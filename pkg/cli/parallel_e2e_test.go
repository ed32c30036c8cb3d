//go:build linux

package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EParallelOneConnection is issue 18's point 2 on real sshd: with
// --parallel 1 (one node at a time) and the default, who-owns and status
// give the same answers, and every command opens exactly one SSH
// connection per node (sshd logs one "Accepted publickey" line per connection), the
// probe and the control-socket call sharing it. The nodes are bare (no
// daemon): the probe path, which still answers.
func TestE2EParallelOneConnection(t *testing.T) {
	labtest.Require(t)
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	e := &e2eOp{t: t, l: l, bin: bin}
	if _, err := l.Node(2).Run(context.Background(), "ip", "addr", "add", "10.77.0.100/32", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	logOf := func(i int) string {
		b, err := os.ReadFile(filepath.Join(l.Node(i).Dir, "sshd.log"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var whoOwns string
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"WhoOwnsParallel1", []string{"who-owns", "10.77.0.100", "--parallel", "1"}, 0},
		{"WhoOwnsDefault", []string{"who-owns", "10.77.0.100"}, 0},
		{"StatusParallel1", []string{"status", "--parallel", "1"}, 0},
		{"StatusJSONParallel2", []string{"status", "-o", "json", "--parallel", "2"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			marks := []int{0, len(logOf(1)), len(logOf(2)), len(logOf(3))}
			r := e.hactl(tc.args...)
			r.want(t, tc.code, nil, nil)
			if r.stderr != "" {
				t.Errorf("stderr on a pipe: %q (the progress line must stay off)", r.stderr)
			}
			if tc.args[0] == "who-owns" {
				if row := lineOf(r.out, "node2"); !strings.Contains(row, "10.77.0.100/32 on eth0") {
					t.Errorf("node2 row: %q", row)
				}
				if whoOwns == "" {
					whoOwns = r.out
				} else if r.out != whoOwns {
					t.Errorf("output differs with --parallel:\n%s\nwant\n%s", r.out, whoOwns)
				}
			}
			for i := 1; i <= 3; i++ {
				got := logOf(i)[marks[i]:]
				if n := strings.Count(got, "Accepted publickey "); n != 1 {
					t.Errorf("node%d: %d SSH connections for one command, want 1:\n%s", i, n, tail(got, 30))
				}
			}
		})
	}
	t.Run("ParallelZeroRefused", func(t *testing.T) {
		e.t = t
		e.hactl("who-owns", "10.77.0.100", "--parallel", "0").want(t, 1, nil, []string{"invalid --parallel 0: want at least 1"})
	})
}
