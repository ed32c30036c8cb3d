package daemon

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

func TestGuardWiring(t *testing.T) {
	g := &config.EtcdGuard{Name: "G", Endpoints: []string{"http://10.0.0.1:2379"}, TTL: 2 * time.Second,
		KeyPrefix: "/hactl/", Username: "u", Password: "p"}
	cfg := &config.Config{Global: config.GlobalDefs{RouterID: "node-a"}}
	if n := guardNode(cfg); n != "node-a" {
		t.Fatalf("node %q", n)
	}
	if n := guardNode(&config.Config{}); n != hostname() {
		t.Fatalf("node without router_id %q", n)
	}
	for fam, want := range map[config.Family]string{config.FamilyIPv4: "/hactl/ipv4/51", config.FamilyIPv6: "/hactl/ipv6/51"} {
		if k := guardKey(g, &config.Instance{Family: fam, VRID: 51}); k != want {
			t.Errorf("%s: key %q, want %q", fam, k, want)
		}
	}
	c, err := guardConfig(g, "node-a")
	if err != nil || c.Node != "node-a" || c.TTL != 2*time.Second || c.Username != "u" || c.Password != "p" || c.TLS != nil {
		t.Fatalf("%+v %v", c, err)
	}
	tg := *g
	tg.Endpoints = []string{"https://10.0.0.1:2379"}
	tg.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := guardConfig(&tg, "node-a"); err == nil || !strings.Contains(err.Error(), "etcd_guard G") {
		t.Fatalf("missing CA: %v", err)
	}
	tg.CAFile = ""
	if c, err := guardConfig(&tg, "node-a"); err != nil || c.TLS == nil {
		t.Fatalf("https with the system's CAs: %+v %v", c, err)
	}
}
