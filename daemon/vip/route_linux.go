//go:build linux

package vip

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var routeTypes = map[string]int{
	"":            unix.RTN_UNICAST,
	"unicast":     unix.RTN_UNICAST,
	"blackhole":   unix.RTN_BLACKHOLE,
	"unreachable": unix.RTN_UNREACHABLE,
	"prohibit":    unix.RTN_PROHIBIT,
	"throw":       unix.RTN_THROW,
}

func (m *Manager) route(r Route) (*netlink.Route, error) {
	typ, ok := routeTypes[r.Type]
	if !ok {
		return nil, fmt.Errorf("route %s: unknown type %q", r, r.Type)
	}
	nr := &netlink.Route{
		Dst:      &net.IPNet{IP: r.Dest.Addr().AsSlice(), Mask: net.CIDRMask(r.Dest.Bits(), r.Dest.Addr().BitLen())},
		Type:     typ,
		Table:    r.Table,
		Priority: r.Metric,
	}
	if nr.Table == 0 {
		nr.Table = unix.RT_TABLE_MAIN
	}
	if r.Via.IsValid() {
		nr.Gw = r.Via.AsSlice()
	}
	if r.Src.IsValid() {
		nr.Src = r.Src.AsSlice()
	}
	switch {
	case r.Scope != ScopeGlobal:
		nr.Scope = netlink.Scope(r.Scope)
	case typ == unix.RTN_UNICAST && !r.Via.IsValid():
		nr.Scope = netlink.SCOPE_LINK
	}
	if r.Dev != "" {
		l, err := m.h.LinkByName(r.Dev)
		if err != nil {
			return nil, fmt.Errorf("route %s: interface %s: %w", r, r.Dev, err)
		}
		nr.LinkIndex = l.Attrs().Index
	}
	return nr, nil
}

// AddRoute installs the route, replacing one with the same key.
func (m *Manager) AddRoute(r Route) error {
	nr, err := m.route(r)
	if err != nil {
		return err
	}
	if err := m.h.RouteReplace(nr); err != nil {
		return fmt.Errorf("route %s: add: %w", r, err)
	}
	return nil
}

// RemoveRoute deletes the route; a route already gone is not an error.
func (m *Manager) RemoveRoute(r Route) error {
	nr, err := m.route(r)
	if err != nil {
		return err
	}
	err = m.h.RouteDel(nr)
	if err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("route %s: remove: %w", r, err)
	}
	return nil
}
