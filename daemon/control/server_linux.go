//go:build linux

package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Server is the control socket's listener and HTTP server.
type Server struct {
	path string
	ln   *net.UnixListener
	// dev, ino identify the socket file we created, so that Shutdown
	// removes it and not what someone put at the path since.
	dev, ino uint64

	mu  sync.Mutex // Serve sets lim and srv, which Stats and Shutdown read
	lim *connLimiter
	srv *http.Server

	// Limits apply to Serve; Listen sets them from the descriptor limit
	// (LimitsFor), a caller may change them before Serve.
	Limits Limits
}

// Listen creates the socket at path, mode 0660, owned by the daemon's
// user and group gid (-1: the daemon's group), replacing a stale socket
// left by a dead daemon. It refuses to take over a socket another daemon
// still answers on, and a file that is not a socket. Nothing at path is
// ever followed: see bindPrivate.
func Listen(path string, gid int) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := checkStale(path); err != nil {
		return nil, err
	}
	ln, st, err := bindPrivate(path, gid)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return &Server{path: path, ln: ln, dev: st.Dev, ino: st.Ino, Limits: LimitsFor(descriptorLimit())}, nil
}

// bindPrivate binds a socket at path with its final mode and group
// before anyone else can reach it.
//
// The old way (bind at path, then chmod and chown by path) let a user who
// can write the directory swap the socket for a symlink in between, and
// root's chmod then opened up the symlink's target. A restrictive umask
// around bind fixes the mode but not the group, and umask is per process:
// it would race with the scripts and state writes of other goroutines.
// So the socket is bound in a fresh private directory (mode 0700, created
// beside path so that it is on the same filesystem), given its mode and
// group there by a name relative to that directory's descriptor (no one
// else can enter it, so nothing can be swapped), and renamed into place:
// rename(2) replaces what is at path (a stale socket, a symlink planted
// there) without following it. bind(2) has no *at form, so it binds
// through /proc/self/fd/N/NAME, which resolves to the directory that
// descriptor holds, whatever it is called by then.
func bindPrivate(path string, gid int) (*net.UnixListener, unix.Stat_t, error) {
	var st unix.Stat_t
	dir, base := filepath.Dir(path), filepath.Base(path)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, st, err
	}
	defer unix.Close(dfd)
	priv, pfd, err := mkdirPrivate(dfd, base)
	if err != nil {
		return nil, st, err
	}
	defer func() {
		unix.Close(pfd)
		// Empty by now; if someone renamed ours away and put another in
		// its place, removing that one (empty or not removable) is harmless.
		_ = unix.Unlinkat(dfd, priv, unix.AT_REMOVEDIR)
	}()
	const name = "s"
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: "/proc/self/fd/" + strconv.Itoa(pfd) + "/" + name, Net: "unix"})
	if err != nil {
		return nil, st, err
	}
	// The listener's address is the /proc path; the file is removed by
	// Shutdown, which knows the real one.
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*net.UnixListener, unix.Stat_t, error) {
		ln.Close()
		_ = unix.Unlinkat(pfd, name, 0)
		return nil, st, err
	}
	if gid >= 0 {
		if err := unix.Fchownat(pfd, name, -1, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fail(fmt.Errorf("chown to group %d: %w", gid, err))
		}
	}
	if err := unix.Fchmodat(pfd, name, 0o660, 0); err != nil {
		return fail(fmt.Errorf("chmod: %w", err))
	}
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail(err)
	}
	if err := unix.Renameat(pfd, name, dfd, base); err != nil {
		return fail(fmt.Errorf("rename into place: %w", err))
	}
	return ln, st, nil
}

// mkdirPrivate creates a directory only the daemon's user can enter, under
// the directory dfd holds, and opens it.
func mkdirPrivate(dfd int, base string) (string, int, error) {
	for try := 0; ; try++ {
		name := fmt.Sprintf(".%s.bind-%d-%d", base, os.Getpid(), time.Now().UnixNano()%1e9)
		err := unix.Mkdirat(dfd, name, 0o700)
		if errors.Is(err, unix.EEXIST) && try < 10 {
			continue
		}
		if err != nil {
			return "", -1, err
		}
		pfd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", -1, err
		}
		// Someone able to write the directory could have put their own
		// directory under that name between mkdirat and openat.
		var st unix.Stat_t
		if err := unix.Fstat(pfd, &st); err != nil || int(st.Uid) != os.Geteuid() || st.Mode&0o077 != 0 {
			unix.Close(pfd)
			return "", -1, fmt.Errorf("private directory %s was replaced while binding", name)
		}
		return name, pfd, nil
	}
}

func checkStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("control socket %s: a file that is not a socket is in the way", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another daemon is answering on it (a second daemon needs its own --socket)", path)
	}
	return nil // a dead daemon's: bindPrivate's rename replaces it
}

// descriptorLimit returns RLIMIT_NOFILE's soft limit, raised to the hard
// limit first if it is not there yet (Go's runtime does so at start since
// Go 1.19; this covers a runtime that did not).
func descriptorLimit() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	if rl.Cur < rl.Max {
		raised := unix.Rlimit{Cur: rl.Max, Max: rl.Max}
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &raised) == nil {
			rl = raised
		}
	}
	return rl.Cur
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Stats returns the connection counters (zero before Serve).
func (s *Server) Stats() ConnStats {
	s.mu.Lock()
	lim := s.lim
	s.mu.Unlock()
	if lim == nil {
		return ConnStats{}
	}
	return lim.stats()
}

// Serve answers requests with h until Shutdown; each request's context
// carries the connection's peer credentials. Connections over s.Limits
// are closed as soon as they are accepted.
func (s *Server) Serve(h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim := newConnLimiter(s.Limits, log)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.Limits.writeTimeout(),
		IdleTimeout:       s.Limits.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc, ok := c.(*limitedConn); ok {
				p := lc.peer
				p.Groups = groupsOf(p.PID)
				return WithPeer(ctx, p)
			}
			return ctx
		},
	}
	s.mu.Lock()
	s.lim, s.srv = lim, srv
	s.mu.Unlock()
	err := srv.Serve(&limitListener{UnixListener: s.ln, lim: lim})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// limitListener hands the HTTP server only the connections s.lim admits.
type limitListener struct {
	*net.UnixListener
	lim *connLimiter
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		p, err := credsOf(c)
		if err != nil {
			c.Close()
			l.lim.refuse(-1, 0, "peer credentials unreadable: "+err.Error())
			continue
		}
		if !l.lim.admit(p.UID) {
			c.Close()
			l.lim.refuse(p.UID, p.PID, "over the connection limit")
			continue
		}
		return &limitedConn{UnixConn: c, peer: p, l: l.lim}, nil
	}
}

// Shutdown stops accepting, waits for requests in flight (bounded by ctx)
// and removes the socket file, if it is still the one Listen made.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.removeOwn()
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return s.ln.Close()
	}
	return srv.Shutdown(ctx)
}

func (s *Server) removeOwn() {
	var st unix.Stat_t
	if unix.Lstat(s.path, &st) == nil && st.Dev == s.dev && st.Ino == s.ino {
		os.Remove(s.path)
	}
}

// credsOf reads SO_PEERCRED (no groups: those cost a /proc read, done
// only for admitted connections).
func credsOf(uc *net.UnixConn) (Peer, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if serr != nil {
		return Peer{}, serr
	}
	return Peer{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}, nil
}

func groupsOf(pid int) []int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			var gs []int
			for _, f := range strings.Fields(rest) {
				if g, err := strconv.Atoi(f); err == nil {
					gs = append(gs, g)
				}
			}
			return gs
		}
	}
	return nil
}
