package vip

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Route is a virtual route: installed with the VIPs on becoming master,
// removed with them (keepalived's virtual_routes).
type Route struct {
	// Type is "" (unicast), blackhole, unreachable, prohibit or throw.
	Type string
	Dest netip.Prefix
	Src  netip.Addr
	Via  netip.Addr
	Dev  string
	// Scope is the route scope (0: let the kernel choose: link for a
	// route without a gateway, global with one).
	Scope  Scope
	Table  int // 0: main
	Metric int
}

func (r Route) String() string {
	s := r.Dest.String()
	if r.Type != "" {
		s = r.Type + " " + s
	}
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	if r.Src.IsValid() {
		s += " src " + r.Src.String()
	}
	if r.Table != 0 {
		s += " table " + strconv.Itoa(r.Table)
	}
	return s
}

// ParseTable reads a routing table as `ip route` does: a number, or one
// of the names every system has (main, local, default).
func ParseTable(s string) (int, error) {
	switch s {
	case "", "main":
		return 254, nil
	case "local":
		return 255, nil
	case "default":
		return 253, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("routing table %q: want a number, main, local or default", s)
	}
	return n, nil
}
