//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// rulesConf is one configuration with static_* entries, virtual rules,
// routes with options and VIPs with options (issue 16 point 4), read by
// keepalived 2.2.7 and hactl alike.
func rulesConf(vrid, prio int) string {
	return fmt.Sprintf(`static_ipaddress {
  10.77.9.1/24 dev eth0 noprefixroute
  fd77:9::1/64 dev eth0 preferred_lft 60
}
static_routes {
  198.51.200.0/24 via 10.77.0.254 dev eth0 onlink no_track
}
static_rules {
  from 10.77.9.1 table 201 priority 201
  from fd77:9::/64 table 202 priority 202 inet6
}
vrrp_instance VI_1 {
  interface eth0
  state MASTER
  virtual_router_id %d
  priority %d
  advert_int 1
  virtual_ipaddress {
    10.77.0.200/24 dev eth0
    10.77.0.201 peer 10.77.0.202 dev eth0
  }
  virtual_ipaddress_excluded {
    fd77::200/64 dev eth0 -nodad
    fd77::201 dev eth0
  }
  virtual_routes {
    198.51.100.0/24 via 10.77.0.254 dev eth0 mtu lock 1400 advmss 1360 hoplimit 32 table 100 no_track
    blackhole 198.51.101.0/24
    198.51.102.0/24 nexthop via 10.77.0.253 dev eth0 weight 2 nexthop via 10.77.0.254 dev eth0
    default via 10.77.0.254 table 100 metric 7 no_track
    198.51.103.0/24 dev eth0 src 10.77.0.200 protocol static tos 0x10 no_track
    2001:db8:5::/48 via fd77::254 dev eth0 initcwnd 20 no_track
  }
  virtual_rules {
    from 10.77.0.200 table 100 priority 100
    to 198.51.100.0/24 lookup 100 priority 101 fwmark 0x10/0xff
    not from all iif eth0 priority 102 prohibit
    from 10.77.0.0/24 priority 103 goto 110
    l3mdev priority 104
    from all fwmark 7 table 100 priority 105 no_track
    to 2001:db8:5::/48 table 100 priority 106 ipproto tcp dport 443
  }
}
`, vrid, prio)
}

// kernelView is what ip shows of the node's rules, routes and eth0
// addresses, one sorted line each; lifetimes that count down are cut.
func kernelView(t *testing.T, n *netlab.Host) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var lines []string
	lifetimes := regexp.MustCompile(`(valid|preferred)_lft \d+sec`)
	// hactl's VIP lease (vip_lease) gives a VIP a valid lifetime, and an
	// IPv6 prefix route of its own an expiry: hactl's design, not a
	// keepalived behaviour (docs/daemon.md).
	expires := regexp.MustCompile(` expires \d+sec`)
	for _, argv := range [][]string{
		{"ip", "-4", "rule"}, {"ip", "-6", "rule"},
		{"ip", "-4", "-d", "route", "show", "table", "all"}, {"ip", "-6", "-d", "route", "show", "table", "all"},
		{"ip", "-o", "addr", "show", "dev", "eth0"},
	} {
		out, err := n.Run(ctx, argv...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
		// A multipath route's next hops are continuation lines.
		text := strings.ReplaceAll(string(out), "\n\t", " ")
		text = strings.ReplaceAll(text, "\n    ", " ")
		for _, l := range strings.Split(text, "\n") {
			l = lifetimes.ReplaceAllString(strings.Join(strings.Fields(l), " "), "${1}_lft N")
			l = expires.ReplaceAllString(l, "")
			if l != "" && !strings.Contains(l, "fe80::") && !strings.Contains(l, "link/ether") {
				lines = append(lines, strings.Join(argv[:2], " ")+": "+l)
			}
		}
	}
	slices.Sort(lines)
	return lines
}

// waitView polls the kernel until ok says the view is complete.
func waitView(t *testing.T, n *netlab.Host, what string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v := kernelView(t, n)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in 15 s:\n%s", what, strings.Join(v, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasLine(v []string, sub string) bool {
	return slices.ContainsFunc(v, func(l string) bool { return strings.Contains(l, sub) })
}

// diffLines lists the lines only in a and only in b.
func diffLines(a, b []string) (onlyA, onlyB []string) {
	for _, l := range a {
		if !slices.Contains(b, l) {
			onlyA = append(onlyA, l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			onlyB = append(onlyB, l)
		}
	}
	return
}

// TestE2ERulesLikeKeepalived runs keepalived 2.2.7 and then hactl, one
// after the other, on the same node with the same configuration, and
// compares what ip rule, ip route and ip addr show: while master, and
// after each has stopped (statics and rules gone). Then an hactl master
// with virtual_rules goes BACKUP when a higher priority appears: its
// rules and routes go, its static entries stay until it stops.
func TestE2ERulesLikeKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n := l.Node(1)
	before := kernelView(t, n)
	complete := func(v []string) bool {
		return hasLine(v, "104:") && hasLine(v, "106:") && hasLine(v, "201:") && hasLine(v, "198.51.102.0/24") &&
			hasLine(v, "2001:db8:5::/48") && hasLine(v, "10.77.0.201") && hasLine(v, "fd77::201")
	}

	kp := startKeepalived(t, n, rulesConf(61, 200))
	kMaster := waitView(t, n, "keepalived master", complete)
	if err := kp.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	kAfter := waitView(t, n, "keepalived stopped", func(v []string) bool { return !hasLine(v, "201:") && !hasLine(v, "100:") })

	// vip_lease 0: permanent VIPs, as keepalived adds them (hactl's
	// default lease is its own design, docs/config.md).
	const permanent = "global_defs {\n  vip_lease 0\n}\n"
	d := startDaemon(t, n, permanent+rulesConf(61, 200))
	hMaster := waitView(t, n, "hactl master", complete)
	if a, b := diffLines(kMaster, hMaster); len(a)+len(b) > 0 {
		t.Errorf("as master, only keepalived shows:\n%s\nonly hactl shows:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if err := d.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	hAfter := kernelView(t, n)
	// keepalived 2.2.7 leaves a VIP with a peer behind when it stops:
	// its RTM_DELADDR gives IFA_ADDRESS the local address, not the peer,
	// and the kernel finds no such address (vrrp_ipaddress.c:
	// netlink_ipaddress). hactl removes it.
	kAfter = slices.DeleteFunc(kAfter, func(l string) bool { return strings.Contains(l, "10.77.0.201") })
	if a, b := diffLines(kAfter, hAfter); len(a)+len(b) > 0 {
		t.Errorf("after stop, only keepalived leaves:\n%s\nonly hactl leaves:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if a, b := diffLines(before, hAfter); len(a)+len(b) > 0 {
		t.Errorf("after hactl stopped, gone:\n%s\nleft:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}

	// Mastership: node1 master, node2 (higher priority) takes over.
	startDaemon(t, n, rulesConf(62, 100))
	waitView(t, n, "hactl master again", complete)

	// Rules deleted by hand: a static one comes back, as keepalived's
	// netlink_rule_filter does; a virtual one without no_track comes back
	// too and the master stays master (keepalived leaves MASTER instead: a
	// deliberate difference, docs/daemon.md).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := n.Run(ctx, "ip", "rule", "del", "priority", "201"); err != nil {
		t.Fatalf("ip rule del: %v\n%s", err, out)
	}
	waitView(t, n, "static rule restored", func(v []string) bool { return hasLine(v, "201:") })
	if out, err := n.Run(ctx, "ip", "rule", "del", "priority", "100"); err != nil {
		t.Fatalf("ip rule del: %v\n%s", err, out)
	}
	back := waitView(t, n, "virtual rule restored", func(v []string) bool { return hasLine(v, "100:") })
	if !hasLine(back, "10.77.0.200") || !hasLine(back, "101:") {
		t.Errorf("after the virtual rule came back the master lost its VIP or its other rules:\n%s", strings.Join(back, "\n"))
	}
	if st := status(t, n).Instances[0]; st.State != "MASTER" || st.Counters.RulesRestored != 1 || st.Counters.BecameMaster != 1 {
		t.Errorf("after a virtual rule was deleted: %s, rules_restored %d, became_master %d; want MASTER, 1, 1", st.State, st.Counters.RulesRestored, st.Counters.BecameMaster)
	}
	// node2 advertises node1's address list: an advert with other
	// addresses is dropped, as keepalived drops it (addr_list).
	startDaemon(t, l.Node(2), "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 62\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    10.77.0.200/24 dev eth0\n    10.77.0.201 peer 10.77.0.202 dev eth0\n  }\n}\n")
	backup := waitView(t, n, "hactl backup", func(v []string) bool { return !hasLine(v, "100:") && !hasLine(v, "10.77.0.200") })
	for _, gone := range []string{"101:", "104:", "106:", "198.51.100.0/24", "198.51.102.0/24", "10.77.0.201"} {
		if hasLine(backup, gone) {
			t.Errorf("as BACKUP the node still shows %q", gone)
		}
	}
	for _, kept := range []string{"201:", "202:", "198.51.200.0/24", "10.77.9.1/24", "fd77:9::1/64"} {
		if !hasLine(backup, kept) {
			t.Errorf("as BACKUP the static %q is gone:\n%s", kept, strings.Join(backup, "\n"))
		}
	}
	// A static address deleted by hand comes back, as keepalived's
	// reinstate_static_address does.
	if out, err := n.Run(ctx, "ip", "addr", "del", "10.77.9.1/24", "dev", "eth0"); err != nil {
		t.Fatalf("ip addr del: %v\n%s", err, out)
	}
	waitView(t, n, "static address restored", func(v []string) bool { return hasLine(v, "inet 10.77.9.1/24") })
}
