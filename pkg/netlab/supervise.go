package netlab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// The lab's nodes have no systemd. Each node's VRRP daemon (hactl daemon,
// or keepalived) runs under a small supervisor (Supervise, run as the
// hidden `hactl lab supervise`), which starts it again whenever it exits,
// as systemd's Restart=always would, unless the node's hold file exists (a
// stopped unit). The lab's daemonctl script (daemonctl.go) is the node's
// systemctl:
//
//	daemonctl stop      write the hold file, SIGTERM, wait until it has gone
//	daemonctl start     remove the hold file, wait until a new daemon runs
//	daemonctl restart   SIGTERM, wait until it has gone and a new one runs
//
// restart-daemon (kept for the demo and older scripts) is daemonctl
// restart. Run inside a node (over its sshd), as the operator commands do:
//
//	hactl restart-safe --restart-command '/run/hactl-lab/demo/daemonctl restart'
//	hactl failover --to node1 --stop-command '/run/hactl-lab/demo/daemonctl stop' \
//	    --start-command '/run/hactl-lab/demo/daemonctl start'

// HoldFile is the node's hold file: the supervisor does not start the
// daemon while it exists.
func (h *Host) HoldFile() string { return filepath.Join(h.Dir, "daemon.hold") }

// SupervisedPIDFile is the file in which the node's supervisor keeps the
// running daemon's pid.
func (h *Host) SupervisedPIDFile() string { return filepath.Join(h.Dir, "daemon.pid") }

// SuperviseArgv is the argv that runs argv on node h under the supervisor
// (self is the hactl binary, whose `lab supervise` runs Supervise), with
// the node's hold and pid files.
func SuperviseArgv(self string, h *Host, argv ...string) []string {
	return append([]string{self, "lab", "supervise", "--hold-file", h.HoldFile(), "--pid-file", h.SupervisedPIDFile(), "--"}, argv...)
}

// KeepalivedPath is where the lab expects keepalived.
const KeepalivedPath = "/usr/sbin/keepalived"

// KeepalivedArgv is the argv of keepalived on node h with config conf: in
// the foreground (-n, so the supervisor's child is keepalived's main
// process), logging to stderr (-l -D), VRRP only (-P), with pid files in the
// node's directory. keepalived's JSON dump goes to the shared
// /tmp/keepalived.json; hactl's probe serialises the nodes' dumps with a
// lock (pkg/cluster/keepalived.go).
func KeepalivedArgv(h *Host, conf string) []string {
	return []string{KeepalivedPath, "-n", "-l", "-D", "-P", "-f", conf,
		"-p", filepath.Join(h.Dir, "keepalived.pid"), "-r", filepath.Join(h.Dir, "vrrp.pid"), "-b", filepath.Join(h.Dir, "bfd.pid")}
}

// SuperviseConfig is one supervisor: the command it keeps running and
// its files.
type SuperviseConfig struct {
	// Argv is the command and its arguments.
	Argv []string
	// HoldFile, when set, stops the supervisor from starting the command
	// while the file exists.
	HoldFile string
	// PIDFile, when set, holds the running command's pid.
	PIDFile string
	// Stdout and Stderr are the command's; Stderr also gets the
	// supervisor's own lines. Nil means os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Signals delivers the signal that stops the supervisor (it forwards
	// it to the command); nil means the process's SIGTERM and SIGINT.
	Signals <-chan os.Signal
}

// Supervise runs c.Argv and starts it again each time it exits, unless the
// hold file exists (then it waits until it is removed), until the process
// gets SIGTERM or SIGINT (then it forwards the signal and returns once the
// child has exited).
func Supervise(c SuperviseConfig) error {
	if len(c.Argv) == 0 {
		return errors.New("supervise: no command")
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	sigs := c.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		defer signal.Stop(ch)
		sigs = ch
	}
	var stopping atomic.Bool
	var child atomic.Pointer[os.Process]
	go func() {
		sig := <-sigs
		stopping.Store(true)
		if p := child.Load(); p != nil {
			_ = p.Signal(sig)
		}
	}()
	sv := &supervisor{c: c, stopping: &stopping, child: &child}
	return sv.loop()
}

// supervisor is one Supervise run.
type supervisor struct {
	c        SuperviseConfig
	stopping *atomic.Bool
	child    *atomic.Pointer[os.Process]
}

func (s *supervisor) held() bool {
	if s.c.HoldFile == "" {
		return false
	}
	_, err := os.Stat(s.c.HoldFile)
	return err == nil
}

// waitUnheld waits while the hold file exists; it reports false if the
// supervisor is told to stop meanwhile.
func (s *supervisor) waitUnheld() bool {
	if !s.held() {
		return !s.stopping.Load()
	}
	fmt.Fprintf(s.c.Stderr, "supervise: %s exists: not starting %s until it is removed\n", s.c.HoldFile, filepath.Base(s.c.Argv[0]))
	for s.held() {
		if s.stopping.Load() {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !s.stopping.Load()
}

func (s *supervisor) loop() error {
	for run := 1; ; run++ {
		if !s.waitUnheld() {
			return nil
		}
		started := time.Now()
		if err := s.runOnce(run); err != nil {
			return err
		}
		// A crash loop is slowed down; a requested restart is quick. The
		// short pause also lets a SIGTERM to the whole node (lab down)
		// reach us before we start another child.
		pause := 50 * time.Millisecond
		if time.Since(started) < time.Second {
			pause = time.Second
		}
		time.Sleep(pause)
		if s.stopping.Load() {
			return nil
		}
	}
}

// runOnce starts the command and waits for it. Only a failure to start or
// wait is an error; the command's own exit status is logged.
func (s *supervisor) runOnce(run int) error {
	argv := s.c.Argv
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdout, c.Stderr = s.c.Stdout, s.c.Stderr
	if err := c.Start(); err != nil {
		return err
	}
	s.child.Store(c.Process)
	if s.c.PIDFile != "" {
		if err := os.WriteFile(s.c.PIDFile, []byte(strconv.Itoa(c.Process.Pid)+"\n"), 0o644); err != nil {
			fmt.Fprintf(s.c.Stderr, "supervise: %v\n", err)
		}
	}
	fmt.Fprintf(s.c.Stderr, "supervise: started %s (pid %d, run %d)\n", filepath.Base(argv[0]), c.Process.Pid, run)
	err := c.Wait()
	if s.c.PIDFile != "" {
		_ = os.Remove(s.c.PIDFile)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return err
	}
	fmt.Fprintf(s.c.Stderr, "supervise: pid %d exited (%v)\n", c.Process.Pid, c.ProcessState)
	return nil
}
