package notify

import (
	"slices"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// The notify FIFOs (notify_fifo, vrrp_notify_fifo), as keepalived 2.2.7
// runs them (lib/notify.c, fifo_open and fifo_close):
//
//   - the FIFO is created if missing (mode 0644 less the umask, given to
//     the FIFO's user and group, by default the script user's), or the
//     one there is used; hactl refuses a path that is not a FIFO, where
//     keepalived would write its lines into whatever file is there;
//   - notify_fifo_script, when given, starts with the path as its last
//     argument, without a timeout, before the FIFO is opened;
//   - the daemon opens it O_RDWR|O_NONBLOCK: holding a read end itself,
//     it never blocks on open and never gets EPIPE or SIGPIPE when the
//     reader goes away, and a write to a full pipe fails at once with
//     EAGAIN instead of waiting. keepalived then drops the line silently;
//     hactl drops it too and counts it (logged at most every
//     fifoLogEvery). A reader that comes back finds what the pipe still
//     holds (64 KiB by default), as with keepalived.
//   - at a stop (and a reload that changes it) the FIFO is unlinked if
//     the daemon created it, then closed, then its script is stopped
//     (SIGTERM to its process group). keepalived closes and reopens its
//     FIFOs at every reload; hactl keeps one the reload does not change
//     open, and its script running.
//
// Writes are non-blocking syscalls made on the loop, not a queue and a
// writer goroutine: a line of at most PIPE_BUF (4096) bytes is written
// whole or not at all, so a reader never sees half a line, the cost is one
// write(2) of a few microseconds, and the order of the lines is the order
// of the notifications by construction. The raw descriptor is used, not
// an *os.File, whose Write would park the goroutine until the pipe had
// room.

const (
	// fifoLogEvery bounds the log lines about dropped FIFO lines.
	fifoLogEvery = 10 * time.Second
	// fifoReaderGrace is how long a FIFO's script may take to read what
	// is left and exit by itself once the FIFO is closed, before SIGTERM.
	fifoReaderGrace = 500 * time.Millisecond
)

// FIFOsOf lists cfg's notify FIFOs: notify_fifo, then vrrp_notify_fifo
// unless it names the same path (keepalived, global_data.c: "ignoring
// vrrp FIFO"). A script without a FIFO never runs, as in keepalived.
func FIFOsOf(cfg *config.Config) []config.FIFO {
	var out []config.FIFO
	n := cfg.Global.Notify
	for _, f := range []*config.FIFO{n.FIFO, n.VRRPFIFO} {
		if f == nil || f.Path == "" {
			continue
		}
		if len(out) == 1 && out[0].Path == f.Path {
			continue
		}
		out = append(out, *f)
	}
	return out
}

func sameFIFO(a, b config.FIFO) bool {
	if a.Path != b.Path || a.User != b.User || a.Group != b.Group || (a.Script == nil) != (b.Script == nil) {
		return false
	}
	return a.Script == nil || (slices.Equal(a.Script.Args, b.Script.Args) && a.Script.User == b.Script.User && a.Script.Group == b.Script.Group)
}
