package daemon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/vrrp"
)

// ahAuth is the authentication block of the AH loop tests.
func ahAuth(key string) string {
	return "authentication {\n        auth_type AH\n        auth_pass " + key + "\n    }"
}

// injectAH puts an AH advert from src (keyed with key, sequence number
// seq) on n's AH socket of eth0.
func (n *node) injectAH(t *testing.T, key string, src netip.Addr, prio uint8, seq uint32, mangle func(pkt []byte)) {
	t.Helper()
	a := vrrp.Advertisement{Version: vrrp.Version2, VRID: 1, Priority: prio, Interval: time.Second, AuthType: vrrp.AuthAH}
	if err := a.SetAddrs(netip.MustParseAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	msg, err := a.Append(nil, src, vrrpsock.Group4)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := vrrp.AHKey(key)
	pkt, err := vrrp.NewAHAuth(k).Append(nil, msg, vrrp.AHPacket{Src: src, Dst: vrrpsock.Group4, ID: uint16(seq), TTL: 255, Seq: seq})
	if err != nil {
		t.Fatal(err)
	}
	if mangle != nil {
		mangle(pkt)
	}
	hdr, body, _, err := vrrp.SplitAH(pkt)
	if err != nil {
		t.Fatal(err)
	}
	s := n.conns[sockKey{ifname: "eth0", family: 4, ah: true}].s
	n.deliverPacket(s, vrrpsock.Packet{Header: hdr, Payload: body, Src: src, Dst: vrrpsock.Group4, TTL: 255})
	n.cl.settle()
}

// ahSent is the AH sequence numbers of the adverts from, in order.
func (cl *cluster) ahSent(from string) []uint32 {
	var out []uint32
	for _, s := range cl.sent {
		if s.from == from {
			out = append(out, s.ahSeq)
		}
	}
	return out
}

// TestAHSequenceCarriesOverHandover: the backup takes the master's
// sequence numbers, and on taking over continues above them, so that
// the numbers on the segment only grow (keepalived's shared counter).
func TestAHSequenceCarriesOverHandover(t *testing.T) {
	cl, a, b := pair(t)
	a.start(vrrpInstance("VI_1", 1, 200, "10.0.0.201", ahAuth("k3y")))
	b.start(vrrpInstance("VI_1", 1, 100, "10.0.0.202", ahAuth("k3y")))
	cl.advance(6 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master, b: vrrp.Backup})
	seqA := cl.ahSent("a")
	if len(seqA) < 3 || seqA[0] != 1 {
		t.Fatalf("a sent sequence numbers %v, want 1, 2, 3...", seqA)
	}
	if got := b.in("VI_1").ah.ctr.Seq; got != seqA[len(seqA)-1] {
		t.Errorf("b's counter %d, want a's last %d", got, seqA[len(seqA)-1])
	}
	if d := b.r.drops; len(d) != 0 {
		t.Errorf("b dropped %v", d)
	}
	last := seqA[len(seqA)-1]
	a.stop() // a priority-0 advert, AH too
	cl.advance(3 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{b: vrrp.Master})
	seqA = cl.ahSent("a")
	if len(seqA) == 0 || seqA[len(seqA)-1] != last+1 {
		t.Fatalf("a's resignation carried %v, want %d last", seqA, last+1)
	}
	seqB := cl.ahSent("b")
	if len(seqB) < 2 || seqB[0] != last+2 {
		t.Fatalf("b as master sent %v, want to start at %d (above a's resignation)", seqB, last+2)
	}
	for i := 1; i < len(seqB); i++ {
		if seqB[i] != seqB[i-1]+1 {
			t.Fatalf("b's sequence numbers %v are not consecutive", seqB)
		}
	}
}

// TestAHDropsPerReason: replays, wrong keys and AH for another protocol
// are dropped and counted by reason; a valid advert moves the counter.
func TestAHDropsPerReason(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	a.start(vrrpInstance("VI_1", 1, 100, "10.0.0.201", ahAuth("k3y")))
	peer := netip.MustParseAddr("10.0.0.99")
	in := a.in("VI_1")
	a.injectAH(t, "k3y", peer, 150, 10, nil)
	if in.counters.AdvertsReceived != 1 || in.ah.ctr.Seq != 10 {
		t.Fatalf("valid advert: received %d, counter %d; want 1 and 10", in.counters.AdvertsReceived, in.ah.ctr.Seq)
	}
	a.injectAH(t, "k3y", peer, 150, 10, nil) // a replay
	a.injectAH(t, "k3y", peer, 150, 9, nil)  // an older one
	a.injectAH(t, "wrong", peer, 150, 11, nil)
	a.injectAH(t, "k3y", peer, 150, 12, func(p []byte) { p[20] = 6 }) // AH for TCP
	a.injectAH(t, "k3y", peer, 150, 13, func(p []byte) { p[5]++ })    // IP ID changed on the way
	want := map[string]uint64{"ah-seq": 2, "ah-icv": 2, "protocol": 1}
	for reason, n := range want {
		if a.r.drops[reason] != n {
			t.Errorf("drops[%s] = %d, want %d (all: %v)", reason, a.r.drops[reason], n, a.r.drops)
		}
	}
	if in.counters.Dropped != 5 || in.counters.AdvertsReceived != 1 || in.ah.ctr.Seq != 10 {
		t.Errorf("instance dropped %d received %d counter %d; want 5, 1, 10", in.counters.Dropped, in.counters.AdvertsReceived, in.ah.ctr.Seq)
	}
	a.injectAH(t, "k3y", peer, 150, 11, nil) // the next number is fine
	if in.counters.AdvertsReceived != 2 || in.ah.ctr.Seq != 11 {
		t.Errorf("after seq 11: received %d counter %d", in.counters.AdvertsReceived, in.ah.ctr.Seq)
	}
	// A plain VRRP advert for the AH instance's VRID reaches the protocol
	// 112 socket, where no instance runs it: ignored, as keepalived's
	// separate AH socket ignores it.
	if s := a.conns[sockKey{ifname: "eth0", family: 4}]; s != nil {
		t.Errorf("an AH-only config opened the plain VRRP socket too")
	}
}

// TestAHMasterSyncsOnLowerPriority: a master that hears a lower priority
// sets its counter one above that advert's number before it answers
// (keepalived's vrrp_state_master_rx), so the answer is above both.
func TestAHMasterSyncsOnLowerPriority(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	a.start(vrrpInstance("VI_1", 1, 200, "10.0.0.201", ahAuth("k3y")))
	cl.advance(5 * time.Second)
	wantStates(t, "VI_1", map[*node]vrrp.State{a: vrrp.Master})
	before := len(cl.ahSent("a"))
	a.injectAH(t, "k3y", netip.MustParseAddr("10.0.0.99"), 50, 1000, nil)
	sent := cl.ahSent("a")
	if len(sent) != before+1 || sent[before] != 1002 {
		t.Fatalf("a's answer to a lower priority at 1000 carried %v, want 1002", sent[before:])
	}
}
