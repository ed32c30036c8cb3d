//go:build linux

package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/flood"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// Attacks by local accounts and through the run directory (issue 20,
// items 2, 3 and 6).

// When the test binary runs as the flooding client (as another user, see
// floodAs), it opens up to HACTL_DAEMON_TEST_FLOOD_N idle connections to
// the socket, prints how many the daemon kept open, and holds them until
// its stdin closes. init runs before TestMain, so no hactl is built.
func init() {
	sock := os.Getenv("HACTL_DAEMON_TEST_FLOOD")
	if sock == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("HACTL_DAEMON_TEST_FLOOD_N"))
	open, dialed := flood.Conns(sock, n, 5*time.Second)
	fmt.Printf("open=%d dialed=%d\n", len(open), dialed)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// floodAs runs the flooding client as uid:gid with descriptors for n
// connections, waits for its count and returns a function that makes it
// let go.
func floodAs(t *testing.T, sock string, uid, gid, n int) (open, dialed int, release func()) {
	t.Helper()
	bin := sharedCopy(t, os.Args[0])
	// The flooder inherits this limit (root may raise the hard limit; Go
	// then no longer restores the original one for children).
	want := uint64(n + 100)
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < want {
		rl = unix.Rlimit{Cur: want, Max: max(want, rl.Max)}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			t.Logf("raising RLIMIT_NOFILE to %d: %v (the flood is smaller)", want, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "HACTL_DAEMON_TEST_FLOOD="+sock, "HACTL_DAEMON_TEST_FLOOD_N="+strconv.Itoa(n))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			stdin.Close()
			cmd.Wait()
			cancel()
		})
	}
	t.Cleanup(release)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "open=%d dialed=%d", &open, &dialed); err != nil || serr != nil {
		t.Fatalf("flooder: %q %v %v", line, err, serr)
	}
	return open, dialed, release
}

// sharedCopy copies a file into a directory other users may enter, mode
// 0755 (t.TempDir's parent is private to root).
func sharedCopy(t *testing.T, src string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hactl-attack-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// startDaemonArgs is startDaemon with extra daemon flags, and argv in
// front of the daemon (a wrapper such as unshare), when wrap is set.
func startDaemonArgs(t *testing.T, n *netlab.Host, conf string, wrap func(daemonArgv []string) []string, extra ...string) *daemonProc {
	t.Helper()
	return launchDaemon(t, n, conf, true, wrap, extra...)
}

// daemonPID waits for the node's pid file.
func daemonPID(t *testing.T, n *netlab.Host) int {
	t.Helper()
	for i := 0; i < 250; i++ {
		if b, err := os.ReadFile(filepath.Join(n.Dir, "hactl.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no pid file", n.Name)
	return 0
}

func scriptConf(check string, prio int, vipAddr netip.Prefix) string {
	return fmt.Sprintf(`vrrp_script chk {
    script "%s"
    interval 1
    fall 1
    rise 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 61
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
    track_script {
        chk
    }
}
`, check, prio, vipAddr)
}

// TestE2EConnectionFloodKeepsMaster: a member of the socket's group (not
// root) opens 20,000 idle connections to the master's control socket and
// holds them. The master's descriptors (capped at 4096 here, so that the
// flood exhausts them whatever the host's limit) are not exhausted: its
// track script (no weight: a failure is FAULT) keeps succeeding, it stays
// master and keeps advertising, and root can still ask for the status.
// Before the connection caps the script failed with "too many open files"
// within a second, the instance went to FAULT and the backup took over.
func TestE2EConnectionFloodKeepsMaster(t *testing.T) {
	labtest.Require(t)
	const nobody, staff, attack = 65534, 50, 20000
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	n1, n2 := l.Node(1), l.Node(2)
	for i, n := range l.Nodes {
		check := filepath.Join(n.Dir, "check.sh")
		write(t, check, "#!/bin/sh\nexit 0\n", 0o755)
		startDaemonArgs(t, n, scriptConf(check, 110-10*i, vipAddr), nil, "--socket-group", strconv.Itoa(staff))
	}
	pid := daemonPID(t, n1)
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 4096, Max: 4096}, nil); err != nil {
		t.Fatal(err)
	}
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node1", 10*time.Second); err != nil {
		t.Fatalf("election: %v", err)
	}
	before := status(t, n1).Instances[0].Counters.AdvertsSent
	t.Logf("node1 before the flood: %s", vmRSS(pid))

	start := time.Now()
	open, dialed, release := floodAs(t, n1.Socket(), nobody, staff, attack)
	t.Logf("flooder (uid %d, group %d) dialed %d connections in %v, %d left open", nobody, staff, dialed, time.Since(start).Round(time.Millisecond), open)
	if open > 32 {
		t.Errorf("the flooder holds %d connections, over the per-uid cap of 32", open)
	}
	// Hold for 4 s: four runs of the script.
	client := api.NewUnixClient(n1.Socket())
	defer client.CloseIdleConnections()
	var worst time.Duration
	for hold := time.Now(); time.Since(hold) < 4*time.Second; time.Sleep(200 * time.Millisecond) {
		if o := h.owners(); len(o) != 1 || o[0] != "node1" {
			t.Fatalf("during the flood the VIP is held by %v, want node1 only", o)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		t0 := time.Now()
		st, err := client.Status(ctx)
		cancel()
		if err != nil {
			t.Fatalf("root's status during the flood: %v", err)
		}
		worst = max(worst, time.Since(t0))
		in := st.Instances[0]
		if in.State != api.StateMaster || !trackerOK(in, "chk") {
			t.Fatalf("during the flood node1 is %s with trackers %+v, want MASTER with chk OK", in.State, in.Trackers)
		}
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	t.Logf("node1 during the flood: %d descriptors open, %s", len(fds), vmRSS(pid))
	after := status(t, n1).Instances[0]
	// 4.5 s at 0.2 s is about 22 adverts; allow a loaded machine half.
	if sent := after.Counters.AdvertsSent - before; sent < 10 {
		t.Errorf("node1 sent %d adverts during the flood, want about 20", sent)
	}
	if st := status(t, n2).Instances[0]; st.State != api.StateBackup {
		t.Errorf("node2 is %s after the flood, want BACKUP", st.State)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m, err := client.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refused := metricValue(m, "hactl_control_connections_refused_total")
	t.Logf("root's status answered in at most %v during the flood; refused %v connections", worst.Round(time.Millisecond), refused)
	if refused < float64(dialed-32) {
		t.Errorf("hactl_control_connections_refused_total %v, want at least %d", refused, dialed-32)
	}
	release()
	b, _ := os.ReadFile(filepath.Join(n1.Dir, "daemon.log"))
	if strings.Contains(string(b), "too many open files") {
		t.Errorf("node1's log mentions descriptor exhaustion:\n%s", lastLines(string(b), 20))
	}
	if n := strings.Count(string(b), "connection refused"); n > 3 {
		t.Errorf("node1 logged %d lines about refused connections, want at most one per 10 s", n)
	}
}

func vmRSS(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return "RSS " + strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	return "RSS unknown"
}

func trackerOK(in api.Instance, name string) bool {
	for _, tr := range in.Trackers {
		if tr.Name == name {
			return tr.OK
		}
	}
	return false
}

func metricValue(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return -1
}
