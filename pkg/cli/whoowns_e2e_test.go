//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// buildHactl builds the binary under test into dir (the build cache makes
// this quick after the first time).
func buildHactl(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hactl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/hactl").CombinedOutput(); err != nil {
		t.Fatalf("building hactl: %v\n%s", err, out)
	}
	return bin
}

// e2eOp runs hactl in the lab's operator namespace.
type e2eOp struct {
	t   *testing.T
	l   *netlab.Lab
	bin string
}

type runResult struct {
	code        int
	out, stderr string
}

// e2eTimeout is hactl's --timeout in the e2e tests: generous, because on
// a loaded host root's ~/.bashrc (pyenv init runs "pyenv rehash" under a
// lock) can hold a remote command for seconds when several SSH sessions
// start at once; per-node deadlines are unit-tested in pkg/cluster.
const e2eTimeout = "15s"

func (e *e2eOp) hactl(args ...string) runResult {
	return e.in(e.l.Operator, append(args, "--inventory", e.l.Inventory, "--timeout", e2eTimeout)...)
}

func (e *e2eOp) in(h *netlab.Host, args ...string) runResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := h.Command(ctx, append([]string{e.bin}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := runResult{out: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("hactl %v: %v", args, err)
	}
	e.t.Logf("hactl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.stderr)
	return r
}

func (r runResult) want(t *testing.T, code int, stdout, stderr []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
	for _, s := range stdout {
		if !strings.Contains(r.out, s) {
			t.Errorf("stdout lacks %q", s)
		}
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
}

func vrrpConf(prio int) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority %d
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, prio)
}

type statusDoc struct {
	Nodes []struct {
		Node      string `json:"node"`
		Reachable bool   `json:"reachable"`
		Daemon    *struct {
			Kind        string `json:"kind"`
			StateSource string `json:"state_source"`
			Instances   []struct {
				Name  string   `json:"name"`
				State string   `json:"state"`
				Held  []string `json:"held"`
			} `json:"instances"`
		} `json:"daemon"`
	} `json:"nodes"`
}

// states is "node1=hactl:BACKUP node2=..." from hactl status -o json.
func (e *e2eOp) states() string {
	r := e.in(e.l.Operator, "status", "-o", "json", "--inventory", e.l.Inventory, "--timeout", e2eTimeout)
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		return "unreadable: " + err.Error()
	}
	var parts []string
	for _, n := range doc.Nodes {
		s := n.Node + "="
		if n.Daemon != nil {
			s += n.Daemon.Kind
			for _, in := range n.Daemon.Instances {
				s += ":" + in.State
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestE2EWhoOwnsAndStatus covers issue 6's acceptance on a 3-node lab:
// hactl daemons on node1 and node2, real keepalived 2.2.7 on node3 (the
// master, priority 200), dnsmasq on node1 serving a two-step CNAME chain.
func TestE2EWhoOwnsAndStatus(t *testing.T) {
	labtest.Require(t, "keepalived", "dnsmasq")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3, SSH: true})
	e := &e2eOp{t: t, l: l, bin: bin}

	var stops []func()
	t.Cleanup(func() {
		for _, s := range stops {
			s()
		}
	})
	start := func(h *netlab.Host, name string, argv ...string) *netlab.Proc {
		p, err := h.Start(name, argv...)
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, func() {
			p.Stop(3 * time.Second)
			if t.Failed() {
				b, _ := os.ReadFile(p.Log)
				t.Logf("%s %s log:\n%s", h.Name, name, tail(string(b), 20))
			}
		})
		return p
	}
	var daemons []*netlab.Proc
	for i, prio := range []int{100, 110} {
		h := l.Node(i + 1)
		conf := filepath.Join(h.Dir, "hactl.conf")
		if err := os.WriteFile(conf, []byte(vrrpConf(prio)), 0o644); err != nil {
			t.Fatal(err)
		}
		daemons = append(daemons, start(h, "daemon", bin, "daemon", "-f", conf, "--state-file", filepath.Join(h.Dir, "state"),
			"--socket", h.Socket(), "--pid-file", filepath.Join(h.Dir, "hactl.pid")))
	}
	kn := l.Node(3)
	kconf := filepath.Join(kn.Dir, "keepalived.conf")
	if err := os.WriteFile(kconf, []byte(vrrpConf(200)), 0o644); err != nil {
		t.Fatal(err)
	}
	daemons = append(daemons, start(kn, "keepalived", netlab.KeepalivedArgv(kn, kconf)...))
	dns := l.Node(1)
	start(dns, "dnsmasq", "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
		"--listen-address="+dns.Addr4.String(), "--port=53", "--bind-interfaces", "--user=root",
		"--pid-file="+filepath.Join(dns.Dir, "dnsmasq.pid"), "--local=/example.test/",
		"--host-record=vip-prod-a.example.test,10.77.0.100",
		"--cname=vip-prod.example.test,vip-prod-a.example.test",
		"--cname=vip.example.test,vip-prod.example.test")

	// Converged: keepalived (200) master, both hactl nodes backups.
	want := "node1=hactl:BACKUP node2=hactl:BACKUP node3=keepalived:MASTER"
	deadline := time.Now().Add(15 * time.Second)
	for got := e.states(); got != want; got = e.states() {
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not converge in 15s: %s, want %s", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}

	t.Run("StatusMixedCluster", func(t *testing.T) {
		e.t = t
		r := e.hactl("status")
		r.want(t, 0, []string{"node1   hactl dev", "node3   keepalived 2.2.7   VI_1       MASTER   200    200   10.77.0.100"}, nil)
		for _, n := range []string{"node1", "node2"} {
			if !strings.Contains(lineOf(r.out, n), "BACKUP") {
				t.Errorf("%s row: %q", n, lineOf(r.out, n))
			}
		}
		var doc statusDoc
		r = e.hactl("status", "-o", "json")
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Nodes[2].Daemon.StateSource != "keepalived_json" || doc.Nodes[2].Daemon.Instances[0].Held[0] != "10.77.0.100" {
			t.Errorf("status json: %v %+v", err, doc)
		}
	})

	t.Run("ByIP", func(t *testing.T) {
		e.t = t
		e.hactl("who-owns", "10.77.0.100").want(t, 0, []string{"node3   yes     10.77.0.100/24 on eth0   keepalived 2.2.7   VI_1       MASTER", "owner: node3 (VI_1 MASTER)"}, nil)
	})

	t.Run("ByCNAMEChain", func(t *testing.T) {
		e.t = t
		e.hactl("who-owns", "vip.example.test", "--dns-server", dns.Addr4.String()).want(t, 0, []string{
			"vip.example.test is an alias for vip-prod.example.test\n",
			"vip-prod.example.test is an alias for vip-prod-a.example.test\n",
			"vip-prod-a.example.test has address 10.77.0.100",
			"owner: node3 (VI_1 MASTER)",
		}, nil)
	})

	t.Run("Local", func(t *testing.T) {
		e.t = t
		e.in(kn, "who-owns", "10.77.0.100", "--local").want(t, 0, []string{"keepalived 2.2.7   VI_1       MASTER"}, nil)
		r := e.in(l.Node(2), "who-owns", "10.77.0.100", "--local", "--socket", l.Node(2).Socket())
		r.want(t, 2, []string{"no node holds 10.77.0.100"}, nil)
		wantRow(t, r.out, "", "no", "-", "hactl", "dev", "VI_1", "BACKUP")
	})

	t.Run("SplitBrainByHand", func(t *testing.T) {
		e.t = t
		if _, err := l.Node(1).Run(context.Background(), "ip", "addr", "add", "10.77.0.100/32", "dev", "eth0"); err != nil {
			t.Fatal(err)
		}
		defer l.Node(1).Run(context.Background(), "ip", "addr", "del", "10.77.0.100/32", "dev", "eth0")
		e.hactl("who-owns", "10.77.0.100", "--arp").want(t, 3, []string{
			"split brain: 10.77.0.100 is held by node1 (VI_1 BACKUP, lingering VIP) and node3 (VI_1 MASTER)",
			"10.77.0.100/32 on eth0",
			"(node1)", "(node3)",
		}, nil)
	})

	t.Run("WrongHostKey", func(t *testing.T) {
		e.t = t
		b, err := os.ReadFile(l.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		// node2's line gets node1's key: a changed host key.
		f := strings.Fields(lines[0])
		lines[1] = strings.Fields(lines[1])[0] + " " + f[1] + " " + f[2]
		bad := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		e.hactl("who-owns", "10.77.0.100", "--known-hosts", bad).want(t, 4,
			[]string{"node2   ?", "node2 could not be asked; owner among the others: node3"},
			[]string{"hactl: node2: host key mismatch for 10.77.0.12", "server offered ssh-ed25519 SHA256:", bad + ":2 has ssh-ed25519 SHA256:"})
	})

	t.Run("NoOwner", func(t *testing.T) {
		e.t = t
		for _, d := range daemons {
			d.Stop(3 * time.Second)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := e.hactl("who-owns", "10.77.0.100")
			if r.code == 2 {
				r.want(t, 2, []string{"no node holds 10.77.0.100"}, nil)
				wantRow(t, r.out, "node3", "no", "-", "none")
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("VIP still held 10s after stopping every daemon")
			}
			time.Sleep(300 * time.Millisecond)
		}
	})

	t.Run("SSHDStopped", func(t *testing.T) {
		e.t = t
		if err := syscall.Kill(l.Node(2).SSHDPID, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		e.hactl("who-owns", "10.77.0.100").want(t, 4, []string{"node2   ?", "node2 could not be asked; no other node holds 10.77.0.100"},
			[]string{"hactl: node2: connect to 10.77.0.12:22: ", "connection refused"})
		r := e.hactl("status")
		r.want(t, 4, nil, []string{"hactl: node2: connect to 10.77.0.12:22"})
		wantRow(t, r.out, "node2", "?", "-", "unreachable")
	})
}

// wantRow checks that the table row of node (the first row below the
// header when node is "") has these cells first, in order.
func wantRow(t *testing.T, out, node string, cells ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	line := ""
	for i, l := range lines {
		if strings.HasPrefix(l, "NODE ") && node == "" && i+1 < len(lines) {
			line = lines[i+1]
			break
		}
		if node != "" && strings.HasPrefix(l, node+" ") {
			line = l
			break
		}
	}
	f := strings.Fields(line)
	if node == "" && len(f) > 0 {
		f = f[1:]
	} else if len(f) > 0 {
		f = f[1:]
	}
	if len(f) < len(cells) || strings.Join(f[:len(cells)], " ") != strings.Join(cells, " ") {
		t.Errorf("row of %q is %q, want it to start with %q", node, line, cells)
	}
}

func lineOf(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix+" ") {
			return l
		}
	}
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
