package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/hactl/hactl/daemon/runfile"
	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/daemon/vmac"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// use_vmac, as keepalived 2.2.7 does it (vrrp.c vrrp_complete_instance,
// vrrp_vmac.c netlink_link_add_vmac): each instance with use_vmac gets a
// macvlan on its interface with the virtual router MAC, created at start
// whatever the state (a backup has it too, without VIPs) and removed at
// exit; its VIPs go on it, and so its gratuitous ARPs / NAs (sent from
// the interface the VIPs are on, with its MAC). Adverts go out of the VMAC
// too (source MAC the VMAC), or out of the base interface with
// vmac_xmit_base.
//
// Adverts are received on the base interface in both modes, where the
// multicast group is joined, and on the VMAC's own socket (without
// vmac_xmit_base), which joins it too: a peer sending from its VMAC uses
// our VMAC's MAC, and the macvlan driver gives such frames to our VMAC
// alone (attachVMAC). keepalived moves its VMACs' IGMP reports to the
// base with nftables rules (vrrp_nftables.c, unless disable_local_igmp),
// so that the switches never learn the VMAC on the backup's port; the
// VMAC socket's join sends one from the VMAC (not moved yet).

// vmacKey names a VMAC the daemon needs: the instance's own (dev its
// interface, family its family) or a VIP's (use_vmac_addr, a VIP's
// use_vmac: dev the VIP's interface, family the VIP's).
type vmacKey struct {
	inst   string
	dev    string
	family int
}

type vmacWant struct {
	key  vmacKey
	want vmac.Want
}

func famOf(c *config.Instance) int {
	if c.Family == config.FamilyIPv6 {
		return 6
	}
	return 4
}

func addrFam(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}

// vipVMAC says whether VIP v of instance c goes on a VMAC, and which, as
// vrrp_complete_instance sorts addresses: one on the instance's
// interface (or with no dev) and of its family goes on the instance's
// VMAC when use_vmac; otherwise it gets a VMAC of its own (on its
// interface, of its family) when it says use_vmac, or with use_vmac_addr
// when it is on another interface or of the other family.
func vipVMAC(c *config.Instance, v config.VIP) (vmacKey, bool) {
	dev, fam := v.Dev, addrFam(v.Prefix.Addr())
	if dev == "" {
		dev = c.Interface
	}
	own := dev == c.Interface && fam == famOf(c)
	switch {
	case own && c.UseVMAC:
		return vmacKey{c.Name, c.Interface, famOf(c)}, true
	case v.UseVMAC() || c.UseVMACAddr && !own:
		return vmacKey{c.Name, dev, fam}, true
	}
	return vmacKey{}, false
}

// vmacWants are the VMACs cfg asks for, in config order, the instance's
// own before its VIPs'. baseLL is a base interface's IPv6 link-local
// address and MAC (for the VMACs that send from a link-local address:
// keepalived's set_link_local_address copies the base's, or makes one
// from its MAC).
func vmacWants(cfg *config.Config, baseLL func(dev string) (netip.Addr, []byte)) ([]vmacWant, error) {
	var out []vmacWant
	seen := map[vmacKey]bool{}
	linkLocal := func(dev string, src netip.Addr) netip.Addr {
		if src.IsValid() && src.Is6() {
			return src
		}
		ll, mac := baseLL(dev)
		if ll.IsValid() {
			return ll
		}
		return vmac.LinkLocalFrom(mac)
	}
	for _, c := range cfg.Instances {
		macOf := func(fam int) (vmac.Want, error) {
			hw, err := vmac.MAC(c.VMACAddr, c.VMACAddrVRID, uint8(c.VRID), fam)
			return vmac.Want{VRID: uint8(c.VRID), Family: fam, MAC: hw}, err
		}
		if c.UseVMAC {
			fam := famOf(c)
			w, err := macOf(fam)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			w.Name, w.Prefix, w.Base = c.VMACName, cfg.Global.VMACPrefix, c.Interface
			w.IPv6 = fam == 6
			for _, v := range c.ExcludedVIPs { // keepalived's VRRP_FLAG_EVIP_OTHER_FAMILY
				w.IPv6 = w.IPv6 || addrFam(v.Prefix.Addr()) != fam
			}
			if fam == 6 && !c.VMACXmitBase {
				w.LinkLocal = linkLocal(c.Interface, c.SrcIP)
			}
			k := vmacKey{c.Name, c.Interface, fam}
			seen[k] = true
			out = append(out, vmacWant{k, w})
		}
		for _, list := range [][]config.VIP{c.VIPs, c.ExcludedVIPs} {
			for _, v := range list {
				k, ok := vipVMAC(c, v)
				if !ok || seen[k] {
					continue
				}
				seen[k] = true
				w, err := macOf(k.family)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", c.Name, err)
				}
				w.Prefix, w.Base, w.IPv6 = firstOf(cfg.Global.VMACAddrPrefix, cfg.Global.VMACPrefix), k.dev, k.family == 6
				if k.family == 6 {
					w.LinkLocal = linkLocal(k.dev, netip.Addr{})
				}
				out = append(out, vmacWant{k, w})
			}
		}
	}
	return out, nil
}

// setupVMACs creates the VMACs the config asks for (before any socket
// opens) and records their names. r.vmacs is newTable's, made only when
// some instance needs a VMAC (the loop tests set a fake beforehand).
func (r *runtime) setupVMACs(baseLL func(dev string) (netip.Addr, []byte), newTable func() (vmacTable, error)) error {
	wants, err := vmacWants(r.cfg, baseLL)
	if err != nil {
		return err
	}
	prev := r.loadVMACSaved()
	if len(wants) == 0 {
		if len(prev) > 0 { // a crashed run's, and no VMAC any more: put them back now
			r.restoreLeftover(prev)
			_ = os.Remove(r.vmacSavedPath())
		}
		return nil
	}
	if r.vmacs == nil {
		if r.vmacs, err = newTable(); err != nil {
			return fmt.Errorf("use_vmac: %w", err)
		}
	}
	r.vmacs.Restore(prev)
	defer r.saveVMACSaved(prev)
	r.vmacNames = map[vmacKey]string{}
	taken := map[string]bool{}
	for _, w := range wants {
		name, err := r.vmacs.Ensure(w.want, taken)
		if err != nil {
			return fmt.Errorf("%s: use_vmac: %w", w.key.inst, err)
		}
		taken[name] = true
		r.vmacNames[w.key] = name
		if !slices.Contains(r.vmacList, name) {
			r.vmacList = append(r.vmacList, name)
		}
		r.log.Info("VMAC ready", "instance", w.key.inst, "vmac", name, "base", w.want.Base, "mac", w.want.MAC.String())
	}
	return nil
}

// attachVMAC puts in on its VMACs: its VIPs on the VMAC they belong to,
// its announcer on the VMAC (per VIP when they are on several), and its
// adverts on a socket of its own VMAC unless vmac_xmit_base. in.sock is
// then the socket it sends on; the base's socket, where it was built,
// still receives for it.
func (r *runtime) attachVMAC(in *instance, listen func(c *config.Instance, key sockKey) (*sock, error), announcerOf func(ifname string) announcer) error {
	c := in.c
	devs := map[netip.Addr]string{}
	i := 0
	for _, list := range [][]config.VIP{c.VIPs, c.ExcludedVIPs} {
		for _, v := range list {
			if k, ok := vipVMAC(c, v); ok && r.vmacNames[k] != "" {
				in.vips[i].Dev = r.vmacNames[k]
			}
			devs[v.Prefix.Addr()] = in.vips[i].Dev
			i++
		}
	}
	own := r.vmacNames[vmacKey{c.Name, c.Interface, famOf(c)}]
	garpDev := c.Interface
	if own != "" {
		garpDev = own
	}
	in.garp = announcerOf(garpDev)
	if multi := vipAnnouncers(in.vips, garpDev, announcerOf); multi != nil {
		in.garp = multi
	}
	if own == "" || c.VMACXmitBase {
		return nil
	}
	key := in.sock.key // the base's: family, and AH or not
	key.ifname = own
	// A peer that sends from its VMAC sends with our VMAC's MAC (the
	// same VRID), and the macvlan driver hands a multicast frame whose
	// source is one of its private macvlans' MACs to that macvlan alone:
	// the base's socket never sees it. The VMAC's socket joins the group
	// too, as keepalived receives on its VMAC; what both sockets hear
	// (a peer sending from another MAC) is handled once (vmacDuplicate).
	s, err := r.joinedSock(c, key, listen)
	if err != nil {
		return err
	}
	if other := s.byVRID[uint8(c.VRID)]; other != nil {
		return fmt.Errorf("%s: VRID %d on %s is also used by %s", c.Name, c.VRID, own, other.c.Name)
	}
	s.byVRID[uint8(c.VRID)] = in
	in.sock = s
	return nil
}

// heardKey is an advert source of a VRID heard on a base interface's
// socket, for vmacDuplicate.
type heardKey struct {
	vrid   uint8
	family int
	src    netip.Addr
}

// vmacDuplicate says whether an advert from src that s (a socket of in)
// delivered is a copy to skip: one on in's VMAC socket from a source its
// base interface's socket heard within three advert intervals (a frame
// from another MAC than ours reaches both). A base socket's adverts are
// recorded, for instances with a VMAC socket only.
func (r *runtime) vmacDuplicate(s *sock, in *instance, src netip.Addr) bool {
	if len(r.vmacNames) == 0 || in.c.VMACXmitBase || r.vmacNames[vmacKey{in.c.Name, in.c.Interface, famOf(in.c)}] == "" {
		return false
	}
	k := heardKey{uint8(in.c.VRID), s.family, src}
	now := r.clock.Now()
	if s.key.ifname == in.c.Interface {
		if r.heardOnBase == nil || len(r.heardOnBase) >= 256 {
			r.heardOnBase = map[heardKey]time.Time{} // bounded: forged sources cannot grow it
		}
		r.heardOnBase[k] = now
		return false
	}
	at, ok := r.heardOnBase[k]
	return ok && now.Sub(at) < 3*max(in.c.AdvertInt, time.Second/10)
}

// vipAnnouncers is nil when every VIP of vips sits on dev; otherwise an
// announcer that sends each address from the interface it is on (a VIP's
// own VMAC: its MAC), as keepalived sends each address's gratuitous ARP
// on the address's interface.
func vipAnnouncers(vips []vip.VIP, dev string, announcerOf func(string) announcer) announcer {
	m := splitAnnouncer{}
	for _, v := range vips {
		if v.Dev != dev {
			m[v.Prefix.Addr()] = announcerOf(v.Dev)
		}
	}
	if len(m) == 0 {
		return nil
	}
	m[netip.Addr{}] = announcerOf(dev)
	return m
}

// splitAnnouncer sends each address with its interface's announcer (the
// zero Addr's for the rest). The announcers are shared and closed by
// their owner (r.garps).
type splitAnnouncer map[netip.Addr]announcer

func (m splitAnnouncer) Announce(addrs []netip.Addr) error {
	var errs error
	for _, a := range addrs {
		an := m[a]
		if an == nil {
			an = m[netip.Addr{}]
		}
		errs = errors.Join(errs, an.Announce([]netip.Addr{a}))
	}
	return errs
}

func (m splitAnnouncer) Close() error { return nil }

// removeVMACs removes every VMAC the daemon made (or took over) and
// restores its base interfaces' sysctls; after the sockets on them are
// closed.
func (r *runtime) removeVMACs() {
	if r.vmacs == nil {
		return
	}
	if err := r.vmacs.Close(); err != nil {
		r.log.Error("VMAC removal", "err", err)
	} else {
		_ = os.Remove(r.vmacSavedPath())
	}
	r.vmacs = nil
}

// The base interfaces' sysctls as found before the first VMAC changed
// them are kept beside the state file while VMACs exist: a SIGKILLed
// daemon cannot restore them, and the next start would otherwise find
// (and at its stop "restore") the values the killed one set. keepalived
// 2.2.7 keeps none and leaves the base changed after a crash.
func (r *runtime) vmacSavedPath() string { return r.stateFile + ".vmac" }

// loadVMACSaved reads a crashed run's saved values; anything but the base
// settings BaseSysctls changes is ignored (the file steers writes to
// /proc/sys as root).
func (r *runtime) loadVMACSaved() []vmac.Sysctl {
	b, err := runfile.Read(r.vmacSavedPath(), 64<<10)
	if err != nil {
		return nil
	}
	var all, ok []vmac.Sysctl
	if err := json.Unmarshal(b, &all); err != nil {
		r.log.Warn("VMAC: saved base sysctls unreadable, ignored", "file", r.vmacSavedPath(), "err", err)
		return nil
	}
	for _, s := range all {
		if vmac.BaseSetting(s) {
			ok = append(ok, s)
		}
	}
	r.log.Info("VMAC: base sysctls saved by a run that did not stop cleanly", "file", r.vmacSavedPath(), "settings", len(ok))
	return ok
}

// saveVMACSaved writes what the VMACs' bases will get back, and puts back
// at once what a crashed run saved for a base no VMAC uses now.
func (r *runtime) saveVMACSaved(prev []vmac.Sysctl) {
	saved := r.vmacs.Saved()
	var leftover []vmac.Sysctl
	for _, p := range prev {
		if !slices.ContainsFunc(saved, func(s vmac.Sysctl) bool { return s.Path == p.Path }) {
			leftover = append(leftover, p)
		}
	}
	r.restoreLeftover(leftover)
	if len(saved) == 0 {
		_ = os.Remove(r.vmacSavedPath())
		return
	}
	b, _ := json.Marshal(saved)
	if err := runfile.Write(r.vmacSavedPath(), b, 0o600, -1); err != nil {
		r.log.Warn("VMAC: base sysctls not saved (a crash would leave them changed)", "file", r.vmacSavedPath(), "err", err)
	}
}

func (r *runtime) restoreLeftover(ss []vmac.Sysctl) {
	if len(ss) == 0 {
		return
	}
	if err := vmac.WriteSysctls(ss); err != nil {
		r.log.Warn("VMAC: restoring a crashed run's base sysctls", "err", err)
		return
	}
	r.log.Info("VMAC: base sysctls restored from a crashed run", "settings", len(ss))
}

// extraAnnounce is keepalived's vrrp_send_vmac_update: every garp_extra_if
// (formerly vmac_garp_intvl) while master, one gratuitous ARP / NA on each
// interface of the instance's VIPs that carries no adverts, so that the
// switches keep the MACs of those VMACs (no other frame comes from them)
// learned on our port. It runs on a's schedule: leaving Master stops it.
func (r *runtime) extraAnnounce(in *instance, a *announcement) {
	every := in.c.GARP.ExtraIf
	if every <= 0 {
		return
	}
	ours := map[string]bool{}
	for _, name := range r.vmacNames {
		ours[name] = true
	}
	advertIf := in.c.Interface
	if own := r.vmacNames[vmacKey{in.c.Name, in.c.Interface, famOf(in.c)}]; own != "" {
		advertIf = own
	}
	addrs := extraIfAddrs(in.vips, advertIf, ours, in.c.VMACXmitBase, in.c.GARP.ExtraIfAll)
	if len(addrs) == 0 {
		return
	}
	var tick func()
	tick = func() {
		if !a.live() {
			return
		}
		if err := in.garp.Announce(addrs); err != nil {
			r.log.Warn("announcement on the extra interfaces", "instance", in.c.Name, "err", err)
		}
		a.after(every, tick)
	}
	a.after(every, tick)
}

// extraIfAddrs are the addresses garp_extra_if announces: the first VIP
// on each interface that is one of our VMACs (any interface with "all"),
// but advertIf (the instance's VMAC, or its interface), which its adverts
// keep fresh, unless those go out of the base (vmac_xmit_base). As in
// keepalived (vrrp_complete_instance), nothing is sent unless some VIP
// is on another VMAC than advertIf, or, with "all", on another
// interface.
func extraIfAddrs(vips []vip.VIP, advertIf string, ours map[string]bool, xmitBase, all bool) []netip.Addr {
	extraVMAC, extraIf := false, false
	for _, v := range vips {
		if v.Dev != advertIf {
			extraVMAC = extraVMAC || ours[v.Dev]
			extraIf = extraIf || !ours[v.Dev]
		}
	}
	if !extraVMAC && !(extraIf && all) {
		return nil
	}
	var out []netip.Addr
	seen := map[string]bool{}
	for _, v := range vips {
		if !ours[v.Dev] && !all || v.Dev == advertIf && !xmitBase || seen[v.Dev] {
			continue
		}
		seen[v.Dev] = true
		out = append(out, v.Prefix.Addr())
	}
	return out
}

// A VMAC deleted under the daemon (ip link del) is made again, as
// keepalived 2.2.7 does (keepalived_netlink.c netlink_if_link_filter on
// RTM_DELLINK: cleanup_lost_interface, then recreate_vmac_thread and
// setup_interface in vrrp_if.c). The link events come from the tracker
// Monitor's subscription (track.Options.Interfaces: the VMACs are
// followed like tracked interfaces), and each VMAC is an unweighted
// tracker of its instance (vmacRefs), as keepalived tracks vrrp->ifp: a
// VMAC that goes down or is deleted faults the instance (a master leaves
// with a priority-0 advert, its VIPs go), and once it is up again the
// instance goes BACKUP and the election runs as after any fault. A VMAC
// set down by hand stays down, faulting its instance until someone sets
// it up, as in keepalived.

// vmacRefs are the VMACs of c as unweighted trackers: its own (unless
// dont_track_primary, as keepalived's VRRP_NOT_TRACK_IF) and its VIPs'
// (use_vmac_addr, a VIP's use_vmac; unless that VIP is no_track).
func (r *runtime) vmacRefs(c *config.Instance) []track.Ref {
	var out []track.Ref
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, track.Ref{Key: track.Key{Kind: track.KindInterface, Name: name}})
		}
	}
	if !c.DontTrackPrimary {
		add(r.vmacNames[vmacKey{c.Name, c.Interface, famOf(c)}])
	}
	for _, list := range [][]config.VIP{c.VIPs, c.ExcludedVIPs} {
		for _, v := range list {
			if k, ok := vipVMAC(c, v); ok && !v.NoTrack && k != (vmacKey{c.Name, c.Interface, famOf(c)}) {
				add(r.vmacNames[k])
			}
		}
	}
	return out
}

// vmacLinkEvent handles a link change the Monitor reports: one of our
// VMACs down or gone is made again if it is gone; an interface up is
// perhaps a VMAC's base come back, whose VMACs are made again if gone.
func (r *runtime) vmacLinkEvent(ev track.Event) {
	if r.vmacs == nil || ev.Key.Kind != track.KindInterface {
		return
	}
	if slices.Contains(r.vmacList, ev.Key.Name) {
		if ev.State.Status != track.StatusOK {
			r.recreateVMAC(ev.Key.Name, ev.State.Detail)
		}
		return
	}
	if ev.State.Status == track.StatusOK {
		for _, name := range r.vmacList {
			if r.vmacs.Base(name) == ev.Key.Name {
				r.recreateVMAC(name, "its base "+ev.Key.Name+" is back")
			}
		}
	}
}

// recreateVMAC makes the VMAC name again if it is gone, opens again the
// sockets and announcers that were on it (a new ifindex), puts back the
// VIPs of an instance still master (one that does not track it:
// dont_track_primary), and logs and counts it once per instance.
func (r *runtime) recreateVMAC(name, why string) {
	made, err := r.vmacs.Recreate(name)
	if err != nil {
		r.log.Error("VMAC gone and not made again", "vmac", name, "why", why, "err", err)
		return
	}
	if !made {
		return
	}
	for key, s := range r.socks {
		if key.ifname != name || r.reopen == nil {
			continue
		}
		if err := r.reopen(s); err != nil {
			r.log.Error("VMAC made again: its socket not opened again", "vmac", name, "err", err)
		}
	}
	if f, ok := r.vips.(interface{ Forget(dev string) }); ok {
		f.Forget(name) // the VIP table's link of that name is the old one
	}
	if a := r.garps[name]; a != nil {
		_ = a.Close() // the next announcement finds the new interface
	}
	for _, in := range r.insts {
		if !r.instanceUsesVMAC(in, name) {
			continue
		}
		in.counters.VMACsRecreated++
		r.log.Warn("VMAC deleted under us, made again", "instance", in.c.Name, "vmac", name, "base", r.vmacs.Base(name), "why", why)
		if in.holding && in.m.State() == vrrp.Master {
			for _, v := range in.vips {
				if v.Dev == name {
					r.vipGone(addrGone{addr: v.Prefix.Addr(), dev: name, at: r.clock.Now()})
				}
			}
			r.announce(in)
		}
	}
	r.writeState()
}

// instanceUsesVMAC: name is one of in's VMACs.
func (r *runtime) instanceUsesVMAC(in *instance, name string) bool {
	for k, n := range r.vmacNames {
		if n == name && k.inst == in.c.Name {
			return true
		}
	}
	return false
}
