package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// node is one node of an observed cluster, as the planners' table tests
// write it.
type node struct {
	name      string
	kind      string    // hactl (default), keepalived, none
	state     api.State // default BACKUP; MASTER holds the VIP
	prio      int
	nopreempt bool
	promoted  bool
	expires   time.Time // the promotion's end
	holds     *bool     // default: state == MASTER
	failing   []string
	primary   string // the address it advertises from (default: none known)
}

var testVIP = netip.MustParsePrefix("10.0.0.100/24")

// observed builds the observations of a cluster: one instance VI_1 with
// VIP 10.0.0.100, advert interval 1 s, pids 11, 12, ...
func observed(nodes ...node) []*Observation {
	var obs []*Observation
	for i, n := range nodes {
		if n.state == "" {
			n.state = api.StateBackup
		}
		holds := n.state == api.StateMaster
		if n.holds != nil {
			holds = *n.holds
		}
		o := &Observation{Node: n.name, Ifs: []Interface{{Name: "eth0", Addrs: []netip.Prefix{}}}}
		if n.primary != "" {
			o.Ifs[0].Addrs = append(o.Ifs[0].Addrs, netip.MustParsePrefix(n.primary+"/24"))
		}
		if holds {
			o.Ifs[0].Addrs = append(o.Ifs[0].Addrs, testVIP)
		}
		pid := 11 + i
		switch n.kind {
		case "", DaemonHactl:
			in := api.Instance{Name: "VI_1", State: n.state, BasePriority: n.prio, EffectivePriority: n.prio, Preempt: !n.nopreempt,
				AdvertIntervalMS: 1000, VIPs: []string{testVIP.String()}}
			if n.promoted {
				in.Promotion = &api.Promotion{ExpiresAt: n.expires}
			}
			for _, f := range n.failing {
				in.Trackers = append(in.Trackers, api.Tracker{Kind: "script", Name: f})
			}
			o.API = &api.Status{Daemon: api.Daemon{PID: pid}, Instances: []api.Instance{in}}
			o.Daemon = hactlDaemon(o.API)
		case DaemonKeepalived:
			preempt := !n.nopreempt
			o.Daemon = &Daemon{Kind: DaemonKeepalived, PID: pid, StateSource: SourceKeepalivedJSON, Instances: []Instance{{
				Name: "VI_1", State: n.state, BasePriority: n.prio, EffectivePriority: n.prio, Preempt: &preempt,
				AdvertInterval: time.Second, VIPs: []netip.Prefix{testVIP}, FailingTrackers: []string{},
			}}}
		case DaemonNone:
			o.Daemon = &Daemon{Kind: DaemonNone, Instances: []Instance{}}
		}
		obs = append(obs, o)
	}
	return obs
}

// steps writes a plan's steps as "action node", one per step.
func steps(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, strings.TrimSpace(string(s.Action)+" "+s.Node))
	}
	return out
}

const ka = DaemonKeepalived

func TestPlanFailover(t *testing.T) {
	hactl3 := func(n1, n2, n3 node) []*Observation {
		n1.name, n2.name, n3.name = "n1", "n2", "n3"
		return observed(n1, n2, n3)
	}
	for _, tt := range []struct {
		name    string
		obs     []*Observation
		opt     FailoverOptions
		method  Method
		steps   []string
		want    string // the error (pre-check) or the refusal, "" for none
		refused bool
		texts   []string // substrings of the sentences, in step order
		notes   []string // substrings of the notes
	}{
		{name: "hactl: promote and wait",
			obs: hactl3(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n1"},
			method: MethodPromote, steps: []string{"promote n1", "wait-alone n1"},
			texts: []string{"promote VI_1 on n1 (sticky until hactl failover --clear; it survives a daemon restart)", "wait up to 30s until n1 holds 10.0.0.100 and no other node does"}},
		{name: "hactl: for bounds the promotion",
			obs: hactl3(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n1", For: 2 * time.Hour},
			method: MethodPromote, steps: []string{"promote n1", "wait-alone n1"}, texts: []string{"(sticky for 2h0m0s;"}},
		{name: "hactl: other promotions cleared first, non-owners first",
			obs:    hactl3(node{prio: 101}, node{prio: 102, state: "MASTER", promoted: true}, node{prio: 103, promoted: true}),
			opt:    FailoverOptions{To: "n1"},
			method: MethodPromote, steps: []string{"clear-promotion n3", "clear-promotion n2", "promote n1", "wait-alone n1"},
			texts: []string{"clear the promotion of VI_1 on n3 (a promoted node never yields)"}},
		{name: "hactl: the target's own promotion is not cleared",
			obs:    hactl3(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103}),
			opt:    FailoverOptions{To: "n1"},
			method: MethodPromote, steps: []string{"promote n1", "wait-alone n1"}},
		{name: "refused: target in FAULT",
			obs: hactl3(node{prio: 101, state: "FAULT", failing: []string{"chk"}}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n1"},
			want: "n1: instance VI_1 is in FAULT (failing: script chk); a faulty node cannot take over"},
		{name: "refused: target with failing trackers",
			obs: hactl3(node{prio: 101, failing: []string{"chk"}}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n1"},
			want: "has failing trackers (script chk)"},
		{name: "refused: target in INIT",
			obs: hactl3(node{prio: 101, state: "INIT"}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n1"},
			want: "n1: instance VI_1 is in INIT, not ready to take over"},
		{name: "refused: unknown target",
			obs: hactl3(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n9"},
			want: "--to n9: not one of the nodes (n1, n2, n3)"},
		{name: "refused: another instance",
			obs: hactl3(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: FailoverOptions{To: "n1", Instance: "VI_9"},
			want: "instance VI_9: not configured on n1"},
		{name: "mixed: keepalived master, hactl target: promote",
			obs: hactl3(node{prio: 101}, node{prio: 102}, node{prio: 103, kind: ka, state: "MASTER"}), opt: FailoverOptions{To: "n2"},
			method: MethodPromote, steps: []string{"promote n2", "wait-alone n2"}},
		{name: "keepalived: refused, the master preempts",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER"}), opt: FailoverOptions{To: "n2"},
			method: MethodKeepalivedRestart, refused: true, steps: []string{"stop-daemon n3", "wait-alone n2", "start-daemon n3", "take-back n3"},
			want:  "refusing: n3 (priority 103) outranks n2 (102) and preempts: it takes the VIP straight back when it starts again; change the priorities",
			texts: []string{"n2 runs keepalived, which has no promotion: stop the keepalived daemon on the master n3 (systemctl stop keepalived)", "", "start it on n3 again (systemctl start keepalived)", "expect n3 to take the VIP back by preemption"}},
		{name: "keepalived: refused, another backup outranks the target",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER", nopreempt: true}), opt: FailoverOptions{To: "n1"},
			method: MethodKeepalivedRestart, refused: true, steps: []string{"stop-daemon n3", "wait-alone n1", "start-daemon n3", "still-holds n1"},
			want:  "refusing: n2 (priority 102) outranks n1 (101) and would take the VIP instead",
			notes: []string{"n3 (priority 103) outranks n1 (101) but does not preempt (nopreempt): n1 keeps the VIP"}},
		{name: "keepalived: nopreempt master, the target keeps it",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER", nopreempt: true}), opt: FailoverOptions{To: "n2"},
			method: MethodKeepalivedRestart, steps: []string{"stop-daemon n3", "wait-alone n2", "start-daemon n3", "still-holds n2"},
			texts: []string{"", "", "", "wait 4s (one Master_Down_Interval and one interval), then check that n2 still holds the VIP alone"}},
		{name: "keepalived: forced, the reasons become notes",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER"}), opt: FailoverOptions{To: "n2", Force: true},
			method: MethodKeepalivedRestart, steps: []string{"stop-daemon n3", "wait-alone n2", "start-daemon n3", "take-back n3"},
			notes: []string{"n3 (priority 103) outranks n2 (102) and preempts"}},
		{name: "keepalived: a FAULT backup does not outrank",
			obs: hactl3(node{prio: 150, kind: ka, state: "FAULT"}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER", nopreempt: true}), opt: FailoverOptions{To: "n2"},
			method: MethodKeepalivedRestart, steps: []string{"stop-daemon n3", "wait-alone n2", "start-daemon n3", "still-holds n2"}},
		{name: "keepalived: the target holds it already",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka, state: "MASTER"}, node{prio: 103, kind: ka}), opt: FailoverOptions{To: "n2"},
			method: MethodKeepalivedRestart, notes: []string{"n2 already holds the VIP; keepalived has no sticky promotion, nothing to do"}},
		{name: "keepalived: refused, two owners",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka, state: "MASTER"}, node{prio: 103, kind: ka, state: "MASTER"}), opt: FailoverOptions{To: "n1"},
			method: MethodKeepalivedRestart, want: "the VIP has 2 owners ([n2 n3]); with keepalived, fix that first"},
		{name: "mixed: hactl master, keepalived target: stop hactl",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, state: "MASTER", nopreempt: true}), opt: FailoverOptions{To: "n2"},
			method: MethodKeepalivedRestart, steps: []string{"stop-daemon n3", "wait-alone n2", "start-daemon n3", "still-holds n2"},
			texts: []string{"stop the hactl daemon on the master n3 (systemctl stop hactl)"}},
		{name: "keepalived: FAULT target",
			obs: hactl3(node{prio: 101, kind: ka}, node{prio: 102, kind: ka, state: "FAULT"}, node{prio: 103, kind: ka, state: "MASTER"}), opt: FailoverOptions{To: "n2"},
			method: MethodKeepalivedRestart, want: "n2: instance VI_1 is in FAULT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanFailover(tt.obs, tt.opt)
			if p != nil && tt.refused != (p.Refused != nil) {
				t.Errorf("refused %v, want %v", p.Refused, tt.refused)
			}
			if p != nil && p.Refused != nil {
				err = p.Refused
			}
			if (err != nil) != (tt.want != "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if p == nil {
				return
			}
			if p.Method != tt.method {
				t.Errorf("method %q, want %q", p.Method, tt.method)
			}
			if got := steps(p); !slices.Equal(got, tt.steps) {
				t.Errorf("steps %q\nwant  %q", got, tt.steps)
			}
			for i, w := range tt.texts {
				if i < len(p.Steps) && !strings.Contains(p.Steps[i].Text, w) {
					t.Errorf("step %d %q, want %q in it", i+1, p.Steps[i].Text, w)
				}
			}
			for _, w := range tt.notes {
				if !strings.Contains(strings.Join(p.Notes, "\n"), w) {
					t.Errorf("notes %q, want %q", p.Notes, w)
				}
			}
		})
	}
}

func TestPlanRestart(t *testing.T) {
	cl := func(nodes ...node) []*Observation {
		for i := range nodes {
			nodes[i].name = fmt.Sprintf("n%d", i+1)
		}
		return observed(nodes...)
	}
	in2h := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		obs   []*Observation
		opt   RestartOptions
		steps []string
		order string
		want  string
		texts []string
		check func(t *testing.T, p *Plan)
	}{
		{name: "hactl: backups, failover, master, give back",
			obs:   cl(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}),
			steps: []string{"restart n1", "restart n2", "failover n2", "restart n3", "failover n3", "restore-clear n3"}, order: "n1 n2 n3",
			texts: []string{"restart n1 (systemctl restart hactl); wait until it is back in BACKUP and hears n3; settle 4s; check one owner", "",
				"hactl failover --to n2 (promote it; the old master steps down)", "restart n3 (systemctl restart hactl); wait until it is back in BACKUP; check one owner",
				"hactl failover --to n3 (give mastership back)", "clear n3's promotion: it was master by priority, and stays master"},
			check: func(t *testing.T, p *Plan) {
				if s := p.Steps[3]; s.Hears != "n2" || s.OldPID != 13 {
					t.Errorf("master restart %+v", s)
				}
				if s := p.Steps[0]; s.Hears != "n3" || s.OldPID != 11 || s.Settle != 4*time.Second || s.Wait != time.Minute {
					t.Errorf("backup restart %+v", s)
				}
			}},
		{name: "hactl: lowest priority first, whatever the node order",
			obs:   cl(node{prio: 102}, node{prio: 103, state: "MASTER"}, node{prio: 101}),
			steps: []string{"restart n3", "restart n1", "failover n1", "restart n2", "failover n2", "restore-clear n2"}, order: "n3 n1 n2"},
		{name: "hactl: no restore",
			obs: cl(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}), opt: RestartOptions{NoRestore: true},
			steps: []string{"restart n1", "restart n2", "failover n2", "restart n3", "note n2"},
			texts: []string{"", "", "", "", "leave n2 promoted (--no-restore); hactl failover --clear returns to priority order"}},
		{name: "hactl: a promoted master gets its promotion back, to its end",
			obs:   cl(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER", promoted: true, expires: in2h}),
			steps: []string{"restart n1", "restart n2", "failover n2", "restart n3", "failover n3"},
			check: func(t *testing.T, p *Plan) {
				if !p.Steps[4].Until.Equal(in2h) {
					t.Errorf("until %v", p.Steps[4].Until)
				}
			}},
		{name: "hactl: a FAULT backup first, and never the best",
			obs:   cl(node{prio: 101}, node{prio: 150, state: "FAULT"}, node{prio: 103, state: "MASTER"}),
			steps: []string{"restart n2", "restart n1", "failover n1", "restart n3", "failover n3", "restore-clear n3"}, order: "n2 n1 n3"},
		{name: "every backup in FAULT: the VIP goes down",
			obs:   cl(node{prio: 101, state: "FAULT"}, node{prio: 103, state: "MASTER"}),
			steps: []string{"restart n1", "note n2", "restart n2"},
			texts: []string{"", "restart n2, the only node: the VIP is down while it restarts"},
			check: func(t *testing.T, p *Plan) {
				if p.Steps[2].Hears != "" {
					t.Errorf("hears %q", p.Steps[2].Hears)
				}
			}},
		{name: "one node", obs: cl(node{prio: 100, state: "MASTER"}), steps: []string{"note n1", "restart n1"}, order: "n1"},
		{name: "keepalived: the master takes it back",
			obs:   cl(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER"}),
			steps: []string{"restart n1", "restart n2", "note n3", "restart n3", "take-back n3"},
			texts: []string{"restart n1 (systemctl restart keepalived);", "", "keepalived: restarting n3 moves the VIP to n2 (best backup)",
				"restart n3 (systemctl restart keepalived); wait until it is back (BACKUP, or MASTER again by preemption); settle 4s; check one owner",
				"wait up to 1m0s until n3 takes the VIP back by preemption (it outranks every other node)"},
			check: func(t *testing.T, p *Plan) {
				if p.Steps[3].Hears != "" {
					t.Errorf("the handover restart hears %q", p.Steps[3].Hears)
				}
			}},
		{name: "keepalived: nopreempt master, the best backup keeps it",
			obs:   cl(node{prio: 101, kind: ka}, node{prio: 102, kind: ka}, node{prio: 103, kind: ka, state: "MASTER", nopreempt: true}),
			steps: []string{"restart n1", "restart n2", "note n3", "restart n3", "note n2"},
			texts: []string{"", "", "", "", "n2 keeps the VIP (n3 does not preempt it); keepalived has no promotion to give it back"},
			check: func(t *testing.T, p *Plan) {
				if !strings.Contains(p.Steps[4].Note, "n3 does not take the VIP back") {
					t.Errorf("note %q", p.Steps[4].Note)
				}
			}},
		{name: "keepalived: a master that does not outrank every node does not take it back",
			obs:   cl(node{prio: 101, kind: ka}, node{prio: 102, kind: ka, state: "MASTER"}, node{prio: 103, kind: ka}),
			steps: []string{"restart n1", "restart n3", "note n2", "restart n2", "note n3"}, order: "n1 n3 n2"},
		{name: "mixed: hactl master, keepalived best backup: the restart is the handover, nothing to leave promoted",
			obs: cl(node{prio: 101}, node{prio: 102, kind: ka}, node{prio: 103, state: "MASTER"}), opt: RestartOptions{Command: "ctl restart {node}"},
			steps: []string{"restart n1", "restart n2", "note n3", "restart n3", "take-back n3"},
			texts: []string{"restart n1 (ctl restart n1);"}},
		{name: "mixed: keepalived master, hactl best backup",
			obs:   cl(node{prio: 101, kind: ka}, node{prio: 102}, node{prio: 103, kind: ka, state: "MASTER"}),
			steps: []string{"restart n1", "restart n2", "note n3", "restart n3", "take-back n3"}},
		{name: "settle given", obs: cl(node{prio: 101}, node{prio: 103, state: "MASTER"}), opt: RestartOptions{Settle: time.Second},
			steps: []string{"restart n1", "failover n1", "restart n2", "failover n2", "restore-clear n2"},
			texts: []string{"restart n1 (systemctl restart hactl); wait until it is back in BACKUP and hears n2; settle 1s; check one owner"}},
		{name: "refused: two owners", obs: cl(node{prio: 101, state: "MASTER"}, node{prio: 103, state: "MASTER"}),
			want: "refusing to start: the VIP has 2 owners [n1 n2]"},
		{name: "refused: no owner", obs: cl(node{prio: 101}, node{prio: 103}), want: "the VIP has 0 owners"},
		{name: "refused: a backup without a daemon", obs: cl(node{kind: DaemonNone}, node{prio: 103, state: "MASTER"}),
			want: "n1: no VRRP daemon runs there"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanRestart(tt.obs, tt.opt)
			if (err != nil) != (tt.want != "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if err != nil {
				return
			}
			if got := steps(p); !slices.Equal(got, tt.steps) {
				t.Errorf("steps %q\nwant  %q", got, tt.steps)
			}
			if tt.order != "" && strings.Join(p.Order, " ") != tt.order {
				t.Errorf("order %v, want %s", p.Order, tt.order)
			}
			for i, w := range tt.texts {
				if i < len(p.Steps) && !strings.Contains(p.Steps[i].Text, w) {
					t.Errorf("step %d %q, want %q in it", i+1, p.Steps[i].Text, w)
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// The plan --dry-run prints is the plan the executor runs: one Plan
// value, rendered as the result's sentences and run step by step.
func TestDryRunIsThePlanRun(t *testing.T) {
	ctx := context.Background()
	t.Run("failover", func(t *testing.T) {
		c, ms := newFake()
		c.promo["n2"] = true
		opt := FailoverOptions{To: "n1", Poll: time.Millisecond, Wait: time.Second, DryRun: true}
		p, res, err := prepareFailover(ctx, ms, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Plan, p.Sentences()) || !res.DryRun || len(c.log) != 0 {
			t.Fatalf("dry run %q, plan %q, log %v", res.Plan, p.Sentences(), c.log)
		}
		again, err := Failover(ctx, ms, opt)
		if err != nil || !reflect.DeepEqual(again.Plan, res.Plan) {
			t.Fatalf("Failover --dry-run %q, %v", again.Plan, err)
		}
		e := newExecutor(ms, p, runOptions{Timeout: time.Second, Poll: time.Millisecond})
		if err := e.run(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []int{0, 1, 2}; !slices.Equal(e.ran, want) || strings.Join(c.log, ", ") != "clear n2, promote n1" {
			t.Errorf("ran %v (log %v), want every step of the plan in order", e.ran, c.log)
		}
	})
	t.Run("restart-safe", func(t *testing.T) {
		c, ms := newKAFake()
		opt := RestartOptions{Command: "restart {node}", Settle: time.Millisecond, Poll: time.Millisecond, Wait: time.Second, Lock: LockInfo{Owner: "test"}}
		p, _, err := prepareRestart(ctx, ms, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.DryRun = true
		dry, err := RestartSafe(ctx, ms, opt)
		if err != nil || !reflect.DeepEqual(dry.Plan, p.Sentences()) || len(c.log) != 0 {
			t.Fatalf("dry run %q, plan %q, %v", dry.Plan, p.Sentences(), err)
		}
		e := newExecutor(ms, p, runOptions{Timeout: time.Second, Poll: time.Millisecond, Wait: time.Second})
		if err := e.run(ctx); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(e.ran, []int{0, 1, 2, 3, 4}) || strings.Join(c.log, ", ") != "restart n1, restart n2, restart n3" || e.lastOwner != "n3" {
			t.Errorf("ran %v, log %v, owner %s", e.ran, c.log, e.lastOwner)
		}
	})
}

// A step that fails stops the run there with the cluster's state; the
// keepalived wait's failure still starts the stopped master again.
func TestExecutorStopsAtFirstFailure(t *testing.T) {
	ctx := context.Background()
	t.Run("promote fails", func(t *testing.T) {
		c, ms := newFake()
		ms[0] = failingPromote{ms[0].(fakeMember)}
		res, err := Failover(ctx, ms, FailoverOptions{To: "n1", Poll: time.Millisecond, Wait: time.Second})
		var se *StoppedError
		if !errors.As(err, &se) || se.Step != "promoting n1" || !strings.Contains(se.State, "n3 holds the VIP") {
			t.Fatalf("err %v", err)
		}
		if len(res.Steps) != 1 || res.Steps[0].Error == "" || res.Final == nil || len(c.log) != 0 {
			t.Errorf("steps %+v final %v log %v", res.Steps, res.Final, c.log)
		}
	})
	t.Run("keepalived wait fails, master started again", func(t *testing.T) {
		c, ms := newKAFake()
		opt := kaOpts("n1")
		opt.Force, opt.Wait = true, 100*time.Millisecond // n2 outranks n1 and takes the VIP
		_, err := Failover(ctx, ms, opt)
		var se *StoppedError
		if !errors.As(err, &se) || se.Step != "waiting for n1 to hold the VIP" {
			t.Fatalf("err %v", err)
		}
		if got := strings.Join(c.log, ", "); got != "stop n3, start n3" || !c.running["n3"] {
			t.Errorf("commands %q", got)
		}
	})
}

type failingPromote struct{ fakeMember }

func (failingPromote) Promote(context.Context, string, time.Duration) error {
	return errors.New("refused")
}
