package resolve

import (
	"bufio"
	"io"
	"net/netip"
	"strings"
)

// HostsEntry is one address of a name in a hosts file.
type HostsEntry struct {
	Addr netip.Addr
	// Line is the 1-based line number.
	Line int
	// Canonical is the first name on the line; the others are aliases.
	Canonical string
}

// Hosts is a parsed hosts file: lower-case names without a trailing dot,
// each with its entries in file order.
type Hosts map[string][]HostsEntry

// ParseHosts reads a hosts file (/etc/hosts syntax: an address, then names,
// # comments). Lines whose address does not parse are skipped, as glibc
// skips them.
func ParseHosts(r io.Reader) (Hosts, error) {
	h := Hosts{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		canonical := strings.TrimSuffix(f[1], ".")
		for _, name := range f[1:] {
			key := hostsKey(name)
			if key == "" {
				continue
			}
			dup := false
			for _, e := range h[key] {
				dup = dup || e.Addr == addr
			}
			if !dup {
				h[key] = append(h[key], HostsEntry{Addr: addr, Line: line, Canonical: canonical})
			}
		}
	}
	return h, sc.Err()
}

// Lookup returns the entries for name (case-insensitive, trailing dot
// ignored).
func (h Hosts) Lookup(name string) []HostsEntry { return h[hostsKey(name)] }

func hostsKey(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }
