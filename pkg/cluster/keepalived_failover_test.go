package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// kaFake is a cluster of keepalived nodes whose owner follows keepalived's
// rules: when the master stops, the best running node takes over; a node
// that starts takes the VIP when it outranks the owner and preempts. Its
// members' Run understands "stop NODE", "start NODE" and "restart NODE".
type kaFake struct {
	mu        sync.Mutex
	prio      map[string]int
	nopreempt map[string]bool
	running   map[string]bool
	pid       map[string]int
	owner     string
	log       []string
}

type kaMember struct {
	c    *kaFake
	name string
}

func newKAFake() (*kaFake, []Member) {
	c := &kaFake{prio: map[string]int{"n1": 101, "n2": 102, "n3": 103}, nopreempt: map[string]bool{},
		running: map[string]bool{"n1": true, "n2": true, "n3": true}, pid: map[string]int{"n1": 11, "n2": 12, "n3": 13}, owner: "n3"}
	return c, []Member{kaMember{c, "n1"}, kaMember{c, "n2"}, kaMember{c, "n3"}}
}

func (m kaMember) Name() string { return m.name }

func (m kaMember) Observe(context.Context) (*Observation, error) {
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	o := &Observation{Node: m.name, Ifs: []Interface{{Name: "eth0", Addrs: []netip.Prefix{}}}}
	if !c.running[m.name] {
		o.Daemon = &Daemon{Kind: DaemonNone, Instances: []Instance{}}
		return o, nil
	}
	state := api.StateBackup
	if c.owner == m.name {
		state = api.StateMaster
		o.Ifs[0].Addrs = []netip.Prefix{netip.MustParsePrefix("10.0.0.100/24")}
	}
	preempt := !c.nopreempt[m.name]
	in := Instance{Name: "VI_1", State: state, BasePriority: c.prio[m.name], EffectivePriority: c.prio[m.name],
		VIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.100/24")}, Preempt: &preempt, AdvertInterval: time.Millisecond}
	o.Daemon = &Daemon{Kind: DaemonKeepalived, PID: c.pid[m.name], StateSource: SourceKeepalivedJSON, Instances: []Instance{in}}
	return o, nil
}

func (m kaMember) Promote(context.Context, string, time.Duration) error {
	return fmt.Errorf("%s: keepalived has no promotion", m.name)
}
func (m kaMember) ClearPromotion(context.Context, string) error { return nil }

func (m kaMember) Run(_ context.Context, script string, _ time.Duration) (string, error) {
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.HasPrefix(script, "d=") { // restart-safe's lock
		if strings.Contains(script, "mkdir") {
			return "@@taken\n", nil
		}
		return "", nil
	}
	verb, node, _ := strings.Cut(script, " ")
	if node != m.name {
		return "", fmt.Errorf("%q run on %s", script, m.name)
	}
	c.log = append(c.log, script)
	stop := func() {
		c.running[node] = false
		if c.owner == node {
			c.owner = ""
			for n, ok := range c.running {
				if ok && (c.owner == "" || c.prio[n] > c.prio[c.owner]) {
					c.owner = n
				}
			}
		}
	}
	start := func() {
		c.running[node] = true
		c.pid[node] += 100
		if c.owner == "" || (!c.nopreempt[node] && c.prio[node] > c.prio[c.owner]) {
			c.owner = node
		}
	}
	switch verb {
	case "stop":
		stop()
	case "start":
		start()
	case "restart":
		stop()
		start()
	default:
		return "", fmt.Errorf("unknown command %q", script)
	}
	return "", nil
}

func kaOpts(to string) FailoverOptions {
	return FailoverOptions{To: to, Poll: time.Millisecond, Wait: time.Second, StopCommand: "stop {node}", StartCommand: "start {node}"}
}

func TestKeepalivedFailoverRefusesPreemptingMaster(t *testing.T) {
	c, ms := newKAFake()
	_, err := Failover(context.Background(), ms, kaOpts("n2"))
	if err == nil || !strings.Contains(err.Error(), "n3 (priority 103) outranks n2 (102) and preempts") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err %v", err)
	}
	_, err = Failover(context.Background(), ms, kaOpts("n1"))
	if err == nil || !strings.Contains(err.Error(), "n2 (priority 102) outranks n1 (101) and would take the VIP instead") {
		t.Fatalf("err %v", err)
	}
	if len(c.log) != 0 {
		t.Errorf("a refusal ran %v", c.log)
	}
}

func TestKeepalivedFailoverForcedMasterTakesItBack(t *testing.T) {
	c, ms := newKAFake()
	opt := kaOpts("n2")
	opt.Force = true
	res, err := Failover(context.Background(), ms, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.log, ", "); got != "stop n3, start n3" {
		t.Errorf("commands %q", got)
	}
	if res.Method != "keepalived-restart" || strings.Join(res.Owners, ",") != "n3" || res.To != "n2" {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "n3 took it back by preemption") {
		t.Errorf("notes %q", res.Notes)
	}
}

func TestKeepalivedFailoverNopreemptStays(t *testing.T) {
	c, ms := newKAFake()
	c.nopreempt["n3"] = true
	res, err := Failover(context.Background(), ms, kaOpts("n2"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Owners, ",") != "n2" || c.owner != "n2" || !c.running["n3"] || c.pid["n3"] != 113 {
		t.Errorf("owners %v, fake owner %s, n3 running %v pid %d", res.Owners, c.owner, c.running["n3"], c.pid["n3"])
	}
	var actions []string
	for _, s := range res.Steps {
		actions = append(actions, s.Node+" "+s.Action)
	}
	want := "n3 stopped: stop n3, n2 holds the VIP alone, n3 started: start n3, n3 daemon back, n2 still holds the VIP alone after 4ms"
	if got := strings.Join(actions, ", "); got != want {
		t.Errorf("steps %q\nwant  %q", got, want)
	}
}

func TestKeepalivedFailoverDryRunShowsRefusedPlan(t *testing.T) {
	c, ms := newKAFake()
	opt := kaOpts("n2")
	opt.StopCommand, opt.StartCommand, opt.DryRun = "", "", true
	res, err := Failover(context.Background(), ms, opt)
	if err == nil || res == nil || !res.DryRun || len(res.Plan) != 4 || len(c.log) != 0 {
		t.Fatalf("err %v res %+v log %v", err, res, c.log)
	}
	if !strings.Contains(res.Plan[0], "(systemctl stop keepalived)") || !strings.Contains(res.Plan[2], "(systemctl start keepalived)") {
		t.Errorf("plan %q", res.Plan)
	}
}

func TestFailoverMasterCommands(t *testing.T) {
	for _, c := range []struct {
		opt         FailoverOptions
		kind        string
		stop, start string
	}{
		{FailoverOptions{}, DaemonKeepalived, "systemctl stop keepalived", "systemctl start keepalived"},
		{FailoverOptions{}, DaemonHactl, "systemctl stop hactl", "systemctl start hactl"},
		{FailoverOptions{Service: "keepalived@vi1"}, DaemonHactl, "systemctl stop keepalived@vi1", "systemctl start keepalived@vi1"},
		{FailoverOptions{StopCommand: "ctl stop {node}", StartCommand: "ctl {node} start {node}"}, DaemonKeepalived, "ctl stop m1", "ctl m1 start m1"},
	} {
		stop, start := c.opt.masterCommands("m1", c.kind)
		if stop != c.stop || start != c.start {
			t.Errorf("%+v %s: %q %q, want %q %q", c.opt, c.kind, stop, start, c.stop, c.start)
		}
	}
}

func TestKeepalivedRestartSafeMasterTakesItBack(t *testing.T) {
	c, ms := newKAFake()
	res, err := RestartSafe(context.Background(), ms, RestartOptions{Command: "restart {node}", Settle: time.Millisecond, Poll: time.Millisecond, Wait: time.Second,
		Lock: LockInfo{Owner: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.log, ", "); got != "restart n1, restart n2, restart n3" {
		t.Errorf("commands %q", got)
	}
	if res.FinalOwner != "n3" || len(res.Restarted) != 3 {
		t.Errorf("final %s restarted %+v", res.FinalOwner, res.Restarted)
	}
	for _, r := range res.Restarted {
		if r.NewPID != r.OldPID+100 {
			t.Errorf("%+v", r)
		}
	}
}

func TestParseKeepalivedJSONPreempt(t *testing.T) {
	b, err := os.ReadFile("testdata/keepalived.json")
	if err != nil {
		t.Fatal(err)
	}
	ins, err := ParseKeepalivedJSON(b)
	if err != nil || len(ins) != 1 {
		t.Fatal(err)
	}
	if in := ins[0]; in.Preempt == nil || !*in.Preempt || in.AdvertInterval != time.Second || in.masterDown() != 4*time.Second {
		t.Errorf("preempt %v interval %v", in.Preempt, in.AdvertInterval)
	}
	np := strings.Replace(strings.Replace(string(b), `"nopreempt":false`, `"nopreempt":true`, 1), `"adver_int":1`, `"adver_int":0.2`, 1)
	ins, err = ParseKeepalivedJSON([]byte(np))
	if err != nil || len(ins) != 1 {
		t.Fatal(err)
	}
	if in := ins[0]; in.Preempt == nil || *in.Preempt || in.AdvertInterval != 200*time.Millisecond {
		t.Errorf("nopreempt: preempt %v interval %v", in.Preempt, in.AdvertInterval)
	}
}

// A cluster where nobody can take over (one node, or every backup in
// FAULT): the master's restart has no master to hear and comes back as
// master. Before, restart-safe waited for it to be BACKUP hearing itself,
// and stopped after --wait.
func TestRestartSafeOnlyNode(t *testing.T) {
	c := &kaFake{prio: map[string]int{"n1": 100}, nopreempt: map[string]bool{}, running: map[string]bool{"n1": true}, pid: map[string]int{"n1": 11}, owner: "n1"}
	res, err := RestartSafe(context.Background(), []Member{kaMember{c, "n1"}}, RestartOptions{Command: "restart {node}", Settle: time.Millisecond,
		Poll: time.Millisecond, Wait: 300 * time.Millisecond, Lock: LockInfo{Owner: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.FinalOwner != "n1" || len(res.Restarted) != 1 || strings.Join(c.log, ", ") != "restart n1" {
		t.Errorf("final %s, restarted %+v, log %v", res.FinalOwner, res.Restarted, c.log)
	}
}
