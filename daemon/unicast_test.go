package daemon

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/vrrp"
)

// uniInstance is vrrpInstance sending unicast from src to peer (a
// unicast_peer line, options included), with extra lines.
func uniInstance(prio int, src, peer string, extra ...string) string {
	return strings.Replace(vrrpInstance("VI_1", 51, prio, src, append([]string{"unicast_peer {\n        " + peer + "\n    }"}, extra...)...),
		"mcast_src_ip", "unicast_src_ip", 1)
}

// injectUnicast puts an advert from src to dst with the given TTL on n's
// IPv4 eth0 socket.
func (n *node) injectUnicast(t *testing.T, src, dst netip.Addr, ttl int, a vrrp.Advertisement) {
	t.Helper()
	b, err := a.Marshal(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	n.deliverPacket(n.conns[sockKey{ifname: "eth0", family: 4}].s, vrrpsock.Packet{Payload: b, Src: src, Dst: dst, TTL: ttl})
}

// TestLoopUnicastFaultNoPeer: unicast_fault_no_peer with an empty
// unicast_peer list keeps the instance in FAULT for good (keepalived's
// config fault): no advert is sent, to the group or anywhere, no VIP is
// added, and a peer's adverts do not move it.
func TestLoopUnicastFaultNoPeer(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201", "unicast_fault_no_peer"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202"))
	cl.advance(10 * time.Second)
	if st := a.state("VI_1"); st != vrrp.Fault {
		t.Fatalf("a: %v, want FAULT", st)
	}
	if st := b.state("VI_1"); st != vrrp.Master {
		t.Errorf("b: %v, want MASTER (a never advertises)", st)
	}
	for _, s := range cl.sent {
		if s.from == "a" {
			t.Fatalf("a sent an advert to %v while in FAULT", s.dst)
		}
	}
	if a.vips.holds(vipOf(51)) || a.vips.added != 0 {
		t.Errorf("a holds its VIP (%d added)", a.vips.added)
	}
	// Without the keyword the same instance falls back to multicast and
	// runs: the deprecated keepalived behaviour.
	cl2, c, _ := pair(t)
	c.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201", "check_unicast_src"))
	cl2.advance(10 * time.Second)
	if st := c.state("VI_1"); st != vrrp.Master {
		t.Errorf("check_unicast_src without peers: %v, want MASTER over multicast", st)
	}
}

// TestLoopUnicastPeerTTL: min_ttl/max_ttl bound the TTL of a peer's
// adverts; one outside the range is dropped as ttl_range before it reaches
// the machine, one inside is heard. An unknown TTL (no control message)
// passes, as in keepalived.
func TestLoopUnicastPeerTTL(t *testing.T) {
	cl, a, b := pair(t)
	a.start(uniInstance(200, "10.0.0.201", "10.0.0.202"))
	b.start(uniInstance(100, "10.0.0.202", "10.0.0.201 min_ttl 250 max_ttl 254"))
	cl.advance(10 * time.Second)
	// a's own adverts arrive with TTL 255: outside b's range, so b
	// hears nothing and is master too.
	if b.r.drops["ttl_range"] == 0 || b.state("VI_1") != vrrp.Master {
		t.Fatalf("TTL 255 against [250, 254]: drops %v, b %v", b.r.drops, b.state("VI_1"))
	}
	a.stop()
	cl.advance(time.Second)
	peer, self := netip.MustParseAddr("10.0.0.201"), netip.MustParseAddr("10.0.0.202")
	before := b.r.drops["ttl_range"]
	for _, ttl := range []int{64, 249, 255} {
		b.injectUnicast(t, peer, self, ttl, foreignAdvert(t, 51, 250, strings.TrimSuffix(vipOf(51), "/24")))
	}
	cl.settle()
	if got := b.r.drops["ttl_range"] - before; got != 3 || b.state("VI_1") != vrrp.Master {
		t.Fatalf("TTLs 64, 249, 255: %d ttl_range drops, b %v; want 3, MASTER", got, b.state("VI_1"))
	}
	b.injectUnicast(t, peer, self, 250, foreignAdvert(t, 51, 250, strings.TrimSuffix(vipOf(51), "/24")))
	cl.settle()
	if b.state("VI_1") != vrrp.Backup {
		t.Errorf("TTL 250, priority 250: b %v, want BACKUP", b.state("VI_1"))
	}
	cl.advance(5 * time.Second)
	b.injectUnicast(t, peer, self, -1, foreignAdvert(t, 51, 250, strings.TrimSuffix(vipOf(51), "/24")))
	cl.settle()
	if b.state("VI_1") != vrrp.Backup {
		t.Errorf("unknown TTL: b %v, want BACKUP", b.state("VI_1"))
	}
}

// TestLoopCheckUnicastSrc: with or without check_unicast_src an advert
// from a source that is not a unicast peer is dropped (unknown_peer):
// hactl's deliberate difference from keepalived, which accepts it
// without check_unicast_src.
func TestLoopCheckUnicastSrc(t *testing.T) {
	for _, extra := range [][]string{nil, {"check_unicast_src"}} {
		cl, _, b := pair(t)
		b.start(uniInstance(100, "10.0.0.202", "10.0.0.201", extra...))
		cl.advance(5 * time.Second)
		b.injectUnicast(t, netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("10.0.0.202"), 255,
			foreignAdvert(t, 51, 250, strings.TrimSuffix(vipOf(51), "/24")))
		cl.settle()
		if b.r.drops["unknown_peer"] != 1 || b.state("VI_1") != vrrp.Master {
			t.Errorf("%v: drops %v, b %v; want unknown_peer 1, MASTER", extra, b.r.drops, b.state("VI_1"))
		}
	}
}

// TestLoopUnicastTTL: unicast_ttl is the TTL of a unicast instance's
// adverts (255 without it), and a peer whose min_ttl/max_ttl admits it
// hears them: with unicast_ttl 250 and [250, 254] the pair elects one
// master, where TestLoopUnicastPeerTTL's 255 made two.
func TestLoopUnicastTTL(t *testing.T) {
	cl, a, b := pair(t)
	a.start(uniInstance(200, "10.0.0.201", "10.0.0.202", "unicast_ttl 250"))
	b.start(uniInstance(100, "10.0.0.202", "10.0.0.201 min_ttl 250 max_ttl 254"))
	cl.advance(10 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	if b.r.drops["ttl_range"] != 0 {
		t.Errorf("b dropped %v", b.r.drops)
	}
	for _, s := range cl.sent {
		if want := map[string]int{"a": 250, "b": 255}[s.from]; s.ttl != want {
			t.Fatalf("%s sent TTL %d, want %d", s.from, s.ttl, want)
		}
	}
}
