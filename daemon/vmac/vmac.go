package vmac

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// IFNAMSIZ-1: the longest interface name the kernel takes.
const maxNameLen = 15

// DefaultPrefix names the VMAC interfaces when vmac_prefix is not set.
const DefaultPrefix = "vrrp"

// DefaultMAC is RFC 5798's virtual router MAC of vrid: 00:00:5e:00:01:VRID
// for IPv4 (family 4), 00:00:5e:00:02:VRID for IPv6 (family 6).
func DefaultMAC(vrid uint8, family int) net.HardwareAddr {
	b := byte(1)
	if family == 6 {
		b = 2
	}
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, b, vrid}
}

// MAC is the VMAC's address: the one configured with use_vmac (with the
// VRID as its last octet when useVRID, five octets given), else
// DefaultMAC.
func MAC(configured string, useVRID bool, vrid uint8, family int) (net.HardwareAddr, error) {
	if configured == "" {
		return DefaultMAC(vrid, family), nil
	}
	hw, err := net.ParseMAC(configured)
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("vmac: invalid MAC address %q", configured)
	}
	if useVRID {
		hw[5] = vrid
	}
	return hw, nil
}

// Name is keepalived's create_vmac_name: PREFIX.VRID when no interface
// has that name (exists) and no other VMAC of ours takes it; otherwise
// PREFIXn.VRID for n = 1, 2, ... (IPv6 tries PREFIX6.VRID first and skips
// 6 after). The prefix is cut so that the name fits in 15 characters.
func Name(prefix string, vrid uint8, family int, exists func(string) bool) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	mk := func(num string) string {
		suffix := fmt.Sprintf("%s.%d", num, vrid)
		p := prefix
		if len(p)+len(suffix) > maxNameLen {
			p = p[:max(maxNameLen-len(suffix), 0)]
		}
		return p + suffix
	}
	name := mk("")
	for num := 0; exists(name) && num < 1000; {
		switch {
		case family == 6 && num == 0:
			num = 6
		case family == 6 && num == 6:
			num = 1
		default:
			num++
			if family == 6 && num == 6 {
				num++
			}
		}
		name = mk(fmt.Sprint(num))
	}
	return name
}

// Want is one VMAC interface the daemon needs.
type Want struct {
	// Name is the configured name (use_vmac NAME); empty asks for Name's.
	Name string
	// Prefix is the generated name's prefix (vmac_prefix, or
	// vmac_addr_prefix for a VIP's VMAC).
	Prefix string
	// Base is the interface the macvlan sits on.
	Base   string
	VRID   uint8
	Family int
	MAC    net.HardwareAddr
	// LinkLocal, when valid, is the IPv6 link-local address to put on the
	// VMAC: the adverts' source when they go out of it (IPv6 without
	// vmac_xmit_base).
	LinkLocal netip.Addr
	// IPv6 keeps IPv6 enabled on the VMAC: an IPv6 instance, or an IPv4
	// one with IPv6 VIPs on its VMAC. Otherwise disable_ipv6 is set.
	IPv6 bool
}

// Link is an interface as the kernel reports it: what Decide needs.
type Link struct {
	Name  string
	Index int
	// Macvlan: the link is a macvlan; Private: in private mode;
	// ParentIndex: its base interface.
	Macvlan     bool
	Private     bool
	ParentIndex int
	MAC         net.HardwareAddr
}

// Action is what Decide asks of the kernel.
type Action int

const (
	// Create a new macvlan.
	Create Action = iota
	// Reuse a macvlan that already is what we want (a crash's leftover,
	// or another daemon's: keepalived takes it as its own too).
	Reuse
	// Replace deletes a macvlan of the wanted name that is not what we
	// want (another base, MAC or mode) and creates ours.
	Replace
)

func (a Action) String() string {
	return [...]string{"create", "reuse", "replace"}[a]
}

// Decision is what to do for one Want.
type Decision struct {
	Action Action
	// Name is the interface's name: the configured or generated one, or
	// the existing interface's when reused.
	Name string
	// Index is the existing link reused or replaced.
	Index int
	// Why says, for the log, what was found.
	Why string
}

// Decide chooses as keepalived 2.2.7's vrrp_complete_instance and
// netlink_link_add_vmac do. A private-mode macvlan on the same base with
// the wanted MAC is reused whatever its name. A configured name that an
// existing macvlan has (another base, MAC or mode) is replaced; one that
// a non-macvlan interface has is not touched: the generated name is used
// instead. taken are names already chosen for other Wants.
func Decide(w Want, baseIndex int, links []Link, taken map[string]bool) Decision {
	for _, l := range links {
		if l.Macvlan && l.Private && l.ParentIndex == baseIndex && bytes.Equal(l.MAC, w.MAC) && !taken[l.Name] {
			return Decision{Action: Reuse, Name: l.Name, Index: l.Index, Why: "a macvlan with this MAC on " + w.Base + " exists already"}
		}
	}
	byName := map[string]Link{}
	for _, l := range links {
		byName[l.Name] = l
	}
	why := ""
	if w.Name != "" && !taken[w.Name] {
		l, ok := byName[w.Name]
		if !ok {
			return Decision{Action: Create, Name: w.Name}
		}
		if l.Macvlan {
			return Decision{Action: Replace, Name: w.Name, Index: l.Index, Why: "a macvlan of this name exists with another base, MAC or mode"}
		}
		why = fmt.Sprintf("interface %s exists and is not a macvlan: the configured name is ignored", w.Name)
	}
	name := Name(w.Prefix, w.VRID, w.Family, func(n string) bool { _, ok := byName[n]; return ok || taken[n] })
	return Decision{Action: Create, Name: name, Why: why}
}

// Sysctl is one /proc/sys setting: Path under /proc/sys.
type Sysctl struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// BaseSetting reports whether s is one BaseSysctls changes, with a value
// of one digit (as keepalived writes them): what a file of saved values
// may hold, whoever wrote it.
func BaseSetting(s Sysctl) bool {
	parts := strings.Split(s.Path, "/")
	return len(parts) == 5 && parts[0] == "net" && parts[1] == "ipv4" && parts[2] == "conf" &&
		parts[3] != "" && parts[3] != "." && parts[3] != ".." && len(parts[3]) <= maxNameLen &&
		(parts[4] == "arp_ignore" || parts[4] == "arp_filter") &&
		len(s.Value) == 1 && s.Value[0] >= '0' && s.Value[0] <= '9'
}

func conf(family, ifname, key, val string) Sysctl {
	return Sysctl{Path: "net/" + family + "/conf/" + ifname + "/" + key, Value: val}
}

// VMACSysctls are the settings of the VMAC itself, in order. IPv4
// (keepalived's vmac_sysctl): arp_ignore 1 (answer ARP only for its own
// addresses, the VIPs), accept_local 1, rp_filter 0, promote_secondaries
// 1. IPv6: arp_ignore 1 too, where keepalived sets nothing: without it an
// IPv6 VMAC, which hears every broadcast, answers ARP for the host's IPv4
// VIPs with its own MAC (00:00:5e:00:02:VRID, seen in a namespace). Both
// families: addr_gen_mode 1 (no EUI-64 link-local, RFC 5798 §7.4); with
// IPv6 router_solicitations 0 (keepalived drops the VMACs' router
// solicitations with an nftables rule: a backup's VMAC must send nothing
// that teaches the switches its MAC); then disable_ipv6 unless w.IPv6.
func VMACSysctls(name string, w Want) []Sysctl {
	var out []Sysctl
	if w.Family != 4 {
		out = append(out, conf("ipv4", name, "arp_ignore", "1"))
	} else {
		out = append(out,
			conf("ipv4", name, "arp_ignore", "1"),
			conf("ipv4", name, "accept_local", "1"),
			conf("ipv4", name, "rp_filter", "0"),
			conf("ipv4", name, "promote_secondaries", "1"))
	}
	out = append(out, conf("ipv6", name, "addr_gen_mode", "1"))
	dis := "1"
	if w.IPv6 {
		dis = "0"
		out = append(out, conf("ipv6", name, "router_solicitations", "0"))
	}
	return append(out, conf("ipv6", name, "disable_ipv6", dis))
}

// BaseSysctls are the base interface's settings under an IPv4 VMAC
// (keepalived's parent_sysctl): arp_ignore 1 and arp_filter 1, so that
// the base no longer answers ARP for the VIPs with its own MAC. They are
// restored when the base's last VMAC goes. An IPv6 VMAC changes nothing
// on its base.
func BaseSysctls(base string, family int) []Sysctl {
	if family != 4 {
		return nil
	}
	return []Sysctl{conf("ipv4", base, "arp_ignore", "1"), conf("ipv4", base, "arp_filter", "1")}
}

// LinkLocalFrom is keepalived's make_link_local_address: fe80::/64 with
// the EUI-64 of mac (the base interface's), for a VMAC whose base has no
// link-local address to copy.
func LinkLocalFrom(mac net.HardwareAddr) netip.Addr {
	if len(mac) != 6 {
		return netip.Addr{}
	}
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15] = mac[0]^2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]
	return netip.AddrFrom16(b)
}
