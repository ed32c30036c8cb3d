//go:build linux

package netlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Command returns a command that runs argv inside the host's namespace.
//
// It goes through `ip netns exec` rather than a setns before fork, because
// that also gives the process a /sys of its namespace (as operators see it
// with `ip netns exec`), which programs such as keepalived read.
func (h *Host) Command(ctx context.Context, argv ...string) *exec.Cmd {
	args := append([]string{"netns", "exec", h.Netns}, argv...)
	return exec.CommandContext(ctx, ipBinary(), args...)
}

func ipBinary() string {
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "ip"
}

// Run runs argv in the host's namespace and returns its combined output.
// The error names the host and carries the output.
func (h *Host) Run(ctx context.Context, argv ...string) ([]byte, error) {
	out, err := h.Command(ctx, argv...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %q: %w: %s", h.Name, argv, err, out)
	}
	return out, nil
}

// Proc is a long-lived process started in a host.
type Proc struct {
	Host *Host
	Name string
	// Log is the file that receives the process's stdout and stderr.
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs argv in the host's namespace as a long-lived process in its
// own session (it survives the starter, for hactl lab up), with stdout and
// stderr appended to HOSTDIR/NAME.log.
func (h *Host) Start(name string, argv ...string) (*Proc, error) {
	logPath := filepath.Join(h.Dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := h.Command(context.Background(), argv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", h.Name, name, err)
	}
	p := &Proc{Host: h, Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGTERM, waits up to grace, then SIGKILL; it returns once the
// process has exited.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}
