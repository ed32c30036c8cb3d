package daemon

import (
	"fmt"
	"strings"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/config"
)

// The etcd guard's wiring (issue 19, docs/guard.md). What is here so far
// is the translation from the config model; the runtime's use of
// daemon/guard (guard.Gate on every state change, renewal and deadline) is
// the next step.

// guardNode is this node's name on the guard's keys: global_defs'
// router_id, else the host name. Every node of a virtual router must have
// its own.
func guardNode(cfg *config.Config) string {
	if id := cfg.Global.RouterID; id != "" {
		return id
	}
	return hostname()
}

// guardKey is the key of a guarded instance: the guard's prefix, the
// family and the VRID, the same on every node of the virtual router.
func guardKey(g *config.EtcdGuard, in *config.Instance) string {
	fam := "ipv4"
	if in.Family == config.FamilyIPv6 {
		fam = "ipv6"
	}
	return guard.Key(g.KeyPrefix, fam, in.VRID)
}

// guardConfig turns an etcd_guard block into the guard's Config, reading
// its TLS files for https endpoints.
func guardConfig(g *config.EtcdGuard, node string) (guard.Config, error) {
	c := guard.Config{Name: g.Name, Node: node, Endpoints: g.Endpoints, TTL: g.TTL,
		Username: g.Username, Password: g.Password}
	if len(g.Endpoints) > 0 && strings.HasPrefix(g.Endpoints[0], "https://") {
		t, err := guard.TLSConfig(g.CAFile, g.CertFile, g.KeyFile)
		if err != nil {
			return guard.Config{}, fmt.Errorf("etcd_guard %s (%s): %w", g.Name, g.Pos, err)
		}
		c.TLS = t
	}
	return c, nil
}
