//go:build linux

package daemon_test

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/vrrp"
	"golang.org/x/net/ipv4"
)

const forgedConf = `vrrp_instance MCAST {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        10.77.0.100/24
    }
}
vrrp_instance UNICAST {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    unicast_src_ip 10.77.0.11
    unicast_peer {
        10.77.0.12
    }
    virtual_ipaddress {
        10.77.0.101/24
    }
}
`

// forge sends a VRRPv2 advert for vrid from host to dst with the given TTL,
// password and checksum corruption, through a raw socket of its own.
func forge(t *testing.T, from *netlab.Host, dst netip.Addr, ttl int, vrid uint8, password string, breakChecksum bool) {
	t.Helper()
	a := vrrp.Advertisement{Version: vrrp.Version2, VRID: vrid, Priority: 254, Interval: time.Second}
	if password != "" {
		pw, err := vrrp.Password(password)
		if err != nil {
			t.Fatal(err)
		}
		a.AuthType, a.AuthData = vrrp.AuthSimple, pw
	}
	if err := a.SetAddrs(netip.MustParseAddr("10.77.0.100")); err != nil {
		t.Fatal(err)
	}
	b, err := a.Marshal(from.Addr4, dst)
	if err != nil {
		t.Fatal(err)
	}
	if breakChecksum {
		b[7] ^= 0xff
	}
	err = from.Do(func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv4.NewPacketConn(c)
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if err := p.SetMulticastInterface(ifi); err != nil {
			return err
		}
		if err := p.SetMulticastTTL(ttl); err != nil {
			return err
		}
		if err := p.SetTTL(ttl); err != nil {
			return err
		}
		_, err = p.WriteTo(b, nil, &net.IPAddr{IP: dst.AsSlice()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestE2EForgedPacketsDropped: adverts that would make node1 yield (priority
// 254) but break a rule are dropped and counted by rule in /v1/status, and
// node1 stays master.
func TestE2EForgedPacketsDropped(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	n1 := l.Node(1)
	startDaemon(t, n1, forgedConf)
	h := newHolders(t, []*netlab.Host{n1}, netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
		t.Fatal(err)
	}
	group := vrrpsock.Group4
	forge(t, l.Node(2), group, 64, 51, "s3cret", false)   // ttl
	forge(t, l.Node(2), group, 255, 51, "s3cret", true)   // checksum
	forge(t, l.Node(2), group, 255, 51, "guessed", false) // auth
	forge(t, l.Node(2), group, 255, 51, "", false)        // auth-type
	forge(t, l.Node(3), n1.Addr4, 255, 52, "", false)     // unknown_peer: node3 is not a listed peer
	want := map[string]uint64{"ttl": 1, "checksum": 1, "auth": 1, "auth-type": 1, "unknown_peer": 1}
	var st *api.Status
	for range 40 {
		st = status(t, n1)
		if sameCounts(st.Drops, want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sameCounts(st.Drops, want) {
		t.Errorf("drops %v, want %v", st.Drops, want)
	}
	for _, in := range st.Instances {
		if in.State != api.StateMaster {
			t.Errorf("%s: %s after forged adverts, want MASTER", in.Name, in.State)
		}
	}
	// The same through Prometheus metrics on the control socket (what
	// curl --unix-socket SOCK http://hactl/metrics shows).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := api.NewUnixClient(n1.Socket()).Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`hactl_vrrp_packets_dropped_total\{reason="ttl"\} 1`,
		`hactl_vrrp_packets_dropped_total\{reason="checksum"\} 1`,
		`hactl_vrrp_instance_packets_dropped_total\{[^}]*reason="auth"[^}]*vrrp_instance="MCAST"[^}]*\} 1`,
		`hactl_vrrp_instance_packets_dropped_total\{[^}]*reason="unknown_peer"[^}]*vrrp_instance="UNICAST"[^}]*\} 1`,
		`hactl_vrrp_transitions_total\{[^}]*state="MASTER"[^}]*vrrp_instance="MCAST"[^}]*\} 1`,
		`hactl_vrrp_state\{[^}]*state="MASTER"[^}]*vrrp_instance="MCAST"[^}]*\} 1`,
		`hactl_vrrp_adverts_sent_total\{[^}]*vrrp_instance="MCAST"[^}]*\} [1-9]`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("metrics lack %s", re)
		}
	}
	if t.Failed() {
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "hactl_vrrp_") {
				t.Log(line)
			}
		}
	}
}

func sameCounts(got, want map[string]uint64) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestE2EReload: a broken config on SIGHUP keeps the running one (and the
// daemon keeps answering); a priority change on SIGHUP takes effect.
func TestE2EReload(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	c := electionCase{version: 3, interval: 200 * time.Millisecond, vip: vipAddr}
	d1 := startDaemon(t, l.Node(1), c.conf(100))
	startDaemon(t, l.Node(2), c.conf(110))
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node2", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(l.Node(1).Dir, "hactl.conf")
	write(t, conf, "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n", 0o644)
	if err := d1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// Both daemons started together, so their Master_Down timers can fire
	// within a few ms of each other and node1 may be Master for a moment
	// before node2's advert (higher priority) sends it back to Backup; the
	// check below waits for that settled state, bounded at 2 s.
	var st *api.Status
	for range 40 {
		st = status(t, l.Node(1))
		if st.Daemon.LastReloadError != "" && st.Instances[0].State == api.StateBackup {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Daemon.LastReloadError == "" || st.Instances[0].BasePriority != 100 || st.Instances[0].State != api.StateBackup {
		t.Fatalf("after a broken reload: %+v; want the error recorded and the old config running", st)
	}
	t.Logf("broken reload refused: %s", st.Daemon.LastReloadError)
	write(t, conf, c.conf(120), 0o644)
	if err := d1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d, err := h.waitOwner("node1", 3*time.Second)
	if err != nil {
		t.Fatalf("after raising node1 to 120 by reload: %v", err)
	}
	t.Logf("priority 100 -> 120 by reload: node1 took over after %v", d.Round(time.Millisecond))
	st = status(t, l.Node(1))
	if in := st.Instances[0]; in.BasePriority != 120 || in.EffectivePriority != 120 || st.Daemon.LastReloadError != "" {
		t.Errorf("after the reload: %+v", st)
	}
}
