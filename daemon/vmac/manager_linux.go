//go:build linux

package vmac

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Manager creates VMACs in the network namespace it was created in and
// removes them all at Close, restoring the base interfaces' sysctls. It
// is used from one goroutine (the daemon's start and stop).
type Manager struct {
	h    *netlink.Handle
	log  *slog.Logger
	made []string // the VMACs we own, in creation order
	// wants are what each VMAC we own was made for, by name: Recreate
	// makes it again the same.
	wants map[string]Want
	// bases are the base interfaces whose sysctls we changed: the values
	// found, restored when the last VMAC on the base goes.
	bases map[string]*baseState
	// procSys is /proc/sys (a test may point it elsewhere).
	procSys string
	// previous are base values a crashed run saved (Restore): restored
	// at Close instead of what is found, which that run changed.
	previous map[string]string
}

type baseState struct {
	refs  int
	saved []Sysctl
}

// New returns a Manager for the calling thread's network namespace.
func New(log *slog.Logger) (*Manager, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("vmac: netlink: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{h: h, log: log, bases: map[string]*baseState{}, wants: map[string]Want{}, procSys: "/proc/sys"}, nil
}

// Ensure makes w's VMAC exist, up, with its sysctls, and returns its
// name. taken are the names already given to other Wants (they are not
// reused or generated again). A macvlan found with w's base and MAC (a
// crash's leftover) is taken over, its addresses (the VIPs it held)
// removed; one of the configured name that differs is replaced.
func (m *Manager) Ensure(w Want, taken map[string]bool) (string, error) {
	base, err := m.h.LinkByName(w.Base)
	if err != nil {
		return "", fmt.Errorf("vmac: base interface %s: %w", w.Base, err)
	}
	if base.Attrs().EncapType != "" && base.Attrs().EncapType != "ether" {
		return "", fmt.Errorf("vmac: %s is not an Ethernet interface (%s): VMACs need one, as keepalived's", w.Base, base.Attrs().EncapType)
	}
	ls, err := m.h.LinkList()
	if err != nil {
		return "", fmt.Errorf("vmac: list interfaces: %w", err)
	}
	d := Decide(w, base.Attrs().Index, linksOf(ls), taken)
	if d.Why != "" {
		m.log.Info("vmac: "+d.Why, "vmac", d.Name, "base", w.Base, "action", d.Action.String())
	}
	switch d.Action {
	case Replace:
		if err := m.delIndex(d.Index); err != nil {
			return "", fmt.Errorf("vmac: remove the old %s: %w", d.Name, err)
		}
		fallthrough
	case Create:
		mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: d.Name, ParentIndex: base.Attrs().Index, HardwareAddr: w.MAC}, Mode: netlink.MACVLAN_MODE_PRIVATE}
		if err := m.h.LinkAdd(mv); err != nil {
			return "", fmt.Errorf("vmac: create %s on %s: %w", d.Name, w.Base, err)
		}
	case Reuse:
		m.log.Info("vmac: taking over an existing VMAC (left by a crash?)", "vmac", d.Name, "base", w.Base)
	}
	m.made = append(m.made, d.Name)
	m.wants[d.Name] = w
	return d.Name, m.configure(d, w, true)
}

// Recreate makes the VMAC name (one Ensure made) again when it is gone,
// deleted under us, as keepalived 2.2.7's recreate_vmac_thread does: the
// same name, base, MAC and mode, its sysctls, up, its link-local
// address. It reports whether it made it. A VMAC still there (set down
// by hand) is left as it is, as keepalived leaves it; so is one whose
// base is gone (keepalived waits for the base to come back: call
// Recreate again then).
func (m *Manager) Recreate(name string) (bool, error) {
	w, ok := m.wants[name]
	if !ok {
		return false, fmt.Errorf("vmac: %s is not one of ours", name)
	}
	var nf netlink.LinkNotFoundError
	if _, err := m.h.LinkByName(name); err == nil {
		return false, nil
	} else if !errors.As(err, &nf) {
		return false, fmt.Errorf("vmac: %s: %w", name, err)
	}
	base, err := m.h.LinkByName(w.Base)
	if err != nil {
		return false, fmt.Errorf("vmac: base interface %s: %w", w.Base, err)
	}
	mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: base.Attrs().Index, HardwareAddr: w.MAC}, Mode: netlink.MACVLAN_MODE_PRIVATE}
	if err := m.h.LinkAdd(mv); err != nil {
		return false, fmt.Errorf("vmac: create %s on %s again: %w", name, w.Base, err)
	}
	return true, m.configure(Decision{Action: Create, Name: name}, w, false)
}

// Base is the base interface of VMAC name, one of ours ("" otherwise).
func (m *Manager) Base(name string) string { return m.wants[name].Base }

// configure sets up the VMAC d made or found: a reused one loses its
// addresses, then the sysctls (before it is up: no EUI-64 link-local),
// the base's (setBase: not again when the VMAC is made again), up, and
// the link-local address the adverts leave from.
func (m *Manager) configure(d Decision, w Want, setBase bool) error {
	l, err := m.h.LinkByName(d.Name)
	if err != nil {
		return fmt.Errorf("vmac: %s: %w", d.Name, err)
	}
	if d.Action == Reuse {
		m.flush(l, w)
	}
	for _, s := range VMACSysctls(d.Name, w) {
		if err := m.write(s); err != nil {
			m.log.Warn("vmac: sysctl", "vmac", d.Name, "sysctl", s.Path, "err", err)
		}
	}
	if setBase {
		if err := m.setBase(w); err != nil {
			m.log.Warn("vmac: base interface sysctls", "base", w.Base, "err", err)
		}
	}
	if err := m.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("vmac: bring %s up: %w", d.Name, err)
	}
	if w.LinkLocal.IsValid() {
		a := &netlink.Addr{IPNet: &net.IPNet{IP: w.LinkLocal.AsSlice(), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD, Scope: unix.RT_SCOPE_LINK}
		if err := m.h.AddrReplace(l, a); err != nil {
			return fmt.Errorf("vmac: link-local %s on %s: %w", w.LinkLocal, d.Name, err)
		}
	}
	return nil
}

// flush removes the addresses a reused VMAC still has (the VIPs of the
// daemon that crashed), but the link-local address we want on it.
func (m *Manager) flush(l netlink.Link, w Want) {
	as, err := m.h.AddrList(l, unix.AF_UNSPEC)
	if err != nil {
		m.log.Warn("vmac: list addresses", "vmac", l.Attrs().Name, "err", err)
		return
	}
	for _, a := range as {
		ip, _ := netip.AddrFromSlice(a.IP)
		if ip.Unmap() == w.LinkLocal {
			continue
		}
		if err := m.h.AddrDel(l, &a); err != nil {
			m.log.Warn("vmac: remove a leftover address", "vmac", l.Attrs().Name, "addr", a.IPNet.String(), "err", err)
			continue
		}
		m.log.Info("vmac: leftover address removed", "vmac", l.Attrs().Name, "addr", a.IPNet.String())
	}
}

// setBase sets the base's ARP sysctls for an IPv4 VMAC, saving what was
// there when it is the base's first.
func (m *Manager) setBase(w Want) error {
	plan := BaseSysctls(w.Base, w.Family)
	if len(plan) == 0 {
		return nil
	}
	st := m.bases[w.Base]
	if st == nil {
		st = &baseState{}
		for _, s := range plan {
			old, ok := m.previous[s.Path]
			if !ok {
				var err error
				if old, err = m.read(s.Path); err != nil {
					return err
				}
			}
			st.saved = append(st.saved, Sysctl{Path: s.Path, Value: old})
		}
		var errs error
		for _, s := range plan {
			errs = errors.Join(errs, m.write(s))
		}
		m.bases[w.Base] = st
		if errs != nil {
			return errs
		}
	}
	st.refs++
	return nil
}

// Restore gives the base values a crashed run saved (Saved, kept in a
// file): the values from before that run, which Close restores instead of
// those it finds. Call it before Ensure.
func (m *Manager) Restore(saved []Sysctl) {
	m.previous = map[string]string{}
	for _, s := range saved {
		m.previous[s.Path] = s.Value
	}
}

// Saved are the base values Close will restore (for a file that outlives
// a crash).
func (m *Manager) Saved() []Sysctl {
	var out []Sysctl
	for _, st := range m.bases {
		out = append(out, st.saved...)
	}
	return out
}

// WriteSysctls writes settings under /proc/sys: a crashed run's saved
// base values, when no VMAC is wanted any more.
func WriteSysctls(ss []Sysctl) error {
	var errs error
	for _, s := range ss {
		errs = errors.Join(errs, os.WriteFile(filepath.Join("/proc/sys", s.Path), []byte(s.Value+"\n"), 0o644))
	}
	return errs
}

// Close removes every VMAC we own (in reverse order) and restores the
// base interfaces' sysctls. It returns the errors joined.
func (m *Manager) Close() error {
	var errs error
	for i := len(m.made) - 1; i >= 0; i-- {
		name := m.made[i]
		l, err := m.h.LinkByName(name)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if !errors.As(err, &nf) {
				errs = errors.Join(errs, fmt.Errorf("vmac: %s: %w", name, err))
			}
			continue
		}
		if err := m.h.LinkDel(l); err != nil {
			errs = errors.Join(errs, fmt.Errorf("vmac: remove %s: %w", name, err))
			continue
		}
		m.log.Info("vmac: removed", "vmac", name)
	}
	m.made = nil
	clear(m.wants)
	for base, st := range m.bases {
		for _, s := range st.saved {
			if err := m.write(s); err != nil {
				errs = errors.Join(errs, fmt.Errorf("vmac: restore %s: %w", s.Path, err))
			}
		}
		delete(m.bases, base)
	}
	m.h.Close()
	return errs
}

func (m *Manager) delIndex(index int) error {
	l, err := m.h.LinkByIndex(index)
	if err != nil {
		return err
	}
	return m.h.LinkDel(l)
}

func (m *Manager) read(path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(m.procSys, path))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func (m *Manager) write(s Sysctl) error {
	return os.WriteFile(filepath.Join(m.procSys, s.Path), []byte(s.Value+"\n"), 0o644)
}

// linksOf turns netlink's links into Decide's.
func linksOf(ls []netlink.Link) []Link {
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		a := l.Attrs()
		x := Link{Name: a.Name, Index: a.Index, ParentIndex: a.ParentIndex, MAC: a.HardwareAddr}
		if mv, ok := l.(*netlink.Macvlan); ok {
			x.Macvlan, x.Private = true, mv.Mode == netlink.MACVLAN_MODE_PRIVATE
		}
		out = append(out, x)
	}
	return out
}
