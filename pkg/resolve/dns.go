package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxChase bounds the CNAME hops followed, in one answer and across
// queries, so a CNAME loop ends.
const maxChase = 10

// qresult is the outcome of one query type for one name, CNAMEs followed.
type qresult struct {
	chain  []Alias
	addrs  []netip.Addr
	final  string // last name of the chain
	rcode  int
	server string
	err    error // transport error (timeout, refused socket...)
}

// lookupDNS tries the search-list candidates in order, the first with
// addresses wins. NXDOMAIN, no data, SERVFAIL and REFUSED move on to the
// next candidate, as res_search does; a timeout stops, since the same
// servers would be asked again.
func (r *Resolver) lookupDNS(ctx context.Context, arg string, conf *ResolvConf) (*Result, error) {
	cands := Candidates(arg, conf.Search, conf.Ndots)
	var errs []*Error
	var tried []string
	for _, name := range cands {
		tried = append(tried, name)
		res, err := r.lookupName(ctx, name, conf)
		if err == nil {
			res.Query = arg
			return res, nil
		}
		err.Name = arg
		errs = append(errs, err)
		if errors.Is(err, ErrTimeout) || ctx.Err() != nil {
			break
		}
	}
	// The most telling failure wins, as glibc prefers "no data" and
	// "try again" over "not found".
	best := errs[0]
	for _, kind := range []error{ErrNoAddress, ErrServFail, ErrRefused, ErrTimeout} {
		if e := firstOf(errs, kind); e != nil {
			best = e
			break
		}
	}
	best.Tried = tried
	return nil, best
}

func firstOf(errs []*Error, kind error) *Error {
	for _, e := range errs {
		if errors.Is(e, kind) {
			return e
		}
	}
	return nil
}

// lookupName asks for A and AAAA of one fully qualified name, at once.
func (r *Resolver) lookupName(ctx context.Context, name string, conf *ResolvConf) (*Result, *Error) {
	ch := make(chan qresult, 1)
	go func() { ch <- r.query(ctx, conf, name, dns.TypeAAAA) }()
	a := r.query(ctx, conf, name, dns.TypeA)
	aaaa := <-ch

	if len(a.addrs)+len(aaaa.addrs) > 0 {
		res := &Result{Name: strings.TrimSuffix(name, "."), Chain: a.chain, Canonical: trimDot(a.final), Source: Source{Kind: SourceDNS, Server: a.server}}
		if len(aaaa.chain) > len(a.chain) {
			res.Chain, res.Canonical = aaaa.chain, trimDot(aaaa.final)
		}
		if len(a.addrs) == 0 {
			res.Source.Server = aaaa.server
		}
		res.Addrs = dedupe(append(a.addrs, aaaa.addrs...))
		for _, q := range []qresult{a, aaaa} {
			if q.err != nil || q.rcode != dns.RcodeSuccess {
				r.log().Warn("partial DNS answer", "name", name, "server", q.server, "rcode", dns.RcodeToString[q.rcode], "err", q.err)
			}
		}
		return res, nil
	}
	detail := ""
	if len(a.chain) > 0 {
		detail = fmt.Sprintf("%s is an alias for %s", trimDot(name), trimDot(a.final))
	}
	switch {
	case a.rcode == dns.RcodeNameError:
		return nil, &Error{Err: ErrNXDomain, Server: a.server, Detail: detail}
	case aaaa.rcode == dns.RcodeNameError:
		return nil, &Error{Err: ErrNXDomain, Server: aaaa.server, Detail: detail}
	case a.err == nil && aaaa.err == nil && a.rcode == dns.RcodeSuccess && aaaa.rcode == dns.RcodeSuccess:
		return nil, &Error{Err: ErrNoAddress, Server: a.server, Detail: detail}
	}
	for _, q := range []qresult{a, aaaa} {
		switch {
		case q.err != nil:
			return nil, &Error{Err: q.err, Detail: fmt.Sprintf("%d attempt(s) of %s per server", conf.Attempts, conf.Timeout)}
		case q.rcode == dns.RcodeServerFailure:
			return nil, &Error{Err: ErrServFail, Server: q.server}
		case q.rcode != dns.RcodeSuccess:
			return nil, &Error{Err: fmt.Errorf("%w (%s)", ErrRefused, dns.RcodeToString[q.rcode]), Server: q.server}
		}
	}
	return nil, &Error{Err: ErrNoAddress}
}

// query asks for one type, following CNAMEs through the answer and, when a
// server stops at a CNAME without the target's records (and without the
// SOA that marks "no data"), with a new query for the target.
func (r *Resolver) query(ctx context.Context, conf *ResolvConf, name string, qtype uint16) qresult {
	var q qresult
	cur := name
	for range maxChase {
		msg, server, err := r.exchange(ctx, conf, cur, qtype)
		q.server = server
		if err != nil {
			q.err = err
			return q
		}
		q.rcode = msg.Rcode
		if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
			return q
		}
		next, chain, addrs := walk(msg.Answer, cur, qtype)
		q.chain = append(q.chain, chain...)
		q.addrs = append(q.addrs, addrs...)
		q.final = next
		if len(q.chain) > maxChase {
			q.rcode, q.err = dns.RcodeServerFailure, fmt.Errorf("CNAME chain longer than %d hops", maxChase)
			return q
		}
		if msg.Rcode == dns.RcodeNameError || len(addrs) > 0 || len(chain) == 0 || hasSOA(msg.Ns) {
			return q
		}
		cur = next
	}
	return q
}

// walk follows the CNAMEs from name through an answer section and returns
// the final name, the hops and that name's addresses of type qtype.
func walk(answer []dns.RR, name string, qtype uint16) (string, []Alias, []netip.Addr) {
	cur := name
	var chain []Alias
	for range len(answer) {
		found := false
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				chain = append(chain, Alias{Name: trimDot(cur), Target: trimDot(c.Target)})
				cur, found = c.Target, true
				break
			}
		}
		if !found || len(chain) > maxChase {
			break
		}
	}
	var addrs []netip.Addr
	for _, rr := range answer {
		if !strings.EqualFold(rr.Header().Name, cur) || rr.Header().Rrtype != qtype {
			continue
		}
		var ip net.IP
		switch v := rr.(type) {
		case *dns.A:
			ip = v.A
		case *dns.AAAA:
			ip = v.AAAA
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			if qtype == dns.TypeA {
				a = a.Unmap()
			}
			addrs = append(addrs, a)
		}
	}
	return cur, chain, addrs
}

func hasSOA(ns []dns.RR) bool {
	for _, rr := range ns {
		if _, ok := rr.(*dns.SOA); ok {
			return true
		}
	}
	return false
}

// exchange sends one question to the servers in turn, for conf.Attempts
// rounds. SERVFAIL, REFUSED and NOTIMP move on to the next server, as
// glibc's res_send does; a round in which every server answered (with a
// failure) is not repeated.
func (r *Resolver) exchange(ctx context.Context, conf *ResolvConf, name string, qtype uint16) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	var failed *dns.Msg
	var failedServer, errServer string
	var lastErr error
	for range conf.Attempts {
		answered := 0
		for _, s := range conf.Servers {
			if ctx.Err() != nil {
				return nil, s, &netError{kind: ErrTimeout, cause: ctx.Err()}
			}
			resp, err := r.exchangeOne(ctx, s, m, conf.Timeout)
			if err == nil && resp.Rcode == dns.RcodeFormatError && m.IsEdns0() != nil {
				// An old server without EDNS: ask again plainly.
				plain := m.Copy()
				plain.Extra = nil
				resp, err = r.exchangeOne(ctx, s, plain, conf.Timeout)
			}
			if err != nil {
				r.log().Debug("DNS query failed", "server", s, "name", name, "type", dns.TypeToString[qtype], "err", err)
				lastErr, errServer = err, s
				continue
			}
			answered++
			switch resp.Rcode {
			case dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeNotImplemented, dns.RcodeFormatError:
				failed, failedServer = resp, s
				continue
			}
			return resp, s, nil
		}
		if answered == len(conf.Servers) {
			break
		}
	}
	if failed != nil {
		return failed, failedServer, nil
	}
	return nil, errServer, classify(errServer, lastErr)
}

// classify marks timeouts with ErrTimeout; other errors name the server.
func classify(server string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &netError{kind: ErrTimeout, cause: fmt.Errorf("no answer from %s", server)}
	}
	return fmt.Errorf("asking %s: %w", server, err)
}

// exchangeOne asks one server over UDP, and over TCP when the answer is
// truncated.
func (r *Resolver) exchangeOne(ctx context.Context, server string, m *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	resp, err := r.exchangeNet(ctx, "udp", server, m, timeout)
	if err == nil && resp.Truncated {
		return r.exchangeNet(ctx, "tcp", server, m, timeout)
	}
	return resp, err
}

func (r *Resolver) exchangeNet(ctx context.Context, network, server string, m *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := r.Dialer
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := &dns.Client{Net: network, Timeout: timeout}
	resp, _, err := c.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: conn})
	return resp, err
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

func dedupe(addrs []netip.Addr) []netip.Addr {
	seen := map[netip.Addr]bool{}
	out := addrs[:0:0]
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
