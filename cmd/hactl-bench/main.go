//go:build linux

// Command hactl-bench measures hactl against keepalived 2.2.7 in one run:
// crash and graceful failover (VRRPv2 at 1 s, VRRPv3 at 0.1 s), a planned
// failover under 1 ms probes (hactl failover --to against the runbook's
// restart of the master), the two-owner time during a 5 s VRRP-only
// partition (keepalived, hactl, and hactl with the etcd guard on 3 etcd
// members) and crash failover with the guard, who-owns against an ssh loop
// and against xargs -P 32 ssh on 32 nodes (plain and with daemons), who-owns over an in-process SSH fleet
// of 16 to 256 nodes (time and peak RSS), and CPU
// time and peak RSS with 1 and 100 instances at 0.1 s adverts. It prints
// a table of medians beside the protocol bounds and the hactl/keepalived
// ratio, and writes the same as JSON. `make bench` runs it (root).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/bench"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
)

func main() {
	trials := flag.Int("trials", 10, "trials per failover row")
	window := flag.Duration("window", 20*time.Second, "CPU measuring window per daemon")
	bin := flag.String("hactl", "./hactl", "hactl binary")
	jsonOut := flag.String("json", "bench-results.json", "write the results as JSON here")
	quick := flag.Bool("quick", false, "3 trials and a 5 s window (a smoke run)")
	verbose := flag.Bool("v", false, "print every trial")
	only := flag.String("only", "failover,partition,planned,whoowns,fleet,scale,resources", "which groups of rows to measure")
	flag.IntVar(&fleet.nodes, "fleet-nodes", 32, "lab nodes of the who-owns fleet rows (group fleet)")
	flag.IntVar(&fleet.runs, "fleet-runs", 7, "timed runs of each side per fleet row (group fleet)")
	flag.StringVar(&fleet.kex, "fleet-kex", "both", "the fleet rows' rival ssh: default (OpenSSH's own key exchange, as a runbook runs it), same (held to hactl's curve25519-sha256) or both, interleaved in one run")
	flag.BoolFunc("fleet-default-kex", "the same as -fleet-kex default (older spelling)", func(string) error { fleet.kex = "default"; return nil })
	flag.StringVar(&fleet.scale, "scale", "16,32,64,128,256", "fleet sizes of the in-process SSH fleet (group scale)")
	flag.StringVar(&fleet.parallel, "parallel", "", "hactl who-owns --parallel for the scale rows (\"\": hactl's default)")
	flag.Parse()
	if *quick {
		*trials, *window = 3, 5*time.Second
		fleet.runs = 3
	}
	if err := run(*trials, *window, *bin, *jsonOut, *verbose, *only); err != nil {
		fmt.Fprintln(os.Stderr, "hactl-bench:", err)
		os.Exit(1)
	}
}

func run(trials int, window time.Duration, bin, jsonOut string, verbose bool, only string) error {
	want := func(group string) bool { return strings.Contains(","+only+",", ","+group+",") }
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	daemons := []bench.Daemon{bench.Hactl{Bin: abs}, bench.Keepalived{}}
	rep := &bench.Report{Machine: machine(), Started: time.Now().UTC().Format(time.RFC3339)}
	started := time.Now()

	// The partition group's guarded rows run an etcd cluster on nodes
	// 3-5 (idle namespaces for the other rows, which use nodes 1 and 2).
	labNodes := 2
	if want("partition") {
		labNodes = 5
	}
	l, err := netlab.Up(ctx, netlab.Config{Name: "bench", Nodes: labNodes})
	if err != nil {
		return err
	}
	defer func() { l.Down() }() // l is replaced below
	var log *os.File
	if verbose {
		log = os.Stderr
	}
	for _, spec := range []bench.FailoverSpec{
		{Version: 2, Interval: time.Second, Signal: syscall.SIGKILL},
		{Version: 3, Interval: 100 * time.Millisecond, Signal: syscall.SIGKILL},
		{Version: 2, Interval: time.Second, Signal: syscall.SIGTERM},
		{Version: 3, Interval: 100 * time.Millisecond, Signal: syscall.SIGTERM},
	} {
		if !want("failover") {
			break
		}
		spec.Trials, spec.Seed = trials, 1
		if log != nil {
			spec.Log = log
		}
		fmt.Fprintf(os.Stderr, "measuring %v failover, v%d at %v (%d trials each)...\n", spec.Signal, spec.Version, spec.Interval, trials)
		row, err := bench.Failover(ctx, l, daemons, spec)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, row)
	}
	if want("partition") {
		rows, err := partitionRows(ctx, l, daemons, abs, trials, spec(log))
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	l.Down()
	if want("planned") {
		fmt.Fprintf(os.Stderr, "measuring planned failover with 1 ms probes (hactl failover --to node2 and --clear; keepalived: restart of the master) (%d trials each)...\n", trials)
		rows, err := func() ([]*bench.Row, error) {
			pl, err := netlab.Up(ctx, netlab.Config{Name: "benchplan", Nodes: 2, SSH: true})
			if err != nil {
				return nil, err
			}
			defer pl.Down()
			return bench.Planned(ctx, pl, daemons, bench.PlannedSpec{Bin: abs, Trials: trials, Seed: 1, Log: spec(log)})
		}()
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	for _, n := range []int{1, 8, 32} {
		if !want("whoowns") {
			break
		}
		fmt.Fprintf(os.Stderr, "measuring who-owns over %d node(s) against a sequential ssh loop...\n", n)
		sl, err := netlab.Up(ctx, netlab.Config{Name: "benchssh", Nodes: n, SSH: true})
		if err != nil {
			return err
		}
		row, err := bench.WhoOwns(ctx, sl, abs, min(trials, 5), spec(log))
		sl.Down()
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, row)
	}
	if want("fleet") {
		rows, err := fleetRows(ctx, abs, spec(log))
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	if want("scale") {
		rows, err := scaleRows(ctx, abs, spec(log))
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	if l, err = netlab.Up(ctx, netlab.Config{Name: "bench", Nodes: 1}); err != nil {
		return err
	}
	for _, n := range []int{1, 100} {
		if !want("resources") {
			break
		}
		fmt.Fprintf(os.Stderr, "measuring CPU and memory with %d instance(s) (%v each)...\n", n, window)
		cpu, rss, err := bench.Resources(ctx, l, daemons, n, 100*time.Millisecond, window)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, cpu, rss)
	}
	fmt.Println()
	rep.WriteTable(os.Stdout)
	fmt.Printf("\ntook %v; JSON in %s\n", time.Since(started).Round(time.Second), jsonOut)
	b, err := rep.JSON()
	if err != nil {
		return err
	}
	return os.WriteFile(jsonOut, b, 0o644)
}

// spec turns an optional log file into a writer for the benchmarks.
func spec(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	var uts syscall.Utsname
	kernel := ""
	if syscall.Uname(&uts) == nil {
		for _, c := range uts.Release {
			if c == 0 {
				break
			}
			kernel += string(rune(c))
		}
	}
	return fmt.Sprintf("%s, %d CPUs, Linux %s, %s", cpu, runtime.NumCPU(), kernel, runtime.Version())
}

// guardTTL is the etcd guard's ttl in the guarded rows (issue 19: ttl 2).
const guardTTL = 2

// partitionRows measures the two-owner time during a 5 s VRRP-only
// partition for keepalived, hactl and hactl with the etcd guard (3 etcd
// members on nodes 3-5), and the crash failover with the guard beside
// hactl's unguarded one at the same advert.
func partitionRows(ctx context.Context, l *netlab.Lab, daemons []bench.Daemon, bin string, trials int, log io.Writer) ([]*bench.Row, error) {
	dir, err := os.MkdirTemp("", "hactl-bench-etcd")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "starting 3 etcd members on nodes 3-5 for the guarded rows...\n")
	etcd, err := etcdlab.Start(ctx, []*netlab.Host{l.Node(3), l.Node(4), l.Node(5)}, etcdlab.Options{DataRoot: dir})
	if err != nil {
		return nil, err
	}
	defer etcd.Close()
	guarded := bench.GuardedHactl{Bin: bin, Etcd: etcd, TTL: guardTTL}
	n := min(trials, 5)
	fmt.Fprintf(os.Stderr, "measuring two-owner time during a 5 s VRRP-only partition, v3 at 100ms, keepalived, hactl and hactl with the etcd guard (%d trials each)...\n", n)
	row, err := bench.Partition(ctx, l, append(append([]bench.Daemon{}, daemons...), guarded), bench.PartitionSpec{Version: 3, Interval: 100 * time.Millisecond,
		Partition: 5 * time.Second, Sample: 5 * time.Millisecond, Trials: n, Log: log})
	if err != nil {
		return nil, err
	}
	g := row.Versus(row.Name+", hactl with the etcd guard (ttl 2)", bench.GuardedName, "keepalived", 0)
	rows := []*bench.Row{row.Without(bench.GuardedName), g}
	fmt.Fprintf(os.Stderr, "measuring crash (SIGKILL) failover with the etcd guard (ttl %d) beside hactl without it, v3 at 100ms (%d trials each)...\n", guardTTL, trials)
	crash, err := bench.Failover(ctx, l, []bench.Daemon{daemons[0], guarded}, bench.FailoverSpec{Version: 3, Interval: 100 * time.Millisecond,
		Signal: syscall.SIGKILL, Trials: trials, Seed: 1, Log: log, Wait: guardTTL*time.Second + 3*time.Second})
	if err != nil {
		return nil, err
	}
	// Bound: issue 19's ttl + 2 s for a SIGKILLed guarded master.
	rows = append(rows, crash.Versus(fmt.Sprintf("crash (SIGKILL) failover with the etcd guard (ttl %d), v3, advert 100ms", guardTTL),
		bench.GuardedName, "hactl", float64(guardTTL*1000+2000)))
	return rows, nil
}
