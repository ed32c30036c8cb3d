//go:build linux

package track

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// procRoot is where processes are listed.
const procRoot = "/proc"

// procReader reads processes from /proc. The command line is read only
// when some tracker compares it (reading it touches the process's memory,
// which keepalived avoids too), and at most cmdMax bytes of it.
type procReader struct {
	cmdline bool
	cmdMax  int
	buf     []byte
}

// readAll lists every process (thread groups: /proc lists no threads at
// its top).
func (r *procReader) readAll() ([]Proc, error) {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]Proc, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '1' || n[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if p, ok := r.read(pid); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// read reads one process; ok is false when it is gone.
func (r *procReader) read(pid int) (Proc, bool) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Proc{}, false
	}
	p, ok := parseStat(stat)
	if !ok {
		return Proc{}, false
	}
	p.PID = pid
	if r.cmdline {
		p.Cmdline = r.readCmdline(filepath.Join(dir, "cmdline"))
	}
	return p, true
}

func (r *procReader) readCmdline(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if cap(r.buf) < r.cmdMax {
		r.buf = make([]byte, r.cmdMax)
	}
	n, _ := f.Read(r.buf[:r.cmdMax])
	return bytes.Clone(r.buf[:n])
}

// parseStat reads comm, state and ppid from /proc/PID/stat: "pid (comm)
// S ppid ...". comm may hold ')' and spaces, so the last ')' ends it.
func parseStat(b []byte) (Proc, bool) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 >= len(b) {
		return Proc{}, false
	}
	p := Proc{Comm: string(b[open+1 : end])}
	rest := bytes.Fields(b[end+1:])
	if len(rest) < 2 {
		return Proc{}, false
	}
	p.Zombie = rest[0][0] == 'Z'
	p.PPID, _ = strconv.Atoi(string(rest[1]))
	return p, true
}

// procConn is a socket on the kernel's process-event connector.
type procConn struct{ fd int }

// procRecvTimeout bounds a receive, so that the reader sees its context
// end.
const procRecvTimeout = 200 * time.Millisecond

// errNoProcEvents means the connector did not answer: the socket is not
// in the initial network namespace (the connector exists only there; the
// listen request is refused with ECONNREFUSED) or the kernel lacks
// CONFIG_PROC_EVENTS.
var errNoProcEvents = errors.New("the kernel's process-event connector does not answer")

// openProcConnector subscribes to process events and waits (up to ackWait)
// for the kernel's acknowledgement.
func openProcConnector(ackWait time.Duration) (*procConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("%w: socket: %w", errNoProcEvents, err)
	}
	c := &procConn{fd: fd}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		c.close()
		return nil, fmt.Errorf("%w: bind: %w", errNoProcEvents, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("%w: getsockname: %w", errNoProcEvents, err)
	}
	port := uint32(0)
	if nl, ok := sa.(*unix.SockaddrNetlink); ok {
		port = nl.Pid
	}
	if err := unix.Sendto(fd, procListenMessage(port), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		c.close()
		return nil, fmt.Errorf("%w: listen request: %w", errNoProcEvents, err)
	}
	tv := unix.NsecToTimeval(procRecvTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		c.close()
		return nil, fmt.Errorf("%w: SO_RCVTIMEO: %w", errNoProcEvents, err)
	}
	deadline := time.Now().Add(ackWait)
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		ev, ok, err := c.recv(buf)
		if errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil {
			c.close()
			return nil, fmt.Errorf("%w: %w", errNoProcEvents, err)
		}
		if ok && ev.Kind == procAck && ev.Err == 0 {
			return c, nil
		}
		if ok && ev.Kind != procAck {
			return c, nil // events flow: the ack was missed
		}
	}
	c.close()
	return nil, fmt.Errorf("%w: no acknowledgement in %v", errNoProcEvents, ackWait)
}

// recv receives one event. EAGAIN is a timeout; ENOBUFS means events were
// lost.
func (c *procConn) recv(buf []byte) (procEvent, bool, error) {
	n, from, err := unix.Recvfrom(c.fd, buf, 0)
	if err != nil {
		return procEvent{}, false, err
	}
	if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
		return procEvent{}, false, nil // not from the kernel
	}
	ev, ok, err := parseProcEvent(buf[:n])
	if err != nil {
		return procEvent{}, false, nil
	}
	return ev, ok, nil
}

func (c *procConn) close() { unix.Close(c.fd) }
