package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigShowGuard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hactl.conf")
	src := "etcd_guard G {\n  endpoints http://10.0.0.1:2379 http://10.0.0.2:2379\n  ttl 2\n  username hactl\n  password s3cret\n}\n" +
		"vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 51\n  guard G\n  virtual_ipaddress {\n    192.0.2.10/24\n  }\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"", "json"} {
		io, out, errOut := TestStreams()
		if err := runConfigShow(context.Background(), &ConfigShowOptions{IO: io, Global: &GlobalOptions{Output: format}, File: path}); err != nil {
			t.Fatalf("%v\n%s", err, errOut)
		}
		s := out.String()
		if strings.Contains(s, "s3cret") {
			t.Errorf("config show %q prints the password:\n%s", format, s)
		}
		want := []string{"GUARD", "http://10.0.0.1:2379 http://10.0.0.2:2379", "2s", "user hactl", "VI_1"}
		if format == "json" {
			want = []string{`"etcd_guards"`, `"ttl_ms": 2000`, `"password_set": true`, `"guard": "G"`}
		}
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("config show %q: missing %q in:\n%s", format, w, s)
			}
		}
	}
}
