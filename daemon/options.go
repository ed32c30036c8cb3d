package daemon

import (
	"log/slog"
	"time"
)

// Options configure a daemon run. Empty paths fall back to the config's
// state_file and control_socket, then to the defaults.
type Options struct {
	ConfigFile string
	StateFile  string
	Socket     string
	// ControlSSH overrides global_defs control_ssh (the daemon's SSH
	// listener for the control API); "none" turns it off.
	ControlSSH string
	PIDFile    string
	// SocketGID lets a group read the control socket; -1 means root only.
	SocketGID int
	Version   string
	Log       *slog.Logger
	// MetricsListen is an optional TCP address for /metrics (the control
	// socket serves it too); KeepalivedMetrics adds keepalived-exporter's
	// names.
	MetricsListen     string
	KeepalivedMetrics bool
	// ShutdownTimeout bounds the graceful stop (priority-0 adverts, VIPs
	// removed, notify_stop).
	ShutdownTimeout time.Duration
	// Strict refuses a configuration keepalived would correct and run
	// (an unknown keyword, an invalid value, an unknown state, a dropped
	// reference), at start and on reload. Without it the daemon applies
	// keepalived's correction, logs it, and runs.
	Strict bool
}
