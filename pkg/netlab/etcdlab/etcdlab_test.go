//go:build linux

package etcdlab

import (
	"net/netip"
	"testing"

	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/netlab"
)

// TestGuardBlock checks that the block a guarded lab node gets is one the
// config package reads as meant.
func TestGuardBlock(t *testing.T) {
	c := &Cluster{}
	for i, a := range []string{"10.77.0.13", "10.77.0.14", "10.77.0.15"} {
		h := &netlab.Host{Name: netlab.NodeName(i + 3), Addr4: netip.MustParseAddr(a)}
		c.Members = append(c.Members, &Member{Host: h, ClientURL: url(h.Addr4, ClientPort)})
	}
	src := c.GuardBlock("G", 2) + "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  guard G\n  virtual_ipaddress {\n    10.77.0.100/24\n  }\n}\n"
	cfg, diags := config.Parse("lab.conf", []byte(src), config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, src)
	}
	g := cfg.GuardOf("G")
	if g == nil || len(g.Endpoints) != 3 || g.Endpoints[0] != "http://10.77.0.13:2379" || g.TTL.Seconds() != 2 || cfg.Instances[0].Guard != "G" {
		t.Errorf("guard %+v from:\n%s", g, src)
	}
}
