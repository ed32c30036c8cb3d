//go:build linux

package track

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"golang.org/x/sys/unix"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		in   string
		want Proc
		ok   bool
	}{
		{"12 (sleep) S 1 12 12 0 -1", Proc{Comm: "sleep", PPID: 1}, true},
		{"13 (a b) c)) Z 7 13", Proc{Comm: "a b) c)", PPID: 7, Zombie: true}, true},
		{"14 (x", Proc{}, false},
		{"15 (x) S", Proc{}, false},
	}
	for _, tt := range tests {
		got, ok := parseStat([]byte(tt.in))
		if ok != tt.ok || (ok && (got.Comm != tt.want.Comm || got.PPID != tt.want.PPID || got.Zombie != tt.want.Zombie)) {
			t.Errorf("parseStat(%q) = %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// distinctSleep copies sleep under a name of its own (its comm) and
// returns a function that starts it with args; the process is killed and
// reaped at cleanup.
func distinctSleep(t *testing.T) (name string, start func(args ...string) *exec.Cmd) {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	name = fmt.Sprintf("hsl%d", os.Getpid()%1000000)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return name, func(args ...string) *exec.Cmd {
		c := exec.Command(path, args...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
}

func kill(c *exec.Cmd) {
	c.Process.Kill()
	c.Wait()
}

func processConfig(specs ...*config.TrackProcess) *config.Config {
	in := &config.Instance{Name: "VI_1", Priority: 100}
	for _, s := range specs {
		in.TrackProcesses = append(in.TrackProcesses, config.TrackRef{Name: s.Name})
	}
	return &config.Config{TrackProcesses: specs, Instances: []*config.Instance{in}}
}

// testProcessTracking runs a Monitor on a comm tracker and a full command
// tracker with parameters: a process started is counted, killed is not.
func testProcessTracking(t *testing.T, opts Options, wantMode string) {
	name, start := distinctSleep(t)
	byComm := &config.TrackProcess{Name: "comm", Process: name, Quorum: 1, QuorumMax: config.QuorumMaxUnlimited}
	byArgs := &config.TrackProcess{Name: "args", Process: "", FullCommand: true, ParamMatch: config.ParamMatchPartial,
		Params: []string{"1000"}, Quorum: 1, QuorumMax: config.QuorumMaxUnlimited}
	cfg := processConfig(byComm, byArgs)
	opts.Logger = testLogger(t)
	// The command line's first word is the path the test runs.
	c0 := start("999")
	byArgs.Process = c0.Path
	kill(c0)
	m, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if got := m.ProcessMode(); got != wantMode {
		t.Fatalf("ProcessMode = %q, want %q", got, wantMode)
	}
	kc, ka := Key{KindProcess, "comm"}, Key{KindProcess, "args"}
	if m.State(kc).Status != StatusFailed || m.State(ka).Status != StatusFailed {
		t.Fatalf("nothing running: %+v %+v", m.State(kc), m.State(ka))
	}
	refs := InstanceRefs(cfg, cfg.Instances[0])
	other := start("999") // comm matches, parameters do not
	waitEvent(t, m, kc, StatusOK, 3*time.Second)
	if p := m.Effective(100, refs); !p.Fault {
		t.Errorf("args tracker down: %+v, want a fault", p)
	}
	c := start("1000", "1")
	began := time.Now()
	waitEvent(t, m, ka, StatusOK, 3*time.Second)
	t.Logf("%s: start seen after %v", wantMode, time.Since(began).Round(time.Millisecond))
	if p := m.Effective(100, refs); p.Fault {
		t.Errorf("both up: %+v", p)
	}
	kill(c)
	began = time.Now()
	waitEvent(t, m, ka, StatusFailed, 3*time.Second)
	t.Logf("%s: exit seen after %v", wantMode, time.Since(began).Round(time.Millisecond))
	kill(other)
	waitEvent(t, m, kc, StatusFailed, 3*time.Second)
}

// The /proc scanner, as in a network namespace.
func TestMonitorProcessScan(t *testing.T) {
	testProcessTracking(t, Options{ProcScanOnly: true, ProcScan: 50 * time.Millisecond}, "scanning /proc")
}

// The kernel's process-event connector, in the test's own network
// namespace: it answers only in the initial one.
func TestMonitorProcessEvents(t *testing.T) {
	c, err := openProcConnector(procAckWait)
	if err != nil {
		t.Skipf("the process-event connector does not answer here (not the initial network namespace, not root, or no CONFIG_PROC_EVENTS): %v", err)
	}
	c.close()
	testProcessTracking(t, Options{}, "process events")
}

// In a network namespace of its own, the connector refuses to listen with
// ECONNREFUSED, as keepalived 2.2.7 reports ("Failed to set/clear process
// event listen - errno 111 - Connection refused"), and the Monitor scans
// /proc instead.
func TestE2EProcessConnectorInNamespace(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	var err error
	if derr := l.Node(1).Do(func() error {
		var c *procConn
		c, err = openProcConnector(procAckWait)
		if c != nil {
			c.close()
		}
		return nil
	}); derr != nil {
		t.Fatal(derr)
	}
	if !errors.Is(err, unix.ECONNREFUSED) || !errors.Is(err, errNoProcEvents) {
		t.Fatalf("connector in a namespace: %v, want ECONNREFUSED", err)
	}
	t.Logf("in a lab namespace: %v", err)
	name, start := distinctSleep(t)
	cfg := processConfig(&config.TrackProcess{Name: "p", Process: name, Quorum: 1, QuorumMax: config.QuorumMaxUnlimited})
	m, err := New(cfg, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Node(1).Do(func() error { return m.Start(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if got := m.ProcessMode(); got != "scanning /proc" {
		t.Fatalf("ProcessMode in a namespace = %q", got)
	}
	c := start("1000")
	waitEvent(t, m, Key{KindProcess, "p"}, StatusOK, 3*time.Second)
	kill(c)
	waitEvent(t, m, Key{KindProcess, "p"}, StatusFailed, 3*time.Second)
}

// BenchmarkProcScan is the cost of one /proc scan (stat of every process;
// with full_command, its command line too), the fallback's price per
// period.
func BenchmarkProcScan(b *testing.B) {
	for _, cmdline := range []bool{false, true} {
		b.Run(fmt.Sprintf("cmdline=%v", cmdline), func(b *testing.B) {
			r := &procReader{cmdline: cmdline, cmdMax: 4096}
			n := 0
			for b.Loop() {
				procs, err := r.readAll()
				if err != nil {
					b.Fatal(err)
				}
				n = len(procs)
			}
			b.ReportMetric(float64(n), "procs")
		})
	}
}

func TestScanPause(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct{ every, took, want time.Duration }{
		{200 * ms, ms, 200 * ms},
		{200 * ms, 20 * ms, 400 * ms},
		{200 * ms, time.Second, 2 * time.Second},
		{5 * time.Second, time.Second, 5 * time.Second},
	} {
		if got := scanPause(tt.every, tt.took); got != tt.want {
			t.Errorf("scanPause(%v, %v) = %v, want %v", tt.every, tt.took, got, tt.want)
		}
	}
}
