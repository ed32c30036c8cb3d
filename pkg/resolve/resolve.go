package resolve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Default file locations.
const (
	DefaultHostsFile      = "/etc/hosts"
	DefaultResolvConfFile = "/etc/resolv.conf"
)

// Dialer opens a connection like net.Dialer.DialContext; tests and the lab
// pass netlab.Host.Dial to query from inside a network namespace.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// SourceKind says which source answered.
type SourceKind string

// The sources, in the order they are consulted.
const (
	SourceLiteral SourceKind = "literal"
	SourceHosts   SourceKind = "hosts"
	SourceDNS     SourceKind = "dns"
)

// Source is where a Result came from.
type Source struct {
	Kind SourceKind `json:"kind"`
	// File and Line locate a hosts-file answer (the first address's line).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Server is the DNS server ("addr:port") that answered.
	Server string `json:"server,omitempty"`
}

// String is "IP literal", "/etc/hosts:3" or "DNS server 192.0.2.53:53".
func (s Source) String() string {
	switch s.Kind {
	case SourceLiteral:
		return "IP literal"
	case SourceHosts:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return "DNS server " + s.Server
}

// Alias is one hop of a CNAME chain: Name is an alias for Target.
type Alias struct {
	Name   string `json:"name"`
	Target string `json:"target"`
}

// String reads as host(1) prints it.
func (a Alias) String() string { return a.Name + " is an alias for " + a.Target }

// Result is a resolved VIP argument.
type Result struct {
	// Query is the argument as given.
	Query string `json:"query"`
	// Name is the name that answered: the search-list expansion of Query
	// that had records, without the trailing dot ("" for a literal).
	Name string `json:"name,omitempty"`
	// Canonical is the end of the CNAME chain (Name when there is none).
	Canonical string `json:"canonical,omitempty"`
	// Chain is every CNAME hop, in order.
	Chain []Alias `json:"chain,omitempty"`
	// Addrs are the addresses: IPv4 (A) first, then IPv6 (AAAA), each in
	// the order answered, without duplicates.
	Addrs []netip.Addr `json:"addrs"`
	// Source is what answered.
	Source Source `json:"source"`
}

// Resolver resolves VIP arguments. The zero value uses /etc/hosts,
// /etc/resolv.conf and direct sockets.
type Resolver struct {
	// HostsFile is read before DNS (default /etc/hosts; "none" skips it).
	HostsFile string
	// ResolvConf gives nameservers, search list and options (default
	// /etc/resolv.conf; a missing file means glibc's defaults).
	ResolvConf string
	// Servers, when set, replace resolv.conf's nameservers (--dns-server);
	// the search list and options still come from resolv.conf. Each is an
	// address with an optional port (ServerAddr).
	Servers []string
	// Timeout is the wait for one answer from one server (default:
	// resolv.conf's timeout, 5 s). The whole lookup is also bounded by ctx.
	Timeout time.Duration
	// Attempts is how many rounds over the servers (default: resolv.conf's
	// attempts, 2).
	Attempts int
	// Dialer opens the UDP and TCP sockets (default: net.Dialer).
	Dialer Dialer
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Resolve turns arg into addresses: an IP literal (brackets and an IPv6
// zone allowed) as it is, else the hosts file, else DNS.
func (r *Resolver) Resolve(ctx context.Context, arg string) (*Result, error) {
	arg = strings.TrimSpace(arg)
	lit := strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]")
	if a, err := netip.ParseAddr(lit); err == nil {
		return &Result{Query: arg, Addrs: []netip.Addr{a}, Source: Source{Kind: SourceLiteral}}, nil
	}
	if _, ok := dns.IsDomainName(arg); !ok || arg == "" || strings.ContainsAny(arg, " \t/") || strings.HasPrefix(arg, ".") {
		return nil, &Error{Name: arg, Err: ErrBadName}
	}
	if res, err := r.fromHosts(arg); res != nil || err != nil {
		return res, err
	}
	conf, err := r.resolvConf()
	if err != nil {
		return nil, &Error{Name: arg, Err: err}
	}
	return r.lookupDNS(ctx, arg, conf)
}

func (r *Resolver) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// fromHosts answers from the hosts file: every address listed for the name
// (glibc's files backend with "multi on"), under the name as given; the
// search list does not apply to the hosts file.
func (r *Resolver) fromHosts(name string) (*Result, error) {
	path := r.HostsFile
	if path == "" {
		path = DefaultHostsFile
	}
	if path == "none" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Name: name, Err: err}
	}
	defer f.Close()
	hosts, err := ParseHosts(f)
	if err != nil {
		return nil, &Error{Name: name, Err: fmt.Errorf("%s: %w", path, err)}
	}
	entries := hosts.Lookup(name)
	if len(entries) == 0 {
		return nil, nil
	}
	res := &Result{Query: name, Name: strings.TrimSuffix(name, "."), Source: Source{Kind: SourceHosts, File: path, Line: entries[0].Line}}
	res.Canonical = entries[0].Canonical
	var v6 []netip.Addr
	for _, e := range entries {
		if e.Addr.Is4() || e.Addr.Is4In6() {
			res.Addrs = append(res.Addrs, e.Addr.Unmap())
		} else {
			v6 = append(v6, e.Addr)
		}
	}
	res.Addrs = append(res.Addrs, v6...)
	r.log().Debug("resolved from hosts file", "name", name, "file", path, "addrs", res.Addrs)
	return res, nil
}

// resolvConf reads the resolv.conf and applies the overrides.
func (r *Resolver) resolvConf() (*ResolvConf, error) {
	path := r.ResolvConf
	if path == "" {
		path = DefaultResolvConfFile
	}
	conf := DefaultResolvConf()
	f, err := os.Open(path)
	switch {
	case err == nil:
		conf, err = ParseResolvConf(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(conf.Servers) == 0 {
			conf.Servers = DefaultResolvConf().Servers
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if len(r.Servers) > 0 {
		conf.Servers = nil
		for _, s := range r.Servers {
			a, ok := ServerAddr(s)
			if !ok {
				return nil, fmt.Errorf("DNS server %q: want an IP address with an optional port", s)
			}
			conf.Servers = append(conf.Servers, a)
		}
	}
	if r.Timeout > 0 {
		conf.Timeout = r.Timeout
	}
	if r.Attempts > 0 {
		conf.Attempts = r.Attempts
	}
	if len(conf.Servers) == 0 {
		return nil, ErrNoServers
	}
	return conf, nil
}

// Candidates lists the fully qualified names res_search tries for name, in
// order: a name ending in "." only as it is; a name with at least ndots dots
// as it is, then with each search domain; a shorter one with each search
// domain, then as it is.
func Candidates(name string, search []string, ndots int) []string {
	if dns.IsFqdn(name) {
		return []string{name}
	}
	var out []string
	for _, d := range search {
		out = append(out, name+"."+d)
	}
	if strings.Count(name, ".") >= ndots {
		return append([]string{fqdn(name)}, out...)
	}
	return append(out, fqdn(name))
}

func fqdn(s string) string { return dns.Fqdn(s) }
