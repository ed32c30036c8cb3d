package inventory

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const sample = `# two clusters
cluster prod default user=admin ssh_config=/etc/hactl/ssh_config
  server01 host=192.0.2.1      # the usual master
  server02 host=192.0.2.2 port=2222 user=ops socket=/run/hactl/other.sock

cluster lab known_hosts=/run/hactl-lab/demo/known_hosts
  node1
`

func TestParse(t *testing.T) {
	inv, err := Parse("inv", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Names(); !reflect.DeepEqual(got, []string{"lab", "prod"}) {
		t.Errorf("names %v", got)
	}
	c, err := inv.Select("")
	if err != nil || c.Name != "prod" {
		t.Fatalf("Select(\"\") = %v, %v; want the default cluster", c, err)
	}
	n1, n2 := c.Resolved(c.Nodes[0]), c.Resolved(c.Nodes[1])
	if n1.User != "admin" || n1.Host != "192.0.2.1" || n1.SSHConfig != "/etc/hactl/ssh_config" || n1.Port != 0 {
		t.Errorf("server01 = %+v", n1)
	}
	if n2.User != "ops" || n2.Port != 2222 || n2.Socket != "/run/hactl/other.sock" {
		t.Errorf("server02 = %+v (node settings must win over the cluster's)", n2)
	}
	lab, err := inv.Select("lab")
	if err != nil || lab.Nodes[0].Name != "node1" || lab.Resolved(lab.Nodes[0]).KnownHosts == "" {
		t.Errorf("lab = %+v, %v", lab, err)
	}
	var buf bytes.Buffer
	if err := inv.Write(&buf); err != nil {
		t.Fatal(err)
	}
	again, err := Parse("again", &buf)
	if err != nil {
		t.Fatal(err)
	}
	again.File = inv.File
	if !reflect.DeepEqual(inv, again) {
		t.Errorf("Write then Parse changed the inventory:\n%+v\n%+v", inv, again)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"node1\n", "inv:1: node \"node1\" before any \"cluster NAME\" line"},
		{"cluster\n", "inv:1: \"cluster\" needs a name"},
		{"cluster a\n\n  n port=0\n", "inv:3: port \"0\""},
		{"cluster a\n  n colour=blue\n", "inv:2: unknown key \"colour\""},
		{"cluster a\n  n host\n", "inv:2: \"host\": want key=value"},
		{"cluster a host=x\n", "inv:1: host= belongs on a node line"},
		{"cluster a\ncluster a\n", "inv:2: cluster \"a\" defined twice"},
		{"cluster a\n n\n n\n", "inv:3: node \"n\" listed twice"},
		{"cluster a default\ncluster b default\n", "more than one cluster is marked default"},
	} {
		_, err := Parse("inv", strings.NewReader(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestSelect(t *testing.T) {
	two, _ := Parse("inv", strings.NewReader("cluster a\n x\ncluster b\n y\n"))
	if _, err := two.Select(""); err == nil || !strings.Contains(err.Error(), "pick one with --cluster (have: a, b)") {
		t.Errorf("no default: %v", err)
	}
	if _, err := two.Select("c"); err == nil || !strings.Contains(err.Error(), `no cluster "c"`) {
		t.Errorf("unknown cluster: %v", err)
	}
	empty, _ := Parse("inv", strings.NewReader("# nothing\n"))
	if _, err := empty.Select(""); err == nil {
		t.Error("empty inventory: no error")
	}
}

func TestFind(t *testing.T) {
	if p, err := Find("/x/inv", "/home/u"); p != "/x/inv" || err != nil {
		t.Errorf("named: %s %v", p, err)
	}
	if _, err := Find("", t.TempDir()); err != ErrNoInventory && err != nil {
		t.Errorf("nothing found: %v", err)
	}
	if got := DefaultPaths("/home/u"); !reflect.DeepEqual(got, []string{"/home/u/.config/hactl/inventory", "/etc/hactl/inventory"}) {
		t.Errorf("DefaultPaths = %v", got)
	}
}
