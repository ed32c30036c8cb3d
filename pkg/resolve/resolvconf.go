package resolve

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults of resolv.conf(5) and glibc.
const (
	DefaultNdots    = 1
	DefaultTimeout  = 5 * time.Second
	DefaultAttempts = 2
	maxNameservers  = 3 // glibc's MAXNS: later nameserver lines are ignored
	maxNdots        = 15
)

// ResolvConf is what hactl uses of resolv.conf.
type ResolvConf struct {
	// Servers are "addr:port" strings, in file order (at most 3).
	Servers []string
	// Search is the search list ("search" or "domain", the last line
	// wins), as fully qualified names.
	Search []string
	// Ndots, Timeout and Attempts come from "options".
	Ndots    int
	Timeout  time.Duration
	Attempts int
}

// DefaultResolvConf is what glibc assumes without a resolv.conf: the local
// server, no search list.
func DefaultResolvConf() *ResolvConf {
	return &ResolvConf{Servers: []string{"127.0.0.1:53", "[::1]:53"}, Ndots: DefaultNdots, Timeout: DefaultTimeout, Attempts: DefaultAttempts}
}

// ParseResolvConf reads resolv.conf syntax. Unknown keywords and options
// are ignored, as glibc ignores them; a malformed nameserver is skipped.
func ParseResolvConf(r io.Reader) (*ResolvConf, error) {
	c := &ResolvConf{Ndots: DefaultNdots, Timeout: DefaultTimeout, Attempts: DefaultAttempts}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if s, ok := ServerAddr(f[1]); ok && len(c.Servers) < maxNameservers {
				c.Servers = append(c.Servers, s)
			}
		case "domain":
			c.Search = []string{fqdn(f[1])}
		case "search":
			c.Search = nil
			for _, d := range f[1:] {
				if d != "." {
					c.Search = append(c.Search, fqdn(d))
				}
			}
		case "options":
			for _, o := range f[1:] {
				k, v, _ := strings.Cut(o, ":")
				n, err := strconv.Atoi(v)
				switch {
				case err != nil || n < 0:
				case k == "ndots":
					c.Ndots = min(n, maxNdots)
				case k == "timeout" && n > 0:
					c.Timeout = time.Duration(min(n, 30)) * time.Second
				case k == "attempts" && n > 0:
					c.Attempts = min(n, 5)
				}
			}
		}
	}
	return c, sc.Err()
}

// ServerAddr normalises a DNS server argument ("192.0.2.53",
// "192.0.2.53:5353", "fd00::53", "[fd00::53]:53", "fe80::1%eth0") to
// "addr:port", port 53 by default.
func ServerAddr(s string) (string, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 53).String(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), true
	}
	// A host name with a port is left to the dialer.
	if host, port, err := net.SplitHostPort(s); err == nil && host != "" {
		if _, err := strconv.ParseUint(port, 10, 16); err == nil {
			return s, true
		}
	}
	return "", false
}
