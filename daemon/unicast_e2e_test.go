//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// heardAdvert is one VRRP packet a capture read.
type heardAdvert struct {
	src, dst netip.Addr
	ttl      int
	vrid     int
}

// captureVRRP listens on h's eth0 with a raw protocol-112 socket (the
// daemon's own, vrrpsock) joined to 224.0.0.18 for d and returns every
// VRRP packet it read (multicast, and unicast to h), with its TTL.
func captureVRRP(t *testing.T, h *netlab.Host, d time.Duration) []heardAdvert {
	t.Helper()
	var c *vrrpsock.Conn
	err := h.Do(func() error {
		var err error
		if c, err = vrrpsock.Listen("eth0", 4); err != nil {
			return err
		}
		return c.JoinGroup(vrrpsock.Group4)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []heardAdvert
	buf := make([]byte, 1500)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && len(out) < 1000 {
		c.SetReadDeadline(deadline)
		p, err := c.ReadPacket(buf)
		if err != nil {
			break
		}
		if len(p.Payload) < 2 {
			continue
		}
		out = append(out, heardAdvert{src: p.Src.Unmap(), dst: p.Dst.Unmap(), ttl: p.TTL, vrid: int(p.Payload[1])})
	}
	return out
}

func faultNoPeerConf(router string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance NOPEER {
    state MASTER
    interface eth0
    virtual_router_id 60
    priority 200
    advert_int 1
    unicast_fault_no_peer
    virtual_ipaddress {
        10.77.0.160/24
    }
}
`, router)
}

// TestE2EUnicastFaultNoPeer: an instance with unicast_fault_no_peer and no
// unicast_peer goes to FAULT and stays there: no VIP, and nothing on the
// wire, which a raw socket in a third namespace checks (it does hear the
// adverts of node2's ordinary multicast instance, so it was listening).
// keepalived 2.2.7 on node4 with the same text logs "Cannot use unicast
// without any peers - going to fault state" and is silent too.
func TestE2EUnicastFaultNoPeer(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 4})
	n1, n2 := l.Node(1), l.Node(2)
	d := startDaemon(t, n1, faultNoPeerConf("node1"))
	startDaemon(t, n2, `vrrp_instance CONTROL {
    state MASTER
    interface eth0
    virtual_router_id 61
    priority 255
    advert_int 1
    virtual_ipaddress {
        10.77.0.161/24
    }
}
`)
	kp := startKeepalived(t, l.Node(4), faultNoPeerConf("node4"))
	h := newHolders(t, []*netlab.Host{n1}, netip.MustParsePrefix("10.77.0.160/24"))

	heard := captureVRRP(t, l.Node(3), 3500*time.Millisecond)
	control := 0
	for _, a := range heard {
		switch {
		case a.vrid == 61 && a.src == n2.Addr4:
			control++
		case a.src == n1.Addr4 || a.vrid == 60:
			t.Errorf("an advert of the faulted instance on the wire: %+v", a)
		}
	}
	if control < 2 {
		t.Fatalf("the capture heard %d adverts of node2's control instance in 3.5 s, want at least 2: %+v", control, heard)
	}
	st := status(t, n1)
	if len(st.Instances) != 1 || st.Instances[0].State != api.StateFault {
		t.Errorf("node1: %+v, want NOPEER in FAULT", st.Instances)
	}
	if o := h.owners(); len(o) != 0 {
		t.Errorf("VIP 10.77.0.160 on %v, want nowhere", o)
	}
	dlog, _ := os.ReadFile(d.Log)
	if !strings.Contains(string(dlog), "cannot use unicast without any peers: going to fault state") {
		t.Errorf("node1's log does not say why it faults:\n%s", lastLines(string(dlog), 20))
	}
	// keepalived logs the reason and "removing VIPs", but no "Entering
	// FAULT STATE" line for a config fault; the capture above shows it
	// silent too (no VRID 60 from anyone).
	if !waitLog(kp.Log, regexp.MustCompile(`\(NOPEER\) Cannot use unicast without any peers - going to fault state`), 3*time.Second) {
		b, _ := os.ReadFile(kp.Log)
		t.Errorf("keepalived with the same config:\n%s", lastLines(string(b), 20))
	}
	t.Logf("capture: %d adverts of the control instance, none of NOPEER (hactl nor keepalived)", control)
}

// TestE2EUnicastPeerTTL: node1's unicast instance accepts its peer node2
// only at TTL 250 to 255 (min_ttl/max_ttl) and sends with unicast_ttl 77.
// A forged advert from node2 at TTL 64 that would make node1 yield is
// dropped and counted as ttl_range, in /v1/status and in the metrics; the
// same at TTL 255 is heard and node1 yields (the VIP is the forged
// advert's: one with other addresses is dropped, addr_list, as keepalived
// drops it). node2's capture reads node1's
// adverts at TTL 77.
func TestE2EUnicastPeerTTL(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	startDaemon(t, n1, fmt.Sprintf(`vrrp_instance UNICAST {
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    unicast_src_ip %s
    unicast_ttl 77
    check_unicast_src
    unicast_peer {
        %s min_ttl 250 max_ttl 255
    }
    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, n1.Addr4, n2.Addr4))
	h := newHolders(t, []*netlab.Host{n1}, netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
		t.Fatal(err)
	}
	ttls := map[int]int{}
	for _, a := range captureVRRP(t, n2, 2500*time.Millisecond) {
		if a.src == n1.Addr4 && a.dst == n2.Addr4 {
			ttls[a.ttl]++
		}
	}
	if len(ttls) != 1 || ttls[77] < 1 {
		t.Errorf("node1's unicast adverts reached node2 with TTLs %v, want 77 only", ttls)
	}

	forge(t, n2, n1.Addr4, 64, 52, "", false)
	var st *api.Status
	for range 40 {
		if st = status(t, n1); st.Drops["ttl_range"] == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Drops["ttl_range"] != 1 || st.Instances[0].State != api.StateMaster {
		t.Fatalf("after a TTL 64 advert: drops %v, state %s; want ttl_range 1, MASTER", st.Drops, st.Instances[0].State)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := api.NewUnixClient(n1.Socket()).Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if re := `hactl_vrrp_instance_packets_dropped_total\{[^}]*reason="ttl_range"[^}]*vrrp_instance="UNICAST"[^}]*\} 1`; !regexp.MustCompile(re).MatchString(text) {
		t.Errorf("metrics lack %s", re)
	}
	forge(t, n2, n1.Addr4, 255, 52, "", false)
	for range 40 {
		if st = status(t, n1); st.Instances[0].State == api.StateBackup {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Instances[0].State != api.StateBackup || st.Drops["ttl_range"] != 1 {
		t.Errorf("after a TTL 255 advert of priority 254: %s, drops %v; want BACKUP", st.Instances[0].State, st.Drops)
	}
}

// TestE2EKeepalivedUnicastPeerTTL is the reference for
// TestE2EUnicastPeerTTL: keepalived 2.2.7 with the same instance
// (check_unicast_src, min_ttl 250) drops the same forged TTL 64 advert and
// logs why, and a forged advert from a source that is not a peer too.
func TestE2EKeepalivedUnicastPeerTTL(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	n1, n2 := l.Node(1), l.Node(2)
	kp := startKeepalived(t, n1, fmt.Sprintf(`global_defs {
    router_id node1
}
vrrp_instance UNICAST {
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    unicast_src_ip %s
    check_unicast_src
    unicast_peer {
        %s min_ttl 250 max_ttl 255
    }
    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, n1.Addr4, n2.Addr4))
	if !waitLog(kp.Log, regexp.MustCompile(`\(UNICAST\) Entering MASTER STATE`), 6*time.Second) {
		t.Fatal("keepalived did not become master")
	}
	forge(t, n2, n1.Addr4, 64, 52, "", false)
	forge(t, l.Node(3), n1.Addr4, 255, 52, "", false)
	for _, re := range []string{
		`\(UNICAST\) TTL/HL 64 not in range 250 - 255`,
		`\(UNICAST\) unicast source address ` + regexp.QuoteMeta(l.Node(3).Addr4.String()) + ` not a unicast peer`,
	} {
		if !waitLog(kp.Log, regexp.MustCompile(re), 3*time.Second) {
			b, _ := os.ReadFile(kp.Log)
			t.Errorf("keepalived's log lacks %s:\n%s", re, lastLines(string(b), 20))
		}
	}
	b, _ := os.ReadFile(kp.Log)
	if _, after, _ := strings.Cut(string(b), "(UNICAST) Entering MASTER STATE"); strings.Contains(after, "Entering BACKUP STATE") {
		t.Errorf("keepalived yielded to a dropped advert:\n%s", lastLines(string(b), 20))
	}
}
