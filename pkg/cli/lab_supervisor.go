package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/spf13/cobra"
)

// The lab's nodes have no systemd. Each node's daemon runs under a small
// supervisor (hactl lab supervise, hidden), which starts it again whenever
// it exits, as systemd's Restart=always would; so "restart the daemon" is
// "send it SIGTERM and wait until it is gone", which the lab's
// restart-daemon script does. restart-safe runs that script over SSH:
//
//	hactl restart-safe --restart-command /run/hactl-lab/demo/restart-daemon

// labRestartScript is the path of the lab's restart script.
func labRestartScript(l *netlab.Lab) string { return filepath.Join(l.Dir, "restart-daemon") }

// writeLabRestartScript writes a script that, run inside a node (over its
// sshd), finds the node from its network namespace, stops its daemon with
// SIGTERM through the pid file and waits until it has exited; the
// supervisor starts a new one.
func writeLabRestartScript(l *netlab.Lab) error {
	script := fmt.Sprintf(`#!/bin/sh
# restart-daemon (written by hactl lab up): restart this lab node's hactl daemon.
# Run inside a node (ssh NODE %[1]s): SIGTERM to the daemon, wait until it
# has gone; the node's supervisor (hactl lab supervise) starts it again.
set -eu
ns=$(ip netns identify $$)
node=${ns#%[2]s}
pidf=%[3]s/$node/hactl.pid
pid=$(cat "$pidf" 2>/dev/null) || { echo "restart-daemon: $node: no pid file $pidf (daemon not running?)" >&2; exit 1; }
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i+1))
  if [ "$i" -gt 200 ]; then echo "restart-daemon: $node: daemon $pid still running after 10 s" >&2; exit 1; fi
  sleep 0.05
done
echo "$node: daemon $pid stopped; the supervisor starts a new one"
`, labRestartScript(l), netlab.Prefix+l.Name+"-", l.Dir)
	return os.WriteFile(labRestartScript(l), []byte(script), 0o755)
}

// newCmdLabSupervise is the hidden supervisor: it runs ARGV and starts it
// again each time it exits, until it gets SIGTERM or SIGINT itself (then
// it forwards the signal and exits once the child has).
func newCmdLabSupervise() *cobra.Command {
	return &cobra.Command{
		Use:    "supervise -- CMD [ARG...]",
		Short:  "Run a command and restart it whenever it exits (the lab's stand-in for systemd)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return supervise(args)
		},
	}
}

func supervise(argv []string) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	var stopping atomic.Bool
	var child atomic.Pointer[os.Process]
	go func() {
		s := <-sigs
		stopping.Store(true)
		if p := child.Load(); p != nil {
			_ = p.Signal(s)
		}
	}()
	for run := 1; ; run++ {
		c := exec.Command(argv[0], argv[1:]...)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		started := time.Now()
		if err := c.Start(); err != nil {
			return err
		}
		child.Store(c.Process)
		fmt.Fprintf(os.Stderr, "supervise: started %s (pid %d, run %d)\n", filepath.Base(argv[0]), c.Process.Pid, run)
		err := c.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return err
		}
		fmt.Fprintf(os.Stderr, "supervise: pid %d exited (%v)\n", c.Process.Pid, c.ProcessState)
		// A crash loop is slowed down; a requested restart is quick. The
		// short pause also lets a SIGTERM to the whole node (lab down)
		// reach us before we start another child.
		pause := 50 * time.Millisecond
		if time.Since(started) < time.Second {
			pause = time.Second
		}
		time.Sleep(pause)
		if stopping.Load() {
			return nil
		}
	}
}
