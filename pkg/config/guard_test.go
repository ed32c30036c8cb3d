package config

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const guardG = "etcd_guard G {\n  endpoints http://10.0.0.1:2379 http://10.0.0.2:2379\n  endpoints http://10.0.0.3:2379\n  ttl 3\n}\n"

func TestEtcdGuardModel(t *testing.T) {
	in, cfg := one(t, guardG+withInst("  guard G\n"))
	if in.Guard != "G" {
		t.Fatalf("instance guard %q, want G", in.Guard)
	}
	g := cfg.GuardOf("G")
	if g == nil {
		t.Fatal("no guard G")
	}
	if len(g.Endpoints) != 3 || g.TTL != 3*time.Second || g.KeyPrefix != DefaultGuardKeyPrefix {
		t.Errorf("guard %+v", g)
	}
	// Defaults, and the sync group's guard given to its members; the
	// block may come after its users.
	src := withInst("") + "vrrp_sync_group S {\n  group {\n    VI_1\n  }\n  guard H\n}\n" +
		"etcd_guard H {\n  endpoints https://e1:2379\n  username u\n  password secret\n  key_prefix /x/\n}\n"
	in, cfg = one(t, src)
	h := cfg.GuardOf("H")
	if in.Guard != "H" || h.TTL != DefaultGuardTTL || h.KeyPrefix != "/x/" || h.Username != "u" {
		t.Errorf("instance guard %q, guard %+v", in.Guard, h)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "secret") || !strings.Contains(s, `"password_set":true`) || !strings.Contains(s, `"ttl_ms":2000`) {
		t.Errorf("config show's JSON of the guard: %s", s)
	}
}

func TestEtcdGuardErrors(t *testing.T) {
	second := "vrrp_instance VI_2 {\n  interface eth1\n  virtual_router_id 51\n  guard G\n  virtual_ipaddress {\n    192.0.2.11/24\n  }\n}\n"
	tests := []struct {
		name, src, want string
	}{
		{"unknown guard", withInst("  guard nope\n"), "7:3: (VI_1) guard nope: no etcd_guard of that name is defined"},
		{"unknown group guard", withInst("") + "vrrp_sync_group S {\n  group {\n    VI_1\n  }\n  guard nope\n}\n", "12:3: vrrp_sync_group S: guard nope: no etcd_guard of that name"},
		{"no endpoints", "etcd_guard G {\n  ttl 2\n}\n", "1:1: etcd_guard G has no endpoints"},
		{"bad scheme", "etcd_guard G {\n  endpoints ftp://h:1\n}\n", "2:13: etcd_guard G: endpoint \"ftp://h:1\": want http://HOST:PORT"},
		{"no port", "etcd_guard G {\n  endpoints http://h\n}\n", "2:13: etcd_guard G: endpoint \"http://h\": want a host and a port"},
		{"path", "etcd_guard G {\n  endpoints http://h:1/v3\n}\n", "want only a scheme, a host and a port"},
		{"mixed schemes", "etcd_guard G {\n  endpoints http://a:1 https://b:1\n}\n", "2:24: etcd_guard G: endpoint https://b:1: every endpoint must use the same scheme"},
		{"ttl zero", "etcd_guard G {\n  endpoints http://a:1\n  ttl 0\n}\n", "3:7: ttl: number \"0\" outside range"},
		{"ttl large", "etcd_guard G {\n  endpoints http://a:1\n  ttl 601\n}\n", "3:7: ttl: number \"601\" outside range"},
		{"tls over http", "etcd_guard G {\n  endpoints http://a:1\n  ca_file /ca.pem\n}\n", "3:3: etcd_guard G: TLS files are given but the endpoints use http"},
		{"cert without key", "etcd_guard G {\n  endpoints https://a:1\n  cert_file /c.pem\n}\n", "cert_file and key_file go together"},
		{"user without password", "etcd_guard G {\n  endpoints https://a:1\n  username u\n}\n", "1:1: etcd_guard G: username and password go together"},
		{"bad prefix", "etcd_guard G {\n  endpoints http://a:1\n  key_prefix hactl\n}\n", "3:14: etcd_guard G: key_prefix \"hactl\": want a path that starts and ends with '/'"},
		{"duplicate", guardG + guardG, "6:12: etcd_guard G is already defined at test.conf:1:1"},
		{"shared key", guardG + withInst("  guard G\n") + second, "(VI_2) guard G: instance VI_1 (test.conf:6:1) has the same family and virtual_router_id"},
		{"member guard differs", guardG + "etcd_guard H {\n  endpoints http://a:1\n}\n" + withInst("  guard H\n") +
			"vrrp_sync_group S {\n  group {\n    VI_1\n  }\n  guard G\n}\n", "(VI_1) guard H, but its sync group S has guard G"},
		{"guard twice", guardG + withInst("  guard G\n  guard G\n"), "13:3: guard is already set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := parseString(t, tc.src)
			if !diags.HasErrors() {
				t.Fatalf("want an error %q, got:\n%s", tc.want, diags)
			}
			for _, d := range diags {
				if strings.Contains(d.String(), tc.want) {
					return
				}
			}
			t.Errorf("missing %q; got:\n%s", tc.want, diags)
		})
	}
}

// fsHost answers Check's questions from an in-memory file system.
type fsHost struct{ fs fstest.MapFS }

func (h fsHost) InterfaceExists(string) bool { return true }
func (h fsHost) Stat(p string) (fs.FileInfo, error) {
	return h.fs.Stat(strings.TrimPrefix(p, "/"))
}
func (h fsHost) LookPath(n string) (string, error) { return n, nil }

// An unknown keyword in the block is reported as everywhere else
// (config check exits 1).
func TestEtcdGuardUnknownKeyword(t *testing.T) {
	_, diags := parseString(t, "etcd_guard G {\n  endpoints http://a:1\n  tll 2\n}\n")
	if !strings.Contains(diags.String(), `3:3: corrected: unknown keyword "tll" in etcd_guard G`) {
		t.Errorf("got:\n%s", diags)
	}
}

func TestEtcdGuardHostChecks(t *testing.T) {
	src := "etcd_guard G {\n  endpoints https://a:1\n  ca_file /ca.pem\n  cert_file /c.pem\n  key_file /k.pem\n  username u\n  password p\n}\n"
	cfg, diags := Parse("etc/hactl.conf", []byte(src), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	host := fsHost{fstest.MapFS{
		"c.pem":          {Mode: 0o644},
		"k.pem":          {Mode: 0o644},
		"etc/hactl.conf": {Mode: 0o644},
	}}
	cfg.EtcdGuards[0].PasswordPos.File = "/etc/hactl.conf"
	got := Check(cfg, host).String()
	for _, w := range []string{"ca_file /ca.pem", "key_file /k.pem can be read by others (mode 0644)", "the password is in /etc/hactl.conf, which every user can read"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	host.fs["ca.pem"] = &fstest.MapFile{Mode: 0o644}
	host.fs["k.pem"] = &fstest.MapFile{Mode: 0o600}
	host.fs["etc/hactl.conf"] = &fstest.MapFile{Mode: 0o600}
	if got := Check(cfg, host); len(got) != 0 {
		t.Errorf("want no findings, got:\n%s", got)
	}
}
