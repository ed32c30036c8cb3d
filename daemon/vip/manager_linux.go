//go:build linux

package vip

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Manager changes addresses in the network namespace it was created in.
type Manager struct {
	h   *netlink.Handle
	log *slog.Logger
	// rs is the socket rules are sent on (rule_linux.go), opened beside
	// h in the same namespace.
	rs *nl.SocketHandle
	// rt dumps routes with the kernel's strict checking where it has it
	// (RoutePresent, routewatch_linux.go).
	rt *netlink.Handle
	// links caches interface lookups for Add, Refresh and Remove: a
	// master renews every VIP's lease every few seconds, and a lookup by
	// name (a netlink dump of the link, parsed in full) cost more than the
	// renewal itself. An operation that finds the interface gone (ENODEV)
	// looks it up again once (it may have been re-created).
	mu    sync.Mutex
	links map[string]netlink.Link
}

// New returns a Manager for the calling thread's network namespace.
func New(log *slog.Logger) (*Manager, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("netlink: %w", err)
	}
	rt, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		s.Close()
		return nil, fmt.Errorf("netlink: %w", err)
	}
	_ = rt.SetStrictCheck(true) // older kernels: the dump's filtering is ours
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{h: h, log: log, links: map[string]netlink.Link{}, rs: &nl.SocketHandle{Socket: s}, rt: rt}, nil
}

// Close releases the netlink sockets.
func (m *Manager) Close() {
	m.h.Close()
	m.rs.Close()
	m.rt.Close()
}

// cachedLink is v's interface, looked up once and then cached.
func (m *Manager) cachedLink(v VIP) (netlink.Link, error) {
	m.mu.Lock()
	l := m.links[v.Dev]
	m.mu.Unlock()
	if l != nil {
		return l, nil
	}
	l, err := m.h.LinkByName(v.Dev)
	if err != nil {
		return nil, fmt.Errorf("vip %s: interface %s: %w", v.Prefix, v.Dev, err)
	}
	m.mu.Lock()
	m.links[v.Dev] = l
	m.mu.Unlock()
	return l, nil
}

// Forget drops the cached link of dev: it was deleted and made again (a
// VMAC, daemon/vmacs.go), under a new index.
func (m *Manager) Forget(dev string) {
	m.mu.Lock()
	delete(m.links, dev)
	m.mu.Unlock()
}

// withLink runs op with the cached link of v's interface; if the kernel
// says that interface is gone (ENODEV: deleted, perhaps re-created under
// a new index), it drops the cached entry and runs op once more with a
// fresh lookup.
func (m *Manager) withLink(v VIP, op func(netlink.Link) error) error {
	l, err := m.cachedLink(v)
	if err != nil {
		return err
	}
	if err = op(l); !errors.Is(err, syscall.ENODEV) {
		return err
	}
	m.mu.Lock()
	delete(m.links, v.Dev)
	m.mu.Unlock()
	if l, err = m.cachedLink(v); err != nil {
		return err
	}
	return op(l)
}

func (m *Manager) addr(v VIP, lease Lifetime) *netlink.Addr {
	mask := net.CIDRMask(v.Prefix.Bits(), v.Prefix.Addr().BitLen())
	a := &netlink.Addr{
		IPNet: &net.IPNet{IP: v.Prefix.Addr().AsSlice(), Mask: mask},
		Label: v.Label,
		Scope: int(v.Scope),
		Flags: int(v.Flags),
	}
	if v.Peer.IsValid() {
		a.Peer = &net.IPNet{IP: v.Peer.AsSlice(), Mask: mask}
	}
	switch {
	case v.Broadcast.IsValid():
		a.Broadcast = v.Broadcast.AsSlice()
	case v.Prefix.Addr().Is4():
		// netlink would compute one; keepalived sends none.
		a.Broadcast = net.IPv4zero
	}
	v6 := v.Prefix.Addr().Is6()
	if v6 && !v.DAD {
		// A VIP moves between hosts by design; DAD would hold it tentative
		// (unusable) for a second after every takeover.
		a.Flags |= unix.IFA_F_NODAD
	}
	valid, pref := uint32(math.MaxUint32), uint32(math.MaxUint32)
	if v6 && v.PreferredLft != nil {
		pref = *v.PreferredLft
	}
	if s := lease.seconds(); s > 0 {
		valid = uint32(s)
		pref = min(pref, valid)
	}
	if valid != math.MaxUint32 || pref != math.MaxUint32 {
		a.ValidLft, a.PreferedLft = int(valid), int(pref)
	}
	return a
}

// Add puts the VIP on its interface with the given lease (0: permanent).
// An address already there gets the new lease.
func (m *Manager) Add(v VIP, lease Lifetime) error {
	a := m.addr(v, lease)
	if err := m.withLink(v, func(l netlink.Link) error { return m.h.AddrReplace(l, a) }); err != nil {
		return fmt.Errorf("vip %s: add: %w", v, err)
	}
	m.log.Debug("vip added", "vip", v, "lease_s", lease.seconds())
	return nil
}

// Refresh renews the VIP's lease; it re-adds an address the kernel has
// already expired.
func (m *Manager) Refresh(v VIP, lease Lifetime) error { return m.Add(v, lease) }

// Remove takes the VIP off its interface. An address already gone is not
// an error.
func (m *Manager) Remove(v VIP) error {
	a := m.addr(v, 0)
	err := m.withLink(v, func(l netlink.Link) error { return m.h.AddrDel(l, a) })
	if errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOENT) {
		return nil // already gone
	}
	if err != nil {
		return fmt.Errorf("vip %s: remove: %w", v, err)
	}
	m.log.Debug("vip removed", "vip", v)
	return nil
}

// Present reports whether the VIP's address is on its interface (any
// prefix length), and its remaining valid lifetime in seconds when leased
// (0: permanent).
func (m *Manager) Present(v VIP) (bool, int, error) {
	l, err := m.cachedLink(v)
	if err != nil {
		return false, 0, err
	}
	fam := netlink.FAMILY_V4
	if v.Prefix.Addr().Is6() {
		fam = netlink.FAMILY_V6
	}
	addrs, err := m.h.AddrList(l, fam)
	if err != nil {
		return false, 0, err
	}
	want := v.Prefix.Addr().AsSlice()
	for _, a := range addrs {
		if a.IP.Equal(want) {
			if a.ValidLft == 0 || uint32(a.ValidLft) == 0xffffffff {
				return true, 0, nil
			}
			return true, a.ValidLft, nil
		}
	}
	return false, 0, nil
}
