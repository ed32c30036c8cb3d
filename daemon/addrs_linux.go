//go:build linux

package daemon

import (
	"fmt"
	"net"
	"net/netip"
	"sort"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hactl/hactl/pkg/api"
)

// addrFlags names the IFA_F_ flags an owner check cares about, in the
// order they are listed.
var addrFlags = []struct {
	bit  int
	name string
}{
	{unix.IFA_F_SECONDARY, "secondary"},
	{unix.IFA_F_NODAD, "nodad"},
	{unix.IFA_F_DEPRECATED, "deprecated"},
	{unix.IFA_F_TENTATIVE, "tentative"},
	{unix.IFA_F_DADFAILED, "dadfailed"},
	{unix.IFA_F_PERMANENT, "permanent"},
	{unix.IFA_F_NOPREFIXROUTE, "noprefixroute"},
}

// forever is the kernel's infinite address lifetime.
const forever = 0xFFFFFFFF

// readInterfaces lists the host's interfaces and all their addresses
// through netlink (two dumps: links, then addresses of every family), in
// the calling thread's network namespace: the daemon's own, as it runs
// as a process of its namespace. It reads the kernel at the time of the
// request, not the loop's view of what it added, so the answer is what
// `ip addr` would print.
func readInterfaces() ([]api.Interface, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("netlink: list links: %w", err)
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("netlink: list addresses: %w", err)
	}
	byIndex := make(map[int]int, len(links))
	out := make([]api.Interface, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		ifc := api.Interface{Name: a.Name, Index: a.Index, Up: a.Flags&net.FlagUp != 0, OperState: a.OperState.String(), Addrs: []api.Address{}}
		if len(a.HardwareAddr) == 6 {
			ifc.MAC = a.HardwareAddr.String()
		}
		byIndex[a.Index] = len(out)
		out = append(out, ifc)
	}
	for _, ad := range addrs {
		i, ok := byIndex[ad.LinkIndex]
		if !ok || ad.IPNet == nil {
			continue // a link that appeared between the two dumps
		}
		ip, ok := netip.AddrFromSlice(ad.IP)
		if !ok {
			continue
		}
		bits, _ := ad.Mask.Size()
		p := netip.PrefixFrom(ip.Unmap(), bits)
		if !p.IsValid() {
			continue
		}
		out[i].Addrs = append(out[i].Addrs, apiAddress(p, ad))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// apiAddress converts one netlink address.
func apiAddress(p netip.Prefix, ad netlink.Addr) api.Address {
	out := api.Address{Prefix: p.String()}
	for _, f := range addrFlags {
		if ad.Flags&f.bit != 0 {
			out.Flags = append(out.Flags, f.name)
		}
	}
	out.ValidSeconds = lifetime(ad.ValidLft)
	out.PreferredSeconds = lifetime(ad.PreferedLft)
	return out
}

// lifetime is a remaining lifetime in seconds, nil for forever.
func lifetime(lft int) *uint32 {
	v := uint32(lft)
	if v == forever {
		return nil
	}
	return &v
}
