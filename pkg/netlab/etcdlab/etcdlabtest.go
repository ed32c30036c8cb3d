//go:build linux

package etcdlab

import (
	"context"
	"net/netip"
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
	return up(t, hosts, Options{DataRoot: t.TempDir()})
}

// UpTLS is Up with the members serving clients over https and requiring
// a client certificate signed by the returned files' CA (WriteTLS, under
// t.TempDir()).
func UpTLS(t testing.TB, hosts ...*netlab.Host) (*Cluster, TLS) {
	t.Helper()
	var addrs []netip.Addr
	for _, h := range hosts {
		addrs = append(addrs, h.Addr4)
	}
	files, err := WriteTLS(t.TempDir(), addrs...)
	if err != nil {
		t.Fatalf("etcd cluster's certificates: %v", err)
	}
	files.ClientCertAuth = true
	return up(t, hosts, Options{DataRoot: t.TempDir(), TLS: &files}), files
}

func up(t testing.TB, hosts []*netlab.Host, o Options) *Cluster {
	t.Helper()
	labtest.Require(t, Binary, "nft")
	c, err := Start(context.Background(), hosts, o)
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
