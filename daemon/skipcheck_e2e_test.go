//go:build linux

package daemon_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// skipConf is one node's instance in VRID 62 (v3, advert_int 0.2) with
// the given VIPs and extra lines; keepalived and hactl read it alike.
func skipConf(name string, prio int, extra string, vips ...string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 62
    version 3
    priority %d
    advert_int 0.2
%s    virtual_ipaddress {
        %s
    }
}
`, name, prio, extra, strings.Join(vips, "\n        "))
}

// TestE2ESkipCheckAdvAddrFollowsMaster: hactl (100) with keepalived's VIP
// follows a keepalived 2.2.7 master (200); a keepalived reload then adds
// a VIP to its adverts. With skip_check_adv_addr hactl keeps following
// its master (the check is skipped for the master it follows); without
// it hactl drops the adverts and takes over after Master_Down_Interval,
// as a keepalived backup would (vrrp_state_backup).
func TestE2ESkipCheckAdvAddrFollowsMaster(t *testing.T) {
	labtest.Require(t, "keepalived")
	const vipA, vipC = "10.77.0.100/24", "10.77.0.102/24"
	masterDown := 3*200*time.Millisecond + 156*200*time.Millisecond/256
	limit := masterDown + 3*time.Second

	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	ha := newHolders(t, l.Nodes, netip.MustParsePrefix(vipA))
	kp := startKeepalived(t, kn, skipConf(kn.Name, 200, "", vipA))
	kconf := filepath.Join(kn.Dir, "keepalived.conf")
	if _, err := ha.waitOwner("node2", limit); err != nil {
		t.Fatalf("keepalived alone: %v", err)
	}
	for i, skip := range []bool{true, false} {
		// keepalived with VIP A alone, master; hactl follows it.
		if i > 0 {
			write(t, kconf, skipConf(kn.Name, 200, "", vipA), 0o644)
			if err := kp.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if _, err := ha.waitOwner("node2", limit); err != nil {
				t.Fatal(err)
			}
		}
		extra := ""
		if skip {
			extra = "    skip_check_adv_addr\n"
		}
		hd := startDaemon(t, hn, skipConf(hn.Name, 100, extra, vipA))
		time.Sleep(masterDown + time.Second)
		if in := status(t, hn).Instances[0]; in.State != api.StateBackup || in.Master == nil {
			t.Fatalf("skip %v: hactl with keepalived's VIP is %s (master %+v), want BACKUP following keepalived", skip, in.State, in.Master)
		}
		// keepalived's adverts now carry two VIPs.
		write(t, kconf, skipConf(kn.Name, 200, "", vipA, vipC), 0o644)
		if err := kp.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(masterDown + 2*time.Second)
		st := status(t, hn)
		in := st.Instances[0]
		want := api.StateMaster
		if skip {
			want = api.StateBackup
		}
		if in.State != want || (st.Drops["addr_list"] > 0) == skip {
			t.Errorf("skip_check_adv_addr %v: after keepalived's VIP list changed hactl is %s with drops %v, want %s (and addr_list drops only without the keyword)",
				skip, in.State, st.Drops, want)
		}
		t.Logf("skip_check_adv_addr %v: keepalived's list changed; hactl %s, drops %v", skip, in.State, st.Drops)
		hd.Stop(3 * time.Second)
	}
}
