//go:build linux

package daemon_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/vishvananda/netlink"
)

// TestE2EVMACRecreated: hactl master (150) beside a keepalived backup
// (100), both with use_vmac. `ip link del vrrp.67` under hactl: as
// keepalived 2.2.7 does under the same action (measured beside it: FAULT,
// the VMAC made again at once, BACKUP, MASTER again after its
// Master_Down_Interval), hactl faults, makes the VMAC again (same name,
// MAC, private mode, sysctls), goes BACKUP and wins the election back;
// ARP for the VIP answers with the VMAC; its adverts leave from the new
// VMAC (its socket opened again); counted once. Then `ip link set vrrp.67
// down`: hactl faults and leaves the VMAC down, as keepalived does,
// until it is set up. Nothing is left at stop.
func TestE2EVMACRecreated(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vipP := netip.MustParsePrefix("10.77.0.107/24")
	const vrid, vmacMAC, name = 67, "00:00:5e:00:01:43", "vrrp.67"

	startKeepalived(t, kn, vmacConf(kn, vrid, 100, vipP, ""))
	hd := startDaemon(t, hn, vmacConf(hn, vrid, 150, vipP, ""))
	h := newHolders(t, l.Nodes, vipP)
	h.v.Dev = name
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatalf("hactl (150) vs keepalived (100): %v", err)
	}
	old := vmacLinks(t, hn)[name]

	start := time.Now()
	ipIn(t, hn, "link", "del", name)
	var made time.Duration
	for made == 0 && time.Since(start) < 3*time.Second {
		if lk, ok := vmacLinks(t, hn)[name]; ok && lk.index != old.index {
			made = time.Since(start)
			if lk.mac != vmacMAC || lk.mode != netlink.MACVLAN_MODE_PRIVATE || lk.parent != old.parent {
				t.Errorf("made again as %+v, want a private macvlan with %s on #%d", lk, vmacMAC, old.parent)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	if made == 0 {
		t.Fatalf("%s not made again within 3s: %v", name, vmacLinks(t, hn))
	}
	h = newHolders(t, l.Nodes, vipP) // the holders' link of that name is the old one
	h.v.Dev = name
	if _, err := h.waitOwner("node1", 4*time.Second); err != nil {
		t.Fatalf("after the VMAC was deleted: %v", err)
	}
	back := time.Since(start)
	waitARP(t, l.Operator, vipP.Addr(), vmacMAC, 3*time.Second)
	answered := time.Since(start)
	t.Logf("VMAC made again %v after ip link del; hactl master again (VIP on it) after %v; ARP answered by %s after %v", made, back, vmacMAC, answered)
	for k, want := range map[string]string{"net/ipv4/conf/" + name + "/arp_ignore": "1", "net/ipv4/conf/" + name + "/accept_local": "1",
		"net/ipv4/conf/" + name + "/rp_filter": "0", "net/ipv6/conf/" + name + "/disable_ipv6": "1", "net/ipv4/conf/eth0/arp_ignore": "1"} {
		if got := sysctl(t, hn, k); got != want {
			t.Errorf("after the VMAC was made again %s = %s, want %s", k, got, want)
		}
	}
	if got := advertSourceMAC(t, l.Operator, false, 2*time.Second); got != vmacMAC {
		t.Errorf("hactl's adverts come from %s, want the new VMAC's %s (its socket opened again)", got, vmacMAC)
	}
	st := status(t, hn)
	if got := st.Instances[0].Counters.VMACsRecreated; got != 1 {
		t.Errorf("counters.vmacs_recreated = %d, want 1", got)
	}
	logb, _ := os.ReadFile(hd.Log)
	if n := strings.Count(string(logb), "VMAC deleted under us, made again"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, lastLines(string(logb), 40))
	}
	// keepalived's sequence: FAULT, the VMAC made again, BACKUP, MASTER.
	at := 0
	for _, want := range []string{"to=FAULT", "VMAC deleted under us, made again", "from=FAULT to=BACKUP", "to=MASTER"} {
		i := strings.Index(string(logb[at:]), want)
		if i < 0 {
			t.Errorf("hactl's log has no %q after the deletion (in order: FAULT, made again, BACKUP, MASTER):\n%s", want, lastLines(string(logb), 40))
			break
		}
		at += i
	}

	// Set down by hand: fault, the VMAC stays down (keepalived does not
	// set it up either), keepalived takes over; up again: hactl wins back.
	ipIn(t, hn, "link", "set", name, "down")
	if _, err := h.waitOwner("node2", 3*time.Second); err != nil {
		t.Fatalf("VMAC set down: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if st := status(t, hn); st.Instances[0].State != "FAULT" {
		t.Errorf("VMAC down: hactl %s, want FAULT", st.Instances[0].State)
	}
	if out, _ := hn.Run(t.Context(), "ip", "link", "show", name); strings.Contains(string(out), ",UP") {
		t.Errorf("a VMAC set down by hand was set up again: %s", out)
	}
	ipIn(t, hn, "link", "set", name, "up")
	if _, err := h.waitOwner("node1", 4*time.Second); err != nil {
		t.Fatalf("VMAC set up again: %v", err)
	}
	if got := status(t, hn).Instances[0].Counters.VMACsRecreated; got != 1 {
		t.Errorf("after down/up counters.vmacs_recreated = %d, want still 1", got)
	}

	if err := hd.Stop(3 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	if links := vmacLinks(t, hn); len(links) != 0 {
		t.Errorf("hactl stopped and left macvlans behind: %v", links)
	}
}

// TestE2EVMACRecreatedKeepalived is the same action under keepalived
// 2.2.7 (master, 150) beside a hactl backup (100): keepalived logs the
// sequence hactl follows (FAULT, the VMAC made again, BACKUP, MASTER);
// hactl may take the VIP meanwhile (keepalived's priority-0 advert
// cannot leave the deleted VMAC: whichever Master_Down timer fires first
// wins) and gives it back when keepalived preempts; in the end
// keepalived alone holds it and ARP for the VIP answers with the VMAC.
func TestE2EVMACRecreatedKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vipP := netip.MustParsePrefix("10.77.0.108/24")
	const vrid, vmacMAC, name = 69, "00:00:5e:00:01:45", "vrrp.69"

	kp := startKeepalived(t, kn, vmacConf(kn, vrid, 150, vipP, ""))
	startDaemon(t, hn, vmacConf(hn, vrid, 100, vipP, ""))
	h := newHolders(t, l.Nodes, vipP)
	h.v.Dev = name
	if _, err := h.waitOwner("node2", 6*time.Second); err != nil {
		t.Fatalf("keepalived (150) vs hactl (100): %v", err)
	}
	old := vmacLinks(t, kn)[name]
	start := time.Now()
	ipIn(t, kn, "link", "del", name)
	var took time.Duration // hactl holding the VIP meanwhile: a race with keepalived's own timer
	for time.Since(start) < 3*time.Second {
		if took == 0 && contains(h.owners(), "node1") {
			took = time.Since(start)
		}
		if lk, ok := vmacLinks(t, kn)[name]; ok && lk.index != old.index {
			break
		}
		time.Sleep(time.Millisecond)
	}
	h = newHolders(t, l.Nodes, vipP) // keepalived's VMAC has a new index
	h.v.Dev = name
	if _, err := h.waitOwner("node2", 4*time.Second); err != nil {
		t.Fatalf("keepalived did not win back: %v", err)
	}
	back := time.Since(start)
	waitARP(t, l.Operator, vipP.Addr(), vmacMAC, 3*time.Second)
	t.Logf("keepalived's VMAC deleted: keepalived's VMAC back, hactl holding the VIP before that from %v (0: not), keepalived master again after %v", took, back)
	klog, _ := os.ReadFile(kp.Log)
	at := 0
	for _, want := range []string{"Entering FAULT STATE", "Interface " + name + " deleted", "Success creating VMAC interface " + name,
		"Netlink reports " + name + " up", "Entering BACKUP STATE", "Entering MASTER STATE"} {
		i := strings.Index(string(klog[at:]), want)
		if i < 0 {
			t.Fatalf("keepalived's log has no %q in sequence:\n%s", want, lastLines(string(klog), 40))
		}
		at += i
	}
}

// TestE2EVMACBackupHearsVMACMaster: a hactl backup hears a master that
// sends from its VMAC (keepalived by default, hactl without
// vmac_xmit_base), whose frames carry the MAC of the backup's own VMAC
// and reach only that VMAC: one owner, no split brain, first beside
// keepalived 2.2.7 as master, then between two hactl nodes.
func TestE2EVMACBackupHearsVMACMaster(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	kn, hb, hm := l.Node(1), l.Node(2), l.Node(3)
	vipK, vipH := netip.MustParsePrefix("10.77.0.109/24"), netip.MustParsePrefix("10.77.0.110/24")
	kconf := filepath.Join(kn.Dir, "keepalived.conf")
	write(t, kconf, vmacConf(kn, 71, 150, vipK, ""), 0o644)
	kp, err := kn.Start("keepalived", netlab.KeepalivedArgv(kn, kconf)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Stop(3 * time.Second) })
	prio100 := func(s string) string { return strings.Replace(s, "priority 150", "priority 100", 1) }
	startDaemon(t, hb, twoInstances(hb, prio100(vmacInstance("VI_K", 71, vipK.String(), "    use_vmac\n")),
		prio100(vmacInstance("VI_H", 72, vipH.String(), "    use_vmac\n"))))
	startDaemon(t, hm, twoInstances(hm, vmacInstance("VI_H", 72, vipH.String(), "    use_vmac\n")))
	hk := newHolders(t, l.Nodes, vipK)
	hk.v.Dev = "vrrp.71"
	hh := newHolders(t, l.Nodes, vipH)
	hh.v.Dev = "vrrp.72"
	if _, err := hk.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatalf("keepalived master (150) beside a hactl backup (100): %v", err)
	}
	if _, err := hh.waitOwner("node3", 5*time.Second); err != nil {
		t.Fatalf("hactl master (150) beside a hactl backup (100): %v", err)
	}
	time.Sleep(2 * time.Second) // well past the backup's Master_Down_Interval (0.7 s)
	if o := hk.owners(); len(o) != 1 || o[0] != "node1" {
		t.Errorf("VRID 71: held by %v, want only keepalived's node1", o)
	}
	if o := hh.owners(); len(o) != 1 || o[0] != "node3" {
		t.Errorf("VRID 72: held by %v, want only node3", o)
	}
	for _, in := range status(t, hb).Instances {
		if in.State != "BACKUP" {
			t.Errorf("%s on the backup: %s", in.Name, in.State)
		}
	}
}
