package daemon

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/daemon/vmac"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// fakeVMACs is the kernel's macvlans for the loop tests: Ensure names
// them as the kernel side would with no interface in the way.
type fakeVMACs struct {
	made   []vmac.Want
	names  []string
	closed int
	// gone are VMACs deleted under the daemon (a test's ip link del);
	// Recreate makes them again and counts it.
	gone      map[string]bool
	recreated int
}

func (f *fakeVMACs) Recreate(name string) (bool, error) {
	if !f.gone[name] {
		return false, nil
	}
	delete(f.gone, name)
	f.recreated++
	return true, nil
}

func (f *fakeVMACs) Base(name string) string {
	for i, n := range f.names {
		if n == name {
			return f.made[i].Base
		}
	}
	return ""
}

func (f *fakeVMACs) Ensure(w vmac.Want, taken map[string]bool) (string, error) {
	d := vmac.Decide(w, 2, nil, taken)
	f.made, f.names = append(f.made, w), append(f.names, d.Name)
	return d.Name, nil
}

func (f *fakeVMACs) Close() error { f.closed++; f.names = nil; return nil }

func (f *fakeVMACs) Restore([]vmac.Sysctl) {}
func (f *fakeVMACs) Saved() []vmac.Sysctl  { return nil }

// TestLoopVMAC: two nodes with use_vmac. The master's VIP is on its
// VMAC, its adverts leave from the VMAC's socket and the backup hears
// them on its base interface's; a clean stop removes the VMACs. With
// vmac_xmit_base the adverts leave from the base interface's socket.
func TestLoopVMAC(t *testing.T) {
	for _, xmitBase := range []bool{false, true} {
		extra := "use_vmac"
		wantSend := "vrrp.51"
		if xmitBase {
			extra += "\n    vmac_xmit_base"
			wantSend = "eth0"
		}
		cl, a, b := pair(t)
		a.start(vrrpInstance("VI_1", 51, 150, "10.0.0.201", extra))
		b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202", extra))
		cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master && b.state("VI_1") == vrrp.Backup })
		if a.state("VI_1") != vrrp.Master || b.state("VI_1") != vrrp.Backup {
			t.Fatalf("xmit_base %t: states %s/%s, want MASTER/BACKUP", xmitBase, a.state("VI_1"), b.state("VI_1"))
		}
		for _, n := range []*node{a, b} {
			if !slices.Equal(n.vmacs.names, []string{"vrrp.51"}) {
				t.Errorf("%s: VMACs %v, want [vrrp.51] (made at start, backup too)", n.name, n.vmacs.names)
			}
			if got := n.vmacs.made[0].MAC.String(); got != "00:00:5e:00:01:33" {
				t.Errorf("%s: VMAC MAC %s", n.name, got)
			}
			if got := n.in("VI_1").sock.key.ifname; got != wantSend {
				t.Errorf("xmit_base %t: %s sends on %s, want %s", xmitBase, n.name, got, wantSend)
			}
			// The kernel hands a peer's advert (from the same virtual
			// MAC) to the local VMAC, not the base: the group must be
			// joined on the VMAC's socket (the fake segment delivers on
			// the base, so only this says so).
			if !xmitBase && !n.conns[n.in("VI_1").sock.key].joined[netip.MustParseAddr("224.0.0.18")] {
				t.Errorf("%s: the VMAC's socket has not joined 224.0.0.18", n.name)
			}
		}
		if _, ok := a.vips.addrs[vipOf(51)+"@vrrp.51"]; !ok {
			t.Errorf("the master's VIP is not on its VMAC: %v", a.vips.addrs)
		}
		if got := b.in("VI_1").counters.AdvertsReceived; got == 0 {
			t.Errorf("the backup heard none of the master's adverts")
		}
		a.stop()
		if a.vmacs.closed != 1 || len(a.vmacs.names) != 0 {
			t.Errorf("after a stop the VMACs are not removed (closed %d, left %v)", a.vmacs.closed, a.vmacs.names)
		}
		cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return b.state("VI_1") == vrrp.Master })
		if _, ok := b.vips.addrs[vipOf(51)+"@vrrp.51"]; !ok {
			t.Errorf("the new master's VIP is not on its VMAC: %v", b.vips.addrs)
		}
	}
}

// TestVIPVMAC is vrrp_complete_instance's sorting of addresses onto
// VMACs.
func TestVIPVMAC(t *testing.T) {
	inst := func(useVMAC, useVMACAddr bool) *config.Instance {
		return &config.Instance{Name: "VI", Interface: "eth0", Family: config.FamilyIPv4, UseVMAC: useVMAC, UseVMACAddr: useVMACAddr}
	}
	v := func(addr, dev string, opts ...string) config.VIP {
		return config.VIP{Prefix: netip.MustParsePrefix(addr), Dev: dev, Options: opts}
	}
	for _, c := range []struct {
		name string
		c    *config.Instance
		v    config.VIP
		want string // key as inst/dev/family, "" for none
	}{
		{"use_vmac: a VIP without dev goes on the instance's VMAC", inst(true, false), v("10.0.0.1/24", ""), "VI/eth0/4"},
		{"use_vmac: dev = the interface, same", inst(true, false), v("10.0.0.1/24", "eth0"), "VI/eth0/4"},
		{"use_vmac: another dev stays there", inst(true, false), v("10.0.1.1/24", "eth1"), ""},
		{"use_vmac: the other family stays on the base", inst(true, false), v("fd00::1/64", ""), ""},
		{"no use_vmac: nothing", inst(false, false), v("10.0.0.1/24", ""), ""},
		{"a VIP's use_vmac on the interface", inst(false, false), v("10.0.0.1/24", "", "use_vmac"), "VI/eth0/4"},
		{"a VIP's use_vmac on another dev", inst(false, false), v("10.0.1.1/24", "eth1", "use_vmac"), "VI/eth1/4"},
		{"use_vmac_addr: another dev", inst(true, true), v("10.0.1.1/24", "eth1"), "VI/eth1/4"},
		{"use_vmac_addr: the other family", inst(true, true), v("fd00::1/64", ""), "VI/eth0/6"},
		{"use_vmac_addr: own interface and family", inst(false, true), v("10.0.0.1/24", ""), ""},
	} {
		k, ok := vipVMAC(c.c, c.v)
		got := ""
		if ok {
			got = strings.Join([]string{k.inst, k.dev, map[int]string{4: "4", 6: "6"}[k.family]}, "/")
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestVMACWants: names, prefixes, MACs, link-local sources and IPv6 as
// the config asks.
func TestVMACWants(t *testing.T) {
	conf := `global_defs {
    vmac_prefix vm
    vmac_addr_prefix va
}
vrrp_instance V4 {
    interface eth0
    virtual_router_id 10
    use_vmac
    use_vmac_addr
    virtual_ipaddress {
        10.0.0.1/24
        10.0.1.1/24 dev eth1
    }
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id 11
    use_vmac v6mac 02:11:22:33:44
    virtual_ipaddress {
        fd00::1/64
    }
}
vrrp_instance V6B {
    interface eth0
    virtual_router_id 12
    use_vmac
    vmac_xmit_base
    virtual_ipaddress {
        fd00::2/64
    }
}
`
	cfg := parseConf(t, conf)
	ll := netip.MustParseAddr("fe80::99")
	wants, err := vmacWants(cfg, func(dev string) (netip.Addr, []byte) { return ll, nil })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range wants {
		got = append(got, strings.Join([]string{w.key.inst, w.want.Name, w.want.Prefix, w.want.Base, w.want.MAC.String(), w.want.LinkLocal.String(), map[bool]string{true: "ipv6", false: "noipv6"}[w.want.IPv6]}, " "))
	}
	want := []string{
		"V4  vm eth0 00:00:5e:00:01:0a invalid IP noipv6",
		"V4  va eth1 00:00:5e:00:01:0a invalid IP noipv6",
		"V6 v6mac vm eth0 02:11:22:33:44:0b fe80::99 ipv6",
		"V6B  vm eth0 00:00:5e:00:02:0c invalid IP ipv6",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestExtraIfAddrs is vrrp_send_vmac_update's choice of interfaces, and
// vrrp_complete_instance's rule that turns garp_extra_if off.
func TestExtraIfAddrs(t *testing.T) {
	v := func(addr, dev string) vip.VIP { return vip.VIP{Prefix: netip.MustParsePrefix(addr), Dev: dev} }
	ours := map[string]bool{"vrrp.1": true, "vrrp1.1": true}
	for _, c := range []struct {
		name     string
		vips     []vip.VIP
		advertIf string
		xmitBase bool
		all      bool
		want     string
	}{
		{"only the instance's VMAC: off", []vip.VIP{v("10.0.0.1/24", "vrrp.1")}, "vrrp.1", false, false, ""},
		{"vmac_xmit_base alone: still off", []vip.VIP{v("10.0.0.1/24", "vrrp.1")}, "vrrp.1", true, false, ""},
		{"another VMAC: its first VIP", []vip.VIP{v("10.0.0.1/24", "vrrp.1"), v("10.0.1.1/24", "vrrp1.1"), v("10.0.1.2/24", "vrrp1.1")}, "vrrp.1", false, false, "10.0.1.1"},
		{"another VMAC and vmac_xmit_base: the instance's too", []vip.VIP{v("10.0.0.1/24", "vrrp.1"), v("10.0.1.1/24", "vrrp1.1")}, "vrrp.1", true, false, "10.0.0.1 10.0.1.1"},
		{"another plain interface: off without all", []vip.VIP{v("10.0.0.1/24", "vrrp.1"), v("10.0.2.1/24", "eth2")}, "vrrp.1", false, false, ""},
		{"another plain interface with all", []vip.VIP{v("10.0.0.1/24", "vrrp.1"), v("10.0.2.1/24", "eth2")}, "vrrp.1", false, true, "10.0.2.1"},
		{"no use_vmac, all", []vip.VIP{v("10.0.0.1/24", "eth0"), v("10.0.2.1/24", "eth2")}, "eth0", false, true, "10.0.2.1"},
	} {
		var got []string
		for _, a := range extraIfAddrs(c.vips, c.advertIf, ours, c.xmitBase, c.all) {
			got = append(got, a.String())
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%s: %q, want %q", c.name, s, c.want)
		}
	}
}

// TestLoopGARPExtraIf: a master with a VIP on a VMAC of its own (a VIP's
// use_vmac) announces it every garp_extra_if seconds, and stops when it
// leaves Master.
func TestLoopGARPExtraIf(t *testing.T) {
	cl, a, _ := pair(t)
	a.start(vrrpInstance("VI_1", 52, 150, "10.0.0.201", "use_vmac", "garp_master_delay 0", "garp_extra_if 2",
		"virtual_ipaddress_excluded {\n        10.0.9.1/24 dev eth1 use_vmac no_track\n    }"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	if a.state("VI_1") != vrrp.Master {
		t.Fatal("not master")
	}
	if !slices.Equal(a.vmacs.names, []string{"vrrp.52", "vrrp1.52"}) {
		t.Fatalf("VMACs %v, want the instance's and the VIP's", a.vmacs.names)
	}
	cl.advance(100 * time.Millisecond)
	before := a.garp.count()
	cl.advance(10 * time.Second)
	if got := a.garp.count() - before; got < 4 || got > 6 {
		t.Errorf("%d announcements in 10 s with garp_extra_if 2, want 5", got)
	}
	a.stop()
	after := a.garp.count()
	cl.advance(10 * time.Second)
	if got := a.garp.count(); got != after {
		t.Errorf("announcements went on after the stop (%d more)", got-after)
	}
}

func (a *fakeAnnouncer) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rounds
}

// TestLoopVMACRecreated: the master's VMAC deleted under it (the fake
// kernel drops the VMAC and the VIP on it, the link watch reports it
// down): with dont_track_primary (the loop tests' instances) the
// instance stays master, as keepalived would not fault it on the link
// state; the VMAC is made again, the VIP put back on it, counted and
// logged once. Later reports (still down, up, the base up, another
// interface) make nothing again.
func TestLoopVMACRecreated(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 51, 150, "10.0.0.201", "use_vmac"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202", "use_vmac"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master && b.state("VI_1") == vrrp.Backup })
	key := vipOf(51) + "@vrrp.51"
	if _, ok := a.vips.addrs[key]; !ok {
		t.Fatalf("the master's VIP is not on its VMAC: %v", a.vips.addrs)
	}
	a.vmacs.gone = map[string]bool{"vrrp.51": true}
	delete(a.vips.addrs, key) // the kernel removes the VMAC's addresses with it
	link := func(name string, up bool) {
		st := track.State{Status: track.StatusFailed, Detail: "down (deleted)"}
		if up {
			st = track.State{Status: track.StatusOK, Detail: "up"}
		}
		ev := track.Event{Key: track.Key{Kind: track.KindInterface, Name: name}, State: st}
		a.r.events <- func(r *runtime) { r.vmacLinkEvent(ev) }
		cl.settle()
	}
	link("vrrp.51", false)
	if a.vmacs.recreated != 1 {
		t.Fatalf("VMAC made again %d times, want 1", a.vmacs.recreated)
	}
	if _, ok := a.vips.addrs[key]; !ok {
		t.Errorf("the VIP is not back on the VMAC made again: %v", a.vips.addrs)
	}
	for _, ev := range []struct {
		name string
		up   bool
	}{{"vrrp.51", false}, {"vrrp.51", true}, {"eth0", true}, {"eth1", false}} {
		link(ev.name, ev.up)
	}
	if a.vmacs.recreated != 1 {
		t.Errorf("VMAC made again %d times after later reports, want 1", a.vmacs.recreated)
	}
	if got := a.in("VI_1").counters.VMACsRecreated; got != 1 {
		t.Errorf("counters.vmacs_recreated = %d, want 1", got)
	}
	if n := strings.Count(a.logs.String(), "VMAC deleted under us, made again"); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
	cl.advance(3 * time.Second)
	if a.state("VI_1") != vrrp.Master || b.state("VI_1") != vrrp.Backup {
		t.Errorf("states %s/%s, want MASTER/BACKUP", a.state("VI_1"), b.state("VI_1"))
	}
}

// TestVMACDuplicate: an advert heard on the base interface's socket is
// handled there; the copy the VMAC's socket hears of it (a peer sending
// from another MAC than ours reaches both) is skipped for three advert
// intervals; what only the VMAC's socket hears (a peer sending from its
// VMAC, with our VMAC's MAC) is handled. Without a VMAC socket
// (vmac_xmit_base, no use_vmac) nothing is skipped.
func TestVMACDuplicate(t *testing.T) {
	clk := newFakeClock()
	c := &config.Instance{Name: "VI", Interface: "eth0", VRID: 51, Family: config.FamilyIPv4, AdvertInt: time.Second}
	r := &runtime{clock: clk, vmacNames: map[vmacKey]string{{"VI", "eth0", 4}: "vrrp.51"}}
	in := &instance{c: c}
	base := &sock{key: sockKey{ifname: "eth0", family: 4}, family: 4}
	vm := &sock{key: sockKey{ifname: "vrrp.51", family: 4}, family: 4}
	peerA, peerB := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	for _, step := range []struct {
		name    string
		s       *sock
		src     netip.Addr
		advance time.Duration
		want    bool
	}{
		{"A on the base", base, peerA, 0, false},
		{"A's copy on the VMAC", vm, peerA, 0, true},
		{"B only on the VMAC (sends from its VMAC)", vm, peerB, 0, false},
		{"A's copy 2.9 s later", vm, peerA, 2900 * time.Millisecond, true},
		{"A not heard on the base for 3 s: on the VMAC now", vm, peerA, 200 * time.Millisecond, false},
	} {
		clk.set(clk.Now().Add(step.advance))
		if got := r.vmacDuplicate(step.s, in, step.src); got != step.want {
			t.Errorf("%s: skipped %t, want %t", step.name, got, step.want)
		}
	}
	c.VMACXmitBase = true
	if r.vmacDuplicate(base, in, peerA) || r.vmacDuplicate(vm, in, peerA) {
		t.Error("vmac_xmit_base: a copy skipped")
	}
}
