//go:build linux

package resolve_test

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

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/resolve"
	"github.com/miekg/dns"
)

// servfailServer answers every query with SERVFAIL, from the lab's
// operator namespace: dnsmasq forwards broken.test to it and relays the
// failure, as a recursive server relays a broken upstream zone.
func servfailServer(t *testing.T, l *netlab.Lab, addr string) {
	var pc net.PacketConn
	err := l.Operator.Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp", addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeServerFailure)
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
}

// startDnsmasq serves the test zone from node1 on port 53.
func startDnsmasq(t *testing.T, l *netlab.Lab, upstream string) string {
	h := l.Node(1)
	p, err := h.Start("dnsmasq", "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
		"--listen-address="+h.Addr4.String(), "--port=53", "--bind-interfaces", "--user=root",
		"--pid-file="+filepath.Join(h.Dir, "dnsmasq.pid"), "--log-queries",
		"--local=/example.test/", "--local=/other.test/",
		"--host-record=vip-prod-a.example.test,10.77.0.100,fd77::100",
		"--host-record=v4only.example.test,10.77.0.101",
		"--cname=vip-prod.example.test,vip-prod-a.example.test",
		"--cname=vip.example.test,vip-prod.example.test",
		"--txt-record=txt.example.test,only text",
		"--server=/broken.test/"+strings.Replace(upstream, ":", "#", 1),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(2 * time.Second) })
	server := h.Addr4.String() + ":53"
	// dnsmasq is ready when it answers; poll at most 5 s.
	r := &resolve.Resolver{HostsFile: "none", ResolvConf: "/nonexistent", Servers: []string{server}, Dialer: l.Operator.Dial, Timeout: 200 * time.Millisecond, Attempts: 1}
	for i := 0; ; i++ {
		if _, err := r.Resolve(context.Background(), "v4only.example.test"); err == nil {
			break
		} else if i == 25 {
			log, _ := os.ReadFile(p.Log)
			t.Fatalf("dnsmasq not answering: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return server
}

func TestE2EDnsmasq(t *testing.T) {
	labtest.Require(t, "dnsmasq")
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	upstream := l.Operator.Addr4.String() + ":5353"
	servfailServer(t, l, upstream)
	server := startDnsmasq(t, l, upstream)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	write := func(text string) {
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("nameserver " + l.Node(1).Addr4.String() + "\nsearch other.test example.test\noptions timeout:1 attempts:1\n")
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n10.77.0.200 pinned.example.test pinned\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &resolve.Resolver{HostsFile: hosts, ResolvConf: conf, Dialer: l.Operator.Dial}

	t.Run("CNAMEChain", func(t *testing.T) {
		res, err := r.Resolve(ctx, "vip.example.test")
		if err != nil {
			t.Fatal(err)
		}
		want := []resolve.Alias{
			{Name: "vip.example.test", Target: "vip-prod.example.test"},
			{Name: "vip-prod.example.test", Target: "vip-prod-a.example.test"},
		}
		if !reflect.DeepEqual(res.Chain, want) {
			t.Errorf("chain %v", res.Chain)
		}
		if got := res.Chain[0].String(); got != "vip.example.test is an alias for vip-prod.example.test" {
			t.Errorf("alias line %q", got)
		}
		wantAddrs := []netip.Addr{netip.MustParseAddr("10.77.0.100"), netip.MustParseAddr("fd77::100")}
		if !reflect.DeepEqual(res.Addrs, wantAddrs) || res.Canonical != "vip-prod-a.example.test" {
			t.Errorf("addrs %v canonical %s", res.Addrs, res.Canonical)
		}
		if res.Source.Kind != resolve.SourceDNS || res.Source.Server != server || res.Source.String() != "DNS server "+server {
			t.Errorf("source %+v", res.Source)
		}
	})

	t.Run("SearchDomains", func(t *testing.T) {
		// "vip" has fewer dots than ndots (1): the search list first.
		res, err := r.Resolve(ctx, "vip")
		if err != nil || res.Name != "vip.example.test" || len(res.Addrs) != 2 {
			t.Fatalf("vip: %+v %v", res, err)
		}
		// A name with enough dots is tried as it is first, then searched.
		_, err = r.Resolve(ctx, "nope.example.test")
		var re *resolve.Error
		if !errors.As(err, &re) || !errors.Is(err, resolve.ErrNXDomain) {
			t.Fatalf("nope: %v", err)
		}
		if want := []string{"nope.example.test.", "nope.example.test.other.test.", "nope.example.test.example.test."}; !reflect.DeepEqual(re.Tried, want) {
			t.Errorf("tried %v, want %v", re.Tried, want)
		}
		// A trailing dot: exactly that name.
		if _, err := r.Resolve(ctx, "vip."); !errors.As(err, &re) || !reflect.DeepEqual(re.Tried, []string{"vip."}) {
			t.Errorf("vip.: %v", err)
		}
	})

	t.Run("HostsFileFirst", func(t *testing.T) {
		res, err := r.Resolve(ctx, "pinned")
		if err != nil || res.Source.Kind != resolve.SourceHosts || res.Source.String() != hosts+":2" || res.Canonical != "pinned.example.test" {
			t.Fatalf("pinned: %+v %v", res, err)
		}
		if len(res.Addrs) != 1 || res.Addrs[0] != netip.MustParseAddr("10.77.0.200") {
			t.Errorf("addrs %v", res.Addrs)
		}
	})

	t.Run("Literal", func(t *testing.T) {
		res, err := r.Resolve(ctx, "[fd77::100]")
		if err != nil || res.Source.Kind != resolve.SourceLiteral || res.Addrs[0] != netip.MustParseAddr("fd77::100") {
			t.Errorf("%+v %v", res, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		rr := &resolve.Resolver{HostsFile: "none", ResolvConf: conf, Servers: []string{server}, Dialer: l.Operator.Dial}
		tests := []struct {
			name string
			want error
			msg  string
		}{
			{"nx.example.test.", resolve.ErrNXDomain, "nx.example.test.: no such host (from " + server + ")"},
			{"txt.example.test.", resolve.ErrNoAddress, "txt.example.test.: no A or AAAA records (from " + server + ")"},
			{"x.broken.test.", resolve.ErrServFail, "x.broken.test.: server failure (SERVFAIL) (from " + server + ")"},
			{"outside.invalid.", resolve.ErrRefused, "outside.invalid.: query refused (REFUSED) (from " + server + ")"},
			{"bad name!", resolve.ErrBadName, "bad name!: not an IP address or a valid host name"},
		}
		for _, tt := range tests {
			start := time.Now()
			_, err := rr.Resolve(ctx, tt.name)
			if !errors.Is(err, tt.want) || err.Error() != tt.msg {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.msg)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: took %s", tt.name, d)
			}
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		// Nothing answers at .99 of the lab subnet: every query times out.
		rr := &resolve.Resolver{HostsFile: "none", ResolvConf: conf, Servers: []string{"10.77.0.99"}, Timeout: 300 * time.Millisecond, Attempts: 2, Dialer: l.Operator.Dial}
		start := time.Now()
		_, err := rr.Resolve(ctx, "vip")
		took := time.Since(start)
		if !errors.Is(err, resolve.ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
		if took < 500*time.Millisecond || took > 2*time.Second {
			t.Errorf("took %s; want two 300ms attempts, stopping at the first search candidate", took)
		}
		if want := "vip: DNS timeout: no answer from 10.77.0.99:53 (2 attempt(s) of 300ms per server; tried vip.other.test.)"; err.Error() != want {
			t.Errorf("message %q\nwant    %q", err, want)
		}
	})
}
