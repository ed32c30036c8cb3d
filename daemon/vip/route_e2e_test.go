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

func TestE2ERoutes(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	m := managerIn(t, l.Node(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v := vip.VIP{Prefix: netip.MustParsePrefix("10.77.0.100/24"), Dev: "eth0"}
	if err := m.Add(v, 0); err != nil {
		t.Fatal(err)
	}
	routes := []vip.Route{
		{Dest: netip.MustParsePrefix("192.0.2.0/24"), Via: netip.MustParseAddr("10.77.0.12"), Src: netip.MustParseAddr("10.77.0.100"), Dev: "eth0"},
		{Type: "blackhole", Dest: netip.MustParsePrefix("198.51.100.0/24")},
		{Dest: netip.MustParsePrefix("203.0.113.0/24"), Dev: "eth0", Table: 100},
	}
	want := []string{"192.0.2.0/24 via 10.77.0.12 dev eth0 src 10.77.0.100", "blackhole 198.51.100.0/24", "203.0.113.0/24 dev eth0"}
	for _, r := range routes {
		if err := m.AddRoute(r); err != nil {
			t.Fatal(err)
		}
		if err := m.AddRoute(r); err != nil {
			t.Fatalf("adding %s twice: %v", r, err)
		}
	}
	out, err := l.Node(1).Run(ctx, "ip", "route", "show", "table", "all")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("ip route lacks %q:\n%s", w, out)
		}
	}
	for _, r := range routes {
		if err := m.RemoveRoute(r); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveRoute(r); err != nil {
			t.Fatalf("removing %s twice: %v", r, err)
		}
	}
	out, _ = l.Node(1).Run(ctx, "ip", "route", "show", "table", "all")
	for _, w := range []string{"192.0.2.0", "198.51.100.0", "203.0.113.0"} {
		if strings.Contains(string(out), w) {
			t.Errorf("route %s left after RemoveRoute:\n%s", w, out)
		}
	}
	if _, err := vip.ParseTable("nosuch"); err == nil {
		t.Error("ParseTable(nosuch): no error")
	}
}
