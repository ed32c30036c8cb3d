//go:build linux

package daemon_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// addrConf is one instance at prio advertising vip, with extra lines.
func addrConf(name string, vrid, prio int, vip, extra string) string {
	return fmt.Sprintf(`vrrp_instance %s {
    state BACKUP
    interface eth0
    virtual_router_id %d
    version 3
    priority %d
    advert_int 0.2
%s    virtual_ipaddress {
        %s
    }
}
`, name, vrid, prio, extra, vip)
}

// TestE2EAddressCheckAsKeepalived: keepalived 2.2.7 on node1 is master
// (200) of two VRIDs; the backup (100) of the first is hactl on node2,
// of the second keepalived on node3, each configured with another VIP
// than node1 advertises (and skip_check_adv_addr, which does not cover
// a master never followed). keepalived's backup drops the adverts ("ip
// address associated with VRID ... not present in MASTER advert") and
// becomes master; so does hactl, counting the drops as addr_list and the
// source as a VRID conflict.
func TestE2EAddressCheckAsKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	n1, n2, n3 := l.Node(1), l.Node(2), l.Node(3)
	startKeepalived(t, n1, addrConf("VI_1", 97, 200, "10.77.0.130/24", "")+addrConf("VI_2", 98, 200, "10.77.0.132/24", ""))
	for _, v := range []string{"10.77.0.130/24", "10.77.0.132/24"} {
		if _, err := newHolders(t, []*netlab.Host{n1}, netip.MustParsePrefix(v)).waitOwner("node1", 10*time.Second); err != nil {
			t.Fatalf("keepalived on node1 alone: %v", err)
		}
	}
	k3 := startKeepalived(t, n3, addrConf("VI_2", 98, 100, "10.77.0.133/24", "    skip_check_adv_addr\n"))
	h2 := startDaemon(t, n2, addrConf("VI_1", 97, 100, "10.77.0.131/24", "    skip_check_adv_addr\n"))
	hh := newHolders(t, []*netlab.Host{n2}, netip.MustParsePrefix("10.77.0.131/24"))
	kh := newHolders(t, []*netlab.Host{n3}, netip.MustParsePrefix("10.77.0.133/24"))
	if _, err := kh.waitOwner("node3", 10*time.Second); err != nil {
		t.Fatalf("keepalived's backup with other VIPs: %v", err)
	}
	if _, err := hh.waitOwner("node2", 10*time.Second); err != nil {
		t.Fatalf("hactl's backup with other VIPs: %v", err)
	}
	b, _ := os.ReadFile(k3.Log)
	if !strings.Contains(string(b), "not present in MASTER advert") {
		t.Errorf("keepalived's log has no address-check line:\n%s", lastLines(string(b), 20))
	}
	st := status(t, n2)
	in := st.Instances[0]
	if st.Drops["addr_list"] < 3 || in.ConflictCounts["vips"] == 0 || len(in.Conflicts) != 1 || in.Conflicts[0].Source != n1.Addr4.String() {
		t.Errorf("hactl: drops %v, conflicts %+v (counts %v); want addr_list drops (those of its Master_Down_Interval at least) and node1 as the one conflicting source", st.Drops, in.Conflicts, in.ConflictCounts)
	}
	hb, _ := os.ReadFile(h2.Log)
	if !strings.Contains(string(hb), "action=\"dropped (addr_list") {
		t.Errorf("hactl's conflict line does not say the advert was dropped:\n%s", lastLines(string(hb), 20))
	}
	t.Logf("hactl: %d adverts dropped (addr_list), state %s", st.Drops["addr_list"], in.State)
}
