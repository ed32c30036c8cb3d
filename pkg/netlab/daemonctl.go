package netlab

import (
	"fmt"
	"os"
	"path/filepath"
)

// Daemonctl is the path of the lab's daemonctl script (docs/lab.md): run
// inside a node, it stops, starts or restarts the node's supervised daemon.
func (l *Lab) Daemonctl() string { return filepath.Join(l.Dir, "daemonctl") }

// RestartScript is the path of the lab's restart-daemon script, which the
// demo and older scripts use: daemonctl restart.
func (l *Lab) RestartScript() string { return filepath.Join(l.Dir, "restart-daemon") }

// WriteDaemonScripts writes the lab's daemonctl and restart-daemon scripts.
func (l *Lab) WriteDaemonScripts() error {
	if err := os.WriteFile(l.Daemonctl(), []byte(daemonctlScript(l)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(l.RestartScript(), []byte(restartScript(l)), 0o755)
}

// daemonctlScript is daemonctl: it finds the node from its network
// namespace, and the daemon's pid from the supervisor's pid file (else the
// daemon's own: hactl.pid, keepalived.pid). Every wait is bounded (10 s).
func daemonctlScript(l *Lab) string {
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
`, l.Daemonctl(), Prefix+l.Name+"-", l.Dir, l.Name)
}

// restartScript is restart-daemon: daemonctl restart, with restart-daemon's
// old comment.
func restartScript(l *Lab) string {
	return fmt.Sprintf(`#!/bin/sh
# restart-daemon (written by hactl): restart this lab node's VRRP daemon.
# Run inside a node (ssh NODE %[1]s): SIGTERM to the daemon, wait until it
# has gone; the node's supervisor (hactl lab supervise) starts it again.
# The same as: %[2]s restart
exec %[2]s restart
`, l.RestartScript(), l.Daemonctl())
}
