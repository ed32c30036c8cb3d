package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/vrrp"
)

// Config bounds a chaos run.
type Config struct {
	// Lab is the lab to use; it must have at least 2 nodes and run no
	// daemon yet.
	Lab *netlab.Lab
	// Bin is the hactl binary to run on the nodes.
	Bin string
	// Duration and Count bound the run (whichever ends first; zero means
	// no bound of that kind, but one of them must be set).
	Duration time.Duration
	Count    int
	Seed     uint64
	// Interval is the advert interval (VRRPv3); default 200 ms.
	Interval time.Duration
	// Log receives one line per fault and check; nil discards.
	Log io.Writer
}

// Report is the outcome of a run.
type Report struct {
	Seed        uint64          `json:"seed"`
	Duration    time.Duration   `json:"duration_ns"`
	Faults      map[string]int  `json:"faults"`
	Injected    int             `json:"injected"`
	Violations  []string        `json:"violations"`
	WorstConv   time.Duration   `json:"worst_convergence_ns"`
	Bound       time.Duration   `json:"bound_ns"`
	LeaseWorst  time.Duration   `json:"worst_lease_expiry_ns"`
	LeaseBound  time.Duration   `json:"lease_bound_ns"`
	Convergence []time.Duration `json:"-"`
}

// String summarises the report.
func (r *Report) String() string {
	var kinds []string
	for k, n := range r.Faults {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("chaos seed %d: %d faults in %v (%s); %d violations; worst convergence %v (bound %v); worst VIP lifetime after a kill or freeze %v (bound %v)",
		r.Seed, r.Injected, r.Duration.Round(time.Second), strings.Join(kinds, " "), len(r.Violations),
		r.WorstConv.Round(time.Millisecond), r.Bound.Round(time.Millisecond), r.LeaseWorst.Round(time.Millisecond), r.LeaseBound.Round(time.Millisecond))
}

// JSON renders the report.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

var vipPrefix = netip.MustParsePrefix("10.77.0.100/24")

// runner holds one run's state.
type runner struct {
	cfg     Config
	rng     *rand.Rand
	nodes   []*node
	rep     *Report
	start   time.Time
	lease   time.Duration
	promote *node
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "%7.2fs "+format+"\n", append([]any{time.Since(r.start).Seconds()}, args...)...)
	}
}

func (r *runner) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.rep.Violations = append(r.rep.Violations, fmt.Sprintf("%.2fs: %s", time.Since(r.start).Seconds(), msg))
	r.logf("VIOLATION: %s", msg)
}

// Run injects faults until the bounds are reached and returns the report.
// The error is for a run that could not be carried out, not for
// violations.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Lab == nil || len(cfg.Lab.Nodes) < 2 {
		return nil, fmt.Errorf("chaos needs a lab of at least 2 nodes")
	}
	if cfg.Duration == 0 && cfg.Count == 0 {
		return nil, fmt.Errorf("chaos needs a duration or a count")
	}
	if cfg.Interval == 0 {
		cfg.Interval = 200 * time.Millisecond
	}
	r := &runner{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), start: time.Now(),
		rep: &Report{Seed: cfg.Seed, Faults: map[string]int{}, Violations: []string{}}}
	defer func() { r.rep.Duration = time.Since(r.start) }()
	for i, h := range cfg.Lab.Nodes {
		n := &node{Host: h, prio: 100 + 10*(i+1), bin: cfg.Bin, interval: cfg.Interval}
		r.nodes = append(r.nodes, n)
	}
	defer r.stopAll()
	for _, n := range r.nodes {
		if err := n.start(); err != nil {
			return nil, err
		}
	}
	top := r.nodes[len(r.nodes)-1]
	r.rep.Bound = r.bound()
	r.lease = leaseOf(cfg.Interval, r.nodes[0].prio)
	// The kernel checks address lifetimes about once a second.
	r.rep.LeaseBound = r.lease + 1500*time.Millisecond
	if _, err := r.converge(ctx, top, 3*r.rep.Bound); err != nil {
		return r.rep, fmt.Errorf("initial election: %w", err)
	}
	faults := r.faults()
	deadline := time.Now().Add(cfg.Duration)
	for i := 0; (cfg.Count == 0 || i < cfg.Count) && (cfg.Duration == 0 || time.Now().Before(deadline)); i++ {
		if ctx.Err() != nil {
			break
		}
		f := faults[r.rng.IntN(len(faults))]
		r.rep.Injected++
		r.rep.Faults[f.name]++
		if err := f.run(ctx); err != nil {
			return r.rep, fmt.Errorf("fault %s: %w", f.name, err)
		}
		want := r.chosen()
		d, err := r.converge(ctx, want, r.rep.Bound)
		if err != nil {
			r.violation("after %s: %v", f.name, err)
			// Give the cluster a generous second chance, so one violation
			// does not cascade into the next faults.
			if _, err := r.converge(ctx, want, 5*r.rep.Bound); err != nil {
				return r.rep, fmt.Errorf("cluster did not recover after %s: %w", f.name, err)
			}
			continue
		}
		r.rep.Convergence = append(r.rep.Convergence, d)
		r.rep.WorstConv = max(r.rep.WorstConv, d)
		r.logf("%s healed: %s owns the VIP after %v", f.name, want.Name, d.Round(time.Millisecond))
	}
	return r.rep, nil
}

// bound is the convergence bound after a heal: a restarted or unfrozen
// node may need a whole Master_Down_Interval of the lowest priority plus
// an interval to hear the master, plus scheduling slack.
func (r *runner) bound() time.Duration {
	iv := r.cfg.Interval
	low := r.nodes[0].prio
	return vrrp.MasterDownInterval(vrrp.Version3, low, iv) + iv + 300*time.Millisecond
}

func leaseOf(iv time.Duration, prio int) time.Duration {
	d := vrrp.MasterDownInterval(vrrp.Version3, prio, iv) + 2*time.Second // the labs run VRRPv3
	return (d + time.Second - 1) / time.Second * time.Second
}

// chosen is the node the rules choose: the promoted node, else the
// highest priority (all nodes are up after a heal).
func (r *runner) chosen() *node {
	if r.promote != nil {
		return r.promote
	}
	return r.nodes[len(r.nodes)-1]
}

// converge waits until want alone holds the VIP, for at most limit.
func (r *runner) converge(ctx context.Context, want *node, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	var owners []string
	for time.Since(start) < limit && ctx.Err() == nil {
		owners = r.owners()
		if len(owners) == 1 && owners[0] == want.Name {
			return time.Since(start), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("after %v the VIP is held by %v, want only %s", limit.Round(time.Millisecond), owners, want.Name)
}

func (r *runner) owners() []string {
	var out []string
	for _, n := range r.nodes {
		if n.holds() {
			out = append(out, n.Name)
		}
	}
	return out
}

// watchLease checks that a dead or frozen node's VIP vanishes within the
// lease bound, measured from when it stopped renewing.
func (r *runner) watchLease(n *node, since time.Time) {
	for time.Since(since) < r.rep.LeaseBound+time.Second {
		if !n.holds() {
			r.rep.LeaseWorst = max(r.rep.LeaseWorst, time.Since(since))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.violation("%s's VIP outlived its lease: still there %v after the daemon stopped renewing (lease %v)", n.Name, time.Since(since).Round(time.Millisecond), r.lease)
}

func (r *runner) stopAll() {
	for _, n := range r.nodes {
		n.stop()
		n.heal()
	}
}

func (r *runner) pick() *node { return r.nodes[r.rng.IntN(len(r.nodes))] }

func (r *runner) pause(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
}

type fault struct {
	name string
	run  func(context.Context) error
}

func (r *runner) faults() []fault {
	return []fault{
		{"sigkill", func(ctx context.Context) error {
			n := r.pick()
			held := n.holds()
			r.logf("SIGKILL %s (holding VIP: %v)", n.Name, held)
			t := time.Now()
			n.signal(syscall.SIGKILL)
			n.wait()
			if held {
				r.watchLease(n, t)
			} else {
				time.Sleep(r.pause(r.cfg.Interval, 4*r.cfg.Interval))
			}
			return n.start()
		}},
		{"sigstop", func(ctx context.Context) error {
			n := r.pick()
			held := n.holds()
			d := r.pause(r.cfg.Interval, 3*time.Second)
			r.logf("SIGSTOP %s for %v (holding VIP: %v)", n.Name, d.Round(time.Millisecond), held)
			t := time.Now()
			n.signal(syscall.SIGSTOP)
			if held && d > r.rep.LeaseBound {
				r.watchLease(n, t)
			}
			time.Sleep(max(0, d-time.Since(t)))
			n.signal(syscall.SIGCONT)
			return nil
		}},
		{"link-down", func(ctx context.Context) error {
			n := r.pick()
			d := r.pause(r.cfg.Interval, 2*time.Second)
			r.logf("link down %s for %v", n.Name, d.Round(time.Millisecond))
			if _, err := n.Run(ctx, "ip", "link", "set", "eth0", "down"); err != nil {
				return err
			}
			time.Sleep(d)
			_, err := n.Run(ctx, "ip", "link", "set", "eth0", "up")
			return err
		}},
		{"drop-in", func(ctx context.Context) error { return r.drop(ctx, "input") }},
		{"drop-both", func(ctx context.Context) error { return r.drop(ctx, "both") }},
		{"restart", func(ctx context.Context) error {
			n := r.pick()
			r.logf("restart %s (SIGTERM, start)", n.Name)
			n.signal(syscall.SIGTERM)
			n.wait()
			return n.start()
		}},
		{"promote", func(ctx context.Context) error {
			if r.promote != nil {
				r.logf("clear promotion of %s", r.promote.Name)
				if err := r.promote.clearPromotion(ctx); err != nil {
					return err
				}
				r.promote = nil
				return nil
			}
			n := r.pick()
			r.logf("promote %s", n.Name)
			if err := n.promoteSelf(ctx); err != nil {
				return err
			}
			r.promote = n
			return nil
		}},
	}
}

// drop makes a node deaf (input) or deaf and mute (both) to VRRP for a
// while with nftables in its own namespace.
func (r *runner) drop(ctx context.Context, dir string) error {
	n := r.pick()
	d := r.pause(r.cfg.Interval, 2*time.Second)
	r.logf("drop VRRP %s on %s for %v", dir, n.Name, d.Round(time.Millisecond))
	rules := "table inet chaos {\n  chain in { type filter hook input priority 0; ip protocol vrrp drop; ip6 nexthdr vrrp drop; }\n"
	if dir == "both" {
		rules += "  chain out { type filter hook output priority 0; ip protocol vrrp drop; ip6 nexthdr vrrp drop; }\n"
	}
	rules += "}\n"
	path := filepath.Join(n.Dir, "chaos.nft")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		return err
	}
	if out, err := n.Run(ctx, "nft", "-f", path); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	time.Sleep(d)
	n.heal()
	return nil
}

// promoteSelf and clearPromotion talk to the node's daemon.
func (n *node) promoteSelf(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := api.NewUnixClient(n.Socket()).Promote(ctx, "VI_1", api.PromoteRequest{})
	return err
}

func (n *node) clearPromotion(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := api.NewUnixClient(n.Socket()).ClearPromotion(ctx, "VI_1")
	return err
}
