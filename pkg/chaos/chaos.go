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
	"github.com/hactl/hactl/pkg/config"
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
	// Interval is the advert interval; default 200 ms (VRRPv3). The AH
	// variant (VRRPv2) rounds it to whole seconds, at least 1 s.
	Interval time.Duration
	// Variant is what every node runs: plain VRRPv3, use_vmac or AH.
	Variant Variant
	// Keepalived, when set, makes the cluster mixed: this keepalived
	// binary runs on node KeepalivedNode (1-based; 0 means the node of
	// highest priority, the last), hactl on the others.
	Keepalived     string
	KeepalivedNode int
	// Guard, when set, guards every node's instance with an etcd_guard
	// on Guard.Etcd (guard.go); hactl only (not with Keepalived). The
	// lab hosts of the etcd members run no daemon.
	Guard *GuardConfig
	// Log receives one line per fault and check; nil discards.
	Log io.Writer
}

// Report is the outcome of a run.
type Report struct {
	Seed        uint64          `json:"seed"`
	Mode        string          `json:"mode"` // hactl or mixed
	Variant     Variant         `json:"variant"`
	Nodes       []string        `json:"nodes"` // name=daemon/priority
	Duration    time.Duration   `json:"duration_ns"`
	Faults      map[string]int  `json:"faults"`
	Injected    int             `json:"injected"`
	Violations  []string        `json:"violations"`
	WorstConv   time.Duration   `json:"worst_convergence_ns"`
	Bound       time.Duration   `json:"bound_ns"`
	LeaseWorst  time.Duration   `json:"worst_lease_expiry_ns"`
	LeaseBound  time.Duration   `json:"lease_bound_ns"`
	Convergence []time.Duration `json:"-"`

	// HactlOverlapWorst is the longest time after a heal that two hactl
	// nodes both held the VIP (it counts within Bound).
	HactlOverlapWorst time.Duration `json:"worst_hactl_overlap_ns"`

	// Guarded runs only (guard.go). Samples counts the looks at every
	// node's addresses (every SampleEvery), TwoOwnerSamples those with two
	// nodes holding the VIP (each is a violation too); EtcdDownNoOwner
	// counts the etcd-cut-all faults that left no owner, as they must;
	// CutTakeoverWorst is the longest takeover after the master was cut
	// from etcd (bound CutTakeoverBound, ttl + 1.5 s).
	GuardTTL         time.Duration `json:"guard_ttl_ns,omitempty"`
	Samples          int           `json:"samples,omitempty"`
	TwoOwnerSamples  int           `json:"two_owner_samples"`
	EtcdDownNoOwner  int           `json:"etcd_down_no_owner,omitempty"`
	CutTakeoverWorst time.Duration `json:"worst_cut_takeover_ns,omitempty"`
	CutTakeoverBound time.Duration `json:"cut_takeover_bound_ns,omitempty"`
	// PostHealOutages counts the times a guarded holder that kept its
	// VIP through an etcd fault or a link down lost it within a ttl of
	// the heal (its renewal came too late), PostHealOutageWorst the
	// longest time until the VIP was back (guard.go, settle).
	PostHealOutages     int           `json:"post_heal_outages,omitempty"`
	PostHealOutageWorst time.Duration `json:"worst_post_heal_outage_ns,omitempty"`

	// Mixed clusters only.
	KeepalivedFaults map[string]int `json:"keepalived_faults,omitempty"` // faults on the keepalived node, by kind
	// Known counts keepalived's known differences, expected and not
	// violations: a SIGKILLed or frozen keepalived master keeps its VIP.
	Known map[string]int `json:"keepalived_known,omitempty"`
	// KAOverlapWorst is the longest time after a heal that the
	// keepalived node and another node both held the VIP; KAOverlapBound
	// is its bound (a violation beyond).
	KAOverlapWorst time.Duration `json:"worst_keepalived_overlap_ns,omitempty"`
	KAOverlapBound time.Duration `json:"keepalived_overlap_bound_ns,omitempty"`
	// StaleWorst is the longest a SIGKILLed keepalived's VIP stayed:
	// from the kill until keepalived's restart removed it.
	StaleWorst time.Duration `json:"worst_stale_vip_ns,omitempty"`
	// AHSilenceWorst is the longest keepalived-side overlap of the AH
	// variant in which keepalived dropped the other master's adverts as
	// AH replays (its log says so) and, its advert timer reset by every
	// packet it reads, sent none: bounded by Bound, not KAOverlapBound.
	AHSilenceWorst time.Duration `json:"worst_ah_replay_silence_ns,omitempty"`
	// TakeoverWorst is the longest an hactl node took to take the VIP
	// over from a SIGKILLed or frozen keepalived master (bound: Bound).
	TakeoverWorst time.Duration `json:"worst_takeover_ns,omitempty"`
}

// String summarises the report.
func (r *Report) String() string {
	s := fmt.Sprintf("chaos seed %d (%s, %s): %d faults in %v (%s); %d violations; worst convergence %v (bound %v); worst VIP lifetime after a kill or freeze %v (bound %v)",
		r.Seed, r.Mode, r.Variant, r.Injected, r.Duration.Round(time.Second), kv(r.Faults), len(r.Violations),
		r.WorstConv.Round(time.Millisecond), r.Bound.Round(time.Millisecond), r.LeaseWorst.Round(time.Millisecond), r.LeaseBound.Round(time.Millisecond))
	if r.Mode == "guarded" {
		s += fmt.Sprintf("; guard ttl %v: %d samples every %v, %d with two owners; worst takeover after the master's cut from etcd %v (bound %v); etcd cut from every node left no owner %d times; post-heal outages %d (worst %v)",
			r.GuardTTL, r.Samples, SampleEvery, r.TwoOwnerSamples, r.CutTakeoverWorst.Round(time.Millisecond), r.CutTakeoverBound, r.EtcdDownNoOwner,
			r.PostHealOutages, r.PostHealOutageWorst.Round(time.Millisecond))
	}
	if r.Mode == "mixed" {
		s += fmt.Sprintf("; nodes %s; faults on keepalived (%s); keepalived-known (%s); worst keepalived overlap %v (bound %v); worst hactl overlap %v; worst stale keepalived VIP %v; worst hactl takeover from keepalived %v",
			strings.Join(r.Nodes, " "), kv(r.KeepalivedFaults), kv(r.Known), r.KAOverlapWorst.Round(time.Millisecond), r.KAOverlapBound.Round(time.Millisecond),
			r.HactlOverlapWorst.Round(time.Millisecond), r.StaleWorst.Round(time.Millisecond), r.TakeoverWorst.Round(time.Millisecond))
		if r.Variant == VariantAH {
			s += fmt.Sprintf("; worst AH replay silence %v (bound %v)", r.AHSilenceWorst.Round(time.Millisecond), r.Bound.Round(time.Millisecond))
		}
	}
	return s
}

func kv(m map[string]int) string {
	var kinds []string
	for k, n := range m {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	return strings.Join(kinds, " ")
}

// JSON renders the report.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

var vipPrefix = netip.MustParsePrefix("10.77.0.100/24")

// runner holds one run's state.
type runner struct {
	cfg     Config
	desc    instanceDesc
	rng     *rand.Rand
	nodes   []*node
	ka      *node // the keepalived node of a mixed cluster
	rep     *Report
	start   time.Time
	lease   time.Duration
	promote *node
	// sampler looks for two owners throughout a guarded run.
	sampler *dualSampler
	// mark is the keepalived log's size when the current fault began.
	mark int64
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

// known counts one of keepalived's known differences.
func (r *runner) known(kind, format string, args ...any) {
	r.rep.Known[kind]++
	r.logf("keepalived-known %s: %s", kind, fmt.Sprintf(format, args...))
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
	if cfg.Variant == "" {
		cfg.Variant = VariantPlain
	}
	if _, err := ParseVariant(string(cfg.Variant)); err != nil {
		return nil, err
	}
	kaIdx := -1
	if cfg.Keepalived != "" {
		kaIdx = len(cfg.Lab.Nodes) - 1
		if cfg.KeepalivedNode != 0 {
			if cfg.KeepalivedNode < 1 || cfg.KeepalivedNode > len(cfg.Lab.Nodes) {
				return nil, fmt.Errorf("keepalived node %d: the lab has nodes 1..%d", cfg.KeepalivedNode, len(cfg.Lab.Nodes))
			}
			kaIdx = cfg.KeepalivedNode - 1
		}
		if len(cfg.Lab.Nodes) < 3 {
			return nil, fmt.Errorf("a mixed cluster needs at least 3 nodes (two of them hactl)")
		}
	}
	if cfg.Guard != nil {
		if cfg.Keepalived != "" {
			return nil, fmt.Errorf("a guarded run is hactl only (keepalived knows no etcd_guard)")
		}
		if cfg.Guard.TTL == 0 {
			cfg.Guard.TTL = 2
		}
	}
	r := &runner{cfg: cfg, desc: newInstanceDesc(cfg.Variant, cfg.Interval),
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), start: time.Now(),
		rep: &Report{Seed: cfg.Seed, Mode: "hactl", Variant: cfg.Variant, Faults: map[string]int{}, Violations: []string{}}}
	defer func() { r.rep.Duration = time.Since(r.start) }()
	if cfg.Guard != nil {
		r.desc.guardBlock = cfg.Guard.Etcd.GuardBlock(guardName, cfg.Guard.TTL)
		r.rep.Mode = "guarded"
		r.rep.GuardTTL = time.Duration(cfg.Guard.TTL) * time.Second
	}
	var hosts []*netlab.Host
	for _, h := range cfg.Lab.Nodes {
		if !isEtcdHost(cfg.Guard, h) {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) < 2 {
		return nil, fmt.Errorf("chaos needs at least 2 nodes that run no etcd member")
	}
	for i, h := range hosts {
		n := &node{Host: h, prio: 100 + 10*(i+1), bin: cfg.Bin, desc: r.desc}
		if i == kaIdx {
			n.keepalived = cfg.Keepalived
			r.ka = n
		}
		r.nodes = append(r.nodes, n)
		r.rep.Nodes = append(r.rep.Nodes, fmt.Sprintf("%s=%s/%d", n.Name, n.kind(), n.prio))
	}
	if r.ka != nil {
		r.rep.Mode = "mixed"
		r.rep.KeepalivedFaults = map[string]int{}
		r.rep.Known = map[string]int{}
	}
	defer r.stopAll()
	if r.guarded() {
		// Sample from before the first daemon starts: the strict check
		// covers the initial election too.
		s, err := startSampler(r.nodes, r.desc.vip.Addr())
		if err != nil {
			return nil, err
		}
		r.sampler = s
		defer func() {
			r.rep.Samples, r.rep.TwoOwnerSamples = s.stop()
			r.checkDual("the run's end")
		}()
	}
	for _, n := range r.nodes {
		if err := n.start(); err != nil {
			return nil, err
		}
	}
	top := r.chosen()
	r.rep.Bound = r.bound()
	if r.guarded() {
		// A lost guard is regained by a new lease and a crash failover
		// waits for the old one: the ttl, a renewal period and a
		// reconnect more.
		r.rep.Bound += r.ttl() + 2*time.Second
		r.rep.CutTakeoverBound = r.guardTakeover()
	}
	r.lease = leaseOf(r.desc.vrrpVersion(), r.desc.interval, r.nodes[0].prio)
	// The kernel checks address lifetimes about once a second.
	r.rep.LeaseBound = r.lease + 1500*time.Millisecond
	if r.ka != nil {
		r.rep.KAOverlapBound = kaOverlapBound(r.desc.interval)
	}
	if _, err := r.converge(ctx, top, 3*r.rep.Bound); err != nil {
		return r.rep, fmt.Errorf("initial election: %w", err)
	}
	r.checkDual("the initial election")
	faults := r.faults()
	if r.guarded() {
		faults = append(faults, r.guardFaults()...)
	}
	deadline := time.Now().Add(cfg.Duration)
	for i := 0; (cfg.Count == 0 || i < cfg.Count) && (cfg.Duration == 0 || time.Now().Before(deadline)); i++ {
		if ctx.Err() != nil {
			break
		}
		f := faults[r.rng.IntN(len(faults))]
		r.rep.Injected++
		r.rep.Faults[f.name]++
		r.mark = r.kaLogMark()
		if err := f.run(ctx); err != nil {
			return r.rep, fmt.Errorf("fault %s: %w", f.name, err)
		}
		if ctx.Err() != nil {
			break // interrupted: no verdict on a heal cut short
		}
		want := r.chosen()
		d, err := r.converge(ctx, want, r.rep.Bound)
		if err == nil && r.guarded() && settles[f.name] {
			d, err = r.settle(ctx, f.name, want, d)
		}
		r.checkDual(f.name + " or its heal")
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
	iv := r.desc.interval
	low := r.nodes[0].prio
	return vrrp.MasterDownInterval(r.desc.vrrpVersion(), low, iv) + iv + 300*time.Millisecond
}

// leaseOf is hactl's automatic vip_lease (pkg/config's formula).
func leaseOf(v vrrp.Version, iv time.Duration, prio int) time.Duration {
	d := vrrp.MasterDownInterval(v, prio, iv) + config.VIPLeaseMargin
	return (d + time.Second - 1) / time.Second * time.Second
}

// kaOverlapBound bounds a keepalived-side overlap after a heal (the
// keepalived node and another both holding the VIP): keepalived has no
// lease, so a keepalived master that was frozen, deaf or mute keeps its
// VIP until it hears a better advert or its own advert makes the other
// side yield. Whichever side yields, it does on the first advert either
// sends after the heal: one interval, plus scheduling slack.
func kaOverlapBound(iv time.Duration) time.Duration { return iv + 300*time.Millisecond }

// chosen is the node the rules choose: the promoted node, else the
// highest priority (all nodes are up after a heal).
func (r *runner) chosen() *node { return r.chosenWithout(nil) }

// chosenWithout is the node the rules choose while skip is down.
func (r *runner) chosenWithout(skip *node) *node {
	if r.promote != nil && r.promote != skip {
		return r.promote
	}
	for i := len(r.nodes) - 1; i >= 0; i-- {
		if r.nodes[i] != skip {
			return r.nodes[i]
		}
	}
	return nil
}

// converge waits until want alone holds the VIP, for at most limit. On
// the way it measures overlaps (two holders at once): those involving
// the keepalived node against their own bound, hactl-only ones as a
// figure (the limit bounds them).
func (r *runner) converge(ctx context.Context, want *node, limit time.Duration) (time.Duration, error) {
	return r.convergeAmong(ctx, want, nil, limit)
}

// convergeAmong is converge with skip (a dead or frozen node) left out of
// the owners.
func (r *runner) convergeAmong(ctx context.Context, want, skip *node, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	var owners []*node
	var kaSince, haSince time.Time
	closeOverlaps := func(now time.Time, ka, ha bool) {
		if !ka && !kaSince.IsZero() {
			d := now.Sub(kaSince)
			switch {
			case d > r.rep.KAOverlapBound && r.ahReplaySilence():
				// The convergence check bounds it (its limit is Bound).
				r.rep.AHSilenceWorst = max(r.rep.AHSilenceWorst, d)
				r.known("ah-replay-silence", "%s dropped another master's adverts as AH replays and sent none: overlap %v (bound %v, the convergence bound)",
					r.ka.Name, d.Round(time.Millisecond), r.rep.Bound.Round(time.Millisecond))
			case d > r.rep.KAOverlapBound:
				r.rep.KAOverlapWorst = max(r.rep.KAOverlapWorst, d)
				r.violation("the keepalived node %s and another node both held the VIP for %v after a heal (keepalived overlap bound %v)",
					r.ka.Name, d.Round(time.Millisecond), r.rep.KAOverlapBound)
			default:
				r.rep.KAOverlapWorst = max(r.rep.KAOverlapWorst, d)
				if d > 5*time.Millisecond {
					r.logf("keepalived overlap %v", d.Round(time.Millisecond))
				}
			}
			kaSince = time.Time{}
		}
		if !ha && !haSince.IsZero() {
			r.rep.HactlOverlapWorst = max(r.rep.HactlOverlapWorst, now.Sub(haSince))
			haSince = time.Time{}
		}
	}
	for {
		owners = r.holders(skip)
		now := time.Now()
		ka, ha := r.overlaps(owners)
		if ka && kaSince.IsZero() {
			kaSince = now
		}
		if ha && haSince.IsZero() {
			haSince = now
		}
		closeOverlaps(now, ka, ha)
		if len(owners) == 1 && owners[0] == want {
			return time.Since(start), nil
		}
		if time.Since(start) >= limit || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Timed out: the convergence violation says it; keep the overlap
	// figures honest without a second violation.
	if !kaSince.IsZero() {
		if r.ahReplaySilence() {
			r.rep.AHSilenceWorst = max(r.rep.AHSilenceWorst, time.Since(kaSince))
		} else {
			r.rep.KAOverlapWorst = max(r.rep.KAOverlapWorst, time.Since(kaSince))
		}
	}
	if !haSince.IsZero() {
		r.rep.HactlOverlapWorst = max(r.rep.HactlOverlapWorst, time.Since(haSince))
	}
	return time.Since(start), fmt.Errorf("after %v the VIP is held by %v, want only %s", limit.Round(time.Millisecond), names(owners), want.Name)
}

// overlaps says whether owners is an overlap involving the keepalived
// node, or one of hactl nodes only.
func (r *runner) overlaps(owners []*node) (ka, ha bool) {
	if len(owners) < 2 {
		return false, false
	}
	hactl := 0
	for _, n := range owners {
		if n == r.ka {
			ka = true
		} else {
			hactl++
		}
	}
	return ka, hactl >= 2
}

func (r *runner) holders(skip *node) []*node {
	var out []*node
	for _, n := range r.nodes {
		if n != skip && n.holds() {
			out = append(out, n)
		}
	}
	return out
}

func names(ns []*node) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

// watchLease checks that a dead or frozen hactl node's VIP vanishes
// within the lease bound, measured from when it stopped renewing.
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
	r.healAllEtcd()
}

func (r *runner) pick() *node { return r.nodes[r.rng.IntN(len(r.nodes))] }

// pickHactl picks an hactl node (promotions go through hactl's socket).
func (r *runner) pickHactl() *node {
	var hs []*node
	for _, n := range r.nodes {
		if !n.isKeepalived() {
			hs = append(hs, n)
		}
	}
	return hs[r.rng.IntN(len(hs))]
}

func (r *runner) pause(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
}

// span is the longest a freeze, link-down or drop lasts: d, or k
// Master_Down_Intervals of the lowest priority when that is longer (the
// AH variant's 1 s adverts), so that faults outlast the backups' timers
// there too.
func (r *runner) span(d time.Duration, k float64) time.Duration {
	mdi := vrrp.MasterDownInterval(r.desc.vrrpVersion(), r.nodes[0].prio, r.desc.interval)
	return max(d, time.Duration(k*float64(mdi)))
}

type fault struct {
	name string
	run  func(context.Context) error
}

// target picks the node of a fault and counts it when it is keepalived.
func (r *runner) target(kind string) *node {
	n := r.pick()
	if n.isKeepalived() {
		r.rep.KeepalivedFaults[kind]++
	}
	return n
}

func (r *runner) faults() []fault {
	iv := r.desc.interval
	return []fault{
		{"sigkill", func(ctx context.Context) error {
			n := r.target("sigkill")
			held := n.holds()
			r.logf("SIGKILL %s %s (holding VIP: %v)", n.kind(), n.Name, held)
			t := time.Now()
			n.signal(syscall.SIGKILL)
			n.wait()
			switch {
			case n.isKeepalived() && held:
				return r.restartKilledKeepalived(ctx, n, t)
			case held:
				r.watchLease(n, t)
			default:
				time.Sleep(r.pause(iv, 4*iv))
			}
			return n.start()
		}},
		{"sigstop", func(ctx context.Context) error {
			n := r.target("sigstop")
			held := n.holds()
			d := r.pause(iv, r.span(3*time.Second, 4))
			r.logf("SIGSTOP %s %s for %v (holding VIP: %v)", n.kind(), n.Name, d.Round(time.Millisecond), held)
			t := time.Now()
			n.signal(syscall.SIGSTOP)
			switch {
			case n.isKeepalived() && held:
				r.frozenKeepalived(ctx, n, t, d)
			case held && d > r.rep.LeaseBound:
				r.watchLease(n, t)
			}
			time.Sleep(max(0, d-time.Since(t)))
			n.signal(syscall.SIGCONT)
			return nil
		}},
		{"link-down", func(ctx context.Context) error {
			n := r.target("link-down")
			d := r.pause(iv, r.span(2*time.Second, 5.0/2))
			r.logf("link down %s %s for %v", n.kind(), n.Name, d.Round(time.Millisecond))
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
			n := r.target("restart")
			r.logf("restart %s %s (SIGTERM, start)", n.kind(), n.Name)
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
			n := r.pickHactl()
			r.logf("promote %s", n.Name)
			err := n.promoteSelf(ctx)
			if err != nil && r.guarded() && strings.Contains(err.Error(), "FAULT") {
				// A guarded node stays in FAULT after a freeze or a cut
				// until etcd grants it a new lease: wait for that, within
				// the bound.
				err = r.promoteOutOfFault(ctx, n, err)
			}
			if err != nil {
				return err
			}
			r.promote = n
			return nil
		}},
	}
}

// drop makes a node deaf (input) or deaf and mute (both) to VRRP for a
// while with nftables in its own namespace. AH (IP protocol 51) is
// dropped with VRRP (112): under auth_type AH the adverts travel as AH.
func (r *runner) drop(ctx context.Context, dir string) error {
	n := r.target("drop-" + map[string]string{"input": "in", "both": "both"}[dir])
	iv := r.desc.interval
	d := r.pause(iv, r.span(2*time.Second, 5.0/2))
	r.logf("drop VRRP %s on %s %s for %v", dir, n.kind(), n.Name, d.Round(time.Millisecond))
	if err := n.dropVRRP(ctx, dir == "both"); err != nil {
		return err
	}
	time.Sleep(d)
	n.heal()
	return nil
}

// dropVRRP drops VRRP and AH into node n, and out of it too when both.
func (n *node) dropVRRP(ctx context.Context, both bool) error {
	rules := "table inet chaos {\n  chain in { type filter hook input priority 0; ip protocol { 51, 112 } drop; ip6 nexthdr vrrp drop; }\n"
	if both {
		rules += "  chain out { type filter hook output priority 0; ip protocol { 51, 112 } drop; ip6 nexthdr vrrp drop; }\n"
	}
	rules += "}\n"
	path := filepath.Join(n.Dir, "chaos.nft")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		return err
	}
	if out, err := n.Run(ctx, "nft", "-f", path); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
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
