//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// foreignRules is a table, chain and rule of someone else's, in the
// families hactl's own table shares: hactl must never touch them.
const foreignRules = `table inet foreign {
	chain c {
		type filter hook input priority 0; policy accept;
		tcp dport 9 drop
	}
}
table ip filter {
	chain INPUT {
		type filter hook input priority 0; policy accept;
		udp dport 9 drop
	}
}
`

func acceptConf(mode string, prio int, vip netip.Prefix) string {
	// version 3 for both families; advert_int 0.2 for a quick election.
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 61
    priority %d
    advert_int 0.2
    version 3
    %s
    virtual_ipaddress {
        %s
    }
}
`, prio, mode, vip)
}

// TestE2EFirewallNoAccept: a non-owner master with no_accept drops
// traffic to its VIP (a ping from the operator gets no answer) while ARP
// still answers (the operator's neighbour entry for the VIP gets the
// master's MAC); the table moves with mastership, none is left after
// stop, and a leftover of a crash is removed at start; with accept the ping is answered and nothing is installed; a
// foreign table and chain are byte-identical in `nft list ruleset`
// throughout.
// Once over IPv4 (ARP), once over IPv6 (ND, through the table's
// neighbor-discovery exception).
func TestE2EFirewallNoAccept(t *testing.T) {
	labtest.Require(t)
	for _, family := range []string{"ipv4", "ipv6"} {
		t.Run(family, func(t *testing.T) { testFirewall(t, family) })
	}
}

func testFirewall(t *testing.T, family string) {
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	b := l.Subnet4.Addr().As4()
	b[3] += 120 // the nodes are .11 and .12, the operator .250
	vip, ipf := netip.PrefixFrom(netip.AddrFrom4(b), l.Subnet4.Bits()), "-4"
	if family == "ipv6" {
		b6 := l.Subnet6.Addr().As16()
		b6[15] += 0x20
		vip, ipf = netip.PrefixFrom(netip.AddrFrom16(b6), l.Subnet6.Bits()), "-6"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nft := func(n *netlab.Host, args ...string) (string, error) {
		out, err := n.Run(ctx, append([]string{"nft"}, args...)...)
		return string(out), err
	}
	baseline := map[string]string{}
	for _, n := range l.Nodes {
		cmd := n.Command(ctx, "nft", "-f", "-")
		cmd.Stdin = strings.NewReader(foreignRules)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: foreign rules: %v: %s", n.Name, err, out)
		}
		rs, err := nft(n, "list", "ruleset")
		if err != nil {
			t.Fatal(err)
		}
		baseline[n.Name] = rs
	}
	untouched := func(when string) {
		t.Helper()
		for _, n := range l.Nodes {
			rs, _ := nft(n, "list", "table", "inet", "foreign")
			rs2, _ := nft(n, "list", "table", "ip", "filter")
			if !strings.Contains(baseline[n.Name], rs) || !strings.Contains(baseline[n.Name], rs2) || rs == "" || rs2 == "" {
				t.Errorf("%s: %s: the foreign tables changed:\n%s%s", n.Name, when, rs, rs2)
			}
		}
	}
	hasTable := func(n *netlab.Host) bool { _, err := nft(n, "list", "table", "inet", "hactl"); return err == nil }
	pings := func() bool {
		_, err := l.Operator.Run(ctx, "ping", ipf, "-n", "-c", "1", "-W", "1", vip.Addr().String())
		return err == nil
	}
	arpAnswers := func(n *netlab.Host) error {
		out, err := n.Run(ctx, "cat", "/sys/class/net/eth0/address")
		if err != nil {
			return err
		}
		mac := strings.TrimSpace(string(out))
		neigh, _ := l.Operator.Run(ctx, "ip", ipf, "neigh", "show", vip.Addr().String(), "dev", "eth0")
		if !strings.Contains(string(neigh), "lladdr "+mac) {
			return fmt.Errorf("operator's neighbour entry for %s is %q, want lladdr %s (%s)", vip.Addr(), strings.TrimSpace(string(neigh)), mac, n.Name)
		}
		return nil
	}
	flushNeigh := func() { _, _ = l.Operator.Run(ctx, "ip", ipf, "neigh", "flush", "dev", "eth0") }
	// An IPv6 VIP is tentative (DAD) for about a second and answers
	// nothing meanwhile: a silent ping would prove nothing.
	settled := func(n *netlab.Host) {
		t.Helper()
		pollFor(t, 5*time.Second, func() bool {
			out, err := n.Run(ctx, "ip", ipf, "addr", "show", "dev", "eth0", "tentative")
			return err == nil && !strings.Contains(string(out), vip.Addr().String()+"/")
		}, n.Name+"'s VIP out of DAD")
	}
	h := newHolders(t, l.Nodes, vip)

	// no_accept: node1 master, then node2 after node1 stops.
	d1 := startDaemon(t, n1, acceptConf("no_accept", 200, vip))
	d2 := startDaemon(t, n2, acceptConf("no_accept", 100, vip))
	if _, err := h.waitOwner(n1.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	pollFor(t, 2*time.Second, func() bool { return hasTable(n1) }, "node1's hactl table")
	if hasTable(n2) {
		t.Error("the backup has a hactl table")
	}
	settled(n1)
	flushNeigh()
	if pings() {
		t.Error("no_accept: the VIP answered a ping on node1")
	}
	if err := arpAnswers(n1); err != nil {
		t.Error(err)
	}
	untouched("node1 master")
	if err := d1.Stop(3 * time.Second); err != nil {
		t.Logf("node1 stop: %v", err)
	}
	if _, err := h.waitOwner(n2.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	pollFor(t, 2*time.Second, func() bool { return hasTable(n2) }, "node2's hactl table")
	settled(n2)
	if rs, _ := nft(n1, "list", "ruleset"); rs != baseline[n1.Name] {
		t.Errorf("node1 after stop: ruleset\n%s\nwant as before start\n%s", rs, baseline[n1.Name])
	}
	flushNeigh()
	if pings() {
		t.Error("no_accept: the VIP answered a ping on node2")
	}
	if err := arpAnswers(n2); err != nil {
		t.Error(err)
	}
	if err := d2.Stop(3 * time.Second); err != nil {
		t.Logf("node2 stop: %v", err)
	}
	for _, n := range l.Nodes {
		if rs, _ := nft(n, "list", "ruleset"); rs != baseline[n.Name] {
			t.Errorf("%s after stop: ruleset\n%s\nwant as before start\n%s", n.Name, rs, baseline[n.Name])
		}
	}

	// A table left by a crash (SIGKILL leaves it, as keepalived's) is
	// removed at start, even by a config that installs none.
	if _, err := nft(n1, "add", "table", "inet", "hactl"); err != nil {
		t.Fatal(err)
	}
	// accept: the ping is answered and no table installed.
	d1 = startDaemon(t, n1, acceptConf("accept", 200, vip))
	if _, err := h.waitOwner(n1.Name, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	pollFor(t, 2*time.Second, func() bool { return !hasTable(n1) }, "removal of the leftover table")
	flushNeigh()
	pollFor(t, 3*time.Second, pings, "a ping answered by the accept master")
	if hasTable(n1) {
		t.Error("accept: a hactl table was installed")
	}
	untouched("accept master")
	_ = d1.Stop(3 * time.Second)
	if rs, _ := nft(n1, "list", "ruleset"); rs != baseline[n1.Name] {
		t.Errorf("node1 after accept run: ruleset\n%s\nwant\n%s", rs, baseline[n1.Name])
	}
}

// pollFor polls cond every 10 ms for at most limit.
func pollFor(t *testing.T, limit time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
