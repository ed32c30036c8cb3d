//go:build linux

package guard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
)

// TestE2EGuardAuth: with etcd's authentication on, a guard with the right
// user and password (a role limited to the key prefix) takes its key; one
// with a wrong password gets no lease and says why.
func TestE2EGuardAuth(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 4})
	c := etcdlab.Up(t, lab.Node(1), lab.Node(2), lab.Node(3))
	admin, err := c.Client(lab.Node(4))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	steps := []func() error{
		func() error { _, err := admin.RoleAdd(ctx, "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "hactl"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "hactl", "/hactl/", clientv3.GetPrefixRangeEnd("/hactl/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := admin.UserAdd(ctx, "hactl", "s3cret"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "hactl", "hactl"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}
	cfg := func(pw string) guard.Config {
		return guard.Config{Name: "G", Node: "a", Endpoints: c.Endpoints(), TTL: ttl, Username: "hactl", Password: pw,
			DialOptions: []grpc.DialOption{etcdlab.Dialer(lab.Node(4))}}
	}
	key := guard.Key("/hactl/", "ipv4", 7)

	g, err := guard.New(cfg("s3cret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(true)
	n := &node{t: t, name: "a", g: g, state: guard.NewState("a", ttl)}
	if n.acquire(key, 5*time.Second).IsZero() {
		t.Fatalf("no key with the right password: %+v", g.Stats())
	}

	// A wrong password: New still returns (the daemon starts whatever
	// etcd says), the guard gets no lease and says why.
	bad, err := guard.New(cfg("wrong"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close(false)
	var last string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if last = bad.Stats().LastError; strings.Contains(last, "authentication failed") {
			break
		}
	}
	if _, _, ok := bad.Lease(); ok {
		t.Fatal("a lease with a wrong password")
	}
	if !strings.Contains(last, "authentication failed") {
		t.Fatalf("wrong password: last error %q", last)
	}
	t.Logf("wrong password: no lease, last error %q", last)
}
