package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/spf13/cobra"
)

// The lab's nodes have no systemd. Each node's VRRP daemon (hactl daemon,
// or keepalived) runs under a small supervisor (hactl lab supervise,
// hidden), which starts it again whenever it exits, as systemd's
// Restart=always would, unless the node's hold file exists (a stopped
// unit). The lab's daemonctl script is the node's systemctl:
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

// labRestartScript is the path of the lab's restart script.
func labRestartScript(l *netlab.Lab) string { return filepath.Join(l.Dir, "restart-daemon") }

// labDaemonctl is the path of the lab's daemonctl script.
func labDaemonctl(l *netlab.Lab) string { return filepath.Join(l.Dir, "daemonctl") }

// labHoldFile and labSupervisedPID are a node's hold file (the supervisor
// does not start the daemon while it exists) and the file in which the
// supervisor keeps the running daemon's pid.
func labHoldFile(h *netlab.Host) string      { return filepath.Join(h.Dir, "daemon.hold") }
func labSupervisedPID(h *netlab.Host) string { return filepath.Join(h.Dir, "daemon.pid") }

// labSupervise is the argv that runs argv on node h under the supervisor
// (self is this hactl binary), with the node's hold and pid files.
func labSupervise(self string, h *netlab.Host, argv ...string) []string {
	return append([]string{self, "lab", "supervise", "--hold-file", labHoldFile(h), "--pid-file", labSupervisedPID(h), "--"}, argv...)
}

// labKeepalived is the argv of keepalived on node h with config conf: in
// the foreground (-n, so the supervisor's child is keepalived's main
// process), logging to stderr (-l -D), VRRP only (-P), with pid files in the
// node's directory. keepalived's JSON dump goes to the shared
// /tmp/keepalived.json; hactl's probe serialises the nodes' dumps with a
// lock (pkg/cluster/keepalived.go).
func labKeepalived(h *netlab.Host, conf string) []string {
	return []string{"/usr/sbin/keepalived", "-n", "-l", "-D", "-P", "-f", conf,
		"-p", filepath.Join(h.Dir, "keepalived.pid"), "-r", filepath.Join(h.Dir, "vrrp.pid")}
}

// writeLabScripts writes the lab's daemonctl and restart-daemon scripts.
func writeLabScripts(l *netlab.Lab) error {
	if err := os.WriteFile(labDaemonctl(l), []byte(labDaemonctlScript(l)), 0o755); err != nil {
		return err
	}
	return writeLabRestartScript(l)
}

// labDaemonctlScript is daemonctl: it finds the node from its network
// namespace, and the daemon's pid from the supervisor's pid file (else the
// daemon's own: hactl.pid, keepalived.pid). Every wait is bounded (10 s).
func labDaemonctlScript(l *netlab.Lab) string {
	return fmt.Sprintf(`#!/bin/sh
# daemonctl (written by hactl): stop, start or restart this lab node's VRRP
# daemon (hactl daemon or keepalived), which runs under hactl lab supervise.
# Run inside a node (ssh NODE %[1]s restart):
#   stop     write the hold file (the supervisor does not start it again),
#            SIGTERM the daemon, wait until it has gone
#   start    remove the hold file, wait until the supervisor has started it
#   restart  SIGTERM the daemon, wait until it has gone and a new one runs
#   status   print whether it runs (and its pid)
set -eu
ns=$(ip netns identify $$)
node=${ns#%[2]s}
dir=%[3]s/$node
if [ -z "$ns" ] || [ "$node" = "$ns" ] || [ ! -d "$dir" ]; then
  echo "daemonctl: run it inside a node of lab %[4]s (network namespace: '$ns')" >&2; exit 1
fi
hold=$dir/daemon.hold
running() {
  for f in "$dir/daemon.pid" "$dir/hactl.pid" "$dir/keepalived.pid"; do
    p=$(cat "$f" 2>/dev/null) || continue
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
waitgone() {
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i+1))
    if [ "$i" -gt 200 ]; then echo "daemonctl: $node: daemon $1 still running after 10 s" >&2; exit 1; fi
    sleep 0.05
  done
}
waitnew() {
  i=0
  while :; do
    if p=$(running) && [ "$p" != "$1" ]; then echo "$p"; return 0; fi
    i=$((i+1))
    if [ "$i" -gt 200 ]; then echo "daemonctl: $node: no new daemon after 10 s (log: $dir/daemon.log)" >&2; exit 1; fi
    sleep 0.05
  done
}
case "${1:-}" in
stop)
  : >"$hold"
  if pid=$(running); then
    kill -TERM "$pid"; waitgone "$pid"
    echo "$node: daemon $pid stopped; held (daemonctl start starts it again)"
  else
    echo "$node: daemon not running; held"
  fi ;;
start)
  if pid=$(running); then rm -f "$hold"; echo "$node: daemon already running (pid $pid)"; exit 0; fi
  rm -f "$hold"
  pid=$(waitnew 0)
  echo "$node: daemon started (pid $pid)" ;;
restart)
  old=0
  if [ -e "$hold" ]; then
    rm -f "$hold"
  elif old=$(running); then
    kill -TERM "$old"; waitgone "$old"
  else
    echo "daemonctl: $node: no daemon running and no hold file (is the supervisor running?)" >&2; exit 1
  fi
  pid=$(waitnew "$old")
  echo "$node: daemon $old stopped; the supervisor started a new one (pid $pid)" ;;
status)
  if pid=$(running); then echo "$node: running (pid $pid)"; elif [ -e "$hold" ]; then echo "$node: stopped (held)"; exit 3; else echo "$node: not running"; exit 3; fi ;;
*)
  echo "usage: daemonctl stop|start|restart|status (inside a lab node)" >&2; exit 2 ;;
esac
`, labDaemonctl(l), netlab.Prefix+l.Name+"-", l.Dir, l.Name)
}

// writeLabRestartScript writes restart-daemon, which the demo and older
// scripts use: daemonctl restart, with restart-daemon's old last line.
func writeLabRestartScript(l *netlab.Lab) error {
	script := fmt.Sprintf(`#!/bin/sh
# restart-daemon (written by hactl): restart this lab node's VRRP daemon.
# Run inside a node (ssh NODE %[1]s): SIGTERM to the daemon, wait until it
# has gone; the node's supervisor (hactl lab supervise) starts it again.
# The same as: %[2]s restart
exec %[2]s restart
`, labRestartScript(l), labDaemonctl(l))
	return os.WriteFile(labRestartScript(l), []byte(script), 0o755)
}

// newCmdLabSupervise is the hidden supervisor: it runs ARGV and starts it
// again each time it exits, unless the hold file exists (then it waits
// until it is removed), until it gets SIGTERM or SIGINT itself (then it
// forwards the signal and exits once the child has).
func newCmdLabSupervise() *cobra.Command {
	var hold, pidFile string
	cmd := &cobra.Command{
		Use:    "supervise [--hold-file FILE] [--pid-file FILE] -- CMD [ARG...]",
		Short:  "Run a command and restart it whenever it exits (the lab's stand-in for systemd)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return supervise(args, hold, pidFile)
		},
	}
	cmd.Flags().StringVar(&hold, "hold-file", "", "do not start the command while this file exists")
	cmd.Flags().StringVar(&pidFile, "pid-file", "", "keep the running command's pid in this file")
	return cmd
}

func supervise(argv []string, hold, pidFile string) error {
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
	held := func() bool {
		if hold == "" {
			return false
		}
		_, err := os.Stat(hold)
		return err == nil
	}
	for run := 1; ; run++ {
		if held() {
			fmt.Fprintf(os.Stderr, "supervise: %s exists: not starting %s until it is removed\n", hold, filepath.Base(argv[0]))
			for held() {
				if stopping.Load() {
					return nil
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if stopping.Load() {
			return nil
		}
		c := exec.Command(argv[0], argv[1:]...)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		started := time.Now()
		if err := c.Start(); err != nil {
			return err
		}
		child.Store(c.Process)
		if pidFile != "" {
			if err := os.WriteFile(pidFile, []byte(strconv.Itoa(c.Process.Pid)+"\n"), 0o644); err != nil {
				fmt.Fprintf(os.Stderr, "supervise: %v\n", err)
			}
		}
		fmt.Fprintf(os.Stderr, "supervise: started %s (pid %d, run %d)\n", filepath.Base(argv[0]), c.Process.Pid, run)
		err := c.Wait()
		if pidFile != "" {
			_ = os.Remove(pidFile)
		}
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
