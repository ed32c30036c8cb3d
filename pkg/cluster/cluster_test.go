package cluster

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/remote"
)

// fakeNode is a Node with canned answers.
type fakeNode struct {
	name   string
	ifs    []Interface
	daemon *Daemon
	err    error
	delay  time.Duration
}

func (f *fakeNode) Name() string { return f.name }
func (f *fakeNode) Addresses(ctx context.Context) ([]Interface, error) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.ifs, f.err
}
func (f *fakeNode) Daemon(context.Context) (*Daemon, error) { return f.daemon, f.err }

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func eth(mac string, addrs ...string) []Interface {
	return []Interface{
		{Name: "lo", Index: 1, Up: true, Addrs: pfx("127.0.0.1/8")},
		{Name: "eth0", Index: 2, Up: true, MAC: mac, Addrs: pfx(addrs...)},
	}
}

func hactl(state api.State, vips ...string) *Daemon {
	return &Daemon{Kind: DaemonHactl, Version: "dev", StateSource: SourceSocket, Instances: []Instance{{Name: "VI_1", State: state, VIPs: pfx(vips...)}}}
}

var vip = netip.MustParseAddr("10.0.0.1")

func TestParseIPAddrJSON(t *testing.T) {
	b, err := os.ReadFile("testdata/ip-addr.json")
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := ParseIPAddrJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 3 || ifs[1].Name != "eth0" || ifs[1].MAC != "ea:10:19:00:42:2a" || !ifs[1].Up || ifs[2].Up || ifs[0].MAC != "" {
		t.Fatalf("interfaces %+v", ifs)
	}
	want := pfx("10.0.0.10/24", "10.77.0.100/24", "fd77::11/64", "fe80::e810:19ff:fe00:422a/64")
	if !reflect.DeepEqual(ifs[1].Addrs, want) {
		t.Errorf("eth0 addrs %v", ifs[1].Addrs)
	}
	if _, err := ParseIPAddrJSON([]byte("1: lo: <LOOPBACK>")); err == nil {
		t.Error("text output accepted")
	}
}

// The runbook's grep pitfalls: 10.0.0.1 must not match 10.0.0.10, and an
// address with another prefix length on another interface still counts.
func TestExactAddressMatch(t *testing.T) {
	b, _ := os.ReadFile("testdata/ip-addr.json")
	ifs, _ := ParseIPAddrJSON(b)
	cases := []struct {
		addr string
		want []string
	}{
		{"10.0.0.1", nil},
		{"10.0.0.10", []string{"10.0.0.10/24 on eth0"}},
		{"192.0.2.1", []string{"192.0.2.1/23 on eth1"}},
		{"10.77.0.100", []string{"10.77.0.100/24 on eth0"}},
		{"2001:db8::10", []string{"2001:db8::10/64 on eth1"}},
		{"2001:db8::1", nil},
		{"fe80::e810:19ff:fe00:422a%eth0", []string{"fe80::e810:19ff:fe00:422a/64 on eth0"}},
		{"::ffff:10.0.0.10", []string{"10.0.0.10/24 on eth0"}},
	}
	for _, c := range cases {
		var got []string
		for _, h := range holds(ifs, netip.MustParseAddr(c.addr)) {
			got = append(got, h.String())
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.addr, got, c.want)
		}
	}
}

func TestParseKeepalivedJSON(t *testing.T) {
	b, err := os.ReadFile("testdata/keepalived.json")
	if err != nil {
		t.Fatal(err)
	}
	ins, err := ParseKeepalivedJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 {
		t.Fatalf("%d instances", len(ins))
	}
	in := ins[0]
	if in.Name != "VI_1" || in.State != "MASTER" || in.VRID != 51 || in.Interface != "eth0" || in.BasePriority != 150 || in.EffectivePriority != 150 {
		t.Errorf("instance %+v", in)
	}
	if !reflect.DeepEqual(in.VIPs, pfx("10.77.0.100/24")) || in.Since.IsZero() || *in.LeaseSeconds != 0 {
		t.Errorf("vips %v since %v", in.VIPs, in.Since)
	}
}

func TestParseProbe(t *testing.T) {
	ka, _ := os.ReadFile("testdata/keepalived.json")
	ipj, _ := os.ReadFile("testdata/ip-addr.json")
	out := "@@hactl:addr\n" + string(ipj) + "@@hactl:keepalived 812 812 813\n@@hactl:keepalived-version Keepalived v2.2.7 (01/16,2022)\n@@hactl:keepalived-json\n" + string(ka) + "\n"
	p := parseProbe([]byte(out))
	if _, err := ParseIPAddrJSON(p.addrOut); err != nil {
		t.Fatal(err)
	}
	d := p.keepalivedDaemon()
	if d == nil || d.Kind != DaemonKeepalived || d.PID != 812 || d.Version != "2.2.7" || d.StateSource != SourceKeepalivedJSON || len(d.Instances) != 1 {
		t.Fatalf("daemon %+v", d)
	}

	p = parseProbe([]byte("@@hactl:addr\n[]\n@@hactl:keepalived 9 9\n@@hactl:keepalived-error cannot signal keepalived (pid 9) as bob: run hactl as root or with --sudo\n"))
	d = p.keepalivedDaemon()
	if d.StateSource != SourceInferred || !strings.Contains(d.Note, "--sudo") {
		t.Errorf("daemon %+v", d)
	}
	if parseProbe([]byte("@@hactl:addr\n[]\n")).keepalivedDaemon() != nil {
		t.Error("keepalived found where none runs")
	}
}

func TestWhoOwnsVerdicts(t *testing.T) {
	down := errors.New("connect to 10.0.0.13:22: connection refused")
	cases := []struct {
		name        string
		nodes       []Node
		verdict     Verdict
		owners      []string
		unreachable []string
	}{
		{"one owner", []Node{
			&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "10.0.0.11/24", "10.0.0.1/24"), daemon: hactl("MASTER", "10.0.0.1/24")},
			&fakeNode{name: "b", ifs: eth("02:00:00:00:00:0b", "10.0.0.12/24", "10.0.0.10/24"), daemon: hactl("BACKUP", "10.0.0.1/24")},
		}, VerdictOneOwner, []string{"a"}, []string{}},
		{"none", []Node{
			&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "10.0.0.11/24"), daemon: hactl("BACKUP", "10.0.0.1/24")},
			&fakeNode{name: "b", ifs: eth("02:00:00:00:00:0b", "10.0.0.12/24"), daemon: &Daemon{Kind: DaemonNone}},
		}, VerdictNoOwner, []string{}, []string{}},
		{"split brain beats unreachable", []Node{
			&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "10.0.0.1/32"), daemon: hactl("MASTER", "10.0.0.1/24")},
			&fakeNode{name: "b", ifs: eth("02:00:00:00:00:0b", "10.0.0.1/23"), daemon: hactl("BACKUP", "10.0.0.1/24")},
			&fakeNode{name: "c", err: down},
		}, VerdictSplitBrain, []string{"a", "b"}, []string{"c"}},
		{"unreachable", []Node{
			&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "10.0.0.1/24"), daemon: hactl("MASTER", "10.0.0.1/24")},
			&fakeNode{name: "c", err: down},
		}, VerdictIncomplete, []string{"a"}, []string{"c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := WhoOwns(context.Background(), c.nodes, []netip.Addr{vip}, Options{})
			if r.Verdict != c.verdict || !reflect.DeepEqual(r.Owners, c.owners) || !reflect.DeepEqual(r.Unreachable, c.unreachable) {
				t.Errorf("verdict %s owners %v unreachable %v", r.Verdict, r.Owners, r.Unreachable)
			}
			for _, e := range r.Errors {
				if !strings.HasPrefix(e.Error(), "c: connect") {
					t.Errorf("error %q does not start with the node's name once", e)
				}
			}
		})
	}
}

func TestWhoOwnsStates(t *testing.T) {
	nodes := []Node{
		&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "10.0.0.1/24"), daemon: hactl("MASTER", "10.0.0.1/24")},
		&fakeNode{name: "b", ifs: eth("02:00:00:00:00:0b", "10.0.0.1/24"), daemon: hactl("BACKUP", "10.0.0.1/24")},
		&fakeNode{name: "k", ifs: eth("02:00:00:00:00:0c", "10.0.0.1/24"), daemon: &Daemon{Kind: DaemonKeepalived, StateSource: SourceInferred, Note: "state inferred"}},
		&fakeNode{name: "h", ifs: eth("02:00:00:00:00:0d", "10.0.0.1/24"), daemon: &Daemon{Kind: DaemonNone}},
	}
	r := WhoOwns(context.Background(), nodes, []netip.Addr{vip}, Options{})
	a, b, k, h := r.Nodes[0], r.Nodes[1], r.Nodes[2], r.Nodes[3]
	if a.State != "MASTER" || a.Instance != "VI_1" || a.Lingering {
		t.Errorf("a: %+v", a)
	}
	if b.State != "BACKUP" || !b.Lingering || !strings.Contains(b.Note, "lingering") {
		t.Errorf("b: %+v", b)
	}
	if k.State != "MASTER" || !k.StateInferred || k.Daemon != DaemonKeepalived {
		t.Errorf("k: %+v", k)
	}
	if !h.Holds || !strings.Contains(h.Note, "no VRRP daemon") || h.Held[0].Interface != "eth0" {
		t.Errorf("h: %+v", h)
	}
}

func TestWhoOwnsARP(t *testing.T) {
	nodes := []Node{
		&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "10.0.0.11/24", "10.0.0.1/24"), daemon: hactl("MASTER", "10.0.0.1/24")},
		&fakeNode{name: "b", err: errors.New("connection refused")},
	}
	r := WhoOwns(context.Background(), nodes, []netip.Addr{vip}, Options{})
	if r.Verdict != VerdictIncomplete {
		t.Fatalf("verdict %s", r.Verdict)
	}
	// b's sshd is down, but ARP hears it answer for the VIP: split brain.
	bAddr := netip.MustParseAddr("10.0.0.12")
	r.AddARP(vip, &ARPAnswer{Interface: "eth0", Replies: map[netip.Addr][]string{
		vip:   {"02:00:00:00:00:0A", "02:00:00:00:00:0b"},
		bAddr: {"02:00:00:00:00:0b"},
	}}, map[string]netip.Addr{"b": bAddr}, nil)
	if r.Verdict != VerdictSplitBrain || !reflect.DeepEqual(r.Owners, []string{"a", "b"}) || !r.Nodes[1].ByARP {
		t.Errorf("verdict %s owners %v nodes %+v", r.Verdict, r.Owners, r.Nodes)
	}
	if r.ARP.Replies[0].Node != "a" || r.ARP.Replies[1].Node != "b" {
		t.Errorf("replies %+v", r.ARP.Replies)
	}

	// A MAC of no node is an owner of its own.
	r = WhoOwns(context.Background(), nodes[:1], []netip.Addr{vip}, Options{})
	r.AddARP(vip, &ARPAnswer{Replies: map[netip.Addr][]string{vip: {"02:00:00:00:00:0a", "02:00:00:00:00:ff"}}}, nil, nil)
	if r.Verdict != VerdictSplitBrain || r.Owners[1] != "MAC 02:00:00:00:00:ff" {
		t.Errorf("verdict %s owners %v", r.Verdict, r.Owners)
	}
}

func TestTimeoutAndDone(t *testing.T) {
	var done []string
	nodes := []Node{
		&fakeNode{name: "slow", delay: time.Second, ifs: eth("")},
		&fakeNode{name: "fast", ifs: eth(""), daemon: &Daemon{Kind: DaemonNone}},
	}
	start := time.Now()
	r := Status(context.Background(), nodes, StatusOptions{Options: Options{Timeout: 50 * time.Millisecond, Done: func(n string) { done = append(done, n) }}})
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("took %v", time.Since(start))
	}
	if !reflect.DeepEqual(r.Unreachable, []string{"slow"}) || !strings.HasPrefix(r.Nodes[0].Error, "slow: ") {
		t.Errorf("unreachable %v nodes %+v", r.Unreachable, r.Nodes)
	}
	if !reflect.DeepEqual(done, []string{"fast", "slow"}) {
		t.Errorf("done %v", done)
	}
}

func TestStatusHeldAndFilter(t *testing.T) {
	d := &Daemon{Kind: DaemonHactl, Instances: []Instance{
		{Name: "VI_1", State: "MASTER", VIPs: pfx("10.0.0.1/24", "10.0.0.2/24")},
		{Name: "VI_2", State: "BACKUP", VIPs: pfx("10.0.0.3/24")},
	}}
	nodes := []Node{&fakeNode{name: "a", ifs: eth("", "10.0.0.1/24"), daemon: d}}
	r := Status(context.Background(), nodes, StatusOptions{})
	ins := r.Nodes[0].Daemon.Instances
	if len(ins) != 2 || !reflect.DeepEqual(ins[0].Held, []netip.Addr{vip}) || len(ins[1].Held) != 0 {
		t.Errorf("instances %+v", ins)
	}
	r = Status(context.Background(), nodes, StatusOptions{Instance: "VI_2"})
	if ins := r.Nodes[0].Daemon.Instances; len(ins) != 1 || ins[0].Name != "VI_2" {
		t.Errorf("filtered %+v", ins)
	}
}

func TestShortCommandError(t *testing.T) {
	inner := errors.New("node1: " + addrProbe + keepalivedProbe + ": timed out after 2s")
	err := shortCommandError(inner, addrProbe+keepalivedProbe)
	if err.Error() != "node1: probe (ip -j addr show; keepalived): timed out after 2s" || !errors.Is(err, inner) {
		t.Errorf("%q", err)
	}
}

// One NodeError: an error that pkg/remote wrapped is found as pkg/cluster's,
// and nodeErr does not name the node twice.
func TestOneNodeError(t *testing.T) {
	err := nodeErr("n1", &remote.NodeError{Node: "n1", Err: errors.New("boom")})
	var ce *NodeError
	var re *remote.NodeError
	if !errors.As(err, &ce) || !errors.As(err, &re) || ce != re || err.Error() != "n1: boom" {
		t.Errorf("%v: cluster %v, remote %v", err, ce, re)
	}
	if got := nodeErr("n2", errors.New("n2: twice")).Error(); got != "n2: twice" {
		t.Errorf("%q", got)
	}
}

// withVMAC adds the macvlan of use_vmac (VRID 1, IPv6) holding addrs.
func withVMAC(ifs []Interface, addrs ...string) []Interface {
	return append(ifs, Interface{Name: "vrrp6.2.1", Index: 3, Up: true, MAC: "00:00:5e:00:02:01", Addrs: pfx(addrs...)})
}

// TestWhoOwnsNDP: an IPv6 VIP asked by neighbour solicitation, MACs
// mapped to nodes as for ARP; a VRRP virtual MAC that every node of the
// instance has is no second owner.
func TestWhoOwnsNDP(t *testing.T) {
	vip6 := netip.MustParseAddr("fd00::100")
	const vmac = "00:00:5e:00:02:01"
	for _, tc := range []struct {
		name       string
		nodes      []Node
		answers    []string
		verdict    Verdict
		owners     []string
		sharedBy   []string // of the first reply
		firstReply string   // its node
	}{
		{
			name: "one owner by its own MAC",
			nodes: []Node{
				&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "fd00::11/64", "fd00::100/64"), daemon: hactl("MASTER", "fd00::100/64")},
				&fakeNode{name: "b", ifs: eth("02:00:00:00:00:0b", "fd00::12/64"), daemon: hactl("BACKUP", "fd00::100/64")},
			},
			answers: []string{"02:00:00:00:00:0a"}, verdict: VerdictOneOwner, owners: []string{"a"}, firstReply: "a",
		},
		{
			name: "a second MAC of a node that says it does not hold it",
			nodes: []Node{
				&fakeNode{name: "a", ifs: eth("02:00:00:00:00:0a", "fd00::11/64", "fd00::100/64"), daemon: hactl("MASTER", "fd00::100/64")},
				&fakeNode{name: "b", ifs: eth("02:00:00:00:00:0b", "fd00::12/64"), daemon: hactl("BACKUP", "fd00::100/64")},
			},
			answers: []string{"02:00:00:00:00:0a", "02:00:00:00:00:0b"}, verdict: VerdictSplitBrain, owners: []string{"a", "b"}, firstReply: "a",
		},
		{
			name: "use_vmac: the shared VMAC answers, the master holds the VIP",
			nodes: []Node{
				&fakeNode{name: "a", ifs: withVMAC(eth("02:00:00:00:00:0a", "fd00::11/64"), "fd00::100/64"), daemon: hactl("MASTER", "fd00::100/64")},
				&fakeNode{name: "b", ifs: withVMAC(eth("02:00:00:00:00:0b", "fd00::12/64")), daemon: hactl("BACKUP", "fd00::100/64")},
			},
			answers: []string{vmac}, verdict: VerdictOneOwner, owners: []string{"a"}, sharedBy: []string{"a", "b"},
		},
		{
			name: "use_vmac: the VMAC and a node's own MAC",
			nodes: []Node{
				&fakeNode{name: "a", ifs: withVMAC(eth("02:00:00:00:00:0a", "fd00::11/64"), "fd00::100/64"), daemon: hactl("MASTER", "fd00::100/64")},
				&fakeNode{name: "b", ifs: withVMAC(eth("02:00:00:00:00:0b", "fd00::12/64", "fd00::100/64")), daemon: hactl("BACKUP", "fd00::100/64")},
			},
			answers: []string{vmac, "02:00:00:00:00:0b"}, verdict: VerdictSplitBrain, owners: []string{"a", "b"}, sharedBy: []string{"a", "b"},
		},
		{
			name: "use_vmac: the VMAC answers but no node says it holds the VIP",
			nodes: []Node{
				&fakeNode{name: "a", ifs: withVMAC(eth("02:00:00:00:00:0a", "fd00::11/64")), daemon: hactl("BACKUP", "fd00::100/64")},
				&fakeNode{name: "b", ifs: withVMAC(eth("02:00:00:00:00:0b", "fd00::12/64")), daemon: hactl("BACKUP", "fd00::100/64")},
			},
			answers: []string{vmac}, verdict: VerdictOneOwner, owners: []string{"MAC " + vmac}, sharedBy: []string{"a", "b"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := WhoOwns(context.Background(), tc.nodes, []netip.Addr{vip6}, Options{})
			r.AddARP(vip6, &ARPAnswer{Interface: "eth0", Protocol: ProtoNDP, Replies: map[netip.Addr][]string{vip6: tc.answers}}, nil, nil)
			if r.Verdict != tc.verdict || !reflect.DeepEqual(r.Owners, tc.owners) {
				t.Errorf("verdict %s owners %v, want %s %v", r.Verdict, r.Owners, tc.verdict, tc.owners)
			}
			if r.ARP.Protocol != ProtoNDP || r.ARP.Replies[0].Node != tc.firstReply || !reflect.DeepEqual(r.ARP.Replies[0].SharedBy, tc.sharedBy) {
				t.Errorf("replies %+v", r.ARP)
			}
			for _, n := range r.Nodes {
				if n.ByARP && !strings.Contains(n.Note, "neighbour solicitation") {
					t.Errorf("%s: note %q", n.Node, n.Note)
				}
			}
		})
	}
}
