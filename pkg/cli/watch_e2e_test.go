//go:build linux

package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

var (
	watchBinOnce sync.Once
	watchBin     string
	watchBinErr  error
)

// watchHactl builds the binary under test once per test process.
func watchHactl(t *testing.T) string {
	t.Helper()
	watchBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hactl-watch-e2e-")
		if err != nil {
			watchBinErr = err
			return
		}
		watchBin = filepath.Join(dir, "hactl")
		if out, err := exec.Command("go", "build", "-o", watchBin, "../../cmd/hactl").CombinedOutput(); err != nil {
			watchBinErr = fmt.Errorf("building hactl: %v\n%s", err, out)
		}
	})
	if watchBinErr != nil {
		t.Fatal(watchBinErr)
	}
	return watchBin
}

// vrrpInstance renders a vrrp_instance block that keepalived and hactl
// both read.
type vrrpInstance struct {
	name     string
	vrid     int
	version  int
	priority int
	interval string
	pass     string
	unicast  string // unicast_peer, if any
	vips     []string
}

func (v vrrpInstance) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vrrp_instance %s {\n    state BACKUP\n    interface eth0\n    virtual_router_id %d\n    version %d\n"+
		"    priority %d\n    advert_int %s\n", v.name, v.vrid, v.version, v.priority, v.interval)
	if v.pass != "" {
		fmt.Fprintf(&b, "    authentication {\n        auth_type PASS\n        auth_pass %s\n    }\n", v.pass)
	}
	if v.unicast != "" {
		fmt.Fprintf(&b, "    unicast_peer {\n        %s\n    }\n", v.unicast)
	}
	fmt.Fprintf(&b, "    virtual_ipaddress {\n        %s\n    }\n}\n", strings.Join(v.vips, "\n        "))
	return b.String()
}

func confText(router string, insts ...vrrpInstance) string {
	s := "global_defs {\n    router_id " + router + "\n}\n"
	for _, in := range insts {
		s += in.String()
	}
	return s
}

// startKeepalived runs keepalived 2.2.7 in a node with conf.
func startKeepalived(t *testing.T, n *netlab.Host, conf string) *netlab.Proc {
	t.Helper()
	path := filepath.Join(n.Dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := n.Start("keepalived", "/usr/sbin/keepalived", "-n", "-l", "-D", "-f", path,
		"-p", filepath.Join(n.Dir, "keepalived.pid"), "-r", filepath.Join(n.Dir, "vrrp.pid"), "-c", filepath.Join(n.Dir, "checkers.pid"), "-b", filepath.Join(n.Dir, "bfd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(3 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(p.Log)
			t.Logf("%s keepalived log:\n%s", n.Name, lastN(string(b), 25))
		}
	})
	return p
}

// startHactlDaemon runs hactl daemon in a node with conf.
func startHactlDaemon(t *testing.T, bin string, n *netlab.Host, conf string) *netlab.Proc {
	t.Helper()
	path := filepath.Join(n.Dir, "hactl.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := n.Start("daemon", bin, "daemon", "-f", path, "--state-file", filepath.Join(n.Dir, "state"),
		"--socket", n.Socket(), "--pid-file", filepath.Join(n.Dir, "hactl.pid"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(3 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(p.Log)
			t.Logf("%s daemon log:\n%s", n.Name, lastN(string(b), 25))
		}
	})
	return p
}

func lastN(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// watchIn runs hactl in a lab host and returns stdout, stderr and the exit
// code.
func watchIn(t *testing.T, h *netlab.Host, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := h.Command(ctx, append([]string{bin}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: hactl %v: %v", h.Name, args, err)
	}
	return out.String(), errb.String(), code
}

// wirePacket is the NDJSON object of one packet, as docs/json.md lists it.
type wirePacket struct {
	Time       time.Time `json:"time"`
	Interface  string    `json:"interface"`
	Src        string    `json:"src"`
	Dst        string    `json:"dst"`
	TTL        int       `json:"ttl"`
	Version    int       `json:"version"`
	Type       int       `json:"type"`
	VRID       int       `json:"vrid"`
	Priority   int       `json:"priority"`
	Count      int       `json:"count"`
	IntervalCS int       `json:"interval_cs"`
	AuthType   *int      `json:"auth_type"`
	AuthData   *string   `json:"auth_data"`
	Addresses  []string  `json:"addresses"`
	Checksum   *int      `json:"checksum"`
	Valid      bool      `json:"valid"`
	Error      string    `json:"error"`
	Flags      []string  `json:"flags"`
	Node       string    `json:"node"`
	Conflict   []string  `json:"conflict_with"`
	DualMaster []string  `json:"dual_master_with"`
}

func parseNDJSON(t *testing.T, out string) []wirePacket {
	t.Helper()
	var pkts []wirePacket
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var p wirePacket
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// writeInventory names the lab's nodes by their IPv4 addresses.
func writeInventory(t *testing.T, l *netlab.Lab) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("cluster lab default\n")
	for _, n := range l.Nodes {
		fmt.Fprintf(&b, "  %s host=%s\n", n.Name, n.Addr4)
	}
	p := filepath.Join(l.Dir, "watch-inventory")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestE2EWatchConflict: an hactl cluster (node1, node2) and a keepalived
// cluster (node3, node4) pick VRID 60 with different VIPs. `hactl watch`
// from the operator's namespace flags CONFLICT, names a source of each and
// exits 6;
// `config check --live` of a third cluster's config that reuses VRID 60
// reports the conflict and exits 1.
func TestE2EWatchConflict(t *testing.T) {
	labtest.Require(t, "keepalived")
	bin := watchHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 4})
	inv := writeInventory(t, l)
	// The hactl side has the higher priorities: hactl does not compare VIP
	// sets, so it would follow a higher-priority keepalived master and
	// fall silent; keepalived drops adverts whose VIPs differ from its own.
	var hactlProcs []*netlab.Proc
	for i, prio := range []int{200, 190} {
		n := l.Node(i + 1)
		hactlProcs = append(hactlProcs, startHactlDaemon(t, bin, n, confText(n.Name, vrrpInstance{name: "HACTL", vrid: 60, version: 3, priority: prio, interval: "0.2",
			vips: []string{"10.77.0.100/24"}})))
	}
	for i, prio := range []int{100, 90} {
		n := l.Node(i + 3)
		startKeepalived(t, n, confText(n.Name, vrrpInstance{name: "KA", vrid: 60, version: 3, priority: prio, interval: "0.2",
			vips: []string{"10.77.0.200/24"}}))
	}
	time.Sleep(1500 * time.Millisecond) // both sides past their Master_Down_Interval (0.7 s)

	out, stderr, code := watchIn(t, l.Operator, bin, "watch", "--interface", "eth0", "--duration", "3s", "--inventory", inv)
	if code != 6 { // a VRID conflict, and no two masters (docs/exit-codes.md)
		t.Fatalf("watch exit %d, want 6: %s", code, stderr)
	}
	pkts := parseNDJSON(t, out)
	hactlSide := map[string]bool{"node1": true, "node2": true}
	var conflict *wirePacket
	for i, p := range pkts {
		if p.VRID == 60 && slices.Contains(p.Flags, "CONFLICT") && conflict == nil {
			conflict = &pkts[i]
		}
	}
	if conflict == nil {
		t.Fatalf("no CONFLICT in %d packets; stderr:\n%s", len(pkts), stderr)
	}
	var line string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "CONFLICT eth0 inet VRID 60:") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("summary names no conflict on VRID 60:\n%s", stderr)
	}
	// One source of each cluster, named after its node.
	hactlNamed, kaNamed := false, false
	for n := range hactlSide {
		hactlNamed = hactlNamed || strings.Contains(line, "("+n+")")
	}
	for _, n := range []string{"node3", "node4"} {
		kaNamed = kaNamed || strings.Contains(line, "("+n+")")
	}
	if !hactlNamed || !kaNamed || !strings.Contains(line, "differ in VIPs") {
		t.Errorf("conflict line does not name a source of each cluster: %s", line)
	}
	t.Logf("%s", line)

	// The hactl master hears the keepalived master (node3) too: its daemon
	// logs the conflict once for that source, not once per packet, and
	// counts it in its status.
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	st, err := api.NewUnixClient(l.Node(1).Socket()).Status(sctx)
	if err != nil {
		t.Fatal(err)
	}
	in := st.Instances[0]
	var fromKA *api.Conflict
	for i, c := range in.Conflicts {
		if c.Source == l.Node(3).Addr4.String() {
			fromKA = &in.Conflicts[i]
		}
	}
	if fromKA == nil || fromKA.Packets < 2 || in.ConflictCounts["vips"] < fromKA.Packets {
		t.Errorf("node1's daemon status: conflicts %+v counts %v; want node3 counted per packet", in.Conflicts, in.ConflictCounts)
	}
	dlog, _ := os.ReadFile(hactlProcs[0].Log)
	if n := strings.Count(string(dlog), "VRID conflict"); n < 1 || n > len(in.Conflicts) || uint64(n) >= in.ConflictCounts["vips"] {
		t.Errorf("node1's daemon logged %d conflict lines for %d conflicting sources (%d packets), want one per source:\n%s", n, len(in.Conflicts), in.ConflictCounts["vips"], dlog)
	}

	// config check --live: a new cluster that wants VRID 60 (and 77).
	conf := filepath.Join(l.Operator.Dir, "new.conf")
	os.WriteFile(conf, []byte(confText("op",
		vrrpInstance{name: "NEW60", vrid: 60, version: 3, priority: 100, interval: "1", vips: []string{"10.77.0.240/24"}},
		vrrpInstance{name: "NEW77", vrid: 77, version: 3, priority: 100, interval: "1", vips: []string{"10.77.0.241/24"}})), 0o644)
	out, stderr, code = watchIn(t, l.Operator, bin, "config", "check", "--live", conf, "-o", "json", "--inventory", inv)
	var res struct {
		Valid     bool `json:"valid"`
		Instances []struct {
			Name    string `json:"name"`
			Status  string `json:"status"`
			Sources []struct {
				Src, Node string
				Differ    []string
			} `json:"sources"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("config check --live: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	if code != 1 || res.Valid || len(res.Instances) != 2 || res.Instances[0].Status != "conflict" ||
		len(res.Instances[0].Sources) < 2 || res.Instances[1].Status != "free" {
		t.Errorf("config check --live: exit %d, %+v\n%s", code, res, stderr)
	}
}

// TestE2EWatchDualMaster: two keepalived nodes of one cluster that cannot
// hear each other (nftables in each drops the other's VRRP) are both
// master; a third node sees DUAL-MASTER within 2 × Master_Down_Interval
// and exits 3.
func TestE2EWatchDualMaster(t *testing.T) {
	labtest.Require(t, "keepalived", "nft")
	bin := watchHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, other := range []*netlab.Host{l.Node(2), l.Node(1)} {
		n := l.Node(i + 1)
		rules := filepath.Join(n.Dir, "drop-vrrp.nft")
		os.WriteFile(rules, []byte(fmt.Sprintf("table inet watchtest {\n  chain in {\n    type filter hook input priority 0;\n"+
			"    ip saddr %s ip protocol vrrp drop\n  }\n}\n", other.Addr4)), 0o644)
		if _, err := n.Run(ctx, "nft", "-f", rules); err != nil {
			t.Fatal(err)
		}
	}
	inst := vrrpInstance{name: "VI", vrid: 70, version: 3, interval: "0.5", vips: []string{"10.77.0.170/24"}}
	for i, prio := range []int{100, 90} {
		n := l.Node(i + 1)
		in := inst
		in.priority = prio
		startKeepalived(t, n, confText(n.Name, in))
	}
	// Master_Down_Interval of the lower priority: 3 × 0.5 + (256-90)/256 × 0.5.
	mdi := 1500*time.Millisecond + 166*500*time.Millisecond/256
	out, stderr, code := watchIn(t, l.Node(3), bin, "watch", "--interface", "eth0", "--duration", "6s", "-o", "json")
	if code != 3 { // two masters: split brain, as who-owns (docs/exit-codes.md)
		t.Fatalf("watch exit %d, want 3: %s", code, stderr)
	}
	pkts := parseNDJSON(t, out)
	firstSeen := map[string]time.Time{}
	for _, p := range pkts {
		if p.VRID != 70 || !p.Valid || p.Priority == 0 {
			continue
		}
		if _, ok := firstSeen[p.Src]; !ok {
			firstSeen[p.Src] = p.Time
		}
		if len(firstSeen) == 2 && slices.Contains(p.Flags, "DUAL-MASTER") {
			both := firstSeen[l.Node(1).Addr4.String()]
			if b := firstSeen[l.Node(2).Addr4.String()]; b.After(both) {
				both = b
			}
			if d := p.Time.Sub(both); d > 2*mdi {
				t.Errorf("DUAL-MASTER after %v of both advertising, more than 2 × %v", d, mdi)
			} else {
				t.Logf("DUAL-MASTER after %v of both advertising (Master_Down_Interval %v)", d, mdi)
			}
			if !strings.Contains(stderr, "DUAL-MASTER eth0 inet VRID 70: 10.77.0.11") {
				t.Errorf("summary:\n%s", stderr)
			}
			return
		}
	}
	t.Fatalf("no DUAL-MASTER in %d packets from %v; stderr:\n%s", len(pkts), firstSeen, stderr)
}

// TestE2EWatchKeepalivedCapture captures real keepalived 2.2.7 adverts with
// tcpdump (VRRPv2 with PASS, v3 IPv4, v3 IPv6, unicast, and the
// priority-0 adverts of its shutdown), reads the capture with
// `watch --file`, and checks every field against the configuration. While
// keepalived runs, `watch --free` on a third node lists every VRID but the
// ones in use.
func TestE2EWatchKeepalivedCapture(t *testing.T) {
	labtest.Require(t, "keepalived", "tcpdump")
	bin := watchHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	n1, n2 := l.Node(1), l.Node(2)
	capFile := filepath.Join(n2.Dir, "vrrp.pcap")
	td, err := n2.Start("tcpdump", "tcpdump", "-i", "eth0", "-w", capFile, "-U", "ip proto 112 or ip6 proto 112")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { td.Stop(2 * time.Second) })
	time.Sleep(500 * time.Millisecond) // tcpdump attached
	// tcpdump's "vrrp" primitive is IPv4 only, hence the protocol filter.
	insts := []vrrpInstance{
		{name: "V2PASS", vrid: 51, version: 2, priority: 150, interval: "1", pass: "s3cret", vips: []string{"10.77.0.151/24"}},
		{name: "V3V4", vrid: 52, version: 3, priority: 140, interval: "0.5", vips: []string{"10.77.0.152/24", "10.77.0.153/24"}},
		{name: "V3V6", vrid: 53, version: 3, priority: 130, interval: "0.5", vips: []string{"fd77::153/64"}},
		{name: "UNI", vrid: 54, version: 3, priority: 120, interval: "0.5", unicast: n2.Addr4.String(), vips: []string{"10.77.0.154/24"}},
	}
	ka := startKeepalived(t, n1, confText("n1", insts...))

	// --free from node3 while keepalived runs; node3 does not receive the
	// unicast adverts meant for node2.
	time.Sleep(1500 * time.Millisecond)
	out, stderr, code := watchIn(t, l.Node(3), bin, "watch", "--free", "--interface", "eth0", "--duration", "3s", "-o", "json")
	var free struct {
		Families []struct {
			Family     string
			Used, Free []int
		}
	}
	if err := json.Unmarshal([]byte(out), &free); err != nil || code != 0 {
		t.Fatalf("watch --free: exit %d %v\n%s\n%s", code, err, out, stderr)
	}
	wantUsed := map[string][]int{"inet": {51, 52}, "inet6": {53}}
	for _, f := range free.Families {
		if !slices.Equal(f.Used, wantUsed[f.Family]) || len(f.Free) != 255-len(f.Used) || slices.ContainsFunc(f.Used, func(v int) bool { return slices.Contains(f.Free, v) }) {
			t.Errorf("--free %s: used %v, %d free; want used %v and every other VRID free", f.Family, f.Used, len(f.Free), wantUsed[f.Family])
		}
	}

	// keepalived stops: every master sends priority 0.
	if err := ka.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	td.Stop(2 * time.Second)

	out, stderr, code = watchIn(t, l.Operator, bin, "watch", "--file", capFile, "-o", "json")
	if code != 0 {
		t.Fatalf("watch --file: exit %d: %s", code, stderr)
	}
	pkts := parseNDJSON(t, out)
	type seen struct{ adverts, resigns int }
	got := map[int]*seen{}
	for _, p := range pkts {
		var in *vrrpInstance
		for i := range insts {
			if insts[i].vrid == p.VRID {
				in = &insts[i]
			}
		}
		if in == nil || !p.Valid || p.Type != 1 || p.Version != in.version || p.Count != len(in.vips) || p.Checksum == nil {
			t.Errorf("packet %+v does not match any instance (valid %v, error %q)", p, p.Valid, p.Error)
			continue
		}
		var wantAddrs []string
		for _, v := range in.vips {
			wantAddrs = append(wantAddrs, strings.Split(v, "/")[0])
		}
		wantCS := map[string]int{"1": 100, "0.5": 50}[in.interval]
		wantSrc, wantDst, wantTTL := n1.Addr4.String(), "224.0.0.18", 255
		switch {
		case in.unicast != "":
			wantDst = in.unicast
		case in.vrid == 53:
			wantDst = "ff02::12"
		}
		if in.vrid == 53 {
			if !strings.HasPrefix(p.Src, "fe80::") {
				t.Errorf("VRID 53 from %s, want a link-local source", p.Src)
			}
			wantSrc = p.Src
		}
		if p.Src != wantSrc || p.Dst != wantDst || p.TTL != wantTTL || p.IntervalCS != wantCS || !slices.Equal(p.Addresses, wantAddrs) ||
			(p.Priority != in.priority && p.Priority != 0) || p.Interface != "" {
			t.Errorf("VRID %d: got src %s dst %s ttl %d interval_cs %d addrs %v prio %d; want %s %s %d %d %v %d",
				p.VRID, p.Src, p.Dst, p.TTL, p.IntervalCS, p.Addresses, p.Priority, wantSrc, wantDst, wantTTL, wantCS, wantAddrs, in.priority)
		}
		if in.version == 2 {
			if p.AuthType == nil || *p.AuthType != 1 || p.AuthData == nil || *p.AuthData != in.pass {
				t.Errorf("VRID %d: auth %v %v, want PASS %q", p.VRID, p.AuthType, p.AuthData, in.pass)
			}
		} else if p.AuthType != nil || p.AuthData != nil {
			t.Errorf("VRID %d: VRRPv3 packet with auth fields", p.VRID)
		}
		s := got[p.VRID]
		if s == nil {
			s = &seen{}
			got[p.VRID] = s
		}
		if p.Priority == 0 {
			s.resigns++
			if !slices.Contains(p.Flags, "RESIGN") {
				t.Errorf("VRID %d: priority 0 without RESIGN: %v", p.VRID, p.Flags)
			}
		} else {
			s.adverts++
		}
	}
	for _, in := range insts {
		if s := got[in.vrid]; s == nil || s.adverts == 0 || s.resigns == 0 {
			t.Errorf("VRID %d (%s): %+v; want adverts and a priority-0 advert", in.vrid, in.name, s)
		}
	}
	t.Logf("%d packets read from the capture; summary: %s", len(pkts), strings.TrimSpace(stderr))
}
