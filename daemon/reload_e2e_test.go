//go:build linux

package daemon_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
	"golang.org/x/net/ipv4"
)

const reloadVRID = 61

// reloadConf is a two-node instance with a short advert interval, and
// extra appended: what makes a config large without changing what runs.
func reloadConf(priority int, extra string) string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id %d
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        10.77.0.100/24
    }
}
`, reloadVRID, priority) + extra
}

// bulk returns about size bytes of valid configuration that changes
// nothing: vrrp_script blocks that no instance tracks, and comments.
func bulk(size int) string {
	var b strings.Builder
	b.Grow(size + 200)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "vrrp_script unused_%d {\n    script \"/bin/true\"\n    interval 5\n    weight -10\n}\n# %s\n", i, strings.Repeat("padding ", 8))
	}
	return b.String()
}

// advertTap records when the adverts of one VRID arrive in a lab host's
// namespace, with the kernel's receive timestamps (so the test's own
// scheduling on a loaded machine does not count).
type advertTap struct {
	conn *net.IPConn
	mu   sync.Mutex
	at   map[netip.Addr][]time.Time // by source
	done chan struct{}
}

func tapAdverts(t *testing.T, h *netlab.Host, vrid uint8) *advertTap {
	t.Helper()
	tap := &advertTap{at: map[netip.Addr][]time.Time{}, done: make(chan struct{})}
	err := h.Do(func() error {
		c, err := net.ListenIP("ip4:112", &net.IPAddr{IP: net.IPv4zero})
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			c.Close()
			return err
		}
		if err := ipv4.NewPacketConn(c).JoinGroup(ifi, &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)}); err != nil {
			c.Close()
			return err
		}
		raw, err := c.SyscallConn()
		if err != nil {
			c.Close()
			return err
		}
		var serr error
		if err := raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		}); err != nil || serr != nil {
			c.Close()
			return fmt.Errorf("SO_TIMESTAMPNS: %v %v", err, serr)
		}
		tap.conn = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	go tap.read(vrid)
	t.Cleanup(func() { tap.conn.Close(); <-tap.done })
	return tap
}

func (tap *advertTap) read(vrid uint8) {
	defer close(tap.done)
	b := make([]byte, 1500)
	oob := make([]byte, 128)
	for {
		n, oobn, _, from, err := tap.conn.ReadMsgIP(b, oob)
		if err != nil {
			return
		}
		p := b[:n]
		if len(p) > 0 && p[0]>>4 == 4 { // the IPv4 header, when given
			p = p[min(len(p), int(p[0]&0x0f)*4):]
		}
		src, ok := netip.AddrFromSlice(from.IP.To4())
		// VRRP: version and type, VRID, priority (0 is a resignation).
		if !ok || len(p) < 8 || p[1] != vrid || p[2] == 0 {
			continue
		}
		at := time.Now()
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					at = time.Unix(int64(binary.NativeEndian.Uint64(m.Data)), int64(binary.NativeEndian.Uint64(m.Data[8:])))
				}
			}
		}
		tap.mu.Lock()
		tap.at[src] = append(tap.at[src], at)
		tap.mu.Unlock()
	}
}

// maxGap is the longest wait between two adverts from src that arrived
// between from and to, when it ended, and how many adverts arrived.
func (tap *advertTap) maxGap(src netip.Addr, from, to time.Time) (time.Duration, time.Time, int) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	var gap time.Duration
	var last, end time.Time
	n := 0
	for _, at := range tap.at[src] {
		if at.Before(from) || at.After(to) {
			continue
		}
		if !last.IsZero() && at.Sub(last) > gap {
			gap, end = at.Sub(last), at
		}
		last = at
		n++
	}
	return gap, end, n
}

// waitReload polls a daemon's status until its reload has an outcome
// newer than since, for at most limit.
func waitReload(t *testing.T, n *netlab.Host, since time.Time, limit time.Duration) *api.Status {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st := status(t, n)
		if st.Daemon.ReloadedAt.After(since) || st.Daemon.LastReloadError != "" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no reload outcome after %v", n.Name, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2EReloadLargeConfigKeepsAdverts: SIGHUP to the master with a 20 MB
// valid config. The config is read, parsed and checked off the event loop,
// so the master's adverts keep their 200 ms rhythm (the red-team pass saw
// the loop held 7 s and both nodes hold the VIP) and the backup never
// becomes master. Then SIGTERM in the middle of another such reload stops
// the daemon at once.
func TestE2EReloadLargeConfigKeepsAdverts(t *testing.T) {
	labtest.Require(t)
	if testing.Short() {
		t.Skip("-short: a 20 MB reload")
	}
	const interval = 200 * time.Millisecond
	// On an idle machine the longest gap is 201-209 ms (interval plus the
	// scheduler); with other test packages and a fresh machine's builds
	// sharing the 2 cores it reached 278 ms once. The margin keeps the
	// test about the reload (the old code's gap was 1.56 s, and the backup
	// took over), not about how busy the host is; the gap is logged.
	const margin = 100 * time.Millisecond
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	tap := tapAdverts(t, l.Operator, reloadVRID)
	d1 := startDaemon(t, l.Node(1), reloadConf(150, ""))
	startDaemon(t, l.Node(2), reloadConf(100, ""))
	h := newHolders(t, l.Nodes, netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a baseline of adverts
	big := reloadConf(150, bulk(20<<20))
	write(t, d1.conf, big, 0o644)

	watch := func(stop <-chan struct{}) <-chan []string {
		out := make(chan []string, 1)
		go func() {
			var bad []string
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					out <- bad
					return
				case <-tick.C:
					if o := h.owners(); contains(o, "node2") && len(bad) < 10 {
						bad = append(bad, fmt.Sprintf("%s: VIP held by %v", time.Now().Format("15:04:05.000"), o))
					}
				}
			}
		}()
		return out
	}
	stop := make(chan struct{})
	owners := watch(stop)
	sent := time.Now()
	if err := d1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	st := waitReload(t, l.Node(1), sent, 60*time.Second)
	took := time.Since(sent)
	time.Sleep(5 * interval)
	close(stop)
	if st.Daemon.LastReloadError != "" {
		t.Fatalf("the large config was refused: %s", st.Daemon.LastReloadError)
	}
	gap, end, n := tap.maxGap(l.Node(1).Addr4, sent.Add(-interval), time.Now())
	base, _, _ := tap.maxGap(l.Node(1).Addr4, sent.Add(-time.Second), sent)
	t.Logf("%d MB reload took %v; master's longest advert gap during it %v, ending %v after the SIGHUP, over %d adverts (before it: %v; interval %v)",
		len(big)>>20, took.Round(time.Millisecond), gap.Round(time.Microsecond), end.Sub(sent).Round(time.Millisecond), n, base.Round(time.Microsecond), interval)
	logMemory(t, d1)
	if gap > interval+margin {
		t.Errorf("an advert gap of %v during the reload; want at most %v", gap, interval+margin)
	}
	if bad := <-owners; len(bad) > 0 {
		t.Errorf("the backup took the VIP during the reload:\n%s", strings.Join(bad, "\n"))
	}
	if s2 := status(t, l.Node(2)); s2.Instances[0].State != api.StateBackup {
		t.Errorf("node2 is %s after the reload, want BACKUP", s2.Instances[0].State)
	}

	// SIGTERM during a reload of the same size: the parse is canceled and
	// the daemon stops without waiting for it.
	write(t, d1.conf, reloadConf(150, bulk(20<<20)+"# changed\n"), 0o644)
	if err := d1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // well inside the parse
	termAt := time.Now()
	if err := d1.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d1.Done():
		t.Logf("SIGTERM during a reload: stopped after %v", time.Since(termAt).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatalf("SIGTERM during a reload: still running after 2s")
	}
	// The second reload must not have been applied. Under load SIGTERM may
	// come before its parse even starts, and then nothing is abandoned.
	b, _ := os.ReadFile(d1.Log)
	if n := strings.Count(string(b), "msg=reloaded"); n != 1 {
		t.Errorf("%d reloads completed, want only the first:\n%s", n, lastLines(string(b), 20))
	}
	if !strings.Contains(string(b), "reload abandoned") {
		t.Logf("no \"reload abandoned\" in the log: SIGTERM came before the parse began")
	}
}

// TestE2EReloadHostileIncludes: includes of a FIFO, of /dev/zero and an
// include bomb are each refused promptly on SIGHUP, with a message naming
// the file; the running config stays, the daemon answers throughout, and
// SIGTERM then stops it within a second. The red-team pass saw the FIFO
// wedge the daemon (SIGTERM waited behind it), /dev/zero read until memory
// ran out, and the bomb take 12 s and 331 MB.
func TestE2EReloadHostileIncludes(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	d := startDaemon(t, n, reloadConf(150, ""))
	h := newHolders(t, l.Nodes, netip.MustParsePrefix("10.77.0.100/24"))
	if _, err := h.waitOwner("node1", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(n.Dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// The bomb: each file includes the next twice, 2^24 reads in all.
	for i := range 24 {
		text := "# " + strings.Repeat("x", 2000) + "\n"
		if i+1 < 24 {
			text += fmt.Sprintf("include bomb%02d.conf\ninclude bomb%02d.conf\n", i+1, i+1)
		}
		write(t, filepath.Join(n.Dir, fmt.Sprintf("bomb%02d.conf", i)), text, 0o644)
	}
	for _, tc := range []struct{ name, include, want, at string }{
		{"fifo", fifo, "not a regular file (a FIFO)", "hactl.conf:11:1: include"},
		{"dev zero", "/dev/zero", "not a regular file (a character device)", "hactl.conf:11:1: include"},
		// The include that would go over the budget, deep in the tree.
		{"bomb", "bomb00.conf", "more than 1000 file reads", ".conf:3:1: include"},
	} {
		write(t, d.conf, reloadConf(150, "include "+tc.include+"\n"), 0o644)
		sent := time.Now()
		if err := d.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		st := waitReload(t, n, sent, 5*time.Second)
		took := time.Since(sent)
		e := st.Daemon.LastReloadError
		t.Logf("%s: refused after %v: %s", tc.name, took.Round(time.Millisecond), e)
		if !strings.Contains(e, tc.want) || !strings.Contains(e, tc.at) {
			t.Errorf("%s: reload error %q, want %q at %s", tc.name, e, tc.want, tc.at)
		}
		if took > 2*time.Second {
			t.Errorf("%s: refused after %v, want well under a second", tc.name, took)
		}
		if in := st.Instances[0]; in.State != api.StateMaster || in.BasePriority != 150 {
			t.Errorf("%s: after the refused reload %s priority %d, want MASTER 150", tc.name, in.State, in.BasePriority)
		}
		// Clear the error for the next case.
		write(t, d.conf, reloadConf(150, ""), 0o644)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := api.NewUnixClient(n.Socket()).Reload(ctx)
		cancel()
		if err != nil || !res.Reloaded {
			t.Fatalf("API reload of the good config: %+v %v", res, err)
		}
	}
	logMemory(t, d)
	termAt := time.Now()
	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Done():
		t.Logf("SIGTERM: stopped after %v", time.Since(termAt).Round(time.Millisecond))
	case <-time.After(time.Second):
		t.Fatal("SIGTERM: still running after 1s")
	}
}

// logMemory logs a daemon's peak and current resident memory.
func logMemory(t *testing.T, d *daemonProc) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(d.Pid()), "status"))
	if err != nil {
		return
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") || strings.HasPrefix(line, "VmRSS:") {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	t.Logf("%s daemon memory: %s", d.node.Name, strings.Join(out, ", "))
}
