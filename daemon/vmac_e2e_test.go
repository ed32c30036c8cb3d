//go:build linux

package daemon_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
)

// vmacConf is one node's use_vmac instance (VRRPv3, 200 ms adverts):
// hactl and keepalived read the same text. extra goes inside the
// instance.
func vmacConf(self *netlab.Host, vrid, priority int, vip netip.Prefix, extra string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id %d
    version 3
    priority %d
    advert_int 0.2
    use_vmac
%s    virtual_ipaddress {
        %s
    }
}
`, self.Name, vrid, priority, extra, vip)
}

// arpWho asks, from h's eth0, who has ip, and returns the MACs that
// answered within wait (the request sent twice).
func arpWho(t *testing.T, h *netlab.Host, ip netip.Addr, wait time.Duration) []string {
	t.Helper()
	var c *arp.Client
	if err := h.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Request(ip); err != nil {
		t.Fatal(err)
	}
	again := time.AfterFunc(wait/3, func() { _ = c.Request(ip) })
	defer again.Stop()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var macs []string
	for {
		p, _, err := c.Read()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return macs
			}
			continue
		}
		if p.Operation == arp.OperationReply && p.SenderIP == ip && !contains(macs, p.SenderHardwareAddr.String()) {
			macs = append(macs, p.SenderHardwareAddr.String())
		}
	}
}

// waitARP polls arpWho until the only answer is want, for at most limit.
func waitARP(t *testing.T, h *netlab.Host, ip netip.Addr, want string, limit time.Duration) {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < limit {
		if got = arpWho(t, h, ip, 300*time.Millisecond); len(got) == 1 && got[0] == want {
			return
		}
	}
	t.Fatalf("ARP for %s from %s: answered by %v, want only %s", ip, h.Name, got, want)
}

// vmacLinks are the macvlan interfaces in n's namespace, by name, with
// their MAC, mode and base index.
type vmacLink struct {
	mac    string
	mode   netlink.MacvlanMode
	parent int
	index  int
}

func vmacLinks(t *testing.T, n *netlab.Host) map[string]vmacLink {
	t.Helper()
	out := map[string]vmacLink{}
	if err := n.Do(func() error {
		ls, err := netlink.LinkList()
		if err != nil {
			return err
		}
		for _, l := range ls {
			if mv, ok := l.(*netlink.Macvlan); ok {
				out[l.Attrs().Name] = vmacLink{mac: l.Attrs().HardwareAddr.String(), mode: mv.Mode, parent: l.Attrs().ParentIndex, index: l.Attrs().Index}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// sysctl reads a /proc/sys value in n's namespace.
func sysctl(t *testing.T, n *netlab.Host, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := n.Run(ctx, "cat", filepath.Join("/proc/sys", path))
	if err != nil {
		t.Fatalf("%s: %s: %v %s", n.Name, path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// advertSourceMAC captures, on h's eth0, the first VRRP frame (IPv4 or
// IPv6, protocol 112) within limit and returns its source MAC.
func advertSourceMAC(t *testing.T, h *netlab.Host, v6 bool, limit time.Duration) string {
	t.Helper()
	proto := uint16(syscall.ETH_P_IP)
	if v6 {
		proto = syscall.ETH_P_IPV6
	}
	var c *packet.Conn
	if err := h.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Raw, int(proto), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	buf := make([]byte, 2048)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no VRRP frame on %s's eth0 within %v: %v", h.Name, limit, err)
		}
		f := buf[:n]
		if n < 14+20 || v6 && n < 14+40 || binary.BigEndian.Uint16(f[12:14]) != proto {
			continue
		}
		ip := f[14:]
		if !v6 && ip[9] == 112 || v6 && ip[6] == 112 {
			return net.HardwareAddr(f[6:12]).String()
		}
	}
}

func eth0MAC(t *testing.T, n *netlab.Host) string {
	t.Helper()
	var mac string
	if err := n.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err == nil {
			mac = ifi.HardwareAddr.String()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return mac
}

// TestE2EVMACKeepalivedTakeover is issue 16's acceptance line for VMAC:
// hactl master beside a keepalived backup, both with use_vmac. ARP for
// the VIP from a third namespace answers with 00:00:5e:00:01:VRID; hactl
// stops (SIGTERM), keepalived takes over, the answer is the same MAC;
// no macvlan is left in hactl's namespace and its base sysctls are back.
func TestE2EVMACKeepalivedTakeover(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vipP := netip.MustParsePrefix("10.77.0.100/24")
	const vrid, vmacMAC = 61, "00:00:5e:00:01:3d"
	before := map[string]string{}
	for _, k := range []string{"arp_ignore", "arp_filter"} {
		before[k] = sysctl(t, hn, "net/ipv4/conf/eth0/"+k)
	}

	kp := startKeepalived(t, kn, vmacConf(kn, vrid, 100, vipP, ""))
	h := newHolders(t, l.Nodes, vipP)
	h.v.Dev = "vrrp.61" // both name the VMAC vrrp.VRID

	hd := startDaemon(t, hn, vmacConf(hn, vrid, 150, vipP, ""))
	took, err := h.waitOwner("node1", 5*time.Second)
	if err != nil {
		t.Fatalf("hactl (150) vs keepalived (100): %v", err)
	}
	t.Logf("hactl master %v after its start", took)
	for _, n := range []*netlab.Host{hn, kn} {
		links := vmacLinks(t, n)
		if lk, ok := links["vrrp.61"]; !ok || lk.mac != vmacMAC || lk.mode != netlink.MACVLAN_MODE_PRIVATE {
			t.Errorf("%s: VMAC vrrp.61 %+v (present %t), want a private macvlan with %s", n.Name, lk, ok, vmacMAC)
		}
	}
	for k, want := range map[string]string{"net/ipv4/conf/eth0/arp_ignore": "1", "net/ipv4/conf/eth0/arp_filter": "1",
		"net/ipv4/conf/vrrp.61/arp_ignore": "1", "net/ipv4/conf/vrrp.61/accept_local": "1", "net/ipv4/conf/vrrp.61/rp_filter": "0",
		"net/ipv6/conf/vrrp.61/disable_ipv6": "1"} {
		if got := sysctl(t, hn, k); got != want {
			t.Errorf("hactl's %s = %s, want %s (as keepalived sets it)", k, got, want)
		}
	}
	waitARP(t, l.Operator, vipP.Addr(), vmacMAC, 3*time.Second)
	if got := advertSourceMAC(t, l.Operator, false, 2*time.Second); got != vmacMAC {
		t.Errorf("hactl's adverts come from %s, want the VMAC %s", got, vmacMAC)
	}

	// SIGTERM: keepalived takes over, with the same MAC.
	if err := hd.Stop(3 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	took, err = h.waitOwner("node2", 3*time.Second)
	if err != nil {
		t.Fatalf("after hactl stopped: %v", err)
	}
	t.Logf("keepalived holds the VIP %v after hactl's SIGTERM", took)
	waitARP(t, l.Operator, vipP.Addr(), vmacMAC, 3*time.Second)
	if links := vmacLinks(t, hn); len(links) != 0 {
		t.Errorf("hactl stopped and left macvlans behind: %v", links)
	}
	for k, want := range before {
		if got := sysctl(t, hn, "net/ipv4/conf/eth0/"+k); got != want {
			t.Errorf("after stop eth0 %s = %s, want %s as before the start", k, got, want)
		}
	}
	klog, _ := os.ReadFile(kp.Log)
	if !regexp.MustCompile("Entering MASTER STATE").Match(klog) {
		t.Errorf("keepalived never became master:\n%s", lastLines(string(klog), 30))
	}
	if m := keepalivedComplaints.FindAll(klog, -1); len(m) > 0 {
		t.Errorf("keepalived complained (%q):\n%s", m, lastLines(string(klog), 30))
	}
}

func twoInstances(self *netlab.Host, insts ...string) string {
	return fmt.Sprintf("global_defs {\n    router_id %s\n}\n%s", self.Name, strings.Join(insts, "\n"))
}

func vmacInstance(name string, vrid int, vip, extra string) string {
	return fmt.Sprintf(`vrrp_instance %s {
    state BACKUP
    interface eth0
    virtual_router_id %d
    version 3
    priority 150
    advert_int 0.2
%s    virtual_ipaddress {
        %s
    }
}
`, name, vrid, extra, vip)
}

// TestE2EVMACLeftovers: a macvlan a crash left (the VMAC's base and MAC,
// a stale VIP on it) is taken over at start, its stale address removed;
// a macvlan of a configured use_vmac name that is not ours (another MAC,
// bridge mode) is replaced. SIGKILL leaves the VMACs behind (nothing
// runs to remove them; their VIPs go with their leases) and the base's
// sysctls changed; the next start takes the VMACs over, and SIGTERM
// removes them and gives the base the values it had before the first
// start (kept in state.vmac across the crash).
func TestE2EVMACLeftovers(t *testing.T) {
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	base := map[string]string{}
	for _, k := range []string{"arp_ignore", "arp_filter"} {
		base[k] = sysctl(t, n, "net/ipv4/conf/eth0/"+k)
	}
	vipA, vipB := netip.MustParsePrefix("10.77.0.101/24"), netip.MustParsePrefix("10.77.0.102/24")
	ipIn(t, n, "link", "add", "link", "eth0", "name", "vrrp.62", "address", "00:00:5e:00:01:3e", "type", "macvlan", "mode", "private")
	ipIn(t, n, "addr", "add", "10.77.0.201/24", "dev", "vrrp.62")
	ipIn(t, n, "link", "set", "vrrp.62", "up")
	ipIn(t, n, "link", "add", "link", "eth0", "name", "vm63", "address", "02:00:00:00:00:63", "type", "macvlan", "mode", "bridge")
	left := vmacLinks(t, n)
	conf := twoInstances(n, vmacInstance("VI_A", 62, vipA.String(), "    use_vmac\n"),
		vmacInstance("VI_B", 63, vipB.String(), "    use_vmac vm63\n"))

	check := func(when string) {
		t.Helper()
		ha := newHolders(t, l.Nodes, vipA)
		ha.v.Dev = "vrrp.62"
		hb := newHolders(t, l.Nodes, vipB)
		hb.v.Dev = "vm63"
		for _, h := range []*holders{ha, hb} {
			if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
				t.Fatalf("%s: %s: %v", when, h.v, err)
			}
		}
		links := vmacLinks(t, n)
		if got := links["vrrp.62"]; got.index != left["vrrp.62"].index {
			t.Errorf("%s: vrrp.62 is #%d, want the leftover #%d taken over", when, got.index, left["vrrp.62"].index)
		}
		if got := links["vm63"]; got.mac != "00:00:5e:00:01:3f" || got.mode != netlink.MACVLAN_MODE_PRIVATE {
			t.Errorf("%s: vm63 %+v, want it replaced by a private macvlan with 00:00:5e:00:01:3f", when, got)
		}
		stale := newHolders(t, l.Nodes, netip.MustParsePrefix("10.77.0.201/24"))
		stale.v.Dev = "vrrp.62"
		if owners := stale.owners(); len(owners) != 0 {
			t.Errorf("%s: the leftover's stale address is still on vrrp.62", when)
		}
	}
	d := startDaemon(t, n, conf)
	check("first start")

	// SIGKILL: nothing removes the VMACs.
	if err := d.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("daemon still runs after SIGKILL")
	}
	links := vmacLinks(t, n)
	if _, ok := links["vrrp.62"]; !ok {
		t.Errorf("after SIGKILL: vrrp.62 gone (%v): who removed it?", links)
	}
	if got := sysctl(t, n, "net/ipv4/conf/eth0/arp_ignore"); got != "1" {
		t.Errorf("after SIGKILL eth0 arp_ignore = %s, want 1 (as the killed daemon set it)", got)
	}
	if _, err := os.Stat(filepath.Join(n.Dir, "state.vmac")); err != nil {
		t.Errorf("after SIGKILL the saved base sysctls are gone: %v", err)
	}
	left = links
	ipIn(t, n, "addr", "add", "10.77.0.201/24", "dev", "vrrp.62") // and a stale VIP again

	d = startDaemon(t, n, conf)
	check("start after SIGKILL")
	if err := d.Stop(3 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	if links := vmacLinks(t, n); len(links) != 0 {
		t.Errorf("after SIGTERM macvlans are left: %v", links)
	}
	for k, want := range base {
		if got := sysctl(t, n, "net/ipv4/conf/eth0/"+k); got != want {
			t.Errorf("after crash, restart and SIGTERM eth0 %s = %s, want %s as before the first start", k, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(n.Dir, "state.vmac")); !os.IsNotExist(err) {
		t.Errorf("state.vmac left after a clean stop: %v", err)
	}
}

// TestE2EVMACXmitBaseAndIPv6: with vmac_xmit_base the adverts leave from
// the base interface (its MAC), while ARP for the VIP still answers with
// the VMAC; an IPv6 instance's VMAC has 00:00:5e:00:02:VRID, the base's
// link-local address (its adverts' source) and sends from the VMAC; a
// VIP's own use_vmac (in an instance without) gets a VMAC that answers
// ARP for it. A VIP deleted by hand from its VMAC comes back (the VIP
// watcher follows the VIPs onto the VMACs).
func TestE2EVMACXmitBaseAndIPv6(t *testing.T) {
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	vip4, vip6, vipP := netip.MustParsePrefix("10.77.0.103/24"), netip.MustParsePrefix("fd77::103/64"), netip.MustParsePrefix("10.77.0.104/24")
	conf := twoInstances(n, vmacInstance("VI_4", 65, vip4.String(), "    use_vmac\n    vmac_xmit_base\n"),
		vmacInstance("VI_6", 64, vip6.String(), "    use_vmac\n"),
		vmacInstance("VI_P", 66, vipP.String()+" use_vmac", ""))
	startDaemon(t, n, conf)
	h4 := newHolders(t, l.Nodes, vip4)
	h4.v.Dev = "vrrp.65"
	h6 := newHolders(t, l.Nodes, vip6)
	h6.v.Dev = "vrrp.64"
	for _, h := range []*holders{h4, h6} {
		if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
			t.Fatalf("%s: %v", h.v, err)
		}
	}
	links := vmacLinks(t, n)
	if got := links["vrrp.64"].mac; got != "00:00:5e:00:02:40" {
		t.Errorf("IPv6 VMAC vrrp.64 has MAC %q, want 00:00:5e:00:02:40", got)
	}
	if got := links["vrrp.65"].mac; got != "00:00:5e:00:01:41" {
		t.Errorf("IPv4 VMAC vrrp.65 has MAC %q, want 00:00:5e:00:01:41", got)
	}
	for k, want := range map[string]string{"net/ipv6/conf/vrrp.64/router_solicitations": "0", "net/ipv4/conf/vrrp.64/arp_ignore": "1",
		"net/ipv6/conf/vrrp.64/addr_gen_mode": "1", "net/ipv6/conf/vrrp.64/disable_ipv6": "0", "net/ipv6/conf/vrrp.65/disable_ipv6": "1"} {
		if got := sysctl(t, n, k); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	var baseLL, vmacLL []string
	if err := n.Do(func() error {
		for name, dst := range map[string]*[]string{"eth0": &baseLL, "vrrp.64": &vmacLL} {
			ifi, err := net.InterfaceByName(name)
			if err != nil {
				return err
			}
			addrs, _ := ifi.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsLinkLocalUnicast() {
					*dst = append(*dst, ipn.IP.String())
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(vmacLL) != 1 || len(baseLL) != 1 || vmacLL[0] != baseLL[0] {
		t.Errorf("vrrp.64's link-local addresses %v, want only eth0's %v", vmacLL, baseLL)
	}
	if got, want := advertSourceMAC(t, l.Operator, false, 2*time.Second), eth0MAC(t, n); got != want {
		t.Errorf("vmac_xmit_base: IPv4 adverts come from %s, want eth0's %s", got, want)
	}
	if got := advertSourceMAC(t, l.Operator, true, 2*time.Second); got != "00:00:5e:00:02:40" {
		t.Errorf("IPv6 adverts come from %s, want the VMAC 00:00:5e:00:02:40", got)
	}
	waitARP(t, l.Operator, vip4.Addr(), "00:00:5e:00:01:41", 3*time.Second)
	hp := newHolders(t, l.Nodes, vipP)
	hp.v.Dev = "vrrp.66"
	if _, err := hp.waitOwner("node1", 3*time.Second); err != nil {
		t.Fatalf("a VIP's use_vmac: %v", err)
	}
	waitARP(t, l.Operator, vipP.Addr(), "00:00:5e:00:01:42", 3*time.Second)

	ipIn(t, n, "addr", "del", vip4.String(), "dev", "vrrp.65")
	if _, err := h4.waitOwner("node1", time.Second); err != nil {
		t.Errorf("a VIP deleted by hand from its VMAC: %v", err)
	}
}

// ndWho asks, from h's eth0, for ip's link-layer address with a neighbour
// solicitation, and returns the MACs the advertisements named within
// wait.
func ndWho(t *testing.T, h *netlab.Host, ip netip.Addr, wait time.Duration) []string {
	t.Helper()
	var c *ndp.Conn
	var mac net.HardwareAddr
	if err := h.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		mac = ifi.HardwareAddr
		c, _, err = ndp.Listen(ifi, ndp.LinkLocal)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	snm, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		t.Fatal(err)
	}
	ns := &ndp.NeighborSolicitation{TargetAddress: ip, Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: mac}}}
	// The zone is looked up in the sending thread's namespace.
	if err := h.Do(func() error { return c.WriteTo(ns, nil, snm.WithZone("eth0")) }); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var macs []string
	for {
		m, _, _, err := c.ReadFrom()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return macs
			}
			continue
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != ip {
			continue
		}
		for _, o := range na.Options {
			if lla, ok := o.(*ndp.LinkLayerAddress); ok && !contains(macs, lla.Addr.String()) {
				macs = append(macs, lla.Addr.String())
			}
		}
	}
}

func waitND(t *testing.T, h *netlab.Host, ip netip.Addr, want string, limit time.Duration) {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < limit {
		if got = ndWho(t, h, ip, 300*time.Millisecond); len(got) == 1 && got[0] == want {
			return
		}
	}
	t.Fatalf("neighbour solicitation for %s from %s: answered with %v, want only %s", ip, h.Name, got, want)
}

// TestE2EVMACKeepalivedTakeoverIPv6 is the acceptance line for IPv6:
// hactl master and keepalived backup, both use_vmac on an IPv6 instance.
// Neighbour discovery for the VIP answers 00:00:5e:00:02:VRID from a
// third namespace, whichever of them is master; keepalived hears hactl's
// adverts (sent from the VMAC, with the base's link-local source) and
// stays backup until hactl stops; no macvlan is left.
func TestE2EVMACKeepalivedTakeoverIPv6(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vipP := netip.MustParsePrefix("fd77::100/64")
	const vrid, vmacMAC = 67, "00:00:5e:00:02:43"
	kp := startKeepalived(t, kn, vmacConf(kn, vrid, 100, vipP, ""))
	h := newHolders(t, l.Nodes, vipP)
	h.v.Dev = "vrrp.67"
	hd := startDaemon(t, hn, vmacConf(hn, vrid, 150, vipP, ""))
	took, err := h.waitOwner("node1", 5*time.Second)
	if err != nil {
		t.Fatalf("hactl (150) vs keepalived (100): %v", err)
	}
	t.Logf("hactl master %v after its start", took)
	for _, n := range []*netlab.Host{hn, kn} {
		if lk, ok := vmacLinks(t, n)["vrrp.67"]; !ok || lk.mac != vmacMAC || lk.mode != netlink.MACVLAN_MODE_PRIVATE {
			t.Errorf("%s: VMAC vrrp.67 %+v (present %t), want a private macvlan with %s", n.Name, lk, ok, vmacMAC)
		}
	}
	waitND(t, l.Operator, vipP.Addr(), vmacMAC, 5*time.Second)
	if got := advertSourceMAC(t, l.Operator, true, 2*time.Second); got != vmacMAC {
		t.Errorf("hactl's IPv6 adverts come from %s, want the VMAC %s", got, vmacMAC)
	}
	if err := hd.Stop(3 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	took, err = h.waitOwner("node2", 3*time.Second)
	if err != nil {
		t.Fatalf("after hactl stopped: %v", err)
	}
	t.Logf("keepalived holds the VIP %v after hactl's SIGTERM", took)
	waitND(t, l.Operator, vipP.Addr(), vmacMAC, 5*time.Second)
	if links := vmacLinks(t, hn); len(links) != 0 {
		t.Errorf("hactl stopped and left macvlans behind: %v", links)
	}
	klog, _ := os.ReadFile(kp.Log)
	if m := keepalivedComplaints.FindAll(klog, -1); len(m) > 0 {
		t.Errorf("keepalived complained (%q):\n%s", m, lastLines(string(klog), 30))
	}
}

// TestE2EVMACWithAHKeepalived: use_vmac and auth_type AH together beside
// keepalived 2.2.7: hactl's sealed adverts leave from the VMAC and
// keepalived accepts them (it stays backup, no authentication complaint);
// after hactl's SIGTERM keepalived owns the VIP with the same MAC.
func TestE2EVMACWithAHKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vipP := netip.MustParsePrefix("10.77.0.110/24")
	const vrid, vmacMAC = 68, "00:00:5e:00:01:44"
	conf := func(self *netlab.Host, prio int) string {
		c := vmacConf(self, vrid, prio, vipP, "    authentication {\n        auth_type AH\n        auth_pass s3cret\n    }\n")
		return strings.NewReplacer("version 3", "version 2", "advert_int 0.2", "advert_int 1").Replace(c)
	}
	kp := startKeepalived(t, kn, conf(kn, 100))
	h := newHolders(t, l.Nodes, vipP)
	h.v.Dev = "vrrp.68"
	hd := startDaemon(t, hn, conf(hn, 150))
	if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
		t.Fatalf("hactl (150) vs keepalived (100): %v", err)
	}
	waitARP(t, l.Operator, vipP.Addr(), vmacMAC, 3*time.Second)
	time.Sleep(3 * time.Second) // past keepalived's Master_Down_Interval (3.6 s from its start)
	if owners := h.owners(); len(owners) != 1 || owners[0] != "node1" {
		t.Fatalf("with hactl master the VIP is held by %v: keepalived did not accept its AH adverts from the VMAC", owners)
	}
	if b, _ := os.ReadFile(kp.Log); regexp.MustCompile(`Entering MASTER STATE`).Match(b) {
		t.Fatalf("keepalived became master beside hactl:\n%s", lastLines(string(b), 30))
	}
	if err := hd.Stop(3 * time.Second); err != nil {
		t.Logf("stop: %v", err)
	}
	if _, err := h.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatalf("after hactl stopped: %v", err)
	}
	waitARP(t, l.Operator, vipP.Addr(), vmacMAC, 3*time.Second)
	klog, _ := os.ReadFile(kp.Log)
	if m := keepalivedComplaints.FindAll(klog, -1); len(m) > 0 {
		t.Errorf("keepalived complained (%q):\n%s", m, lastLines(string(klog), 30))
	}
	if regexp.MustCompile(`(?m)Entering MASTER STATE`).FindAllIndex(klog, -1) == nil {
		t.Errorf("keepalived never became master:\n%s", lastLines(string(klog), 30))
	}
}
