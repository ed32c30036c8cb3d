//go:build linux

package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestE2EGuardStatusWhoOwns: status and who-owns show the etcd guard.
// Etcd on node1-3; guarded hactl daemons on node4 (priority 200) and node5.
// While another node ("x") holds the key, node4 is MASTER (no key) and
// nobody holds the VIP (exit 2); the VIP added by hand on node4 is a split
// brain even as the only holder (exit 3); once the key is free node4 takes
// it and owns the VIP (exit 0), and both commands name the holder.
func TestE2EGuardStatusWhoOwns(t *testing.T) {
	labtest.Require(t, etcdlab.Binary, "nft")
	bin := buildHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 5, SSH: true})
	c := etcdlab.Up(t, l.Node(1), l.Node(2), l.Node(3))
	e := &e2eOp{t: t, l: l, bin: bin}
	key := "/hactl/ipv4/51"

	cli, err := c.Client(l.Node(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lease, err := cli.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, key, "x", clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}

	for _, n := range []struct {
		h    *netlab.Host
		prio int
	}{{l.Node(4), 200}, {l.Node(5), 100}} {
		conf := filepath.Join(n.h.Dir, "hactl.conf")
		text := fmt.Sprintf("global_defs {\n    router_id %s\n}\n%s", n.h.Name, c.GuardBlock("G", 2)) +
			strings.Replace(vrrpConf(n.prio), "advert_int 1", "advert_int 0.1\n    version 3\n    guard G", 1)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := n.h.Start("daemon", bin, "daemon", "-f", conf, "--state-file", filepath.Join(n.h.Dir, "state"),
			"--socket", n.h.Socket(), "--pid-file", filepath.Join(n.h.Dir, "hactl.pid"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop(3 * time.Second) })
	}
	want := "node1=none node2=none node3=none node4=hactl:MASTER node5=hactl:BACKUP"
	deadline := time.Now().Add(15 * time.Second)
	for got := e.states(); got != want; got = e.states() {
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not converge in 15s: %s, want %s", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}

	r := e.hactl("status")
	r.want(t, 0, []string{"GUARD", "MASTER (no key)", "G: held by x"}, nil)
	r = e.hactl("who-owns", "10.77.0.100")
	r.want(t, 2, []string{"MASTER (no key)", "guard G: " + key + " is held by x", "no node holds 10.77.0.100"}, nil)

	// A VIP on node4 without the key: split brain, though the only holder.
	if _, err := l.Node(4).Run(ctx, "ip", "addr", "add", "10.77.0.100/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	r = e.hactl("who-owns", "10.77.0.100")
	r.want(t, 3, []string{"split brain: 10.77.0.100 is held by node4 without the guard key (" + key + " is held by x)"}, nil)
	if _, err := l.Node(4).Run(ctx, "ip", "addr", "del", "10.77.0.100/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}

	// The key freed: node4 takes it at once and owns the VIP.
	if _, err := cli.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		r = e.hactl("who-owns", "10.77.0.100")
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.want(t, 0, []string{"guard G: " + key + " is held by node4", "owner: node4 (VI_1 MASTER)"}, nil)
	r = e.hactl("status")
	r.want(t, 0, []string{"G: key held", "G: held by node4"}, nil)
	r = e.hactl("who-owns", "10.77.0.100", "-o", "json")
	r.want(t, 0, []string{`"guard": {`, `"holder": "node4"`}, nil)

	// etcd cut from both nodes: nobody holds the VIP, and both say why.
	for _, h := range []*netlab.Host{l.Node(4), l.Node(5)} {
		if err := c.Cut(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	deadline = time.Now().Add(6 * time.Second)
	for {
		r = e.hactl("who-owns", "10.77.0.100")
		if r.code == 2 && strings.Contains(r.out, "no node reaches etcd") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.want(t, 2, []string{"no node holds 10.77.0.100: no node reaches etcd for its guard"}, nil)
	r = e.hactl("status")
	r.want(t, 0, []string{"FAULT", "guard G", "G: no etcd lease"}, nil)
}
