package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// failover --clear gives mastership back to the node that owns it by
// priority: through the release handover when it runs hactl, in place when
// it holds the VIP already, by VRRP's timers when it runs keepalived.
func TestPlanClear(t *testing.T) {
	three := func(n1, n2, n3 node) []*Observation {
		n1.name, n2.name, n3.name = "n1", "n2", "n3"
		return observed(n1, n2, n3)
	}
	exp := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	giveBack := []string{"promote n3", "wait-alone n3", "restore-clear n3"}
	for _, tt := range []struct {
		name     string
		obs      []*Observation
		method   Method
		giveBack string
		steps    []string
		texts    []string // substrings of the sentences, in step order
		notes    []string // substrings of the notes
	}{
		{name: "nothing promoted",
			obs:    three(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER"}),
			method: MethodNone, notes: []string{"no node has a promotion of VI_1; nothing to clear"}},
		{name: "rightful node hactl: the release handover",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103}),
			method: MethodClear, giveBack: GiveBackHandover, steps: append([]string{"clear-promotion n1"}, giveBack...),
			texts: []string{"clear the sticky promotion of VI_1 on n1 (a promoted node never yields)",
				"promote VI_1 on n3, the master by priority (priority 103), for at most 1m30s: it takes the VIP through the release handover",
				"wait up to 30s until n3 holds 10.0.0.100 and no other node does",
				"clear the promotion of VI_1 on n3: it is master by priority and stays master"}},
		{name: "timed promotion cleared the same way",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true, expires: exp}, node{prio: 102}, node{prio: 103}),
			method: MethodClear, giveBack: GiveBackHandover, steps: append([]string{"clear-promotion n1"}, giveBack...),
			texts: []string{"clear the timed (until 2026-12-02T06:00:00Z) promotion of VI_1 on n1"}},
		{name: "several promotions, non-owners first",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102, promoted: true, expires: exp}, node{prio: 103}),
			method: MethodClear, giveBack: GiveBackHandover, steps: append([]string{"clear-promotion n2", "clear-promotion n1"}, giveBack...)},
		{name: "rightful node keepalived: wait for its Master_Down_Interval",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103, kind: ka}),
			method: MethodClear, giveBack: GiveBackWait, steps: []string{"clear-promotion n1", "wait-decided n3"},
			texts: []string{"", "until priorities decide: n3 should hold the VIP alone (n3 runs keepalived: no handover"},
			notes: []string{"n3 (priority 103) should hold the VIP by priority but runs keepalived, which cannot take a release handover: waiting for its Master_Down_Interval (about 3.6s)"}},
		{name: "keepalived elsewhere, rightful node hactl: handover",
			obs:    three(node{prio: 101, kind: ka}, node{prio: 102, state: "MASTER", promoted: true}, node{prio: 103}),
			method: MethodClear, giveBack: GiveBackHandover, steps: append([]string{"clear-promotion n2"}, giveBack...)},
		{name: "rightful node is the master already: cleared in place",
			obs:    three(node{prio: 101}, node{prio: 102}, node{prio: 103, state: "MASTER", promoted: true}),
			method: MethodClear, giveBack: GiveBackInPlace, steps: []string{"restore-clear n3", "wait-decided n3"},
			texts: []string{"clear the sticky promotion of VI_1 on n3, which holds the VIP and is master by priority (priority 103): nothing moves",
				"check (up to 30s) that n3 still holds the VIP alone"}},
		{name: "rightful master, a promoted backup's promotion cleared first",
			obs:    three(node{prio: 101, promoted: true, expires: exp}, node{prio: 102}, node{prio: 103, state: "MASTER", promoted: true}),
			method: MethodClear, giveBack: GiveBackInPlace, steps: []string{"clear-promotion n1", "restore-clear n3", "wait-decided n3"}},
		{name: "rightful node unreachable (no daemon answers): the next one",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103, kind: DaemonNone}),
			method: MethodClear, giveBack: GiveBackHandover,
			steps: []string{"clear-promotion n1", "promote n2", "wait-alone n2", "restore-clear n2"}},
		{name: "rightful node in FAULT: out of the election",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103, state: "FAULT"}),
			method: MethodClear, giveBack: GiveBackHandover,
			steps: []string{"clear-promotion n1", "promote n2", "wait-alone n2", "restore-clear n2"}},
		{name: "nopreempt: the master keeps it, in place",
			obs:    three(node{prio: 101, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103, nopreempt: true}),
			method: MethodClear, giveBack: GiveBackInPlace, steps: []string{"restore-clear n1", "wait-decided n1"},
			texts: []string{"(n3 (priority 103) outranks it but does not preempt)"}},
		{name: "tie, primaries known: the higher address",
			obs: three(node{prio: 103, state: "MASTER", promoted: true, primary: "10.0.0.1"}, node{prio: 102, primary: "10.0.0.2"},
				node{prio: 103, primary: "10.0.0.3"}),
			method: MethodClear, giveBack: GiveBackHandover, steps: append([]string{"clear-promotion n1"}, giveBack...),
			texts: []string{"", "(priority 103, 10.0.0.3)"}},
		{name: "tie, the master has the higher address: in place",
			obs: three(node{prio: 103, primary: "10.0.0.1"}, node{prio: 102, primary: "10.0.0.2"},
				node{prio: 103, state: "MASTER", promoted: true, primary: "10.0.0.3"}),
			method: MethodClear, giveBack: GiveBackInPlace, steps: []string{"restore-clear n3", "wait-decided n3"}},
		{name: "tie, primaries unknown: wait",
			obs:    three(node{prio: 103, state: "MASTER", promoted: true}, node{prio: 102}, node{prio: 103}),
			method: MethodClear, giveBack: GiveBackWait, steps: []string{"clear-promotion n1", "wait-decided"},
			texts: []string{"", "wait up to 30s until exactly one node holds the VIP"},
			notes: []string{"cannot be known (a tie at priority 103 whose primary addresses are not known)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanFailover(tt.obs, FailoverOptions{Clear: true})
			if err != nil || p.Refused != nil {
				t.Fatalf("err %v, refused %v", err, p.Refused)
			}
			if p.Method != tt.method || p.GiveBack != tt.giveBack {
				t.Errorf("method %q give-back %q, want %q %q", p.Method, p.GiveBack, tt.method, tt.giveBack)
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
			for _, s := range p.Steps {
				if s.Action == ActPromote && s.For != 30*time.Second+clearPromotionMargin {
					t.Errorf("the give-back's promotion lasts %v, want --wait plus the margin (timed, never sticky)", s.For)
				}
			}
		})
	}
}

// The give-back runs as planned: clear, promote, clear again; the result
// has no promotion left to expire.
func TestFailoverClearGivesBack(t *testing.T) {
	c, ms := newFake()
	c.promo["n1"] = true
	var lines []string
	res, err := Failover(context.Background(), ms, FailoverOptions{Clear: true, Poll: time.Millisecond, Wait: time.Second,
		Progress: func(s string) { lines = append(lines, s) }})
	if err != nil || len(res.Owners) != 1 || res.Owners[0] != "n3" {
		t.Fatalf("err %v owners %v", err, res.Owners)
	}
	if got := strings.Join(c.log, ", "); got != "clear n1, promote n3, clear n3" {
		t.Errorf("calls %q, want clear n1, promote n3, clear n3", got)
	}
	if res.GiveBack != GiveBackHandover || res.ExpiresAt != nil || res.Method != MethodClear || c.promo["n3"] {
		t.Errorf("give-back %q expires %v method %q, n3 promoted %v", res.GiveBack, res.ExpiresAt, res.Method, c.promo["n3"])
	}
	if len(lines) != 4 || !strings.Contains(lines[1], "n3: promoted") {
		t.Errorf("progress %q", lines)
	}
}

// A failed step of the give-back stops there with the cluster's state.
func TestFailoverClearStopsAtFirstFailure(t *testing.T) {
	ctx := context.Background()
	t.Run("promote fails", func(t *testing.T) {
		c, ms := newFake()
		c.promo["n1"] = true
		ms[2] = failingPromote{ms[2].(fakeMember)}
		res, err := Failover(ctx, ms, FailoverOptions{Clear: true, Poll: time.Millisecond, Wait: time.Second})
		var se *StoppedError
		if !errors.As(err, &se) || se.Step != "promoting n3" || !strings.Contains(se.State, "n3") {
			t.Fatalf("err %v", err)
		}
		// n1's promotion is cleared; n1 is master by its priority until
		// n3 preempts by itself (the fake: at once).
		if got := strings.Join(c.log, ", "); got != "clear n1" || res.Final == nil {
			t.Errorf("calls %q, final %v", got, res.Final)
		}
	})
	t.Run("the last clear fails", func(t *testing.T) {
		c, ms := newFake()
		c.promo["n1"] = true
		ms[2] = failingClear{ms[2].(fakeMember)}
		res, err := Failover(ctx, ms, FailoverOptions{Clear: true, Poll: time.Millisecond, Wait: time.Second})
		var se *StoppedError
		if !errors.As(err, &se) || se.Step != "clearing n3's promotion" || !strings.Contains(se.State, "n3 holds the VIP") {
			t.Fatalf("err %v", err)
		}
		if got := strings.Join(c.log, ", "); got != "clear n1, promote n3" || res.ExpiresAt == nil {
			t.Errorf("calls %q, expires %v (the moment's promotion is timed, and said)", got, res.ExpiresAt)
		}
	})
}

type failingClear struct{ fakeMember }

func (failingClear) ClearPromotion(context.Context, string) error {
	return errors.New("promotions file not written")
}
