//go:build linux

package guard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"google.golang.org/grpc"
)

// TestE2EGuardTLS: against etcd members that serve clients over TLS and
// require a client certificate, a guard with etcd_guard's ca_file,
// cert_file and key_file takes its key; one without the client
// certificate, and one that trusts only the system's CAs, get no lease
// and say why.
func TestE2EGuardTLS(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	lab := labtest.Up(t, netlab.Config{Nodes: 4})
	c, files := etcdlab.UpTLS(t, lab.Node(1), lab.Node(2), lab.Node(3))
	for _, ep := range c.Endpoints() {
		if !strings.HasPrefix(ep, "https://") {
			t.Fatalf("endpoint %s: want https", ep)
		}
	}
	cfg := func(ca, cert, key string) guard.Config {
		tc, err := guard.TLSConfig(ca, cert, key)
		if err != nil {
			t.Fatal(err)
		}
		return guard.Config{Name: "G", Node: "a", Endpoints: c.Endpoints(), TTL: ttl, TLS: tc,
			DialOptions: []grpc.DialOption{etcdlab.Dialer(lab.Node(4))}}
	}
	key := guard.Key("/hactl/", "ipv4", 9)

	g, err := guard.New(cfg(files.CA, files.ClientCert, files.ClientKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(true)
	n := &node{t: t, name: "a", g: g, state: guard.NewState("a", ttl)}
	if n.acquire(key, 5*time.Second).IsZero() {
		t.Fatalf("no key over TLS with the client certificate: %+v", g.Stats())
	}

	for _, tc := range []struct {
		name          string
		ca, cert, key string
	}{
		{"no client certificate", files.CA, "", ""},
		{"the system's CAs only", "", files.ClientCert, files.ClientKey},
	} {
		bad, err := guard.New(cfg(tc.ca, tc.cert, tc.key), nil)
		if err != nil {
			t.Fatal(err)
		}
		var last string
		for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if last = bad.Stats().LastError; last != "" {
				break
			}
		}
		_, _, ok := bad.Lease()
		bad.Close(false)
		if ok {
			t.Errorf("%s: a lease", tc.name)
			continue
		}
		if last == "" {
			t.Errorf("%s: no lease and no error said", tc.name)
		}
		t.Logf("%s: no lease, last error %q", tc.name, last)
	}
}
