//go:build linux

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
)

// Daemon is hactl or keepalived, as far as a benchmark needs to drive it.
type Daemon interface {
	Name() string
	// Start runs the daemon in host with conf (keepalived syntax).
	Start(h *netlab.Host, conf string) (Running, error)
}

// Running is a started daemon.
type Running interface {
	// PIDs are the processes whose CPU and memory count (keepalived runs a
	// parent and a VRRP child).
	PIDs() []int
	Signal(sig syscall.Signal)
	// Wait waits for every process to exit, for at most limit.
	Wait(limit time.Duration) error
}

// Hactl runs `hactl daemon` from Bin.
type Hactl struct{ Bin string }

// Name is "hactl".
func (Hactl) Name() string { return "hactl" }

// Start runs hactl daemon with the node's own files.
func (d Hactl) Start(h *netlab.Host, conf string) (Running, error) {
	path := filepath.Join(h.Dir, "bench.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := h.Start("hactl", d.Bin, "daemon", "-f", path, "--state-file", filepath.Join(h.Dir, "state"),
		"--socket", h.Socket(), "--pid-file", filepath.Join(h.Dir, "hactl.pid"))
	if err != nil {
		return nil, err
	}
	return &proc{pids: []int{p.Pid()}, procs: []*netlab.Proc{p}}, nil
}

// Keepalived runs /usr/sbin/keepalived (VRRP only, in the foreground).
type Keepalived struct{}

// Name is "keepalived".
func (Keepalived) Name() string { return "keepalived" }

// Start runs keepalived -P and waits for its VRRP child.
func (Keepalived) Start(h *netlab.Host, conf string) (Running, error) {
	path := filepath.Join(h.Dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	vpid := filepath.Join(h.Dir, "vrrp.pid")
	os.Remove(vpid)
	p, err := h.Start("keepalived", "/usr/sbin/keepalived", "-n", "-P", "-f", path,
		"-p", filepath.Join(h.Dir, "keepalived.pid"), "-r", vpid, "-b", filepath.Join(h.Dir, "bfd.pid"))
	if err != nil {
		return nil, err
	}
	r := &proc{pids: []int{p.Pid()}, procs: []*netlab.Proc{p}}
	for range 100 {
		if b, err := os.ReadFile(vpid); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				r.pids = append(r.pids, pid)
				return r, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Signal(syscall.SIGKILL)
	return nil, fmt.Errorf("%s: keepalived's VRRP child did not start (log %s)", h.Name, p.Log)
}

type proc struct {
	pids  []int
	procs []*netlab.Proc
}

func (p *proc) PIDs() []int { return p.pids }

// Signal signals the VRRP process first (keepalived's child), then the
// parent, so a SIGKILL takes the advertiser down at once.
func (p *proc) Signal(sig syscall.Signal) {
	for i := len(p.pids) - 1; i >= 0; i-- {
		_ = syscall.Kill(p.pids[i], sig)
	}
}

func (p *proc) Wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, pr := range p.procs {
		select {
		case <-pr.Done():
		case <-time.After(time.Until(deadline)):
			return fmt.Errorf("pid %d still running after %v", pr.Pid(), limit)
		}
	}
	for _, pid := range p.pids[1:] { // children: not ours to wait for
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// cpuTicks is a process's user+system time in clock ticks (1/100 s here).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

// peakRSS is VmHWM in kB.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("pid %d: no VmHWM", pid)
}
