//go:build linux

package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/cli"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/netlab/probe"
)

// kaConf is a keepalived 2.2.7 config for node i of the keepalived
// failover tests: VRRPv3 at 500 ms (Master_Down_Interval about 1.8 s),
// priority 100+30*i (130, 160, 190), so node3 is master; nopreempt when
// asked (keepalived wants the initial state BACKUP for that, which is its
// default). The priorities are 30 apart so that the backups' skew times
// differ by 59 ms: with 101 and 102 they differed by 2 ms, and on a loaded
// CI machine node1 sometimes took the VIP first (keepalived's behaviour,
// not what these tests are about).
func kaConf(i int, nopreempt bool) string {
	np := ""
	if nopreempt {
		np = "    state BACKUP\n    nopreempt\n"
	}
	return fmt.Sprintf(`vrrp_instance VI_1 {
%s    interface eth0
    virtual_router_id 51
    version 3
    priority %d
    advert_int 0.5
    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, np, 100+30*i)
}

// kaLab is a 3-node lab where every node runs real keepalived under the
// lab's supervisor (hactl lab supervise), controlled by the lab's daemonctl.
type kaLab struct {
	t         *testing.T
	l         *netlab.Lab
	e         *e2eOp
	daemonctl string
}

func upKeepalivedLab(t *testing.T) *kaLab {
	t.Helper()
	labtest.Require(t, "keepalived", "sshd")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	if err := cli.WriteLabScripts(l); err != nil {
		t.Fatal(err)
	}
	k := &kaLab{t: t, l: l, e: &e2eOp{t: t, l: l, bin: bin}, daemonctl: cli.LabDaemonctl(l)}
	k.writeConfs(false)
	for _, h := range l.Nodes {
		conf := filepath.Join(h.Dir, "keepalived.conf")
		p, err := h.Start("daemon", cli.LabSupervise(bin, h, cli.LabKeepalived(h, conf)...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = p.Stop(5 * time.Second)
			if t.Failed() {
				b, _ := os.ReadFile(p.Log)
				t.Logf("%s daemon.log:\n%s", h.Name, tail(string(b), 30))
			}
		})
	}
	resp, err := probe.StartResponders(l.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(resp.Close)
	k.waitStates("node1=keepalived:BACKUP node2=keepalived:BACKUP node3=keepalived:MASTER")
	return k
}

func (k *kaLab) writeConfs(nopreemptNode3 bool) {
	for i, h := range k.l.Nodes {
		if err := os.WriteFile(filepath.Join(h.Dir, "keepalived.conf"), []byte(kaConf(i+1, nopreemptNode3 && i == 2)), 0o644); err != nil {
			k.t.Fatal(err)
		}
	}
}

// waitStates polls hactl status (at most 20 s) until it reads want.
func (k *kaLab) waitStates(want string) {
	k.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = k.e.states(); got == want {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	k.t.Fatalf("states %q, want %q", got, want)
}

// ctl runs the lab's daemonctl inside node i.
func (k *kaLab) ctl(i int, verb string) string {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := k.l.Node(i).Run(ctx, k.daemonctl, verb)
	if err != nil {
		k.t.Fatalf("daemonctl %s on node%d: %v", verb, i, err)
	}
	return strings.TrimSpace(string(out))
}

// kaPID is node i's keepalived main pid, from keepalived's own pid file.
func (k *kaLab) kaPID(i int) string {
	b, _ := os.ReadFile(filepath.Join(k.l.Node(i).Dir, "keepalived.pid"))
	return strings.TrimSpace(string(b))
}

// starts counts the supervisor's "started" lines of node i: how many
// keepalived processes it has run.
func (k *kaLab) starts(i int) int {
	b, _ := os.ReadFile(filepath.Join(k.l.Node(i).Dir, "daemon.log"))
	return strings.Count(string(b), "supervise: started keepalived")
}

// measure probes the VIP from the operator namespace and samples every
// node's addresses, every 2 ms (gentler on a shared 2-core machine than the
// 1 ms of the hactl tests).
func (k *kaLab) measure() *measure {
	k.t.Helper()
	return startMeasure(k.t, k.l, 2*time.Millisecond)
}

// foResult is the part of failover -o json the tests read.
type foResult struct {
	Method     string   `json:"method"`
	DryRun     bool     `json:"dry_run"`
	Plan       []string `json:"plan"`
	Owners     []string `json:"owners"`
	From       []string `json:"from"`
	HandoverMS float64  `json:"handover_ms"`
	Notes      []string `json:"notes"`
	Steps      []struct {
		Action string  `json:"action"`
		Node   string  `json:"node"`
		TookMS float64 `json:"took_ms"`
		Error  string  `json:"error"`
	} `json:"steps"`
}

func parseFailover(t *testing.T, r runResult) foResult {
	t.Helper()
	var res foResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("failover -o json: %v\n%s", err, r.out)
	}
	return res
}

func (res foResult) step(action string) (float64, bool) {
	for _, s := range res.Steps {
		if strings.HasPrefix(s.Action, action) && s.Error == "" {
			return s.TookMS, true
		}
	}
	return 0, false
}

// wantOwners checks the sampler's owner sequence: never two owners for
// longer than an advert's delivery (generously 50 ms on a loaded VM), and
// the sequence of single owners (no-owner gaps and instants of two owners
// left out) equal to want. A node outside want that held the VIP but never
// answered a probe is logged and left out: when the master stops, node1
// (130) and node2 (160) wait out skew times 59 ms apart
// ((256-priority)/256 of 0.5 s); should node1 still win on a very loaded
// machine, it becomes master for a moment and yields to node2's first
// advert.
func wantOwners(t *testing.T, what string, ss probe.SampleStats, ps probe.ProbeStats, want ...string) {
	t.Helper()
	if ss.LongestDual > 50*time.Millisecond {
		t.Errorf("%s: two owners for %v (%d samples)", what, ss.LongestDual, ss.DualSamples)
	}
	var got []string
	for _, o := range ss.Owners {
		if o == "none" || strings.Contains(o, " ") {
			continue
		}
		o = strings.Trim(o, "[]")
		if !slices.Contains(want, o) && ps.By[o] == 0 {
			t.Logf("%s: %s held the VIP for a moment (no probe answered by it)", what, o)
			continue
		}
		if len(got) == 0 || got[len(got)-1] != o {
			got = append(got, o)
		}
	}
	if strings.Join(got, " -> ") != strings.Join(want, " -> ") {
		t.Errorf("%s: owners %s, want %s", what, strings.Join(ss.Owners, " -> "), strings.Join(want, " -> "))
	}
}

// TestKeepalivedFailoverRestartSafeE2E drives hactl failover and
// restart-safe against three nodes that run real keepalived 2.2.7 in
// network namespaces, each under the lab's supervisor, stopped, started and
// restarted with the lab's daemonctl script (the lab has no systemd).
func TestKeepalivedFailoverRestartSafeE2E(t *testing.T) {
	k := upKeepalivedLab(t)
	e, dctl := k.e, k.daemonctl
	stopCmd, startCmd := dctl+" stop", dctl+" start"

	// daemonctl itself: stop holds the daemon down, start brings a new one.
	t.Run("Daemonctl", func(t *testing.T) {
		k.t, e.t = t, t
		old := k.kaPID(1)
		out := k.ctl(1, "stop")
		if !strings.Contains(out, "node1: daemon "+old+" stopped; held") {
			t.Errorf("stop: %q", out)
		}
		time.Sleep(300 * time.Millisecond) // the supervisor must not start it meanwhile
		if st, err := k.l.Node(1).Run(t.Context(), dctl, "status"); err == nil || !strings.Contains(string(st), "stopped (held)") {
			t.Errorf("status after stop: %v %s", err, st)
		}
		out = k.ctl(1, "start")
		if !strings.Contains(out, "node1: daemon started") || k.kaPID(1) == old {
			t.Errorf("start: %q (pid %s, was %s)", out, k.kaPID(1), old)
		}
		k.waitStates("node1=keepalived:BACKUP node2=keepalived:BACKUP node3=keepalived:MASTER")
	})

	// (d) The plans, changing nothing.
	t.Run("DryRun", func(t *testing.T) {
		k.t, e.t = t, t
		r := e.hactl("failover", "--to", "node2", "--dry-run", "--force", "--stop-command", stopCmd, "--start-command", startCmd)
		r.want(t, 0, []string{
			"Plan for VI_1 (10.77.0.100), dry run: nothing changed",
			"1. node2 runs keepalived, which has no promotion: stop the keepalived daemon on the master node3 (" + stopCmd + ")",
			"2. wait up to 30s until node2 holds 10.77.0.100 alone",
			"3. start it on node3 again (" + startCmd + "); wait up to 30s until it is back",
			"4. expect node3 to take the VIP back by preemption",
			"note: node3 (priority 190) outranks node2 (160) and preempts",
		}, nil)
		// Without --force the plan is shown and refused.
		r = e.hactl("failover", "--to", "node2", "--dry-run")
		r.want(t, 1, []string{"dry run: nothing changed", "(systemctl stop keepalived)"}, []string{"refusing: node3 (priority 190) outranks node2 (160) and preempts"})
		r = e.hactl("restart-safe", "--dry-run", "--restart-command", dctl+" restart")
		r.want(t, 0, []string{
			"Plan for VI_1 (10.77.0.100), master node3, dry run: nothing changed",
			"1. restart node1 (" + dctl + " restart); wait until it is back in BACKUP and hears node3",
			"2. restart node2 (" + dctl + " restart)",
			"3. keepalived: restarting node3 moves the VIP to node2 (best backup)",
			"4. restart node3 (" + dctl + " restart); wait until it is back (BACKUP, or MASTER again by preemption)",
			"5. wait up to 1m0s until node3 takes the VIP back by preemption",
		}, nil)
		if k.kaPID(3) == "" || k.starts(3) != 1 {
			t.Errorf("a dry run restarted something: node3 started %d times", k.starts(3))
		}
	})

	// (a) The master outranks the target and preempts: refused; --force
	// does it, and the master takes the VIP straight back.
	t.Run("RefusedThenForced", func(t *testing.T) {
		k.t, e.t = t, t
		pid3 := k.kaPID(3)
		r := e.hactl("failover", "--to", "node2", "--stop-command", stopCmd, "--start-command", startCmd)
		r.want(t, 1, nil, []string{"refusing: node3 (priority 190) outranks node2 (160) and preempts: it takes the VIP straight back when it starts again", "--force"})
		r = e.hactl("failover", "--to", "node1", "--stop-command", stopCmd, "--start-command", startCmd)
		r.want(t, 1, nil, []string{"node2 (priority 160) outranks node1 (130) and would take the VIP instead"})
		if k.kaPID(3) != pid3 {
			t.Fatalf("a refused failover restarted node3's keepalived")
		}

		m := k.measure()
		time.Sleep(100 * time.Millisecond)
		r = e.hactl("failover", "--to", "node2", "--force", "--stop-command", stopCmd, "--start-command", startCmd, "-o", "json")
		time.Sleep(200 * time.Millisecond)
		ps, ss := m.stop(t, "failover --to node2 --force (node3 preempts)")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		res := parseFailover(t, r)
		stop, _ := res.step("stopped: " + stopCmd)
		back, okBack := res.step("took the VIP back (preemption)")
		if res.Method != "keepalived-restart" || strings.Join(res.Owners, ",") != "node3" || res.HandoverMS <= 0 || !okBack {
			t.Errorf("result %+v", res)
		}
		t.Logf("MEASURE keepalived failover --force: stop command %.0f ms, node2 alone %.0f ms after the stop began, node3 back as owner %.0f ms after it was seen running again; probes answered %v",
			stop, res.HandoverMS, back, ps.By)
		// What really happens: node3 -> (no owner while node2 waits out
		// its skew time) -> node2 -> node3 again by preemption.
		wantOwners(t, "failover --force", ss, ps, "node3", "node2", "node3")
		if ps.By["node2"] == 0 {
			t.Errorf("node2 never answered a probe while it held the VIP")
		}
		if k.kaPID(3) == pid3 {
			t.Errorf("node3's keepalived was not restarted (pid %s)", pid3)
		}
		k.waitStates("node1=keepalived:BACKUP node2=keepalived:BACKUP node3=keepalived:MASTER")
	})

	// (c) restart-safe on the all-keepalived cluster with the lab's script.
	t.Run("RestartSafe", func(t *testing.T) {
		k.t, e.t = t, t
		var before [4]int
		var pids [4]string
		for i := 1; i <= 3; i++ {
			before[i], pids[i] = k.starts(i), k.kaPID(i)
		}
		m := k.measure()
		r := e.hactl("restart-safe", "--restart-command", dctl+" restart")
		ps, ss := m.stop(t, "restart-safe (3 keepalived nodes)")
		r.want(t, 0, []string{"3 daemons restarted", "node3 holds 10.77.0.100 (master before: node3)"},
			[]string{"node3: took the VIP back (preemption)", "lock released"})
		rows := regexp.MustCompile(`(?m)^(node\d)\s+(\d+)\s+(\d+)`).FindAllStringSubmatch(r.out, -1)
		if len(rows) != 3 || rows[0][1] != "node1" || rows[1][1] != "node2" || rows[2][1] != "node3" {
			t.Errorf("restarted rows %v, want node1, node2, node3", rows)
		}
		for _, row := range rows {
			if row[2] == row[3] {
				t.Errorf("%s: pid unchanged %s", row[1], row[2])
			}
		}
		for i := 1; i <= 3; i++ {
			if n := k.starts(i) - before[i]; n != 1 {
				t.Errorf("node%d: keepalived started %d times during restart-safe, want exactly 1", i, n)
			}
			if k.kaPID(i) == pids[i] {
				t.Errorf("node%d: keepalived pid still %s", i, pids[i])
			}
		}
		// The backups' restarts move nothing; node3's restart hands over to
		// node2, and node3 takes the VIP back by preemption.
		wantOwners(t, "restart-safe", ss, ps, "node3", "node2", "node3")
		t.Logf("restart-safe: %d probes lost of %d (longest gap %v), %d no-owner samples (longest %v), %d dual-owner samples (longest %v)",
			ps.Lost, ps.Sent, ps.LongestGap, ss.NoOwnerSamples, ss.LongestNoOwner, ss.DualSamples, ss.LongestDual)
	})

	// (b) The master does not preempt (nopreempt): failover succeeds and
	// the VIP stays on the target after the master is started again.
	t.Run("NopreemptStays", func(t *testing.T) {
		k.t, e.t = t, t
		k.writeConfs(true)
		k.ctl(1, "restart")
		k.ctl(2, "restart")
		k.ctl(3, "restart")
		// node3 (190, nopreempt) comes back as backup of node2 (160), which
		// became master while node3 restarted; give the VIP back to node3 by
		// restarting node2 (node3 outranks node1).
		k.waitStates("node1=keepalived:BACKUP node2=keepalived:MASTER node3=keepalived:BACKUP")
		k.ctl(2, "restart")
		k.waitStates("node1=keepalived:BACKUP node2=keepalived:BACKUP node3=keepalived:MASTER")

		m := k.measure()
		time.Sleep(100 * time.Millisecond)
		r := e.hactl("failover", "--to", "node2", "--stop-command", stopCmd, "--start-command", startCmd, "-o", "json")
		time.Sleep(200 * time.Millisecond)
		ps, ss := m.stop(t, "failover --to node2 (node3 nopreempt)")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		res := parseFailover(t, r)
		if strings.Join(res.Owners, ",") != "node2" || !strings.Contains(strings.Join(res.Notes, "\n"), "does not preempt (nopreempt)") {
			t.Errorf("result %+v", res)
		}
		if _, ok := res.step("still holds the VIP alone"); !ok {
			t.Errorf("no check after the master's start: %+v", res.Steps)
		}
		t.Logf("MEASURE keepalived failover (nopreempt master): node2 alone %.0f ms after the stop began; probes lost %d of %d", res.HandoverMS, ps.Lost, ps.Sent)
		wantOwners(t, "failover nopreempt", ss, ps, "node3", "node2")
		k.waitStates("node1=keepalived:BACKUP node2=keepalived:MASTER node3=keepalived:BACKUP")
		r = e.hactl("who-owns", "10.77.0.100")
		r.want(t, 0, []string{"owner: node2 (VI_1 MASTER)"}, nil)
		// The text form says what happened.
		r = e.hactl("failover", "--to", "node2", "--stop-command", stopCmd, "--start-command", startCmd)
		r.want(t, 0, []string{"node2 already holds the VIP", "VI_1: node2 holds 10.77.0.100; nothing done"}, nil)
	})
}
