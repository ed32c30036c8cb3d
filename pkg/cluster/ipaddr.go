package cluster

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
)

// ipLink is one element of `ip -j addr` (iproute2's JSON).
type ipLink struct {
	Ifindex   int      `json:"ifindex"`
	Ifname    string   `json:"ifname"`
	Flags     []string `json:"flags"`
	Operstate string   `json:"operstate"`
	Address   string   `json:"address"`
	LinkType  string   `json:"link_type"`
	AddrInfo  []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// ParseIPAddrJSON reads the output of `ip -j addr show`. Addresses are
// kept exactly as configured (10.0.0.1/23 stays 10.0.0.1 with length 23),
// so a match on the address never depends on the prefix length, and
// 10.0.0.1 never matches 10.0.0.10 as a grep would.
func ParseIPAddrJSON(b []byte) ([]Interface, error) {
	var links []ipLink
	if err := json.Unmarshal(b, &links); err != nil {
		return nil, fmt.Errorf("ip -j addr: unreadable output (iproute2 too old for -j?): %w", err)
	}
	out := make([]Interface, 0, len(links))
	for _, l := range links {
		ifc := Interface{Name: l.Ifname, Index: l.Ifindex, Up: slices.Contains(l.Flags, "UP"), Addrs: []netip.Prefix{}}
		if l.LinkType == "ether" {
			ifc.MAC = l.Address
		}
		for _, a := range l.AddrInfo {
			if a.Family != "inet" && a.Family != "inet6" {
				continue
			}
			addr, err := netip.ParseAddr(a.Local)
			if err != nil {
				return nil, fmt.Errorf("ip -j addr: %s: address %q: %w", l.Ifname, a.Local, err)
			}
			p := netip.PrefixFrom(addr.WithZone(""), a.Prefixlen)
			if !p.IsValid() {
				return nil, fmt.Errorf("ip -j addr: %s: prefix length %d for %s", l.Ifname, a.Prefixlen, addr)
			}
			ifc.Addrs = append(ifc.Addrs, p)
		}
		out = append(out, ifc)
	}
	return out, nil
}
