package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/cluster"
	"github.com/hactl/hactl/pkg/remote"
	"github.com/hactl/hactl/pkg/resolve"
)

// fakeNode is a cluster.Node with canned answers.
type fakeNode struct {
	name   string
	addrs  []string
	daemon *cluster.Daemon
	err    error
}

func (f *fakeNode) Name() string { return f.name }
func (f *fakeNode) Addresses(context.Context) ([]cluster.Interface, error) {
	if f.err != nil {
		return nil, f.err
	}
	ifc := cluster.Interface{Name: "eth0", Index: 2, Up: true, MAC: "02:00:00:00:00:" + f.name[len(f.name)-1:] + "0"}
	for _, a := range f.addrs {
		ifc.Addrs = append(ifc.Addrs, netip.MustParsePrefix(a))
	}
	return []cluster.Interface{ifc}, nil
}
func (f *fakeNode) Daemon(context.Context) (*cluster.Daemon, error) { return f.daemon, f.err }

func fakeHactl(state api.State) *cluster.Daemon {
	lease := 6
	return &cluster.Daemon{Kind: cluster.DaemonHactl, Version: "1.0", StateSource: cluster.SourceSocket, Instances: []cluster.Instance{{
		Name: "VI_1", State: state, BasePriority: 100, EffectivePriority: 90, VIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.100/24")},
		FailingTrackers: []string{"script chk"}, LeaseSeconds: &lease, Since: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		Promotion: &api.Promotion{Since: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)},
	}}}
}

// restoredTwice marks d's instance as having had two VIPs deleted by hand
// and put back, the last 45 s before TestStatusTableAndJSON's now.
func restoredTwice(d *cluster.Daemon) *cluster.Daemon {
	at := time.Date(2026, 1, 1, 12, 4, 15, 0, time.UTC)
	d.Instances[0].VIPsRestored, d.Instances[0].LastVIPDeleted = 2, &at
	return d
}

func source(nodes ...cluster.Node) NodeSource {
	return func(context.Context) (*nodeSet, error) { return &nodeSet{Nodes: nodes}, nil }
}

var chainResult = &resolve.Result{
	Query: "vip.example.test", Name: "vip.example.test", Canonical: "vip-prod-a.example.test",
	Chain: []resolve.Alias{{Name: "vip.example.test", Target: "vip-prod.example.test"}, {Name: "vip-prod.example.test", Target: "vip-prod-a.example.test"}},
	Addrs: []netip.Addr{netip.MustParseAddr("10.77.0.100")}, Source: resolve.Source{Kind: resolve.SourceDNS, Server: "10.77.0.11:53"},
}

func runWhoOwnsTest(t *testing.T, json bool, nodes ...cluster.Node) (string, string, error) {
	t.Helper()
	io, out, errOut := TestStreams()
	g := &GlobalOptions{Output: "table", Timeout: time.Second}
	if json {
		g.Output = "json"
	}
	o := &WhoOwnsOptions{IO: io, Global: g, VIP: "vip.example.test", Nodes: source(nodes...),
		Resolve: func(context.Context, string) (*resolve.Result, error) { return chainResult, nil }}
	err := runWhoOwns(context.Background(), o)
	return out.String(), errOut.String(), err
}

func TestWhoOwnsExitCodes(t *testing.T) {
	master := &fakeNode{name: "node1", addrs: []string{"10.77.0.11/24", "10.77.0.100/24"}, daemon: fakeHactl("MASTER")}
	backup := &fakeNode{name: "node2", addrs: []string{"10.77.0.12/24", "10.77.0.10/24"}, daemon: fakeHactl("BACKUP")}
	byHand := &fakeNode{name: "node2", addrs: []string{"10.77.0.12/24", "10.77.0.100/32"}, daemon: fakeHactl("BACKUP")}
	down := &fakeNode{name: "node3", err: errors.New("node3: connect to 10.77.0.13:22: connection refused")}
	printer := &fakeNode{name: "node3", err: &remote.NodeError{Node: "node3", Err: &remote.OutputLimitError{Command: "yes", Stream: "stdout", Limit: remote.DefaultOutputLimit}}}
	cases := []struct {
		name  string
		nodes []cluster.Node
		code  int
		out   []string
		err   string
	}{
		{"one owner", []cluster.Node{master, backup}, 0, []string{
			"vip.example.test is an alias for vip-prod.example.test\n",
			"vip-prod.example.test is an alias for vip-prod-a.example.test\n",
			"vip-prod-a.example.test has address 10.77.0.100 (from DNS server 10.77.0.11:53)",
			"node1   yes     10.77.0.100/24 on eth0",
			"owner: node1 (VI_1 MASTER)\n",
		}, ""},
		{"none", []cluster.Node{backup}, 2, []string{"no node holds 10.77.0.100\n"}, ""},
		{"split brain", []cluster.Node{master, byHand}, 3, []string{"split brain: 10.77.0.100 is held by node1 (VI_1 MASTER) and node2 (VI_1 BACKUP, lingering VIP)"}, ""},
		{"unreachable", []cluster.Node{master, down}, 4, []string{"node3   ?", "node3 could not be asked; owner among the others: node1"}, "node3: connect to 10.77.0.13:22: connection refused"},
		{"output limit", []cluster.Node{master, printer}, 4, []string{"node3   ?", "node3 could not be asked; owner among the others: node1"}, "node3: yes: printed more than 4 MiB on stdout; stopped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := runWhoOwnsTest(t, false, c.nodes...)
			if got := ExitCode(err); got != c.code {
				t.Errorf("exit %d, want %d (%v)", got, c.code, err)
			}
			for _, w := range c.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			var ee *ExitError
			if c.err == "" && err != nil && !(errors.As(err, &ee) && ee.Err == nil) {
				t.Errorf("unexpected message %v", err)
			}
			if c.err != "" && (err == nil || err.Error() != c.err) {
				t.Errorf("error %v, want %q", err, c.err)
			}
			if errOut != "" {
				t.Errorf("stderr not empty (not a terminal): %q", errOut)
			}
		})
	}
}

func TestWhoOwnsJSON(t *testing.T) {
	master := &fakeNode{name: "node1", addrs: []string{"10.77.0.100/24"}, daemon: fakeHactl("MASTER")}
	out, _, err := runWhoOwnsTest(t, true, master)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, k := range []string{"query", "resolution", "addresses", "verdict", "owners", "unreachable", "nodes"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
	n := doc["nodes"].([]any)[0].(map[string]any)
	if n["state"] != "MASTER" || n["instance"] != "VI_1" || n["held"].([]any)[0].(map[string]any)["interface"] != "eth0" {
		t.Errorf("node %v", n)
	}
	if len(doc["resolution"].(map[string]any)["chain"].([]any)) != 2 {
		t.Errorf("chain %v", doc["resolution"])
	}
}

func TestWhoOwnsARP(t *testing.T) {
	io, out, _ := TestStreams()
	master := &fakeNode{name: "node1", addrs: []string{"10.77.0.100/24"}, daemon: fakeHactl("MASTER")}
	o := &WhoOwnsOptions{IO: io, Global: &GlobalOptions{Output: "table", Timeout: time.Second}, VIP: "10.77.0.100", ARP: true, Nodes: source(master),
		Resolve: (&resolve.Resolver{}).Resolve,
		ARPProbe: func(_ context.Context, _ string, targets []netip.Addr, _ time.Duration) (*cluster.ARPAnswer, error) {
			return &cluster.ARPAnswer{Interface: "eth0", Replies: map[netip.Addr][]string{targets[0]: {"02:00:00:00:00:10", "02:00:00:00:00:99"}}}, nil
		}}
	err := runWhoOwns(context.Background(), o)
	if ExitCode(err) != ExitSplitBrain {
		t.Errorf("exit %d", ExitCode(err))
	}
	for _, w := range []string{"ARP on eth0: 10.77.0.100 is answered by 02:00:00:00:00:10 (node1), 02:00:00:00:00:99 (no known node)", "split brain: 10.77.0.100 is held by node1 (VI_1 MASTER) and MAC 02:00:00:00:00:99"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
}

func TestStatusTableAndJSON(t *testing.T) {
	ka := &cluster.Daemon{Kind: cluster.DaemonKeepalived, Version: "2.2.7", StateSource: cluster.SourceInferred, Note: "state inferred from the addresses held: run with --sudo"}
	nodes := []cluster.Node{
		&fakeNode{name: "node1", addrs: []string{"10.77.0.100/24"}, daemon: restoredTwice(fakeHactl("MASTER"))},
		&fakeNode{name: "node2", daemon: ka},
		&fakeNode{name: "node3", daemon: &cluster.Daemon{Kind: cluster.DaemonNone}},
		&fakeNode{name: "node4", err: errors.New("node4: ssh: host key mismatch")},
	}
	io, out, errOut := TestStreams()
	now := time.Date(2026, 1, 1, 12, 5, 0, 0, time.UTC)
	o := &StatusOptions{IO: io, Global: &GlobalOptions{Output: "table", Timeout: time.Second}, Nodes: source(nodes...), Now: func() time.Time { return now }}
	err := runStatus(context.Background(), o)
	if ExitCode(err) != ExitUnreachable || err.Error() != "node4: ssh: host key mismatch" {
		t.Errorf("err %v", err)
	}
	want := `NODE    DAEMON             INSTANCE   STATE                 PRIO   EFF   VIPS HELD     SINCE   FAILING      LEASE   PROMOTION   RESTORED     CONFLICT
node1   hactl 1.0          VI_1       MASTER                100    90    10.77.0.100   5m      script chk   6s      sticky      2, 45s ago   -
node2   keepalived 2.2.7   -          unknown (see below)   -      -     -             -       -            -       -           -            -
node3   none               -          -                     -      -     -             -       -            -       -           -            -
node4   ?                  -          unreachable           -      -     -             -       -            -       -           -            -
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errOut.String(), "hactl: node2: state inferred") {
		t.Errorf("stderr %q", errOut)
	}

	io, out, _ = TestStreams()
	o.IO, o.Global.Output = io, "json"
	_ = runStatus(context.Background(), o)
	var doc struct {
		Nodes []struct {
			Node      string `json:"node"`
			Reachable bool   `json:"reachable"`
			Error     string `json:"error"`
			Daemon    *struct {
				Kind      string `json:"kind"`
				Instances []struct {
					State string   `json:"state"`
					Held  []string `json:"held"`
				} `json:"instances"`
			} `json:"daemon"`
		} `json:"nodes"`
		Unreachable []string `json:"unreachable"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Nodes) != 4 || doc.Nodes[0].Daemon.Instances[0].Held[0] != "10.77.0.100" || doc.Nodes[3].Reachable || doc.Unreachable[0] != "node4" {
		t.Errorf("doc %+v", doc)
	}
}

func TestNodeTargets(t *testing.T) {
	dir := t.TempDir()
	inv := dir + "/inventory"
	writeFile(t, inv, "cluster prod default user=admin ssh_config=/x/ssh_config\n  a host=10.0.0.1 socket=/run/a.sock\n  b\ncluster stg\n  s1\n")
	got, err := nodeTargets(&GlobalOptions{Inventory: inv})
	if err != nil || len(got) != 2 || got[0].Host != "10.0.0.1" || got[0].User != "admin" || got[0].Socket != "/run/a.sock" || got[1].SSHConfig != "/x/ssh_config" {
		t.Errorf("targets %+v %v", got, err)
	}
	got, err = nodeTargets(&GlobalOptions{Inventory: inv, Nodes: []string{"b", "other"}})
	if err != nil || len(got) != 2 || got[0].Name != "b" || got[1].Name != "other" || got[1].User != "admin" {
		t.Errorf("--nodes targets %+v %v", got, err)
	}
	got, err = nodeTargets(&GlobalOptions{Inventory: inv, Cluster: "stg"})
	if err != nil || len(got) != 1 || got[0].Name != "s1" {
		t.Errorf("-c stg %+v %v", got, err)
	}
	if _, err = nodeTargets(&GlobalOptions{Inventory: inv, Cluster: "nope"}); err == nil {
		t.Error("unknown cluster accepted")
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConflictColumn(t *testing.T) {
	got := conflicts([]api.Conflict{{Source: "10.77.0.14", Differences: []string{"vips", "interval"}}, {Source: "10.77.0.15", Differences: []string{"version"}}})
	if got != "10.77.0.14 vips,interval; 10.77.0.15 version" {
		t.Errorf("got %q", got)
	}
	if conflicts(nil) != "-" {
		t.Errorf("no conflicts: %q", conflicts(nil))
	}
}
