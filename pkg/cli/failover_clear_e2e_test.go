//go:build linux

package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/cli"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/netlab/probe"
)

// clearBound is issue 18's bound for the give-back, end to end (the
// command's whole run: SSH, the looks, the handover).
const clearBound = 1500 * time.Millisecond

// failover --clear in the demo lab (hactl lab up's config: VRRPv2, advert
// 1 s, priorities 101..103): mastership goes back to node3 through the
// release handover, not after node3's Master_Down_Interval (3.6 s), with
// no two-owner sample at 1 ms.
func TestFailoverClearGiveBackE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	labtest.Require(t, "sshd")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	for i, h := range l.Nodes {
		conf, state, pid := h.DaemonPaths()
		if err := os.WriteFile(conf, []byte(netlab.DemoConfig(i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := h.Start("daemon", bin, "daemon", "-f", conf, "--state-file", state, "--socket", h.Socket(), "--pid-file", pid)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(3 * time.Second) })
	}
	resp, err := probe.StartResponders(l.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	e := &e2eOp{t: t, l: l, bin: bin}
	waitStates(t, e, "node1=hactl:BACKUP node2=hactl:BACKUP node3=hactl:MASTER")

	for run := 1; run <= 2; run++ {
		m := startMeasure(t, l, time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		r := e.hactl("failover", "--to", "node1", "--wait", "10s")
		r.want(t, 0, []string{"node1 holds 10.77.0.100 alone"}, nil)
		// Past node1's first advert at 255, so that node3's
		// Master_Down_Timer is well under way: the old --clear waited
		// for it to fire.
		time.Sleep(1200 * time.Millisecond)
		start := time.Now()
		r = e.hactl("failover", "--clear", "--wait", "10s", "-o", "json")
		took := time.Since(start)
		time.Sleep(200 * time.Millisecond)
		ps, ss := m.stop(t, "failover --to node1 then --clear")
		r.want(t, 0, nil, []string{"node3: promoted", "node3: promotion cleared (master by priority again)"})
		var res struct {
			GiveBack   string   `json:"give_back"`
			Owners     []string `json:"owners"`
			HandoverMS float64  `json:"handover_ms"`
			TookMS     float64  `json:"took_ms"`
			ExpiresAt  *string  `json:"expires_at"`
		}
		if err := json.Unmarshal([]byte(r.out), &res); err != nil {
			t.Fatalf("failover --clear -o json: %v\n%s", err, r.out)
		}
		t.Logf("MEASURE failover --clear run %d: end to end %v (took_ms %.0f, handover_ms %.1f), dual-owner samples %d, no-owner %d (longest %v), probes lost %d",
			run, took.Round(time.Millisecond), res.TookMS, res.HandoverMS, ss.DualSamples, ss.NoOwnerSamples, ss.LongestNoOwner, ps.Lost)
		if res.GiveBack != "handover" || len(res.Owners) != 1 || res.Owners[0] != "node3" || res.ExpiresAt != nil {
			t.Errorf("give_back %q owners %v expires_at %v, want handover to node3, no promotion left", res.GiveBack, res.Owners, res.ExpiresAt)
		}
		if ss.DualSamples != 0 {
			t.Errorf("run %d: %d two-owner samples (longest %v), want none", run, ss.DualSamples, ss.LongestDual)
		}
		// The old --clear waited for node3's Master_Down_Timer, armed by
		// node1's last advert at 255: 2.6 to 3.6 s after the clear. The
		// handover (the promotion to the verified owner: one look over
		// SSH) and the command's whole run are bounded with room for a
		// loaded CI host, where a look takes up to ~0.8 s.
		if res.HandoverMS > 2000 {
			t.Errorf("run %d: handover %.0f ms, want well under node3's Master_Down_Interval", run, res.HandoverMS)
		}
		if took > 2*clearBound {
			t.Errorf("run %d: --clear took %v end to end, want < %v (issue 18)", run, took, clearBound)
		} else if took > clearBound {
			t.Logf("run %d: --clear took %v end to end (target < %v; a loaded host)", run, took, clearBound)
		}
	}
	states := e.states()
	if states != "node1=hactl:BACKUP node2=hactl:BACKUP node3=hactl:MASTER" {
		t.Errorf("states after the give-backs %q", states)
	}
}

// The same give-back when node3 runs keepalived: it has no promotion, so
// it cannot take the handover; --clear says so (progress line, notes,
// give_back "wait") and waits for node3's Master_Down_Interval.
func TestFailoverClearKeepalivedWaitsE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	labtest.Require(t, "keepalived", "sshd")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	if err := cli.WriteLabScripts(l); err != nil {
		t.Fatal(err)
	}
	for i, h := range l.Nodes {
		conf, state, pid := h.DaemonPaths()
		argv := []string{bin, "daemon", "-f", conf, "--state-file", state, "--socket", h.Socket(), "--pid-file", pid}
		if h.Name == "node3" {
			conf = filepath.Join(h.Dir, "keepalived.conf")
			argv = cli.LabKeepalived(h, conf)
		}
		if err := os.WriteFile(conf, []byte(netlab.DemoConfig(i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := h.Start("daemon", cli.LabSupervise(bin, h, argv...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(5 * time.Second) })
	}
	resp, err := probe.StartResponders(l.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	e := &e2eOp{t: t, l: l, bin: bin}
	waitStates(t, e, "node1=hactl:BACKUP node2=hactl:BACKUP node3=keepalived:MASTER")
	r := e.hactl("failover", "--to", "node1", "--wait", "10s")
	r.want(t, 0, []string{"node1 holds 10.77.0.100 alone"}, nil)
	time.Sleep(1200 * time.Millisecond)
	m := startMeasure(t, l, time.Millisecond)
	start := time.Now()
	r = e.hactl("failover", "--clear", "--wait", "10s", "-o", "json")
	took := time.Since(start)
	_, ss := m.stop(t, "failover --clear, node3 keepalived")
	r.want(t, 0, []string{`"give_back": "wait"`, "runs keepalived, which cannot take a release handover"},
		[]string{"node3 (priority 103, 10.77.0.13) should hold the VIP by priority but runs keepalived, which cannot take a release handover: waiting for its Master_Down_Interval"})
	if !strings.Contains(r.out, `"owners": [`+"\n"+`    "node3"`) {
		t.Errorf("owners: want node3\n%s", r.out)
	}
	t.Logf("MEASURE failover --clear, keepalived node3: end to end %v, dual-owner samples %d (longest %v)", took.Round(time.Millisecond), ss.DualSamples, ss.LongestDual)
}
