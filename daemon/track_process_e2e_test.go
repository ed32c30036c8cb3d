//go:build linux

package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// trackedProc is a copy of sleep under a name of its own (its comm, so
// that no other process on the machine matches), started and killed by
// the test. The lab nodes share the machine's /proc: the name is what
// keeps two tests apart.
type trackedProc struct {
	t    *testing.T
	name string
	path string
	cmd  *exec.Cmd
}

func newTrackedProc(t *testing.T, dir string) *trackedProc {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := &trackedProc{t: t, name: fmt.Sprintf("htp%d", os.Getpid()%10000000)}
	p.path = filepath.Join(dir, p.name)
	write(t, p.path, string(b), 0o755)
	t.Cleanup(p.kill)
	return p
}

func (p *trackedProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.path, "1000")
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *trackedProc) kill() {
	if p.cmd != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// TestE2ETrackProcessFailover is issue 17's acceptance for
// vrrp_track_process, in lab namespaces (where the kernel's process events
// do not answer and hactl scans /proc): the tracked process killed, the
// master faults and the peer takes over within a second; started again,
// mastership comes back (preempt).
func TestE2ETrackProcessFailover(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	n1 := l.Node(1)
	proc := newTrackedProc(t, n1.Dir)
	proc.start()
	var d1 *daemonProc
	for _, n := range l.Nodes {
		prio, track := 100, ""
		if n == n1 {
			prio = 110
			track = "    track_process {\n        tp\n    }\n"
		}
		d := startDaemon(t, n, fmt.Sprintf(`vrrp_track_process tp {
    process %s
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
%s}
`, proc.name, prio, vipAddr, track))
		if n == n1 {
			d1 = d
		}
	}
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatalf("election with the process running: %v", err)
	}
	proc.kill()
	d, err := h.waitOwner("node2", 5*time.Second)
	if err != nil {
		t.Fatalf("after the tracked process was killed: %v", err)
	}
	t.Logf("process killed: node2 took over after %v", d.Round(time.Millisecond))
	if d > time.Second {
		t.Errorf("takeover took %v, want within a second", d.Round(time.Millisecond))
	}
	in := status(t, n1).Instances[0]
	failing := false
	for _, tr := range in.Trackers {
		failing = failing || (tr.Name == "tp" && tr.Kind == "process" && !tr.OK)
	}
	if in.State != api.StateFault || !failing {
		t.Errorf("node1 without its process: state %s, trackers %+v; want FAULT with process tp failing", in.State, in.Trackers)
	}
	proc.start()
	d, err = h.waitOwner("node1", 5*time.Second)
	if err != nil {
		t.Fatalf("after the process started again: %v", err)
	}
	t.Logf("process started again: node1 took mastership back after %v", d.Round(time.Millisecond))
	b, _ := os.ReadFile(d1.Log)
	if !strings.Contains(string(b), "process events unavailable; scanning /proc instead") {
		t.Errorf("node1's log does not say it scans /proc (a lab namespace has no process events); last lines:\n%s", lastLines(string(b), 20))
	}
}

// TestE2EKeepalivedTrackProcessInNamespace records what keepalived 2.2.7
// does with the same tracker in a lab namespace: its listen request on the
// process-event connector is refused (errno 111) and the instance stays in
// FAULT although the process runs, where hactl, scanning /proc, is master.
func TestE2EKeepalivedTrackProcessInNamespace(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	n := l.Node(1)
	proc := newTrackedProc(t, n.Dir)
	proc.start()
	vipAddr := netip.MustParsePrefix("10.77.0.100/24")
	conf := fmt.Sprintf(`vrrp_track_process tp {
    process %s
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 62
    priority 100
    advert_int 1
    virtual_ipaddress {
        %s
    }
    track_process {
        tp
    }
}
`, proc.name, vipAddr)
	kconf := filepath.Join(n.Dir, "keepalived.conf")
	write(t, kconf, conf, 0o644)
	kp, err := n.Start("keepalived", netlab.KeepalivedArgv(n, kconf)...)
	if err != nil {
		t.Fatal(err)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`Failed to set/clear process event listen - errno 111 - Connection refused`),
		regexp.MustCompile(`\(VI_1\) entering FAULT state \(tracked process tp quorum not achieved\)`),
	}
	var klog []byte
	for i := 0; i < 50; i++ {
		klog, _ = os.ReadFile(kp.Log)
		if want[0].Match(klog) && want[1].Match(klog) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	kp.Stop(3 * time.Second)
	for _, re := range want {
		if !re.Match(klog) {
			t.Errorf("keepalived's log lacks %q:\n%s", re, lastLines(string(klog), 30))
		}
	}
	for _, line := range strings.Split(string(klog), "\n") {
		if want[0].MatchString(line) || want[1].MatchString(line) {
			t.Logf("keepalived: %s", line)
		}
	}

	startDaemon(t, n, conf)
	h := newHolders(t, l.Nodes, vipAddr)
	if _, err := h.waitOwner("node1", 6*time.Second); err != nil {
		t.Fatalf("hactl with the process running: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := api.NewUnixClient(n.Socket()).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Instances[0].State != api.StateMaster {
		t.Errorf("hactl: %s, want MASTER", st.Instances[0].State)
	}
}
