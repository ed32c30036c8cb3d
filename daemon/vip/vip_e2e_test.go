//go:build linux

package vip_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

func managerIn(t *testing.T, h *netlab.Host) *vip.Manager {
	t.Helper()
	var m *vip.Manager
	if err := h.Do(func() (err error) { m, err = vip.New(nil); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestE2EVIPAddRemoveAndReach(t *testing.T) {
	labtest.Require(t, "ping")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v4 := vip.VIP{Prefix: netip.MustParsePrefix("10.77.0.100/32"), Dev: "eth0", Label: "eth0:vip"}
	v6 := vip.VIP{Prefix: netip.MustParsePrefix("fd77::100/128"), Dev: "eth0"}
	for _, v := range []vip.VIP{v4, v6} {
		if err := m.Add(v, 0); err != nil {
			t.Fatal(err)
		}
		if ok, lft, err := m.Present(v); !ok || lft != 0 || err != nil {
			t.Fatalf("%s: present=%v lifetime=%d err=%v; want a permanent address", v, ok, lft, err)
		}
		if out, err := l.Node(2).Run(ctx, "ping", "-c", "1", "-W", "2", v.Prefix.Addr().String()); err != nil {
			t.Errorf("node2 cannot reach %s on node1: %v\n%s", v.Prefix.Addr(), err, out)
		}
	}
	out, err := l.Node(1).Run(ctx, "ip", "-4", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(string(out), "10.77.0.100/32 scope global eth0:vip") {
		t.Errorf("label not applied: %v\n%s", err, out)
	}
	for _, v := range []vip.VIP{v4, v6} {
		if err := m.Remove(v); err != nil {
			t.Fatal(err)
		}
		if err := m.Remove(v); err != nil {
			t.Fatalf("removing an absent VIP: %v", err)
		}
		if ok, _, _ := m.Present(v); ok {
			t.Errorf("%s still present after Remove", v)
		}
	}
	if err := m.Add(vip.VIP{Prefix: v4.Prefix, Dev: "nosuch0"}, 0); err == nil || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("unknown interface: %v", err)
	}
}

// TestE2EVIPLease checks what lease-bound VIPs rest on: an address added
// with a lifetime vanishes by itself once it is not refreshed, and stays
// while it is.
func TestE2EVIPLease(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	m := managerIn(t, l.Node(1))
	lease := vip.Lifetime(2 * time.Second)
	kept := vip.VIP{Prefix: netip.MustParsePrefix("10.77.0.101/32"), Dev: "eth0"}
	dropped := []vip.VIP{
		{Prefix: netip.MustParsePrefix("10.77.0.102/32"), Dev: "eth0"},
		{Prefix: netip.MustParsePrefix("fd77::102/128"), Dev: "eth0"},
	}
	for _, v := range append(dropped, kept) {
		if err := m.Add(v, lease); err != nil {
			t.Fatal(err)
		}
		if ok, lft, err := m.Present(v); !ok || lft < 1 || lft > 2 || err != nil {
			t.Fatalf("%s: present=%v lifetime=%d err=%v; want a 2 s lease", v, ok, lft, err)
		}
	}
	start := time.Now()
	gone := map[string]time.Duration{}
	for i := 0; i < 60 && len(gone) < len(dropped); i++ { // at most 6 s
		time.Sleep(100 * time.Millisecond)
		if err := m.Refresh(kept, lease); err != nil {
			t.Fatal(err)
		}
		for _, v := range dropped {
			if ok, _, _ := m.Present(v); !ok {
				if _, seen := gone[v.String()]; !seen {
					gone[v.String()] = time.Since(start)
				}
			}
		}
	}
	for _, v := range dropped {
		d, ok := gone[v.String()]
		if !ok {
			t.Errorf("%s outlived its 2 s lease by more than 4 s", v)
			continue
		}
		t.Logf("%s vanished %v after its last refresh (lease 2 s)", v, d.Round(10*time.Millisecond))
	}
	if ok, _, _ := m.Present(kept); !ok {
		t.Errorf("%s vanished although refreshed every 100 ms", kept)
	}
}

// TestE2EVIPInterfaceRecreated: the Manager caches interface lookups; when
// the interface is deleted and created again under the same name (a new
// index), the next Add still lands on it.
func TestE2EVIPInterfaceRecreated(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	m := managerIn(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ip := func(args ...string) {
		t.Helper()
		if out, err := n.Run(ctx, append([]string{"ip"}, args...)...); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	v := vip.VIP{Prefix: netip.MustParsePrefix("10.88.0.100/32"), Dev: "vtest0"}
	for round := range 2 {
		ip("link", "add", "vtest0", "type", "veth", "peer", "name", "vtest1")
		ip("link", "set", "vtest0", "up")
		if err := m.Add(v, 0); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if ok, _, err := m.Present(v); !ok || err != nil {
			t.Fatalf("round %d: present=%v err=%v", round, ok, err)
		}
		ip("link", "del", "vtest0")
	}
}
