//go:build linux

package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
)

// FailoverSpec describes a failover benchmark.
type FailoverSpec struct {
	Version  int
	Interval time.Duration
	Signal   syscall.Signal // SIGKILL (crash) or SIGTERM (graceful)
	Trials   int
	Seed     uint64
	Log      io.Writer
	// Wait is how long past the protocol's bound a takeover may take
	// before the run fails (default 3 s; a guarded crash failover waits
	// for the etcd lease: give it the ttl more).
	Wait time.Duration
}

var benchVIP = netip.MustParsePrefix("10.77.0.100/24")

const masterPrio, backupPrio = 150, 100

func (s FailoverSpec) conf(prio int) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version %d
    priority %d
    advert_int %g
    virtual_ipaddress {
        %s
    }
}
`, s.Version, prio, s.Interval.Seconds(), benchVIP)
}

func (s FailoverSpec) skew(p int) time.Duration { return time.Duration(256-p) * s.Interval / 256 }

func (s FailoverSpec) masterDown(p int) time.Duration { return 3*s.Interval + s.skew(p) }

// Failover measures, per daemon, the time from signalling the master
// until the backup holds the VIP, over spec.Trials trials. The lab needs
// two nodes.
func Failover(ctx context.Context, l *netlab.Lab, daemons []Daemon, spec FailoverSpec) (*Row, error) {
	kind := "crash (SIGKILL)"
	bound := spec.masterDown(backupPrio)
	if spec.Signal == syscall.SIGTERM {
		kind, bound = "graceful (SIGTERM)", spec.skew(backupPrio)
	}
	row := &Row{Name: fmt.Sprintf("%s failover, v%d, advert %v", kind, spec.Version, spec.Interval), Unit: "ms",
		Bound: ms(bound), Trials: map[string][]float64{}}
	rng := rand.New(rand.NewPCG(spec.Seed, 1))
	m1, err := manager(l.Node(1))
	if err != nil {
		return nil, err
	}
	defer m1.Close()
	m2, err := manager(l.Node(2))
	if err != nil {
		return nil, err
	}
	defer m2.Close()
	v := vip.VIP{Prefix: benchVIP, Dev: "eth0"}
	holds := func(m *vip.Manager) bool { ok, _, err := m.Present(v); return err == nil && ok }
	limit := 3*spec.masterDown(backupPrio) + 3*time.Second + spec.Wait
	wait := spec.Wait
	if wait == 0 {
		wait = 3 * time.Second
	}
	for _, d := range daemons {
		_ = m1.Remove(v)
		_ = m2.Remove(v)
		backup, err := d.Start(l.Node(2), spec.conf(backupPrio))
		if err != nil {
			return nil, err
		}
		for trial := 0; trial < spec.Trials && ctx.Err() == nil; trial++ {
			master, err := d.Start(l.Node(1), spec.conf(masterPrio))
			if err != nil {
				backup.Signal(syscall.SIGKILL)
				return nil, err
			}
			if err := waitFor(ctx, limit, func() bool { return holds(m1) && !holds(m2) }); err != nil {
				master.Signal(syscall.SIGKILL)
				backup.Signal(syscall.SIGKILL)
				return nil, fmt.Errorf("%s: node1 never became the only master: %w", d.Name(), err)
			}
			// Steady adverts, then a signal at a random phase of the interval.
			// The backup must still be a backup at that moment; if it is not
			// (keepalived at startup can take a while to settle), wait again.
			steady := false
			for range 5 {
				time.Sleep(3*spec.Interval + time.Duration(rng.Int64N(int64(spec.Interval))))
				if holds(m1) && !holds(m2) {
					steady = true
					break
				}
				_ = waitFor(ctx, limit, func() bool { return holds(m1) && !holds(m2) })
			}
			if !steady {
				master.Signal(syscall.SIGKILL)
				backup.Signal(syscall.SIGKILL)
				return nil, fmt.Errorf("%s: the cluster never settled with node1 as the only master", d.Name())
			}
			start := time.Now()
			master.Signal(spec.Signal)
			if err := waitFor(ctx, bound+wait, func() bool { return holds(m2) }); err != nil {
				master.Signal(syscall.SIGKILL)
				backup.Signal(syscall.SIGKILL)
				return nil, fmt.Errorf("%s: backup never took over: %w", d.Name(), err)
			}
			took := time.Since(start)
			row.Trials[d.Name()] = append(row.Trials[d.Name()], ms(took))
			if spec.Log != nil {
				fmt.Fprintf(spec.Log, "  %-10s %s trial %d: %v\n", d.Name(), row.Name, trial+1, took.Round(100*time.Microsecond))
			}
			master.Signal(syscall.SIGKILL)
			_ = master.Wait(5 * time.Second)
			_ = m1.Remove(v) // keepalived leaves it behind after SIGKILL; hactl's would expire
		}
		backup.Signal(syscall.SIGTERM)
		_ = backup.Wait(5 * time.Second)
	}
	row.finish()
	return row, ctx.Err()
}

// Resources measures, per daemon, the CPU time (extrapolated to an hour)
// and the peak RSS (summed over its processes) of one node running n
// instances with adverts every interval, alone on its segment.
func Resources(ctx context.Context, l *netlab.Lab, daemons []Daemon, n int, interval, window time.Duration) (cpu, rss *Row, err error) {
	cpu = &Row{Name: fmt.Sprintf("CPU per hour, %d instance(s), advert %v", n, interval), Unit: "s/h", Trials: map[string][]float64{}}
	rss = &Row{Name: fmt.Sprintf("peak RSS, %d instance(s), advert %v", n, interval), Unit: "MB", Trials: map[string][]float64{}}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "vrrp_instance VI_%d {\n    interface eth0\n    virtual_router_id %d\n    version 3\n    priority 100\n    advert_int %g\n    virtual_ipaddress {\n        10.77.1.%d/32\n    }\n}\n", i, i, interval.Seconds(), i)
	}
	for _, d := range daemons {
		run, err := d.Start(l.Node(1), b.String())
		if err != nil {
			return nil, nil, err
		}
		// Warm up past the election, then measure a steady window.
		time.Sleep(4*interval + 2*time.Second)
		before, err := sumTicks(run.PIDs())
		if err != nil {
			run.Signal(syscall.SIGKILL)
			return nil, nil, fmt.Errorf("%s: %w", d.Name(), err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(window):
		}
		after, err := sumTicks(run.PIDs())
		var kb int64
		for _, pid := range run.PIDs() {
			v, perr := peakRSS(pid)
			if perr == nil {
				kb += v
			}
		}
		run.Signal(syscall.SIGTERM)
		_ = run.Wait(5 * time.Second)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", d.Name(), err)
		}
		cpu.Trials[d.Name()] = []float64{float64(after-before) / 100 * float64(time.Hour) / float64(window)}
		rss.Trials[d.Name()] = []float64{float64(kb) / 1024}
	}
	cpu.finish()
	rss.finish()
	return cpu, rss, ctx.Err()
}

func sumTicks(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		t, err := cpuTicks(pid)
		if err != nil {
			return 0, err
		}
		sum += t
	}
	return sum, nil
}

func manager(h *netlab.Host) (*vip.Manager, error) {
	var m *vip.Manager
	err := h.Do(func() (err error) { m, err = vip.New(nil); return err })
	return m, err
}

// waitFor polls cond every millisecond until it holds or limit passes.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cond() {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("not within %v", limit)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WhoOwns times `hactl who-owns` over the nodes of an SSH lab against
// the runbook's sequential `ssh NODE 'ip a'` loop over the same nodes,
// both from the operator namespace, trials times each (alternating).
func WhoOwns(ctx context.Context, l *netlab.Lab, bin string, trials int, log io.Writer) (*Row, error) {
	rival := "ssh loop"
	row := &Row{Name: fmt.Sprintf("who-owns, %d node(s) (rival: sequential ssh 'ip a')", len(l.Nodes)), Unit: "ms",
		Trials: map[string][]float64{}, Rival: rival}
	var loop strings.Builder
	for _, n := range l.Nodes {
		fmt.Fprintf(&loop, "ssh -F %s %s 'ip a' >/dev/null || exit 1\n", l.SSHConfig, n.Name)
	}
	timeIt := func(argv ...string) (time.Duration, error) {
		start := time.Now()
		out, err := l.Operator.Command(ctx, argv...).CombinedOutput()
		d := time.Since(start)
		// who-owns exits 2 here: no node holds the address (no daemons run).
		if err != nil && !strings.Contains(string(out), "no node holds") {
			return d, fmt.Errorf("%v: %w\n%s", argv, err, out)
		}
		return d, nil
	}
	for i := 0; i < trials && ctx.Err() == nil; i++ {
		h, err := timeIt(bin, "who-owns", "10.77.0.100", "--inventory", l.Inventory, "--timeout", "20s")
		if err != nil {
			return nil, err
		}
		s, err := timeIt("sh", "-c", loop.String())
		if err != nil {
			return nil, err
		}
		row.Trials["hactl"] = append(row.Trials["hactl"], ms(h))
		row.Trials[rival] = append(row.Trials[rival], ms(s))
		if log != nil {
			fmt.Fprintf(log, "  who-owns over %d nodes, trial %d: hactl %v, ssh loop %v\n", len(l.Nodes), i+1, h.Round(time.Millisecond), s.Round(time.Millisecond))
		}
	}
	row.finish()
	return row, ctx.Err()
}
