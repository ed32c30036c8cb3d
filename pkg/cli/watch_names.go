package cli

import (
	"net"
	"net/netip"
	"os"

	"github.com/hactl/hactl/pkg/inventory"
	"github.com/hactl/hactl/pkg/watch"
)

// watchNames gathers what names the sources of a watch: inventory nodes
// whose host is an address literal (no DNS lookups: a watch must start at
// once), the MACs of this host's interfaces that carry such an address, and
// neighbour-table entries (ARP, NDP) for those addresses. The table learns
// more from the packets themselves (a node's IPv4 advert names its MAC,
// which names its IPv6 link-local source). Errors only mean fewer names.
func watchNames(g *GlobalOptions) watch.Options {
	o := watch.Options{Names: map[netip.Addr]string{}, MACNames: map[string]string{}}
	named := ""
	if g != nil {
		named = g.Inventory
	}
	home, _ := os.UserHomeDir()
	path, err := inventory.Find(named, home)
	if err != nil {
		return o
	}
	inv, err := inventory.Load(path)
	if err != nil {
		return o
	}
	cluster := ""
	if g != nil {
		cluster = g.Cluster
	}
	// Every cluster's nodes name sources; the selected one wins a clash.
	clusters := inv.Clusters
	if c, err := inv.Select(cluster); err == nil {
		clusters = append(append([]*inventory.Cluster{}, inv.Clusters...), c)
	}
	for _, c := range clusters {
		for _, n := range c.Nodes {
			host := n.Host
			if host == "" {
				host = n.Name
			}
			if a, err := netip.ParseAddr(host); err == nil {
				o.Names[a.Unmap()] = n.Name
			}
		}
	}
	if len(o.Names) == 0 {
		return o
	}
	byAddr := func(ip net.IP) string {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return ""
		}
		return o.Names[a.Unmap()]
	}
	if ifaces, err := net.Interfaces(); err == nil {
		for _, ifi := range ifaces {
			addrs, _ := ifi.Addrs()
			for _, ad := range addrs {
				if ipn, ok := ad.(*net.IPNet); ok && len(ifi.HardwareAddr) > 0 {
					if n := byAddr(ipn.IP); n != "" {
						o.MACNames[ifi.HardwareAddr.String()] = n
					}
				}
			}
		}
	}
	watch.NeighbourMACs(o.MACNames, byAddr)
	return o
}
