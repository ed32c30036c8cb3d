//go:build linux

package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// fifoConf is one node's config with a notify FIFO in dir and, when
// reader is set, a notify_fifo_script that copies what it reads to
// dir/fifo.out (ignoring SIGTERM, so that it reads to the end: both
// daemons signal the script at their stop).
func fifoConf(dir string, vrid, prio int, vip netip.Prefix, reader bool, extra string) string {
	script := ""
	if reader {
		script = fmt.Sprintf("    notify_fifo_script %s\n", filepath.Join(dir, "reader.sh"))
	}
	return fmt.Sprintf(`global_defs {
    script_user root
    notify_fifo %s
%s}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id %d
    version 3
    priority %d
    advert_int 0.2
%s    virtual_ipaddress {
        %s
    }
}
`, filepath.Join(dir, "notify.fifo"), script, vrid, prio, extra, vip)
}

// writeReader puts fifoConf's reader script in dir.
func writeReader(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "fifo.out")
	write(t, filepath.Join(dir, "reader.sh"), "#!/bin/sh\ntrap '' TERM\nwhile read -r line; do echo \"$line\" >> "+out+"; done < \"$1\"\n", 0o755)
	return out
}

// waitLines polls path until it holds want's lines (at least), for at most
// limit, and returns what it holds.
func waitLines(t *testing.T, path string, want int, limit time.Duration) []string {
	t.Helper()
	var got []string
	for start := time.Now(); time.Since(start) < limit; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		got = nil
		if s := strings.TrimSpace(string(b)); s != "" {
			got = strings.Split(s, "\n")
		}
		if len(got) >= want {
			break
		}
	}
	return got
}

// TestE2ENotifyFIFOAsKeepalived runs hactl and keepalived 2.2.7 with the
// same config (each its own VRID, so they do not meet), each writing its
// notify FIFO read by its notify_fifo_script: both readers see the same
// lines, INSTANCE "VI_1" BACKUP 200 at start, INSTANCE "VI_1" MASTER 200
// on takeover, INSTANCE "VI_1" STOP 200 at the stop; and both daemons
// remove the FIFO they created.
func TestE2ENotifyFIFOAsKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix(netlab.DemoVIP)
	kvip := netip.MustParsePrefix("10.77.0.101/24")
	hout, kout := writeReader(t, hn.Dir), writeReader(t, kn.Dir)

	kp := startKeepalived(t, kn, fifoConf(kn.Dir, 72, 200, kvip, true, ""))
	start := time.Now()
	hd := startDaemon(t, hn, fifoConf(hn.Dir, 71, 200, vip, true, ""))
	h := newHolders(t, []*netlab.Host{hn}, vip)
	took, err := h.waitOwner("node1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`INSTANCE "VI_1" BACKUP 200`, `INSTANCE "VI_1" MASTER 200`}
	got := waitLines(t, hout, 2, 2*time.Second)
	if !slices.Equal(got, want) {
		t.Errorf("hactl's FIFO reader read %q, want %q", got, want)
	}
	t.Logf("hactl: MASTER %v after start; its reader had the line %v after start", took, time.Since(start))
	kgot := waitLines(t, kout, 2, 10*time.Second)
	if !slices.Equal(kgot, want) {
		t.Errorf("keepalived's FIFO reader read %q, want %q", kgot, want)
	}

	hd.Stop(3 * time.Second)
	kp.Stop(3 * time.Second)
	want = append(want, `INSTANCE "VI_1" STOP 200`)
	got, kgot = waitLines(t, hout, 3, 2*time.Second), waitLines(t, kout, 3, 2*time.Second)
	if !slices.Equal(got, kgot) || !slices.Equal(got, want) {
		t.Errorf("after the stop, hactl's reader read %q, keepalived's %q; want both %q", got, kgot, want)
	}
	if _, err := os.Lstat(filepath.Join(hn.Dir, "notify.fifo")); !os.IsNotExist(err) {
		t.Errorf("hactl: the FIFO it created is still there: %v", err)
	}
	// keepalived 2.2.7 leaves a notify_fifo it created: its VRRP process
	// closes (and unlinks) the FIFOs only when vrrp_notify_fifo is open
	// (vrrp_daemon.c, vrrp_terminate_phase2).
	if _, err := os.Lstat(filepath.Join(kn.Dir, "notify.fifo")); err == nil {
		t.Log("keepalived left its notify_fifo behind, as 2.2.7 does")
	}
}

// fillPipe writes junk lines into the FIFO at path, through a descriptor
// of its own that stays open (so the junk stays in the pipe), until the
// pipe is full.
func fillPipe(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	n := 0
	// Lines of 100 bytes, then newlines one by one: the kernel merges
	// small writes into a page's free tail, which 100-byte lines leave.
	for _, junk := range [][]byte{[]byte(strings.Repeat("x", 99) + "\n"), []byte("\n")} {
		for i := 0; i < 1<<17; i++ {
			w, err := unix.Write(fd, junk)
			if err != nil {
				break
			}
			n += w
		}
	}
	return n
}

// TestE2ENotifyFIFOStalled: a FIFO nobody reads, and one whose reader
// stopped reading once the pipe was full, do not hold up the daemon:
// takeovers happen on time and the dropped lines are logged.
func TestE2ENotifyFIFOStalled(t *testing.T) {
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix(netlab.DemoVIP)
	h := newHolders(t, l.Nodes, vip)
	// Master_Down_Interval at priority 100, advert_int 0.2: 3*0.2 + 0.2*156/256.
	masterDown := 600*time.Millisecond + 122*time.Millisecond
	limit := masterDown + 400*time.Millisecond // the daemon's wake-up, the poll, a busy machine

	// Nobody reads either FIFO; node2's is there before the daemon, full.
	fifo2 := filepath.Join(n2.Dir, "notify.fifo")
	if err := unix.Mkfifo(fifo2, 0o644); err != nil {
		t.Fatal(err)
	}
	filled := fillPipe(t, fifo2)
	d1 := startDaemon(t, n1, fifoConf(n1.Dir, 51, 200, vip, false, ""))
	d2 := startDaemon(t, n2, fifoConf(n2.Dir, 51, 100, vip, false, ""))
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // node2 settled as backup
	d1.Stop(3 * time.Second)
	took, err := h.waitOwner("node2", 3*time.Second)
	if err != nil || took > limit {
		t.Errorf("node2 took over after %v (%v), want within %v: a full FIFO held it up", took, err, limit)
	}
	t.Logf("pipe filled with %d bytes; takeover by node2 with its FIFO full after %v (Master_Down_Interval %v)", filled, took, masterDown)
	b, _ := os.ReadFile(d2.Log)
	if !strings.Contains(string(b), "notify FIFO: lines dropped") {
		t.Error("node2 does not log the lines it dropped")
	}
	// The drops show in node2's metrics, by FIFO path.
	mctx, mcancel := context.WithTimeout(context.Background(), 5*time.Second)
	text, err := api.NewUnixClient(n2.Socket()).Metrics(mctx)
	mcancel()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`hactl_notify_fifo_dropped_total\{fifo="` + regexp.QuoteMeta(fifo2) + `"\} [1-9]`).MatchString(text) {
		t.Errorf("node2's metrics do not count its FIFO's drops:\n%s", grepLines(text, "hactl_notify_fifo_dropped_total", "hactl_events_dropped_total"))
	}

	// node1's FIFO gets a reader that reads the first lines, then stops
	// reading with the pipe full, holding the FIFO open.
	fifo1 := filepath.Join(n1.Dir, "notify.fifo")
	d1 = startDaemon(t, n1, fifoConf(n1.Dir, 51, 200, vip, false, ""))
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil { // preempts
		t.Fatal(err)
	}
	rfd, err := unix.Open(fifo1, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(rfd) })
	rd := bufio.NewReader(os.NewFile(uintptr(rfd), fifo1))
	var first []string
	for len(first) < 2 {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, strings.TrimSpace(line))
	}
	if want := []string{`INSTANCE "VI_1" BACKUP 200`, `INSTANCE "VI_1" MASTER 200`}; !slices.Equal(first, want) {
		t.Errorf("node1's reader read %q, want %q", first, want)
	}
	fillPipe(t, fifo1) // and the reader reads no more
	d2.Stop(3 * time.Second)
	startDaemon(t, n2, fifoConf(n2.Dir, 51, 100, vip, false, ""))
	time.Sleep(time.Second)
	// node1's adverts kept coming: node2 stays backup.
	if owners := h.owners(); !slices.Equal(owners, []string{"node1"}) {
		t.Errorf("with node1's reader stalled the VIP is held by %v, want node1 alone", owners)
	}
	d1.Stop(3 * time.Second)
	took, err = h.waitOwner("node2", 3*time.Second)
	if err != nil || took > limit {
		t.Errorf("node2 took over after %v (%v), want within %v", took, err, limit)
	}
	b, _ = os.ReadFile(d1.Log)
	if !strings.Contains(string(b), "notify FIFO: lines dropped") || !strings.Contains(string(b), "stopped") {
		t.Error("node1 with a stalled reader did not drop lines, or did not stop")
	}
	t.Logf("takeover by node2 after node1 (its reader stalled) stopped: %v", took)
}

// groupConf is fifoConf with two instances in sync group G1.
func groupConf(dir string, vrid int, vip4 string) string {
	inst := func(name string, vrid int, addr string) string {
		return fmt.Sprintf(`vrrp_instance %s {
    state BACKUP
    interface eth0
    virtual_router_id %d
    version 3
    priority 150
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
}
`, name, vrid, addr)
	}
	return fmt.Sprintf(`global_defs {
    script_user root
    notify_fifo %s
    notify_fifo_script %s
}
`, filepath.Join(dir, "notify.fifo"), filepath.Join(dir, "reader.sh")) +
		inst("VI_1", vrid, vip4+".110/24") + inst("VI_2", vrid+1, vip4+".111/24") +
		"vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"
}

// TestE2ENotifyFIFOGroupAsKeepalived: a sync group of two instances, in
// hactl and in keepalived 2.2.7 with the same config: both FIFO readers
// see the same lines, GROUP "G1" BACKUP 0 and GROUP "G1" MASTER 0 among
// the instances' (compared name by name: which instance's timer fires
// first varies, and at start keepalived writes the group's BACKUP before
// its members' (vrrp_scheduler.c, vrrp_init_state notifies the groups
// first) where hactl writes it once its members are all BACKUP), and the
// STOP lines at the stop.
func TestE2ENotifyFIFOGroupAsKeepalived(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	hn, kn := l.Node(1), l.Node(2)
	hout, kout := writeReader(t, hn.Dir), writeReader(t, kn.Dir)
	kp := startKeepalived(t, kn, groupConf(kn.Dir, 91, "10.77.0"))
	hd := startDaemon(t, hn, groupConf(hn.Dir, 93, "10.77.0"))
	time.Sleep(2 * time.Second)
	hd.Stop(3 * time.Second)
	kp.Stop(3 * time.Second)
	got, kgot := waitLines(t, hout, 9, 2*time.Second), waitLines(t, kout, 9, 2*time.Second)
	t.Logf("hactl's reader:\n%s\nkeepalived's reader:\n%s", strings.Join(got, "\n"), strings.Join(kgot, "\n"))
	byName := func(lines []string) map[string][]string {
		m := map[string][]string{}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) == 4 {
				m[f[0]+" "+f[1]] = append(m[f[0]+" "+f[1]], f[2]+" "+f[3])
			}
		}
		return m
	}
	h, k := byName(got), byName(kgot)
	for _, name := range []string{`INSTANCE "VI_1"`, `INSTANCE "VI_2"`, `GROUP "G1"`} {
		if !slices.Equal(h[name], k[name]) || len(h[name]) == 0 {
			t.Errorf("%s: hactl %q, keepalived %q", name, h[name], k[name])
		}
	}
	if len(got) != len(kgot) {
		t.Errorf("hactl wrote %d lines, keepalived %d", len(got), len(kgot))
	}
}
