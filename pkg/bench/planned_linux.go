//go:build linux

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/probe"
)

// PlannedSpec describes the planned-failover benchmark.
type PlannedSpec struct {
	// Bin is the hactl binary whose `failover` command is measured.
	Bin    string
	Trials int
	Seed   uint64
	Log    io.Writer
}

// PlannedLostBound is issue 7's target for the probes a planned handover
// may lose (per move).
const PlannedLostBound = 2

// plannedHold is how long the VIP must stay with one owner to count as
// stable, after an operation.
const plannedHold = 300 * time.Millisecond

// Planned measures a planned move of the VIP from the master (node1,
// priority 150) to the backup (node2, priority 100) and back, VRRPv3 at
// 0.1 s adverts, with the operator namespace probing the VIP every
// millisecond (UDP echo, pkg/netlab/probe's responders). The lab needs two
// nodes and SSH (hactl failover reaches the control sockets over SSH).
//
// hactl: `hactl failover --to node2`, wait until node2 has held the VIP
// alone for 300 ms, then `hactl failover --clear` (node1 preempts again).
// keepalived, as the runbook does it (`systemctl restart keepalived` on
// the VIP's owner): SIGTERM to node1's keepalived, wait for it to exit,
// start it again; node2 takes over, then node1 preempts it back.
//
// Per trial, with T0 the start of the operation (hactl: the exec of
// failover --to, which includes its SSH connections and checks;
// keepalived: the SIGTERM) and Tend the moment node1 has held the VIP
// alone again for 300 ms:
//   - "to node2" lost probes: probes sent from T0 until the first change
//     of ownership after node2 came to hold the VIP alone (for hactl that
//     is --clear's move back, for keepalived the restarted master's
//     preemption);
//   - "and back" lost probes: probes sent from T0 to Tend;
//   - handover: T0 until node2 holds the VIP alone (netlink, every ms);
//   - moves: changes of the sole owner from T0 to Tend (dual-owner and
//     no-owner moments in between do not count as owners).
func Planned(ctx context.Context, l *netlab.Lab, daemons []Daemon, spec PlannedSpec) ([]*Row, error) {
	to := &Row{Name: "planned failover to node2, lost 1 ms probes", Unit: "probes", Bound: PlannedLostBound, Trials: map[string][]float64{}}
	back := &Row{Name: "planned failover and back, lost 1 ms probes", Unit: "probes", Bound: 2 * PlannedLostBound, Trials: map[string][]float64{}}
	took := &Row{Name: "planned failover, from the command to node2 alone", Unit: "ms", Trials: map[string][]float64{}}
	moves := &Row{Name: "planned failover and back, VIP ownership moves", Unit: "moves", Trials: map[string][]float64{}}
	rows := []*Row{to, back, took, moves}
	if len(l.Nodes) < 2 || l.Inventory == "" {
		return nil, fmt.Errorf("planned failover needs a lab of two nodes with SSH")
	}
	fs := FailoverSpec{Version: 3, Interval: 100 * time.Millisecond}
	rng := rand.New(rand.NewPCG(spec.Seed, 2))
	v := vip.VIP{Prefix: benchVIP, Dev: "eth0"}

	resp, err := probe.StartResponders(l.Nodes[:2])
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	tr, err := startTracker(l.Node(1), l.Node(2), v)
	if err != nil {
		return nil, err
	}
	defer tr.close()

	hactl := func(args ...string) (time.Duration, error) {
		start := time.Now()
		args = append(args, "--inventory", l.Inventory, "--timeout", "20s", "--wait", "20s")
		cmd := l.Operator.Command(ctx, append([]string{spec.Bin}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err != nil {
			return 0, fmt.Errorf("hactl %v: %w\n%s", args, err, out.Bytes())
		}
		return time.Since(start), nil
	}

	for _, d := range daemons {
		_ = tr.remove(v)
		master, err := d.Start(l.Node(1), fs.conf(masterPrio))
		if err != nil {
			return nil, err
		}
		backup, err := d.Start(l.Node(2), fs.conf(backupPrio))
		if err != nil {
			master.Signal(syscall.SIGKILL)
			return nil, err
		}
		stopAll := func() {
			for _, r := range []Running{master, backup} {
				r.Signal(syscall.SIGTERM)
				if r.Wait(5*time.Second) != nil {
					r.Signal(syscall.SIGKILL)
					_ = r.Wait(2 * time.Second)
				}
			}
		}
		fail := func(format string, a ...any) ([]*Row, error) {
			stopAll()
			return nil, fmt.Errorf("%s: planned failover: %s", d.Name(), fmt.Sprintf(format, a...))
		}
		for trial := 0; trial < spec.Trials && ctx.Err() == nil; trial++ {
			// Steady: node1 alone, then a random phase of the advert interval.
			if _, err := tr.waitStable(ctx, time.Time{}, node1Only, plannedHold, 15*time.Second); err != nil {
				return fail("node1 never became the only master: %v", err)
			}
			p, err := probe.StartProber(l.Operator, benchVIP.Addr(), time.Millisecond)
			if err != nil {
				return fail("%v", err)
			}
			time.Sleep(100*time.Millisecond + time.Duration(rng.Int64N(int64(fs.Interval))))
			t0 := time.Now()
			var cmdTo, cmdClear time.Duration
			switch d.(type) {
			case Hactl:
				if cmdTo, err = hactl("failover", "--to", "node2"); err != nil {
					p.Stop()
					return fail("%v", err)
				}
				if _, err = tr.waitStable(ctx, t0, node2Only, plannedHold, 10*time.Second); err != nil {
					p.Stop()
					return fail("node2 did not keep the VIP alone: %v", err)
				}
				if cmdClear, err = hactl("failover", "--clear"); err != nil {
					p.Stop()
					return fail("%v", err)
				}
			default: // the runbook: restart the daemon that owns the VIP
				master.Signal(syscall.SIGTERM)
				if err := master.Wait(10 * time.Second); err != nil {
					p.Stop()
					return fail("node1's daemon did not exit: %v", err)
				}
				if master, err = d.Start(l.Node(1), fs.conf(masterPrio)); err != nil {
					p.Stop()
					master = backup // nothing of node1's left to stop
					return fail("restart: %v", err)
				}
			}
			stable, err := tr.waitStable(ctx, t0, node1Only, plannedHold, 15*time.Second)
			if err != nil {
				p.Stop()
				return fail("the VIP did not come back to node1: %v", err)
			}
			tend := stable.Add(plannedHold)
			time.Sleep(20 * time.Millisecond) // answers to the last probes
			p.Stop()
			changes := tr.since(t0, tend)
			t2, ok := firstAt(changes, node2Only)
			if !ok {
				return fail("node2 never held the VIP alone")
			}
			tmid := tend
			for _, c := range changes {
				if c.at.After(t2) {
					tmid = c.at
					break
				}
			}
			lostTo, _ := p.LostBetween(t0, tmid)
			lostAll, sent := p.LostBetween(t0, tend)
			mv := soleOwnerMoves(changes)
			to.Trials[d.Name()] = append(to.Trials[d.Name()], float64(lostTo))
			back.Trials[d.Name()] = append(back.Trials[d.Name()], float64(lostAll))
			took.Trials[d.Name()] = append(took.Trials[d.Name()], ms(t2.Sub(t0)))
			moves.Trials[d.Name()] = append(moves.Trials[d.Name()], float64(mv))
			if spec.Log != nil {
				extra := ""
				if cmdTo > 0 {
					extra = fmt.Sprintf("; failover --to ran %v, --clear %v", cmdTo.Round(time.Millisecond), cmdClear.Round(time.Millisecond))
				}
				fmt.Fprintf(spec.Log, "  %-10s planned trial %d: node2 alone after %v; lost %d to node2, %d in all (of %d sent over %v); %d moves: %s%s\n",
					d.Name(), trial+1, t2.Sub(t0).Round(100*time.Microsecond), lostTo, lostAll, sent,
					tend.Sub(t0).Round(time.Millisecond), mv, describe(changes, t0), extra)
			}
		}
		stopAll()
	}
	for _, r := range rows {
		r.finish()
	}
	return rows, ctx.Err()
}

// owners is a set of nodes holding the VIP: bit 0 node1, bit 1 node2.
type owners uint8

const (
	node1Only owners = 1
	node2Only owners = 2
)

func (o owners) String() string {
	switch o {
	case 0:
		return "none"
	case node1Only:
		return "node1"
	case node2Only:
		return "node2"
	}
	return "both"
}

type change struct {
	at time.Time
	o  owners
}

// tracker reads both nodes' addresses every millisecond and records every
// change of the set of owners.
type tracker struct {
	m       [2]*vip.Manager
	v       vip.VIP
	mu      sync.Mutex
	changes []change
	quit    chan struct{}
	done    chan struct{}
}

func startTracker(n1, n2 *netlab.Host, v vip.VIP) (*tracker, error) {
	t := &tracker{v: v, quit: make(chan struct{}), done: make(chan struct{})}
	for i, h := range []*netlab.Host{n1, n2} {
		m, err := manager(h)
		if err != nil {
			if t.m[0] != nil {
				t.m[0].Close()
			}
			return nil, err
		}
		t.m[i] = m
	}
	go t.run()
	return t, nil
}

func (t *tracker) read() owners {
	var o owners
	for i, m := range t.m {
		if ok, _, err := m.Present(t.v); err == nil && ok {
			o |= 1 << i
		}
	}
	return o
}

func (t *tracker) run() {
	defer close(t.done)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-tick.C:
		}
		o := t.read()
		now := time.Now()
		t.mu.Lock()
		if n := len(t.changes); n == 0 || t.changes[n-1].o != o {
			t.changes = append(t.changes, change{at: now, o: o})
		}
		t.mu.Unlock()
	}
}

// remove deletes the VIP from both nodes (between daemons) and forgets the
// history. Only while no daemon runs.
func (t *tracker) remove(v vip.VIP) error {
	t.stop()
	err1, err2 := t.m[0].Remove(v), t.m[1].Remove(v)
	t.mu.Lock()
	t.changes = nil
	t.mu.Unlock()
	t.quit, t.done = make(chan struct{}), make(chan struct{})
	go t.run()
	if err1 != nil {
		return err1
	}
	return err2
}

func (t *tracker) stop() {
	select {
	case <-t.quit:
		return
	default:
	}
	close(t.quit)
	<-t.done
}

func (t *tracker) close() {
	t.stop()
	t.m[0].Close()
	t.m[1].Close()
}

// waitStable waits until the owners have been want for hold, in a state
// reached after since, and returns when that state began.
func (t *tracker) waitStable(ctx context.Context, since time.Time, want owners, hold, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		t.mu.Lock()
		var last change
		if n := len(t.changes); n > 0 {
			last = t.changes[n-1]
		}
		t.mu.Unlock()
		if last.o == want && !last.at.IsZero() && time.Since(last.at) >= hold && (since.IsZero() || last.at.After(since)) {
			return last.at, nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	return time.Time{}, fmt.Errorf("not within %v (owners since %s)", limit, describe(t.since(time.Now().Add(-limit), time.Now()), time.Now().Add(-limit)))
}

// since returns the changes in [from, to], led by the state at from.
func (t *tracker) since(from, to time.Time) []change {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.changes), func(i int) bool { return t.changes[i].at.After(from) })
	var out []change
	if i > 0 {
		out = append(out, change{at: from, o: t.changes[i-1].o})
	}
	for ; i < len(t.changes) && !t.changes[i].at.After(to); i++ {
		out = append(out, t.changes[i])
	}
	return out
}

func firstAt(changes []change, want owners) (time.Time, bool) {
	for _, c := range changes {
		if c.o == want {
			return c.at, true
		}
	}
	return time.Time{}, false
}

// soleOwnerMoves counts how often the VIP's sole owner changes.
func soleOwnerMoves(changes []change) int {
	moves := 0
	var last owners
	for _, c := range changes {
		if c.o != node1Only && c.o != node2Only {
			continue
		}
		if last != 0 && c.o != last {
			moves++
		}
		last = c.o
	}
	return moves
}

// describe renders the owner sequence with times from t0:
// "node1 -> both@+61.2ms -> node2@+61.9ms".
func describe(changes []change, t0 time.Time) string {
	var b bytes.Buffer
	for i, c := range changes {
		if i == 0 {
			b.WriteString(c.o.String())
			continue
		}
		fmt.Fprintf(&b, " -> %s@+%.1fms", c.o, ms(c.at.Sub(t0)))
	}
	return b.String()
}
