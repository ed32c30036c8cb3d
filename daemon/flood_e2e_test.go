//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/flood"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"github.com/hactl/hactl/pkg/vrrp"
)

// The attacks from the segment (issue 20): a third node of the lab floods
// the VRRP group while node1 (150) is master and node2 (100) backup.

// floodSources are the flood's random sources: outside the lab's subnet,
// so that none is a node's own address.
var floodSources = netip.MustParsePrefix("172.16.0.0/12")

// clusterConf is node's config: VRID 51, VIP 10.77.0.100, the given
// version, interval and VRRPv2 password ("" for none).
func clusterConf(prio, version int, interval, password string) string {
	auth := ""
	if password != "" {
		auth = fmt.Sprintf("    authentication {\n        auth_type PASS\n        auth_pass %s\n    }\n", password)
	}
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version %d
    priority %d
    advert_int %s
%s    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, version, prio, interval, auth)
}

// floodLab is the two-node cluster and its attacker.
type floodLab struct {
	lab            *netlab.Lab
	master, backup *daemonProc
	attacker       *netlab.Host
	holders        *holders
}

func upFloodLab(t *testing.T, version int, interval, password string) *floodLab {
	t.Helper()
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	f := &floodLab{lab: l, attacker: l.Node(3)}
	f.master = startDaemonQuiet(t, l.Node(1), clusterConf(150, version, interval, password))
	f.backup = startDaemonQuiet(t, l.Node(2), clusterConf(100, version, interval, password))
	f.holders = newHolders(t, l.Nodes[:2], netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := f.holders.waitOwner("node1", 6*time.Second); err != nil {
		t.Fatal(err)
	}
	return f
}

// startFlood opens a flood in from's namespace and runs it in the
// background; the channel yields its result.
func startFlood(t *testing.T, from *netlab.Host, cfg flood.Config) <-chan flood.Result {
	t.Helper()
	var fl *flood.Flooder
	if err := from.Do(func() (err error) { fl, err = flood.Open(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := make(chan flood.Result, 1)
	go func() {
		defer fl.Close()
		ch <- fl.Run(ctx)
	}()
	return ch
}

// ownerWatch samples the VIP's holders every 10 ms until stopped and
// keeps every sample where node1 was not its only holder.
type ownerWatch struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples int
	bad     []string
}

func watchOwner(h *holders, want string) *ownerWatch {
	w := &ownerWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for start := time.Now(); time.Since(start) < time.Minute; {
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			o := h.owners()
			w.mu.Lock()
			w.samples++
			if len(o) != 1 || o[0] != want {
				w.bad = append(w.bad, fmt.Sprintf("%s: %v", time.Since(start).Round(time.Millisecond), o))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *ownerWatch) end() (int, []string) {
	close(w.stop)
	<-w.done
	return w.samples, w.bad
}

// TestE2EFloodConflictRandomSources is issue 20's item 1: 10 s of
// valid-looking adverts of our VRID with other VIPs, from a random source
// per packet, at 10,000 packets a second, against a VRRPv3 cluster with a
// 0.1 s interval and a VRRPv2 one with a 1 s interval and a password the
// attacker knows. The master's memory and log stay flat, no one else
// takes the VIP, status answers at once, and the conflict table stays at
// its cap while counting what it evicted. Before the fix the table, the
// log and the status grew with every source.
func TestE2EFloodConflictRandomSources(t *testing.T) {
	labtest.Require(t)
	for _, tc := range []struct {
		name     string
		version  vrrp.Version
		interval time.Duration
		password string
	}{
		{"v3-0.1s", vrrp.Version3, 100 * time.Millisecond, ""},
		{"v2-1s-pass", vrrp.Version2, time.Second, "s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) { testConflictFlood(t, tc.version, tc.interval, tc.password) })
	}
}

func testConflictFlood(t *testing.T, version vrrp.Version, interval time.Duration, password string) {
	f := upFloodLab(t, int(version), fmt.Sprintf("%g", interval.Seconds()), password)
	n1 := f.lab.Node(1)
	time.Sleep(500 * time.Millisecond) // past the start-up's allocations
	before, logBefore := sampleProc(t, f.master.Pid()), fileSize(f.master.Log)
	st1, st2 := status(t, n1), status(t, f.lab.Node(2))
	w := watchOwner(f.holders, "node1")
	const rate, dur = 10_000, 10 * time.Second
	res := startFlood(t, f.attacker, flood.Config{Mode: flood.ConflictingVIPs, Interface: "eth0", Dst: vrrpsock.Group4,
		VRID: 51, Version: version, Priority: 50, Interval: interval, Password: password,
		VIPs: []netip.Addr{netip.MustParseAddr("10.77.0.200")}, Sources: floodSources, Rate: rate, Duration: dur, Seed: 20})
	var lat []time.Duration
	var statusErrs []error
	var r flood.Result
	maxBytes := 0
	for done := false; !done; {
		select {
		case r = <-res:
			done = true
		case <-time.After(500 * time.Millisecond):
			_, d, size, err := timedStatus(n1)
			lat, maxBytes = append(lat, d), max(maxBytes, size)
			if err != nil {
				statusErrs = append(statusErrs, err)
			}
		}
	}
	after, logAfter := sampleProc(t, f.master.Pid()), fileSize(f.master.Log)
	samples, bad := w.end()
	_, d, size, err := timedStatus(n1)
	lat, maxBytes = append(lat, d), max(maxBytes, size)
	if err != nil {
		statusErrs = append(statusErrs, err)
	}
	growKB, logGrow := after.rssKB-before.rssKB, logAfter-logBefore
	t.Logf("flood: %d packets in %v (%.0f pps, %d send errors)", r.Sent, r.Elapsed.Round(time.Millisecond), r.PPS(), r.Errors)
	t.Logf("master RSS %d kB -> %d kB (+%d kB); log +%d bytes; CPU %.1f%% of a core over the flood",
		before.rssKB, after.rssKB, growKB, logGrow, cpuPercent(before, after))
	t.Logf("status latency during and after the flood: max %v, all %v; largest answer %d bytes; %d failed %v",
		slices.Max(lat).Round(time.Microsecond), roundAll(lat), maxBytes, len(statusErrs), statusErrs)
	t.Logf("owner samples: %d, node1 not the only holder in %d", samples, len(bad))
	final, final2 := status(t, n1), status(t, f.lab.Node(2))
	in, in2 := final.Instances[0], final2.Instances[0]
	t.Logf("master: %d conflict sources tracked, %d evicted, counts %v; kernel drops %v; adverts sent +%d",
		len(in.Conflicts), in.ConflictSourcesEvicted, in.ConflictCounts, kernelDrops(final), in.Counters.AdvertsSent-st1.Instances[0].Counters.AdvertsSent)

	if r.Sent < rate*int(dur/time.Second)*8/10 {
		t.Fatalf("the flood sent only %d packets (%v); the test needs most of %d", r.Sent, r.LastErr, rate*int(dur/time.Second))
	}
	if growKB > 5*1024 {
		t.Errorf("master RSS grew by %d kB under the flood, want at most 5 MB", growKB)
	}
	if logGrow > 4096 {
		b, _ := os.ReadFile(f.master.Log)
		t.Errorf("master log grew by %d bytes, want at most 4 kB:\n%s", logGrow, lastLines(string(b), 10))
	}
	if len(bad) > 0 {
		t.Errorf("the VIP was not node1's alone in %d of %d samples: %v", len(bad), samples, bad[:min(len(bad), 10)])
	}
	if in.State != api.StateMaster || in.Counters.BecameMaster != st1.Instances[0].Counters.BecameMaster ||
		in2.Counters.BecameMaster != st2.Instances[0].Counters.BecameMaster {
		t.Errorf("mastership moved: node1 %s (became master %d -> %d), node2 became master %d -> %d",
			in.State, st1.Instances[0].Counters.BecameMaster, in.Counters.BecameMaster, st2.Instances[0].Counters.BecameMaster, in2.Counters.BecameMaster)
	}
	if m := slices.Max(lat); m > 500*time.Millisecond || len(statusErrs) > 0 {
		t.Errorf("status took up to %v under the flood (%d failed), want well under 500 ms", m, len(statusErrs))
	}
	// The master answers lower priorities at once, but at most once per
	// tenth of the interval: ten answers and one advert an interval, not
	// one per flood packet.
	if sent := in.Counters.AdvertsSent - st1.Instances[0].Counters.AdvertsSent; sent > uint64(12*dur/interval) {
		t.Errorf("the master sent %d adverts during the flood of %d: it amplifies the flood", sent, r.Sent)
	}
	if len(in.Conflicts) != 64 || in.ConflictSourcesEvicted < uint64(r.Sent)/2 {
		t.Errorf("conflict table: %d sources, %d evicted after %d packets; want the cap (64) and most sources evicted",
			len(in.Conflicts), in.ConflictSourcesEvicted, r.Sent)
	}
}

// TestE2EFloodWrongPassword: adverts with other VIPs and a wrong password,
// a random source each, are authentication drops and make no conflict
// entry (before the fix, 3,000 of them made 3,000 entries).
func TestE2EFloodWrongPassword(t *testing.T) {
	labtest.Require(t)
	f := upFloodLab(t, 2, "1", "s3cret")
	n1 := f.lab.Node(1)
	before := sampleProc(t, f.master.Pid())
	r := <-startFlood(t, f.attacker, flood.Config{Mode: flood.WrongPassword, Interface: "eth0", Dst: vrrpsock.Group4,
		VRID: 51, Version: vrrp.Version2, Priority: 50, Password: "s3cret",
		VIPs: []netip.Addr{netip.MustParseAddr("10.77.0.200")}, Sources: floodSources, Rate: 10_000, Count: 10_000, Seed: 21})
	cpu := cpuPercent(before, sampleProc(t, f.master.Pid()))
	if r.Sent < 8000 {
		t.Fatalf("the flood sent only %d packets (%v)", r.Sent, r.LastErr)
	}
	var st *api.Status
	for range 40 { // the last packets may still be in the daemon's queue
		st = status(t, n1)
		if st.Drops["auth"]+kernelDrops(st) >= uint64(r.Sent) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	in := st.Instances[0]
	t.Logf("%d wrong-password packets in %v: auth drops %d, kernel drops %d, conflict sources %d, conflict counts %v; master CPU %.1f%%",
		r.Sent, r.Elapsed.Round(time.Millisecond), st.Drops["auth"], kernelDrops(st), len(in.Conflicts), in.ConflictCounts, cpu)
	if len(in.Conflicts) != 0 || in.ConflictSourcesEvicted != 0 || in.ConflictCounts["vips"] != 0 {
		t.Errorf("wrong-password adverts made %d conflict entries (%d evicted, counts %v), want none",
			len(in.Conflicts), in.ConflictSourcesEvicted, in.ConflictCounts)
	}
	if st.Drops["auth"] < 3000 {
		t.Errorf("auth drops %d after %d wrong-password packets", st.Drops["auth"], r.Sent)
	}
	if in.State != api.StateMaster {
		t.Errorf("node1 is %s after the flood", in.State)
	}
	b, _ := os.ReadFile(f.master.Log)
	if n := strings.Count(string(b), "VRID conflict"); n != 0 {
		t.Errorf("%d conflict lines for wrong-password adverts", n)
	}
}

// TestE2EFloodBadChecksum is the flood keepalived 2.2.7 loses (it sent 2
// adverts in 22 s and lost mastership): 10,000 adverts a second with a
// broken checksum from one source. The master keeps advertising at its
// interval, the backup hears it and never takes over, and the packets are
// counted as checksum drops.
func TestE2EFloodBadChecksum(t *testing.T) {
	labtest.Require(t)
	f := upFloodLab(t, 3, "0.1", "")
	n1, n2 := f.lab.Node(1), f.lab.Node(2)
	st1, st2 := status(t, n1), status(t, n2)
	before := sampleProc(t, f.master.Pid())
	w := watchOwner(f.holders, "node1")
	const dur = 5 * time.Second
	r := <-startFlood(t, f.attacker, flood.Config{Mode: flood.BadChecksum, Interface: "eth0", Dst: vrrpsock.Group4,
		VRID: 51, Version: vrrp.Version3, Priority: 254, Interval: 100 * time.Millisecond,
		VIPs: []netip.Addr{netip.MustParseAddr("10.77.0.100")}, Sources: netip.PrefixFrom(f.attacker.Addr4, 32),
		Rate: 10_000, Duration: dur, Seed: 22})
	after := sampleProc(t, f.master.Pid())
	samples, bad := w.end()
	fin1, fin2 := status(t, n1), status(t, n2)
	sent := fin1.Instances[0].Counters.AdvertsSent - st1.Instances[0].Counters.AdvertsSent
	heard := fin2.Instances[0].Counters.AdvertsReceived - st2.Instances[0].Counters.AdvertsReceived
	t.Logf("flood: %d bad-checksum packets in %v (%.0f pps); master sent %d adverts, backup heard %d (interval 0.1 s: %d expected); checksum drops %d, kernel drops %d; master CPU %.1f%%",
		r.Sent, r.Elapsed.Round(time.Millisecond), r.PPS(), sent, heard, int(r.Elapsed/(100*time.Millisecond)), fin1.Drops["checksum"], kernelDrops(fin1), cpuPercent(before, after))
	if r.Sent < 40_000 {
		t.Fatalf("the flood sent only %d packets (%v)", r.Sent, r.LastErr)
	}
	want := uint64(r.Elapsed/(100*time.Millisecond)) * 8 / 10 // keepalived got out a fifth of its adverts
	if sent < want || heard < want {
		t.Errorf("under the flood the master sent %d adverts and the backup heard %d; want at least %d each", sent, heard, want)
	}
	if len(bad) > 0 || fin2.Instances[0].Counters.BecameMaster != st2.Instances[0].Counters.BecameMaster || fin1.Instances[0].State != api.StateMaster {
		t.Errorf("mastership moved: %d of %d samples without node1 alone (%v); node2 became master %d -> %d",
			len(bad), samples, bad[:min(len(bad), 10)], st2.Instances[0].Counters.BecameMaster, fin2.Instances[0].Counters.BecameMaster)
	}
	if fin1.Drops["checksum"] < uint64(r.Sent)/2 {
		t.Errorf("master counted %d checksum drops of %d", fin1.Drops["checksum"], r.Sent)
	}
}

func kernelDrops(st *api.Status) uint64 {
	var n uint64
	for _, s := range st.Sockets {
		n += s.KernelDrops
	}
	return n
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Microsecond)
	}
	return out
}

// TestE2EUncountedTrafficCounted: adverts for VRIDs the node does not run
// (normal on a shared segment) and packets the kernel drops while the
// daemon cannot read (stopped here with SIGSTOP) were counted nowhere;
// they are counted per socket in /v1/status and /metrics.
func TestE2EUncountedTrafficCounted(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1 := l.Node(1)
	d := startDaemonQuiet(t, n1, clusterConf(150, 3, "1", ""))
	h := newHolders(t, l.Nodes[:1], netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
		t.Fatal(err)
	}
	cfg := flood.Config{Mode: flood.ConflictingVIPs, Interface: "eth0", Dst: vrrpsock.Group4, VRID: 99, Version: vrrp.Version3,
		Priority: 100, VIPs: []netip.Addr{netip.MustParseAddr("10.77.0.200")}, Sources: floodSources, Rate: 2000, Count: 200, Seed: 23}
	if r := <-startFlood(t, l.Node(2), cfg); r.Sent != 200 {
		t.Fatalf("flood: %+v", r)
	}
	var st *api.Status
	for range 40 {
		if st = status(t, n1); len(st.Sockets) == 1 && st.Sockets[0].OtherVRID >= 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(st.Sockets) != 1 || st.Sockets[0] != (api.Socket{Interface: "eth0", Family: "inet", OtherVRID: 200}) {
		t.Fatalf("sockets %+v, want eth0 inet with 200 other-VRID adverts", st.Sockets)
	}
	if n := st.Instances[0].Counters.Dropped + uint64(len(st.Instances[0].Conflicts)); n != 0 {
		t.Errorf("other-VRID adverts counted against the instance: %+v", st.Instances[0])
	}

	// Stopped, the daemon reads nothing: the socket's buffer fills and
	// the kernel drops the rest, and says so with the next packet.
	if err := d.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	cfg.Mode, cfg.VRID, cfg.Rate, cfg.Count = flood.BadChecksum, 51, 50_000, 5000
	cfg.Sources = netip.PrefixFrom(l.Node(2).Addr4, 32)
	r := <-startFlood(t, l.Node(2), cfg)
	time.Sleep(50 * time.Millisecond)
	if err := d.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the daemon drains its buffer
	cfg.Count = 5
	<-startFlood(t, l.Node(2), cfg)
	for range 40 {
		if st = status(t, n1); st.Sockets[0].KernelDrops > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := st.Sockets[0]
	t.Logf("%d packets while stopped: %d checksum drops counted, %d dropped by the kernel", r.Sent, st.Drops["checksum"], s.KernelDrops)
	if s.KernelDrops == 0 || st.Drops["checksum"]+s.KernelDrops != uint64(r.Sent)+5 {
		t.Errorf("kernel drops %d, checksum drops %d; want them to add up to the %d sent", s.KernelDrops, st.Drops["checksum"], r.Sent+5)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := api.NewUnixClient(n1.Socket()).Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`hactl_vrrp_socket_other_vrid_packets_total{family="inet",interface="eth0"} 200`,
		fmt.Sprintf(`hactl_vrrp_socket_kernel_drops_total{family="inet",interface="eth0"} %d`, s.KernelDrops),
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestE2EFloodBadChecksumKeepalived runs the bad-checksum flood against
// keepalived 2.2.7 as master (150) and an hactl backup (100), for
// comparison with TestE2EFloodBadChecksum: it logs how many adverts
// keepalived got out and whether mastership moved, and asserts nothing
// about keepalived.
func TestE2EFloodBadChecksumKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	kn, hn := l.Node(1), l.Node(2)
	conf := "global_defs {\n    router_id node1\n}\n" + clusterConf(150, 2, "1", "s3cret")
	kconf := filepath.Join(kn.Dir, "keepalived.conf")
	write(t, kconf, conf, 0o644)
	kp, err := kn.Start("keepalived", "/usr/sbin/keepalived", "-n", "-l", "-P", "-f", kconf,
		"-p", filepath.Join(kn.Dir, "keepalived.pid"), "-r", filepath.Join(kn.Dir, "vrrp.pid"), "-b", filepath.Join(kn.Dir, "bfd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Stop(3 * time.Second) })
	startDaemonQuiet(t, hn, clusterConf(100, 2, "1", "s3cret"))
	h := newHolders(t, l.Nodes[:2], netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 8*time.Second); err != nil {
		t.Fatal(err)
	}
	st0 := status(t, hn)
	w := watchOwner(h, "node1")
	const dur = 5 * time.Second
	r := <-startFlood(t, l.Node(3), flood.Config{Mode: flood.BadChecksum, Interface: "eth0", Dst: vrrpsock.Group4,
		VRID: 51, Version: vrrp.Version2, Priority: 254, Password: "s3cret",
		VIPs: []netip.Addr{netip.MustParseAddr("10.77.0.100")}, Sources: netip.PrefixFrom(l.Node(3).Addr4, 32),
		Rate: 10_000, Duration: dur, Seed: 24})
	samples, bad := w.end()
	st1 := status(t, hn)
	heard := st1.Instances[0].Counters.AdvertsReceived - st0.Instances[0].Counters.AdvertsReceived
	took := st1.Instances[0].Counters.BecameMaster - st0.Instances[0].Counters.BecameMaster
	b, _ := os.ReadFile(kp.Log)
	t.Logf("keepalived master under %d bad-checksum packets in %v: the hactl backup heard %d of its adverts (about %d due) and became master %d times; "+
		"node1 not the only holder in %d of %d samples; keepalived logged %d bytes",
		r.Sent, r.Elapsed.Round(time.Millisecond), heard, int(r.Elapsed/time.Second), took, len(bad), samples, len(b))
}
