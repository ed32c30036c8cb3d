// Package sdnotify tells systemd about the daemon's life cycle with the
// sd_notify protocol: datagrams such as "READY=1" sent to the unix socket
// named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
// When the variable is unset, as outside a Type=notify unit, every call does
// nothing and reports no error, so the daemon calls it unconditionally.
//
// It is a few lines of the standard library, not libsystemd: hactl stays a
// pure Go binary that cross-compiles.
package sdnotify
