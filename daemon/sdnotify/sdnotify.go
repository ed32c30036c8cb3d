package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notifier sends state changes to systemd. The zero value, and a nil
// *Notifier, do nothing.
type Notifier struct {
	// addr is $NOTIFY_SOCKET as given; empty disables the Notifier.
	addr string
	// watchdog is $WATCHDOG_USEC when it was meant for this process.
	watchdog time.Duration
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET and $WATCHDOG_USEC /
// $WATCHDOG_PID. With unset is true it unsets them, so that scripts the
// daemon starts cannot speak for it (systemd's sd_notify(unset_environment)).
// The daemon's script runner already gives scripts a minimal environment,
// so false is fine there.
func FromEnv(unset bool) *Notifier {
	n := &Notifier{addr: os.Getenv("NOTIFY_SOCKET")}
	if usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64); err == nil && usec > 0 {
		pid := os.Getenv("WATCHDOG_PID")
		if pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(usec) * time.Microsecond
		}
	}
	if unset {
		os.Unsetenv("NOTIFY_SOCKET")
		os.Unsetenv("WATCHDOG_USEC")
		os.Unsetenv("WATCHDOG_PID")
	}
	return n
}

// Enabled reports whether there is a socket to notify.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// Notify sends state, one or more "KEY=VALUE" lines, as one datagram. It
// does nothing without $NOTIFY_SOCKET.
func (n *Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	name := n.addr
	if !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, "@") {
		return fmt.Errorf("sd_notify: NOTIFY_SOCKET=%q is neither a path nor an abstract socket (@name)", name)
	}
	// Go maps a leading '@' to the abstract namespace (a leading NUL).
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// Ready says that start-up is complete: systemctl start returns, and units
// ordered after hactl start. status is shown by systemctl status ("" for
// none).
func (n *Notifier) Ready(status string) error { return n.Notify(withStatus("READY=1", status)) }

// Reloading says that a reload has begun; send Ready when it is done
// (whether or not the new config was taken: the daemon keeps running).
// MONOTONIC_USEC lets systemd 253+ tell this reload from an earlier one.
func (n *Notifier) Reloading() error {
	return n.Notify("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10))
}

// Stopping says that the daemon is shutting down (resigning mastership,
// removing VIPs, running notify_stop).
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// Status sets the free-form status line systemctl status shows.
func (n *Notifier) Status(status string) error { return n.Notify("STATUS=" + oneLine(status)) }

// WatchdogInterval returns how often to call Watchdog (half of
// WatchdogSec, as sd_watchdog_enabled advises) and whether the unit asked
// for a watchdog at all.
func (n *Notifier) WatchdogInterval() (time.Duration, bool) {
	if !n.Enabled() || n.watchdog <= 0 {
		return 0, false
	}
	return n.watchdog / 2, true
}

// Watchdog tells systemd the daemon is alive. Send it from the loop that
// must stay responsive, so a stuck loop gets the daemon restarted.
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

func withStatus(state, status string) string {
	if status == "" {
		return state
	}
	return state + "\nSTATUS=" + oneLine(status)
}

// oneLine keeps a status to one line: a newline would start a new
// assignment.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
