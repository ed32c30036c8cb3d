package netlab

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/hactl/hactl/pkg/inventory"
)

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Name: "demo", Nodes: 3}, ""},
		{"upper case", Config{Name: "Demo", Nodes: 3}, "lab name"},
		{"too long", Config{Name: "abcdefghijklm", Nodes: 3}, "lab name"},
		{"leading digit", Config{Name: "1lab", Nodes: 3}, "lab name"},
		{"no nodes", Config{Name: "demo", Nodes: 0}, "want 1 to 200"},
		{"too many", Config{Name: "demo", Nodes: 201}, "want 1 to 200"},
		{"small v4", Config{Name: "demo", Nodes: 1, Subnet4: netip.MustParsePrefix("10.0.0.0/25")}, "Subnet4"},
		{"v6 as v4", Config{Name: "demo", Nodes: 1, Subnet4: netip.MustParsePrefix("fd00::/64")}, "Subnet4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.setDefaults()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	c := Config{Name: "demo", Nodes: 3, Root: "/x"}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	l := plan(c)
	if got := len(l.Hosts()); got != 4 {
		t.Fatalf("%d hosts, want 4", got)
	}
	n2 := l.Node(2)
	want := Host{Name: "node2", Netns: "hactl-demo-node2", Addr4: netip.MustParseAddr("10.77.0.12"), Addr6: netip.MustParseAddr("fd77::12"), Dir: "/x/demo/node2"}
	if *n2 != want {
		t.Errorf("node2 = %+v, want %+v", *n2, want)
	}
	if l.Operator.Addr4 != netip.MustParseAddr("10.77.0.250") || l.Operator.Netns != "hactl-demo-op" {
		t.Errorf("operator = %+v", *l.Operator)
	}
	if _, err := l.Host("operator"); err != nil {
		t.Error(err)
	}
	if _, err := l.Host("node9"); err == nil || !strings.Contains(err.Error(), "node1..node3") {
		t.Errorf("Host(node9) error = %v", err)
	}
	for _, h := range l.Hosts() {
		if !strings.HasPrefix(h.Netns, Prefix+"demo-") || !strings.HasPrefix(h.Dir, "/x/demo/") {
			t.Errorf("%s: netns %s / dir %s do not carry the lab's prefix", h.Name, h.Netns, h.Dir)
		}
	}
}

func TestNthAddrCarries(t *testing.T) {
	if got := nthAddr(netip.MustParseAddr("10.0.0.250"), 10); got != netip.MustParseAddr("10.0.1.4") {
		t.Errorf("got %s", got)
	}
	if got := nthAddr(netip.MustParseAddr("fd77::"), decimalHex(210)); got != netip.MustParseAddr("fd77::210") {
		t.Errorf("got %s", got)
	}
}

func TestClientFilesRender(t *testing.T) {
	c := Config{Name: "demo", Nodes: 2, Root: t.TempDir()}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	l := plan(c)
	for _, h := range l.Hosts() {
		if err := mkdir(h.Dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.writeClientFiles(map[string]string{"node2": "ForceCommand yes\n"}); err != nil {
		t.Fatal(err)
	}
	cfg := readFile(t, l.SSHConfig)
	for _, want := range []string{"Host node1\n", "HostName 10.77.0.12", "StrictHostKeyChecking yes", "UserKnownHostsFile " + l.KnownHosts} {
		if !strings.Contains(cfg, want) {
			t.Errorf("ssh_config lacks %q:\n%s", want, cfg)
		}
	}
	known := readFile(t, l.KnownHosts)
	if !strings.HasPrefix(known, "node1,10.77.0.11,fd77::11 ssh-ed25519 ") || strings.Count(known, "\n") != 2 {
		t.Errorf("known_hosts:\n%s", known)
	}
	sshd := readFile(t, l.Node(1).Dir+"/sshd_config")
	if !strings.Contains(sshd, "PidFile "+l.Node(1).Dir+"/sshd.pid") {
		t.Errorf("sshd_config does not keep its pid file in the node's dir:\n%s", sshd)
	}
	if strings.Contains(sshd, "ForceCommand") || !strings.HasSuffix(readFile(t, l.Node(2).Dir+"/sshd_config"), "\nForceCommand yes\n") {
		t.Errorf("Config.SSHDExtra is not in node2's sshd_config alone")
	}
	inv, err := inventory.Load(l.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := inv.Select("")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cl.NodeNames(), ","); got != "node1,node2" {
		t.Errorf("inventory nodes %s", got)
	}
	n := cl.Resolved(cl.Nodes[1])
	if n.Host != "10.77.0.12" || n.SSHConfig != l.SSHConfig || n.Socket != l.Node(2).Socket() || n.User != "root" {
		t.Errorf("resolved node2 = %+v", n)
	}
	if _, err := l.ClientConfig(); err != nil {
		t.Errorf("client config from the written files: %v", err)
	}
	var buf bytes.Buffer
	if err := inv.Write(&buf); err != nil || !strings.Contains(buf.String(), "cluster demo default") {
		t.Errorf("rewritten inventory: %v\n%s", err, buf.String())
	}
}
