package remote

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hactl/hactl/pkg/inventory"
)

func testResolver(flags inventory.Settings) *Resolver {
	if flags.SSHConfig == "" {
		flags.SSHConfig = "testdata/ssh_config"
	}
	return &Resolver{Flags: flags, Home: "/home/op", LocalUser: "op", SystemConfig: "none", GlobalKnownHosts: "none"}
}

func TestResolveFromSSHConfig(t *testing.T) {
	n, err := testResolver(inventory.Settings{}).ResolveName("web1")
	if err != nil {
		t.Fatal(err)
	}
	want := Node{
		Name: "web1", Host: "192.0.2.10", Port: 2222, User: "deploy",
		Identities:     []string{"/home/op/.ssh/web_key", "/etc/keys/deploy@192.0.2.10"},
		KnownHosts:     []string{"/home/op/.ssh/kh_web", "/etc/kh_shared"},
		HashKnownHosts: true, Socket: DefaultSocket, SSHConfig: "testdata/ssh_config",
	}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("got  %+v\nwant %+v", n, want)
	}
	if got := n.Addr(); got != "192.0.2.10:2222" {
		t.Errorf("Addr = %q", got)
	}
}

// Flags win over the inventory, which wins over ssh_config.
func TestResolvePrecedence(t *testing.T) {
	inv := inventory.Node{Name: "web1", Settings: inventory.Settings{
		Host: "203.0.113.7", User: "invuser", Port: 2200, Identity: "~/inv_key",
		KnownHosts: "/inv/known_hosts", Socket: "/inv/hactl.sock",
	}}
	n, err := testResolver(inventory.Settings{User: "flaguser", Identity: "/flag/key"}).Resolve(inv)
	if err != nil {
		t.Fatal(err)
	}
	if n.Host != "203.0.113.7" || n.Port != 2200 || n.User != "flaguser" || n.Socket != "/inv/hactl.sock" {
		t.Errorf("host/port/user/socket = %s %d %s %s", n.Host, n.Port, n.User, n.Socket)
	}
	if !reflect.DeepEqual(n.Identities, []string{"/flag/key"}) {
		t.Errorf("identities = %v, want the flag's", n.Identities)
	}
	if !reflect.DeepEqual(n.KnownHosts, []string{"/inv/known_hosts"}) {
		t.Errorf("known_hosts = %v, want only the inventory's", n.KnownHosts)
	}
}

func TestResolveDefaults(t *testing.T) {
	n, err := testResolver(inventory.Settings{}).ResolveName("plain.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if n.Host != "plain.example.com" || n.Port != 22 || n.User != "fallback" {
		t.Errorf("got %s:%d user %s", n.Host, n.Port, n.User)
	}
	if !reflect.DeepEqual(n.KnownHosts, []string{"/home/op/.ssh/known_hosts"}) {
		t.Errorf("known_hosts = %v", n.KnownHosts)
	}
	w, err := testResolver(inventory.Settings{}).ResolveName("a.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if w.User != "wildcard" || w.HostKeyAlias != "%h-alias" {
		// HostKeyAlias is not token-expanded by OpenSSH either.
		t.Errorf("wildcard: user %s alias %s", w.User, w.HostKeyAlias)
	}
}

// Without a named ssh_config the user's file is optional, and the current
// user is the default.
func TestResolveNoConfig(t *testing.T) {
	r := &Resolver{Home: t.TempDir(), LocalUser: "op", SystemConfig: "none", GlobalKnownHosts: "none"}
	n, err := r.ResolveName("10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if n.Host != "10.1.2.3" || n.User != "op" || n.SSHConfig != "" || len(n.Identities) != 0 {
		t.Errorf("got %+v", n)
	}
	r.Flags.SSHConfig = filepath.Join(t.TempDir(), "missing")
	if _, err := r.ResolveName("x"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("named missing ssh_config: err = %v", err)
	}
}

func TestResolveProxyJump(t *testing.T) {
	r := testResolver(inventory.Settings{Identity: "/flag/key"})
	n, err := r.ResolveName("behind")
	if err != nil {
		t.Fatal(err)
	}
	j := n.Jump
	if j == nil || j.Name != "bastion" || j.Host != "198.51.100.1" || j.User != "ops" || j.Port != 2200 || !j.IdentitiesOnly {
		t.Fatalf("jump = %+v", j)
	}
	if !reflect.DeepEqual(j.Identities, []string{"/flag/key"}) {
		t.Errorf("jump identities = %v, want the flag's key", j.Identities)
	}
	if got := n.Destination(); got != "fallback@10.0.0.5:22 via ops@198.51.100.1:2200" {
		t.Errorf("Destination = %q", got)
	}

	two, err := r.ResolveName("twohop")
	if err != nil {
		t.Fatal(err)
	}
	if two.Jump == nil || two.Jump.Name != "inner" || two.Jump.Jump == nil || two.Jump.Jump.Name != "bastion" {
		t.Fatalf("twohop: want target <- inner <- bastion, got %s", two.Destination())
	}

	if _, err := r.ResolveName("loop1"); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("ProxyJump loop: err = %v", err)
	}
}

func TestParseProxyJump(t *testing.T) {
	tests := []struct {
		in   string
		want []jumpSpec
		err  bool
	}{
		{in: "bastion", want: []jumpSpec{{host: "bastion"}}},
		{in: "u@b:2222,ssh://v@[fd00::1]:22", want: []jumpSpec{{user: "u", host: "b", port: 2222}, {user: "v", host: "fd00::1", port: 22}}},
		{in: "fd00::1", want: []jumpSpec{{host: "fd00::1"}}},
		{in: "b:99999", err: true},
		{in: "a,,b", err: true},
		{in: "[fd00::1", err: true},
	}
	for _, tt := range tests {
		got, err := parseProxyJump(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: err = %v", tt.in, err)
			continue
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"ip", "-j", "addr"}, "ip -j addr"},
		{[]string{"echo", "a b", ""}, "echo 'a b' ''"},
		{[]string{"sh", "-c", "echo it's $HOME"}, `sh -c 'echo it'\''s $HOME'`},
		{[]string{"/run/hactl/hactl.sock", "x=1,y@z"}, "/run/hactl/hactl.sock x=1,y@z"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in...); got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCommandLineSudo(t *testing.T) {
	p := NewPool(Config{Sudo: true})
	tests := []struct {
		cmd  Command
		want string
	}{
		{Command{Argv: []string{"ip", "-j", "addr"}}, "sudo -n -- ip -j addr"},
		{Command{Script: "cat /run/hactl/state | head -1"}, "sudo -n -- sh -c 'cat /run/hactl/state | head -1'"},
		{Command{Argv: []string{"id"}, NoSudo: true}, "id"},
	}
	for _, tt := range tests {
		if got := p.commandLine(tt.cmd); got != tt.want {
			t.Errorf("commandLine(%+v) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
	if got := NewPool(Config{}).commandLine(Command{Script: "a | b"}); got != "a | b" {
		t.Errorf("script without sudo = %q", got)
	}
}

func TestExpandTokens(t *testing.T) {
	tok := map[byte]string{'h': "host", 'r': "root", 'd': "/home/op"}
	if got := expandTokens("%d/.ssh/%r@%h_%%_%x", tok); got != "/home/op/.ssh/root@host_%_%x" {
		t.Errorf("got %q", got)
	}
}
