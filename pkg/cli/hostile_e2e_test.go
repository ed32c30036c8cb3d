//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api/apitest"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// hostileTimeout is --timeout in the hostile-node tests: each node's whole
// answer must come within it (plus hostileMargin). Short enough for a quick
// test, long enough for root's slow ~/.bashrc on a loaded host. The margin
// covers hactl's own start and exit, which the wall clock of the run
// includes: 10-40 ms on an idle machine (runs take 4.01-4.04 s), but once
// 3 s while the daemon package's 10k-packet floods shared the 2 cores. The
// old code took 3 x the timeout (12 s), well outside it.
const (
	hostileTimeout = 4 * time.Second
	hostileMargin  = 3500 * time.Millisecond
)

// measuredRun is one hactl run with its exit code, duration and peak RSS.
type measuredRun struct {
	runResult
	took    time.Duration
	maxRSS  int64 // bytes, from the child's rusage
	command string
}

// runMeasured runs hactl in h's namespace (ip netns exec execs it: the
// child's rusage is hactl's own, or ip's, which is smaller).
func runMeasured(t *testing.T, h *netlab.Host, bin string, args ...string) measuredRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := h.Command(ctx, append([]string{bin}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := measuredRun{runResult: runResult{out: out.String(), stderr: errb.String()}, took: time.Since(start), command: strings.Join(args, " ")}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hactl %v: %v", args, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	t.Logf("hactl %s: exit %d in %v, peak RSS %.1f MB\n%s%s", r.command, r.code, r.took.Round(time.Millisecond), float64(r.maxRSS)/1e6, r.out, r.stderr)
	return r
}

// hostileBin is the hactl under test; HACTL_E2E_BIN runs another build
// (an older commit, to measure what these tests guard against).
func hostileBin(t *testing.T) string {
	if b := os.Getenv("HACTL_E2E_BIN"); b != "" {
		return b
	}
	return buildHactl(t)
}

// TestE2EHostileNode is issue 20's item 5 against real sshd: a node whose
// every command prints without end (ForceCommand yes), and a control socket
// that accepts and never answers, streams forever, answers garbage, or
// answers 503 as a daemon whose loop is stuck. Each makes its node an
// error (exit 4) named on stderr, within --timeout and a second, and the
// endless printer costs hactl less than 100 MB. Before the fix, who-owns
// grew by hundreds of MB a second for three times the timeout, and each
// socket fault was a node that "runs no VRRP daemon", exit 0.
func TestE2EHostileNode(t *testing.T) {
	bin := hostileBin(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2, SSH: true, SSHDExtra: map[string]string{"node2": "ForceCommand yes"}})
	timeout := "--timeout=" + hostileTimeout.String()
	within := func(t *testing.T, r measuredRun) {
		t.Helper()
		if r.took > hostileTimeout+hostileMargin {
			t.Errorf("hactl %s took %v, want at most --timeout %v and %v", r.command, r.took, hostileTimeout, hostileMargin)
		}
	}

	t.Run("EndlessPrinter", func(t *testing.T) {
		r := runMeasured(t, l.Operator, bin, "who-owns", "10.77.0.100", "--inventory", l.Inventory, timeout)
		r.want(t, 4, []string{"node2   ?", "node2 could not be asked; no other node holds 10.77.0.100"},
			[]string{"hactl: node2: probe (ip -j addr show; keepalived): printed more than 4 MiB on stdout; stopped"})
		within(t, r)
		if r.maxRSS == 0 || r.maxRSS > 100e6 {
			t.Errorf("hactl who-owns peak RSS %d bytes, want (0, 100 MB]", r.maxRSS)
		}
	})

	faults := []struct {
		name  string
		serve func(c net.Conn)
		want  string
	}{
		{"NeverAnswers", func(c net.Conn) { io.Copy(io.Discard, c) }, "no answer within " + hostileTimeout.String()},
		{"StreamsForever", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"daemon\":{\"name\":\"")
			chunk := []byte(strings.Repeat("x", 64<<10))
			for i := 0; i < 1<<14; i++ { // 1 GiB at most
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}, "GET /v1/status: bad answer: larger than 4 MiB"},
		// net/http words garbage two ways, depending on whether it arrives
		// while the request is still being written: "transport connection
		// broken: malformed HTTP response" or "malformed HTTP status code".
		{"Garbage", func(c net.Conn) { io.WriteString(c, "\x00\x01garbage\r\n\r\n") }, "malformed HTTP"},
		{"Unavailable503", func(c net.Conn) {
			body := `{"status":503,"code":"unavailable","error":"the VRRP loop has not answered for 2s"}`
			io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
		}, "the daemon answers with an error: the VRRP loop has not answered for 2s (503 unavailable)"},
	}
	n1 := l.Node(1)
	for _, f := range faults {
		t.Run("Socket"+f.name, func(t *testing.T) {
			// The socket lives in the node's directory: this process can
			// listen there, and the node's sshd connects to it by path.
			listenFaulty(t, n1.Socket(), f.serve)
			want := []string{"hactl: node1: control socket " + n1.Socket() + ": ", f.want}
			r := runMeasured(t, l.Operator, bin, "who-owns", "10.77.0.100", "--inventory", l.Inventory, "--nodes", "node1", timeout)
			r.want(t, 4, []string{"node1   ?", "node1 could not be asked"}, want)
			within(t, r)
			r = runMeasured(t, l.Operator, bin, "status", "--inventory", l.Inventory, "--nodes", "node1", timeout)
			r.want(t, 4, nil, want)
			wantRow(t, r.out, "node1", "?", "-", "unreachable")
			within(t, r)
			// --local, from inside the node, goes the same way.
			r = runMeasured(t, n1, bin, "who-owns", "10.77.0.100", "--local", "--socket", n1.Socket(), timeout)
			r.want(t, 4, nil, []string{"control socket " + n1.Socket() + ": ", f.want})
			within(t, r)
		})
	}
}

// listenFaulty serves every connection on the unix socket at path with
// serve, after reading its request; t.Cleanup closes all and removes it.
func listenFaulty(t *testing.T, path string, serve func(c net.Conn)) {
	t.Helper()
	apitest.Serve(t, path, true, serve)
}
