package resolve

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestParseHosts(t *testing.T) {
	h, err := ParseHosts(strings.NewReader(`# comment
127.0.0.1	localhost
::1     localhost ip6-localhost   # trailing comment
10.0.0.5 vip.example.com. vip   VIP-alias
10.0.0.6 vip.example.com
10.0.0.5 vip.example.com
fe80::1%eth0 linklocal
not-an-address foo
10.0.0.7
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		addrs []string
		lines []int
	}{
		{"localhost", []string{"127.0.0.1", "::1"}, []int{2, 3}},
		{"VIP.example.com.", []string{"10.0.0.5", "10.0.0.6"}, []int{4, 5}},
		{"vip-alias", []string{"10.0.0.5"}, []int{4}},
		{"linklocal", []string{"fe80::1%eth0"}, []int{7}},
		{"foo", nil, nil},
	}
	for _, tt := range tests {
		var addrs []string
		var lines []int
		for _, e := range h.Lookup(tt.name) {
			addrs = append(addrs, e.Addr.String())
			lines = append(lines, e.Line)
		}
		if !reflect.DeepEqual(addrs, tt.addrs) || !reflect.DeepEqual(lines, tt.lines) {
			t.Errorf("%s: %v at %v, want %v at %v", tt.name, addrs, lines, tt.addrs, tt.lines)
		}
	}
	if c := h.Lookup("vip")[0].Canonical; c != "vip.example.com" {
		t.Errorf("canonical of vip = %q", c)
	}
}

func TestParseResolvConf(t *testing.T) {
	c, err := ParseResolvConf(strings.NewReader(`# generated
domain corp.example
search a.example b.example.   # the last of domain/search wins
nameserver 192.0.2.53
nameserver fd00::53
nameserver fe80::1%eth0
nameserver 192.0.2.54     ; a fourth is ignored (MAXNS 3)
nameserver bogus
options ndots:3 timeout:2 attempts:4 rotate edns0
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &ResolvConf{
		Servers: []string{"192.0.2.53:53", "[fd00::53]:53", "[fe80::1%eth0]:53"},
		Search:  []string{"a.example.", "b.example."},
		Ndots:   3, Timeout: 2 * time.Second, Attempts: 4,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	d, _ := ParseResolvConf(strings.NewReader("search x.example\ndomain y.example\noptions ndots:99 timeout:0\n"))
	if !reflect.DeepEqual(d.Search, []string{"y.example."}) || d.Ndots != 15 || d.Timeout != DefaultTimeout || d.Attempts != DefaultAttempts {
		t.Errorf("domain after search / clamping: %+v", d)
	}
}

func TestServerAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1:53", "192.0.2.1:5353": "192.0.2.1:5353",
		"fd00::1": "[fd00::1]:53", "[fd00::1]:54": "[fd00::1]:54", "dns.example:53": "dns.example:53",
		"dns.example": "", "192.0.2.1:99999": "",
	} {
		got, ok := ServerAddr(in)
		if got != want || ok != (want != "") {
			t.Errorf("ServerAddr(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestCandidates(t *testing.T) {
	search := []string{"a.example.", "b.example."}
	tests := []struct {
		name  string
		ndots int
		want  []string
	}{
		{"vip", 1, []string{"vip.a.example.", "vip.b.example.", "vip."}},
		{"vip.prod", 1, []string{"vip.prod.", "vip.prod.a.example.", "vip.prod.b.example."}},
		{"vip.prod", 2, []string{"vip.prod.a.example.", "vip.prod.b.example.", "vip.prod."}},
		{"vip.example.com.", 5, []string{"vip.example.com."}},
	}
	for _, tt := range tests {
		if got := Candidates(tt.name, search, tt.ndots); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Candidates(%q, ndots %d) = %v, want %v", tt.name, tt.ndots, got, tt.want)
		}
	}
	if got := Candidates("vip", nil, 1); !reflect.DeepEqual(got, []string{"vip."}) {
		t.Errorf("no search list: %v", got)
	}
}

func TestLiterals(t *testing.T) {
	r := &Resolver{HostsFile: "none", ResolvConf: "/nonexistent", Servers: []string{"192.0.2.1"}}
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", " fd00::1 ": "fd00::1", "[fd00::1]": "fd00::1", "fe80::1%eth0": "fe80::1%eth0",
	} {
		res, err := r.Resolve(context.Background(), in)
		if err != nil || len(res.Addrs) != 1 || res.Addrs[0].String() != want || res.Source.Kind != SourceLiteral {
			t.Errorf("%q: %+v %v", in, res, err)
		}
	}
	for _, bad := range []string{"", "a b", ".lead", "a..b", "http://x"} {
		if _, err := r.Resolve(context.Background(), bad); !errors.Is(err, ErrBadName) {
			t.Errorf("%q: err = %v, want ErrBadName", bad, err)
		}
	}
}

func TestHostsFileSource(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(f, []byte("10.0.0.9 web\n::ffff:10.0.0.10 web\nfd00::9 web\n"), 0o644)
	r := &Resolver{HostsFile: f, ResolvConf: "/nonexistent"}
	res, err := r.Resolve(context.Background(), "WEB")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("10.0.0.10"), netip.MustParseAddr("fd00::9")}
	if !reflect.DeepEqual(res.Addrs, want) || res.Source.String() != f+":1" {
		t.Errorf("got %v from %s", res.Addrs, res.Source)
	}
}

// A server that stops at a CNAME (as an authoritative server does for an
// out-of-zone target) makes the resolver ask for the target itself. The
// server is miekg/dns on a loopback socket: no root needed.
func TestChaseCNAMEAcrossQueries(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback UDP:", err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		switch {
		case q.Name == "a.test." && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR("a.test. 60 IN CNAME b.other.")
			m.Answer = append(m.Answer, rr)
		case q.Name == "b.other." && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR("b.other. 60 IN A 192.0.2.7")
			m.Answer = append(m.Answer, rr)
		case q.Name == "loop.test.":
			rr, _ := dns.NewRR("loop.test. 60 IN CNAME loop.test.")
			m.Answer = append(m.Answer, rr)
		case q.Name == "a.test." || q.Name == "b.other.":
			soa, _ := dns.NewRR(". 60 IN SOA ns. host. 1 2 3 4 5")
			m.Ns = append(m.Ns, soa)
		default:
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()

	r := &Resolver{HostsFile: "none", ResolvConf: "/nonexistent", Servers: []string{pc.LocalAddr().String()}, Timeout: time.Second}
	res, err := r.Resolve(context.Background(), "a.test.")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Chain) != 1 || res.Chain[0].String() != "a.test is an alias for b.other" || res.Addrs[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("got %+v", res)
	}
	start := time.Now()
	if _, err := r.Resolve(context.Background(), "loop.test."); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("CNAME loop: err = %v after %s", err, time.Since(start))
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Name: "vip", Err: ErrNXDomain, Server: "192.0.2.53:53", Tried: []string{"vip.a.example.", "vip."}}
	if got, want := e.Error(), "vip: no such host (from 192.0.2.53:53; tried vip.a.example., vip.)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !errors.Is(e, ErrNXDomain) {
		t.Error("errors.Is(ErrNXDomain) = false")
	}
}
