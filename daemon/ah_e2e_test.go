//go:build linux

package daemon_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// ahConf renders one node's VRRPv2 instance with auth_type AH; keepalived
// and hactl read the same text.
func ahConf(self *netlab.Host, priority int, key string, vip netip.Prefix) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 62
    version 2
    priority %d
    advert_int 1
    authentication {
        auth_type AH
        auth_pass %s
    }
    virtual_ipaddress {
        %s
    }
}
`, self.Name, priority, key, vip)
}

// ahComplaints are keepalived 2.2.7's AH drop lines (vrrp.c:
// vrrp_in_chk_ipsecah, vrrp_check_packet), beyond keepalivedComplaints.
var ahComplaints = regexp.MustCompile(`IPSEC-AH : (invalid|sequence number)|IPSEC AH : invalid|AH header`)

// waitLog waits (bounded) until re matches the log at path.
func waitLog(path string, re *regexp.Regexp, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); re.Match(b) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestE2EKeepalivedAH runs hactl beside real keepalived 2.2.7, both with
// auth_type AH and one key: keepalived master first, then hactl at a
// higher priority preempts it (keepalived must accept hactl's ICV and its
// sequence numbers, which continue above keepalived's: the shared
// counter) and keepalived stays BACKUP with no authentication complaint;
// then hactl, restarted at a lower priority (its counter from 0), follows
// keepalived's AH master and drops nothing.
func TestE2EKeepalivedAH(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix("10.77.0.102/24")
	kp := startKeepalived(t, kn, ahConf(kn, 100, "ahsecret", vip))
	h := newHolders(t, l.Nodes, vip)
	const limit = 8 * time.Second // Master_Down_Interval is 3.6 s at priority 100
	if _, err := h.waitOwner("node2", limit); err != nil {
		t.Fatalf("keepalived alone: %v", err)
	}

	// hactl at 200 preempts keepalived's AH master and keeps it BACKUP.
	hd := startDaemon(t, hn, ahConf(hn, 200, "ahsecret", vip))
	if _, err := h.waitOwner("node1", limit); err != nil {
		t.Fatalf("hactl (200) vs keepalived (100): %v", err)
	}
	if !waitLog(kp.Log, regexp.MustCompile(`\(VI_1\) Entering BACKUP STATE`), 3*time.Second) {
		t.Errorf("keepalived never went back to BACKUP")
	}
	time.Sleep(3 * time.Second) // keepalived hears three of hactl's adverts
	if owners := h.owners(); len(owners) != 1 || owners[0] != "node1" {
		t.Errorf("VIP held by %v, want node1 alone", owners)
	}
	klog, _ := os.ReadFile(kp.Log)
	if m := append(keepalivedComplaints.FindAll(klog, -1), ahComplaints.FindAll(klog, -1)...); len(m) > 0 {
		t.Errorf("keepalived complained about hactl's AH adverts (%q):\n%s", m, lastLines(string(klog), 30))
	}
	st := status(t, hn)
	if in := st.Instances[0]; in.State != api.StateMaster || len(st.Drops) != 0 {
		t.Errorf("hactl: state %s, drops %v; want MASTER, none", in.State, st.Drops)
	}

	// hactl stops (its priority-0 advert is AH too); keepalived takes over
	// at once; hactl back at 50 follows it.
	hd.Stop(3 * time.Second)
	if _, err := h.waitOwner("node2", 2*time.Second); err != nil {
		t.Fatalf("after hactl stopped: %v", err)
	}
	startDaemon(t, hn, ahConf(hn, 50, "ahsecret", vip))
	time.Sleep(4 * time.Second) // beyond hactl's Master_Down_Interval (3.8 s at 50)
	if owners := h.owners(); len(owners) != 1 || owners[0] != "node2" {
		t.Fatalf("hactl (50) vs keepalived (100): VIP held by %v, want node2", owners)
	}
	st = status(t, hn)
	in := st.Instances[0]
	if in.State != api.StateBackup || in.Master == nil || in.Master.Priority != 100 || in.Master.Address != kn.Addr4.String() {
		t.Errorf("hactl: state %s master %+v; want BACKUP following keepalived (%s, 100)", in.State, in.Master, kn.Addr4)
	}
	if len(st.Drops) != 0 || in.Counters.AdvertsReceived < 3 {
		t.Errorf("hactl dropped %v of keepalived's AH adverts (received %d)", st.Drops, in.Counters.AdvertsReceived)
	}
	klog, _ = os.ReadFile(kp.Log)
	if m := append(keepalivedComplaints.FindAll(klog, -1), ahComplaints.FindAll(klog, -1)...); len(m) > 0 {
		t.Errorf("keepalived complained (%q):\n%s", m, lastLines(string(klog), 30))
	}
	if os.Getenv("HACTL_TEST_SHOWLOG") != "" {
		t.Logf("keepalived log:\n%s", klog)
	}
}

// TestE2EKeepalivedAHWrongKey gives hactl and keepalived different AH
// keys: each drops the other's adverts (hactl counts them as "ah-icv",
// keepalived logs its invalid-HMAC line) and, hearing nobody, each
// becomes master.
func TestE2EKeepalivedAHWrongKey(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix("10.77.0.103/24")
	kp := startKeepalived(t, kn, ahConf(kn, 100, "rightkey", vip))
	startDaemon(t, hn, ahConf(hn, 200, "wrongkey", vip))
	invalid := regexp.MustCompile(`\(VI_1\) IPSEC-AH : invalid IPSEC HMAC-MD5 value`)
	if !waitLog(kp.Log, invalid, 8*time.Second) {
		t.Errorf("keepalived did not log hactl's adverts as an invalid HMAC")
	}
	deadline := time.Now().Add(8 * time.Second)
	var st *api.Status
	for {
		st = status(t, hn)
		if st.Drops["ah-icv"] > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	in := st.Instances[0]
	if st.Drops["ah-icv"] == 0 || in.Counters.Dropped == 0 || in.Counters.AdvertsReceived != 0 {
		t.Errorf("hactl: drops %v, instance dropped %d received %d; want keepalived's adverts dropped as ah-icv",
			st.Drops, in.Counters.Dropped, in.Counters.AdvertsReceived)
	}
	if in.State != api.StateMaster {
		t.Errorf("hactl state %s, want MASTER (it hears no valid advert)", in.State)
	}
	if !waitLog(kp.Log, regexp.MustCompile(`\(VI_1\) Entering MASTER STATE`), 3*time.Second) {
		t.Errorf("keepalived did not become master: it should not have accepted hactl's adverts")
	}
}

// TestE2EKeepalivedAHRestartedMaster: keepalived's VRRP process, master at
// priority 254, is killed and respawned by its parent with its AH counter
// back at 0. hactl (priority 1, backup, its counter at keepalived's last
// number) refuses the respawned master's low numbers as replays
// ("ah-seq"), takes over when its Master_Down_Interval runs out, and
// sends above its counter; keepalived accepts that, syncs its counter one
// above it (its log says so) and, at the higher priority, answers above
// both, which hactl accepts: keepalived master again, hactl backup. The
// replay rule and the counter sync of both implementations, against each
// other.
func TestE2EKeepalivedAHRestartedMaster(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix("10.77.0.104/24")
	kp := startKeepalived(t, kn, ahConf(kn, 254, "ahsecret", vip))
	startDaemon(t, hn, ahConf(hn, 1, "ahsecret", vip))
	h := newHolders(t, l.Nodes, vip)
	if _, err := h.waitOwner("node2", 8*time.Second); err != nil {
		t.Fatalf("keepalived (254) vs hactl (1): %v", err)
	}
	// Kill keepalived's VRRP process just after hactl accepted one of its
	// adverts: hactl's Master_Down_Interval (3.996 s) then ends about 1 s
	// after the respawned process's (3.008 s), which starts at 0.
	var base uint64
	deadline := time.Now().Add(5 * time.Second)
	for {
		in := status(t, hn).Instances[0]
		if base == 0 {
			base = in.Counters.AdvertsReceived
		} else if in.Counters.AdvertsReceived > base {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hactl accepted no advert from keepalived (received %d)", in.Counters.AdvertsReceived)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pid, err := os.ReadFile(filepath.Join(kn.Dir, "vrrp.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var vrrpPid int
	if _, err := fmt.Sscan(string(pid), &vrrpPid); err != nil || vrrpPid <= 0 {
		t.Fatalf("vrrp.pid %q: %v", pid, err)
	}
	p, err := os.FindProcess(vrrpPid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("SIGKILL keepalived's VRRP process %d: %v", vrrpPid, err)
	}
	synced := regexp.MustCompile(`\(VI_1\) IPSEC-AH : Syncing seq_num`)
	if !waitLog(kp.Log, synced, 8*time.Second) {
		t.Errorf("keepalived never synced its AH counter to hactl's")
	}
	var st *api.Status
	deadline = time.Now().Add(5 * time.Second)
	for {
		st = status(t, hn)
		if st.Instances[0].State == api.StateBackup && st.Drops["ah-seq"] > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	in := st.Instances[0]
	if st.Drops["ah-seq"] == 0 || in.State != api.StateBackup || in.Counters.BecameMaster != 1 {
		t.Errorf("hactl: state %s, became master %d times, drops %v; want BACKUP after one takeover, ah-seq drops",
			in.State, in.Counters.BecameMaster, st.Drops)
	}
	for r, n := range st.Drops {
		if r != "ah-seq" {
			t.Errorf("hactl dropped %d adverts as %s, want only ah-seq", n, r)
		}
	}
	if _, err := h.waitOwner("node2", 3*time.Second); err != nil {
		t.Errorf("after the respawn: %v", err)
	}
	if os.Getenv("HACTL_TEST_SHOWLOG") != "" {
		klog, _ := os.ReadFile(kp.Log)
		t.Logf("keepalived log:\n%s\nhactl drops %v", klog, st.Drops)
	}
}
