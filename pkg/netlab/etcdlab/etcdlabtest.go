//go:build linux

package etcdlab

import (
	"context"
	"testing"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// Up starts a cluster with one member on each host for the test, with its
// data under t.TempDir(), and stops it in t.Cleanup. It fails the test
// (with the members' logs) if the cluster is not healthy within
// StartTimeout. It requires etcd and nft (labtest.Require).
func Up(t testing.TB, hosts ...*netlab.Host) *Cluster {
	t.Helper()
	labtest.Require(t, Binary, "nft")
	c, err := Start(context.Background(), hosts, Options{DataRoot: t.TempDir()})
	if err != nil {
		t.Fatalf("etcd cluster: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			for _, m := range c.Members {
				t.Logf("%s log tail:\n%s", m.Name, m.Log(2000))
			}
		}
	})
	return c
}
