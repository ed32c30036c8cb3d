//go:build linux

package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
)

// fifo is one open notify FIFO. The Notifier's mutex guards its counters.
type fifo struct {
	spec     config.FIFO
	fd       int
	created  bool
	dev, ino uint64
	// stop ends the FIFO's script; done is closed once it has exited
	// (nil without a script).
	stop context.CancelFunc
	done chan struct{}

	unlogged uint64 // lines dropped since the last log line (the total: Notifier.fifoDrops)
	lastLog  time.Time
}

// openFIFO creates (if missing) and opens spec's FIFO, starting its script
// first, as keepalived does.
func (n *Notifier) openFIFO(spec config.FIFO) (*fifo, error) {
	cred, err := n.opts.Runner.Credential(spec.User, spec.Group)
	if err != nil {
		return nil, fmt.Errorf("notify FIFO %s: %w", spec.Path, err)
	}
	f := &fifo{spec: spec, fd: -1}
	switch err := unix.Mkfifo(spec.Path, 0o644); {
	case err == nil:
		f.created = true
		if int(cred.UID) != os.Geteuid() || int(cred.GID) != os.Getegid() {
			if err := unix.Lchown(spec.Path, int(cred.UID), int(cred.GID)); err != nil {
				n.log.Warn("notify FIFO: cannot give it to its user", "fifo", spec.Path, "user", cred.User, "err", err)
			}
		}
	case errors.Is(err, unix.EEXIST):
	default:
		return nil, fmt.Errorf("unable to create notify FIFO %s: %w", spec.Path, err)
	}
	if spec.Script != nil {
		n.startFIFOScript(f)
	}
	fd, err := unix.Open(spec.Path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err == nil {
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFIFO {
			err = errors.New("not a FIFO (remove it, or name another path)")
		}
		if err != nil {
			unix.Close(fd)
		}
		f.dev, f.ino = st.Dev, st.Ino
	}
	if err != nil {
		n.closeFIFO(f)
		return nil, fmt.Errorf("unable to open notify FIFO %s: %w", spec.Path, err)
	}
	f.fd = fd
	return f, nil
}

// startFIFOScript runs the FIFO's script with the path as its last
// argument until the FIFO closes (no timeout, as keepalived's TIMER_NEVER).
func (n *Notifier) startFIFOScript(f *fifo) {
	s, err := n.opts.Runner.Prepare(*f.spec.Script)
	if err != nil {
		n.log.Error("notify_fifo_script refused; the FIFO is written all the same", "fifo", f.spec.Path, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan struct{})
	go func() {
		defer close(f.done)
		res := n.opts.Runner.Run(ctx, s, scripts.Exec{Args: []string{f.spec.Path}, Label: "notify_fifo_script " + f.spec.Path})
		if ctx.Err() == nil {
			n.log.Info("notify FIFO script exited", "fifo", f.spec.Path, "result", res.Describe())
		}
	}()
}

// write writes one line without waiting; a full pipe drops it.
func (n *Notifier) writeFIFO(f *fifo, line string) {
	if f.fd < 0 {
		return
	}
	_, err := unix.Write(f.fd, []byte(line))
	for i := 0; errors.Is(err, unix.EINTR) && i < 3; i++ {
		_, err = unix.Write(f.fd, []byte(line))
	}
	if err == nil {
		return
	}
	f.unlogged++
	n.countFIFODrop(f.spec.Path)
	now := time.Now()
	if !f.lastLog.IsZero() && now.Sub(f.lastLog) < fifoLogEvery {
		return
	}
	why := err.Error()
	if errors.Is(err, unix.EAGAIN) {
		why = "the pipe is full: nobody reads it, or its reader is slow"
	}
	n.log.Warn("notify FIFO: lines dropped", "fifo", f.spec.Path, "why", why, "dropped_since_last_line", f.unlogged, "dropped_total", n.fifoDrops[f.spec.Path])
	f.lastLog, f.unlogged = now, 0
}

// closeFIFO unlinks the FIFO if the daemon created it (and it is still
// the one created), closes it, and stops its script: the script gets
// fifoReaderGrace to read what is left and exit by itself, then SIGTERM.
func (n *Notifier) closeFIFO(f *fifo) {
	if f.created {
		var st unix.Stat_t
		if unix.Lstat(f.spec.Path, &st) == nil && (f.fd < 0 || (st.Dev == f.dev && st.Ino == f.ino)) {
			_ = unix.Unlink(f.spec.Path)
		}
	}
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
	if f.stop == nil {
		return
	}
	t := time.NewTimer(fifoReaderGrace)
	defer t.Stop()
	select {
	case <-f.done:
	case <-t.C:
	}
	f.stop()
	<-f.done // bounded: Run returns within the Runner's KillGrace once cancelled
}
