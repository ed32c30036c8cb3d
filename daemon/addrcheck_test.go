package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

func TestAdvertAddrsDrop(t *testing.T) {
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	master, other := netip.MustParseAddr("10.0.0.201"), netip.MustParseAddr("10.0.0.202")
	ours := []netip.Addr{a, b}
	for _, tc := range []struct {
		name   string
		st     vrrp.State
		skip   bool
		src    netip.Addr
		theirs []netip.Addr
		drop   bool
	}{
		{"backup, same addresses", vrrp.Backup, false, master, []netip.Addr{a, b}, false},
		{"backup, same addresses in another order", vrrp.Backup, false, master, []netip.Addr{b, a}, false},
		{"backup, one missing", vrrp.Backup, false, master, []netip.Addr{a}, true},
		{"backup, one more", vrrp.Backup, false, master, []netip.Addr{a, b, c}, true},
		{"backup, one different", vrrp.Backup, false, master, []netip.Addr{a, c}, true},
		{"backup, a duplicate for a missing one", vrrp.Backup, false, master, []netip.Addr{a, a}, true},
		{"backup, skip, from the master", vrrp.Backup, true, master, []netip.Addr{c}, false},
		{"backup, skip, from another source", vrrp.Backup, true, other, []netip.Addr{c}, true},
		{"master checks even with skip", vrrp.Master, true, master, []netip.Addr{c}, true},
		{"master, same addresses", vrrp.Master, false, other, []netip.Addr{b, a}, false},
		{"fault handles no advert: no address check", vrrp.Fault, false, other, []netip.Addr{c}, false},
		{"init: no address check", vrrp.Initialize, false, other, nil, false},
	} {
		if got := advertAddrsDrop(tc.st, tc.skip, master, tc.src, ours, tc.theirs); got != tc.drop {
			t.Errorf("%s: drop %v, want %v", tc.name, got, tc.drop)
		}
	}
	if !advertAddrsDrop(vrrp.Backup, true, netip.Addr{}, master, ours, nil) {
		t.Error("a backup that follows no master yet skipped the check")
	}
}

// TestLoopAddressCheck: keepalived 2.2.7's address check on the loop. A
// backup follows a master whose adverts carry its VIP; when that master's
// adverts carry another address they are dropped (addr_list) and the
// backup takes over, unless skip_check_adv_addr, where the master it
// follows is not checked (another source still is). A master drops a
// higher priority's advert with other addresses and stays master.
func TestLoopAddressCheck(t *testing.T) {
	x, y := netip.MustParseAddr("10.0.0.50"), netip.MustParseAddr("10.0.0.60")
	advert := func(prio uint8, addr string) vrrp.Advertisement {
		a := vrrp.Advertisement{Version: vrrp.Version2, VRID: 51, Priority: prio, Interval: time.Second}
		if err := a.SetAddrs(netip.MustParsePrefix(addr).Addr()); err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, skip := range []bool{false, true} {
		cl := newCluster(t)
		b := cl.addNode("b", "10.0.0.202")
		extra := ""
		if skip {
			extra = "skip_check_adv_addr"
		}
		b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202", extra))
		feed := func(src netip.Addr, a vrrp.Advertisement, secs int) {
			for range secs {
				b.inject(t, "eth0", src, a)
				cl.advance(time.Second)
			}
		}
		feed(x, advert(200, vipOf(51)), 3)
		if st := b.in("VI_1").m.Status(); st.State != vrrp.Backup || st.MasterAddr != x {
			t.Fatalf("skip %v: b is %v following %v, want BACKUP following %v", skip, st.State, st.MasterAddr, x)
		}
		feed(y, advert(250, "10.9.9.9/24"), 2) // another source: checked either way
		if got := b.r.drops[dropAddrList]; got != 2 {
			t.Errorf("skip %v: %d addr_list drops after another source's 2 adverts, want 2", skip, got)
		}
		feed(x, advert(200, "10.9.9.9/24"), 6)
		if skip {
			if st := b.in("VI_1").m.Status(); st.State != vrrp.Backup || st.MasterAddr != x || b.r.drops[dropAddrList] != 2 {
				t.Errorf("skip: b is %v following %v with %d addr_list drops; want the master's other addresses accepted, BACKUP", st.State, st.MasterAddr, b.r.drops[dropAddrList])
			}
			continue
		}
		if b.state("VI_1") != vrrp.Master || b.r.drops[dropAddrList] != 8 {
			t.Fatalf("b is %v with %d addr_list drops; want MASTER after dropping the master's 6 adverts", b.state("VI_1"), b.r.drops[dropAddrList])
		}
		feed(x, advert(200, "10.9.9.9/24"), 2)
		if b.state("VI_1") != vrrp.Master {
			t.Errorf("a master yielded to a higher priority with other addresses")
		}
		feed(x, advert(200, vipOf(51)), 1)
		if b.state("VI_1") != vrrp.Backup {
			t.Errorf("a master did not yield to a higher priority with its addresses: %v", b.state("VI_1"))
		}
		if c := b.in("VI_1").conflicts.counts["vips"]; c != 10 {
			t.Errorf("conflict table counted %d adverts with other VIPs, want 10 (dropped ones too)", c)
		}
	}
}
