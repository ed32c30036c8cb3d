//go:build linux

package cli_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/netlab/probe"
)

// failoverConf is node i's config: VRRPv3 at 200 ms, priority 100+i.
func failoverConf(i int) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, 100+i)
}

// startSupervised runs the daemon under `hactl lab supervise`, as lab up
// does, and writes the lab's restart-daemon script's equivalent.
func startSupervised(t *testing.T, bin string, l *netlab.Lab) string {
	t.Helper()
	for i, h := range l.Nodes {
		conf := filepath.Join(h.Dir, "hactl.conf")
		// control_ssh as hactl lab up gives it: failover and restart-safe
		// reach the daemons through their own SSH listener, whose
		// connection each restart ends.
		if err := os.WriteFile(conf, []byte(l.ControlSSHGlobals(h)+failoverConf(i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := h.Start("daemon", bin, "lab", "supervise", "--", bin, "daemon", "-f", conf,
			"--state-file", filepath.Join(h.Dir, "state"), "--socket", h.Socket(), "--pid-file", filepath.Join(h.Dir, "hactl.pid"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(3 * time.Second) })
	}
	script := filepath.Join(l.Dir, "restart-daemon")
	body := fmt.Sprintf("#!/bin/sh\nset -eu\nns=$(ip netns identify $$)\nnode=${ns#%s}\npid=$(cat %s/$node/hactl.pid)\nkill -TERM \"$pid\"\nwhile kill -0 \"$pid\" 2>/dev/null; do sleep 0.02; done\n",
		netlab.Prefix+l.Name+"-", l.Dir)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

type measure struct {
	p *probe.Prober
	s *probe.Sampler
}

// startMeasure probes the lab's VIP from the operator namespace and samples
// its owners, every interval.
func startMeasure(t *testing.T, l *netlab.Lab, interval time.Duration) *measure {
	t.Helper()
	vip := netip.MustParseAddr("10.77.0.100")
	p, err := probe.StartProber(l.Operator, vip, interval)
	if err != nil {
		t.Fatal(err)
	}
	s, err := probe.StartSampler(l.Nodes, vip, interval)
	if err != nil {
		t.Fatal(err)
	}
	return &measure{p: p, s: s}
}

func (m *measure) stop(t *testing.T, what string) (probe.ProbeStats, probe.SampleStats) {
	ps, ss := m.p.Stop(), m.s.Stop()
	t.Logf("MEASURE %s: probes sent %d, lost %d (longest gap %v), answered by %v; samples %d, dual-owner %d (longest %v), no-owner %d (longest %v); owners %s",
		what, ps.Sent, ps.Lost, ps.LongestGap, ps.By, ss.Samples, ss.DualSamples, ss.LongestDual, ss.NoOwnerSamples, ss.LongestNoOwner, strings.Join(ss.Owners, " -> "))
	return ps, ss
}

func TestFailoverRestartSafeE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	labtest.Require(t, "sshd")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	script := startSupervised(t, bin, l)
	resp, err := probe.StartResponders(l.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	e := &e2eOp{t: t, l: l, bin: bin}
	waitStates(t, e, "node1=hactl:BACKUP node2=hactl:BACKUP node3=hactl:MASTER")

	// The maximum dual-owner run a failover may show: one advertisement
	// round trip, generously bounded in a loaded VM.
	const roundTrip = 5 * time.Millisecond
	for _, to := range []string{"node1", "node2", "node3"} {
		m := startMeasure(t, l, time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		r := e.hactl("failover", "--to", to, "--wait", "10s")
		time.Sleep(200 * time.Millisecond)
		ps, ss := m.stop(t, "failover --to "+to)
		r.want(t, 0, []string{to + " holds 10.77.0.100 alone"}, nil)
		if ss.LongestDual > roundTrip {
			t.Errorf("failover --to %s: two owners for %v", to, ss.LongestDual)
		}
		if ps.Lost > 2 {
			// Issue 7's target; reported, not failed: a loaded CI VM can
			// delay the gratuitous ARP that moves the client.
			t.Logf("failover --to %s: %d probes lost (target <= 2)", to, ps.Lost)
		}
		if to == "node1" {
			// The old master's daemon restarts: the VIP stays on node1.
			e.in(l.Operator, "failover", "--to", "node1", "--dry-run", "--inventory", l.Inventory)
			if out, err := l.Node(3).Run(t.Context(), script); err != nil {
				t.Fatalf("restart node3: %v %s", err, out)
			}
			time.Sleep(2 * time.Second)
			waitStates(t, e, "node1=hactl:MASTER node2=hactl:BACKUP node3=hactl:BACKUP")
		}
	}
	r := e.hactl("failover", "--clear")
	r.want(t, 0, []string{"node3 holds 10.77.0.100 by priority"}, nil)

	// restart-safe under probes, with a second run refused meanwhile.
	m := startMeasure(t, l, time.Millisecond)
	var wg sync.WaitGroup
	var rs runResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		rs = e.hactl("restart-safe", "--restart-command", script)
	}()
	time.Sleep(1500 * time.Millisecond)
	second := e.hactl("restart-safe", "--restart-command", script)
	wg.Wait()
	_, ss := m.stop(t, "restart-safe")
	rs.want(t, 0, []string{"3 daemons restarted", "node3 holds 10.77.0.100 (master before: node3)"}, nil)
	second.want(t, 1, nil, []string{"restart-safe is already running", "held by "})
	// Zero dual-owner samples: restart-safe's handovers are promotions, and
	// the promoted node takes the VIP only once the old master has dropped
	// it and said so (vrrp.Config.Handover; docs/failover.md).
	t.Logf("restart-safe: %d dual-owner samples (longest %v)", ss.DualSamples, ss.LongestDual)
	if ss.DualSamples != 0 {
		t.Errorf("restart-safe: %d dual-owner samples (longest %v), want none", ss.DualSamples, ss.LongestDual)
	}
	pids := regexp.MustCompile(`(?m)^node\d\s+(\d+)\s+(\d+)`).FindAllStringSubmatch(rs.out, -1)
	if len(pids) != 3 {
		t.Errorf("want 3 restarted nodes with pids, got %v", pids)
	}
	for _, p := range pids {
		if p[1] == p[2] {
			t.Errorf("pid unchanged: %v", p)
		}
	}

	// The runbook's naive way, for comparison: restart every daemon at once.
	waitStates(t, e, "node1=hactl:BACKUP node2=hactl:BACKUP node3=hactl:MASTER")
	m = startMeasure(t, l, time.Millisecond)
	var nw sync.WaitGroup
	for _, h := range l.Nodes {
		nw.Add(1)
		go func() {
			defer nw.Done()
			_, _ = h.Run(t.Context(), script)
		}()
	}
	nw.Wait()
	time.Sleep(3 * time.Second)
	m.stop(t, "naive restart of all daemons at once")
}

// waitStates polls hactl status until it reads want (at most 15 s).
func waitStates(t *testing.T, e *e2eOp, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = e.states(); got == want {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("states %q, want %q", got, want)
}
