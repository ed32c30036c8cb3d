//go:build linux

package daemon_test

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// interopCase is one mixed cluster: an hactl node and a keepalived node
// in one VRID.
type interopCase struct {
	name     string
	version  int
	interval time.Duration
	unicast  bool
	auth     bool
	vip      netip.Prefix
}

// conf renders one node's vrrp_instance; keepalived and hactl read the
// same text.
func (c interopCase) conf(self, peer *netlab.Host, priority int) string {
	extra := ""
	if c.auth {
		extra += "    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }\n"
	}
	if c.unicast {
		src, dst := self.Addr4, peer.Addr4
		if c.vip.Addr().Is6() {
			src, dst = self.Addr6, peer.Addr6
		}
		extra += fmt.Sprintf("    unicast_src_ip %s\n    unicast_peer {\n        %s\n    }\n", src, dst)
	}
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    version %d
    priority %d
    advert_int %g
%s    virtual_ipaddress {
        %s
    }
}
`, self.Name, c.version, priority, c.interval.Seconds(), extra, c.vip)
}

func (c interopCase) masterDown(p int) time.Duration {
	return 3*c.interval + time.Duration(256-p)*c.interval/256
}

// keepalivedComplaints are what keepalived 2.2.7 logs about adverts it
// does not like (bad checksum, TTL, auth, VIP set or interval mismatch).
var keepalivedComplaints = regexp.MustCompile(`(?i)bogus|invalid|checksum|ttl|auth|not present|mismatch|wrong|discard|error`)

// TestE2EKeepalivedInterop runs hactl and real keepalived 2.2.7 in one
// VRID, v2 and v3, multicast and unicast, IPv4 and IPv6: hactl wins by
// priority, then keepalived wins by priority, and neither logs a packet
// error about the other.
func TestE2EKeepalivedInterop(t *testing.T) {
	labtest.Require(t, "keepalived")
	v4, v6 := netip.MustParsePrefix("10.77.0.100/24"), netip.MustParsePrefix("fd77::100/64")
	for _, c := range []interopCase{
		{name: "v2-multicast-pass", version: 2, interval: time.Second, auth: true, vip: v4},
		{name: "v2-unicast", version: 2, interval: time.Second, unicast: true, vip: v4},
		{name: "v3-multicast-ipv4", version: 3, interval: 200 * time.Millisecond, vip: v4},
		{name: "v3-unicast-ipv4", version: 3, interval: 200 * time.Millisecond, unicast: true, vip: v4},
		{name: "v3-multicast-ipv6", version: 3, interval: 200 * time.Millisecond, vip: v6},
		{name: "v3-unicast-ipv6", version: 3, interval: 200 * time.Millisecond, unicast: true, vip: v6},
	} {
		t.Run(c.name, func(t *testing.T) { testInterop(t, c) })
	}
}

func testInterop(t *testing.T, c interopCase) {
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	kp := startKeepalived(t, kn, c.conf(kn, hn, 100))
	h := newHolders(t, l.Nodes, c.vip)
	limit := c.masterDown(100) + 3*time.Second

	// hactl at 150 wins over keepalived at 100.
	hd := startDaemon(t, hn, c.conf(hn, kn, 150))
	if _, err := h.waitOwner("node1", limit); err != nil {
		t.Fatalf("hactl (150) vs keepalived (100): %v", err)
	}
	time.Sleep(3 * c.interval) // let keepalived hear a few of hactl's adverts
	if in := status(t, hn).Instances[0]; in.State != api.StateMaster {
		t.Errorf("hactl state %s, want MASTER", in.State)
	}

	// hactl stops: keepalived takes over.
	hd.Stop(3 * time.Second)
	if _, err := h.waitOwner("node2", limit); err != nil {
		t.Fatalf("after hactl stopped: %v", err)
	}

	// hactl back at 50 loses to keepalived at 100 and follows it.
	startDaemon(t, hn, c.conf(hn, kn, 50))
	time.Sleep(c.masterDown(50) + 3*c.interval)
	if owners := h.owners(); len(owners) != 1 || owners[0] != "node2" {
		t.Fatalf("hactl (50) vs keepalived (100): VIP held by %v, want node2", owners)
	}
	st := status(t, hn)
	in := st.Instances[0]
	wantMaster := kn.Addr4
	if c.vip.Addr().Is6() && !c.unicast {
		wantMaster = netip.Addr{} // keepalived's IPv6 source is its link-local address
	} else if c.vip.Addr().Is6() {
		wantMaster = kn.Addr6
	}
	if in.State != api.StateBackup || in.Master == nil || in.Master.Priority != 100 ||
		(wantMaster.IsValid() && in.Master.Address != wantMaster.String()) {
		t.Errorf("hactl: state %s master %+v; want BACKUP following keepalived (%v, priority 100)", in.State, in.Master, wantMaster)
	}
	var drops uint64
	for _, n := range st.Drops {
		drops += n
	}
	if drops != 0 || in.Counters.AdvertsReceived == 0 {
		t.Errorf("hactl dropped %v of keepalived's adverts (received %d)", st.Drops, in.Counters.AdvertsReceived)
	}
	klog, _ := os.ReadFile(kp.Log)
	for _, want := range []string{"Entering BACKUP STATE", "Entering MASTER STATE"} {
		if !regexp.MustCompile(want).Match(klog) {
			t.Errorf("keepalived's log lacks %q: did it run the instance?\n%s", want, lastLines(string(klog), 30))
		}
	}
	if m := keepalivedComplaints.FindAll(klog, -1); len(m) > 0 {
		t.Errorf("keepalived complained about hactl's packets (%q):\n%s", m, lastLines(string(klog), 30))
	}
}
