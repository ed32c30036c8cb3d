// Package controlssh is the daemon's own SSH listener for the control API
// (global_defs control_ssh): an SSH server (golang.org/x/crypto/ssh) that
// presents the node's sshd host keys, lets in root's authorized keys, and
// serves one kind of channel, direct-streamlocal@openssh.com to the
// daemon's control socket path, in-process with the control socket's own
// http.Handler. hactl's CLI reaches a daemon node through it without
// sshd: no fork, no re-exec, no privilege separation per connection.
// docs/ssh.md and docs/security.md give the security argument.
package controlssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"golang.org/x/crypto/ssh"
)

// DefaultHostKeys are the node's sshd host keys, used (those that exist)
// when control_ssh_host_key names none.
var DefaultHostKeys = []string{"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_rsa_key"}

// ChannelType is the one channel type served.
const ChannelType = "direct-streamlocal@openssh.com"

// User is the one user that authenticates.
const User = "root"

// Limits bound what the listener holds open.
type Limits struct {
	// MaxConns caps the SSH connections open at once, in handshake or
	// authenticated; MaxHandshakes those not yet authenticated, so that
	// a flood of TCP connections leaves room for an operator's.
	MaxConns, MaxHandshakes int
	// MaxChannels caps one connection's open channels.
	MaxChannels int
	// HandshakeTimeout bounds the key exchange and authentication.
	HandshakeTimeout time.Duration
	// IdleTimeout closes an authenticated connection that has had no
	// channel open for this long.
	IdleTimeout time.Duration
}

// DefaultLimits derives the listener's caps from the control socket's
// (control.LimitsFor): a quarter of its connections, 16 handshakes, 10 s
// to authenticate, 2 minutes idle.
func DefaultLimits(sock control.Limits) Limits {
	return Limits{
		MaxConns:         max(sock.MaxConns/4, 4),
		MaxHandshakes:    max(min(16, sock.MaxConns/8), 2),
		MaxChannels:      max(sock.MaxConnsPerUID, 4),
		HandshakeTimeout: 10 * time.Second,
		IdleTimeout:      2 * time.Minute,
	}
}

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on ("0.0.0.0:922").
	Addr string
	// HostKeys are the private host keys presented (LoadHostKeys).
	HostKeys []ssh.Signer
	// AuthorizedKeys is root's authorized_keys file ("" means
	// DefaultAuthorizedKeys), read again whenever it changes.
	AuthorizedKeys string
	// SocketPath is the control socket's path: the only one a channel
	// may ask for.
	SocketPath string
	// Handler serves each channel (control.Handler, as on the socket).
	Handler http.Handler
	// Limits; zero fields take DefaultLimits(control.LimitsFor(4096)).
	Limits Limits
	// Log receives diagnostics; nil discards.
	Log *slog.Logger
}

// Stats are the listener's counters.
type Stats struct {
	// Open is the connections open now.
	Open int
	// RefusedLimit counts connections closed at once for being over a
	// cap; AuthFailed those that did not authenticate (wrong user, a key
	// not listed or skipped, an unusable authorized_keys file);
	// HandshakeFailed those whose key exchange failed or timed out;
	// ChannelsRejected the channels and requests refused (other types,
	// other paths, over MaxChannels).
	RefusedLimit, AuthFailed, HandshakeFailed, ChannelsRejected uint64
}

// Server is a running listener.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ln    net.Listener
	keys  *authorizedKeys
	ssh   *ssh.ServerConfig
	http  *http.Server
	chans *chanListener

	mu         sync.Mutex
	open       int
	handshakes int
	conns      map[*ssh.ServerConn]struct{}
	closed     bool
	lastLog    time.Time
	unlogged   uint64

	refusedLimit, authFailed, handshakeFailed, chansRejected atomic.Uint64
	wg                                                       sync.WaitGroup
	httpOnce                                                 sync.Once
}

// LoadHostKeys reads private host key files. With none named it reads
// DefaultHostKeys that exist, and fails if none does.
func LoadHostKeys(files []string) ([]ssh.Signer, error) {
	explicit := len(files) > 0
	if !explicit {
		files = DefaultHostKeys
	}
	var out []ssh.Signer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if !explicit && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("host key %s: %w", f, err)
		}
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("host key %s: %w", f, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no host key: none of %v exists (name one with control_ssh_host_key)", files)
	}
	return out, nil
}

// Listen binds cfg.Addr; Serve answers on it.
func Listen(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("control_ssh %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.chans.addr = ln.Addr()
	return s, nil
}

// newServer is a Server without its listener.
func newServer(cfg Config) (*Server, error) {
	if len(cfg.HostKeys) == 0 {
		return nil, errors.New("control_ssh: no host key")
	}
	if cfg.SocketPath == "" || cfg.Handler == nil {
		return nil, errors.New("control_ssh: no control socket to serve")
	}
	def := DefaultLimits(control.LimitsFor(4096))
	l := &cfg.Limits
	if l.MaxConns <= 0 {
		l.MaxConns = def.MaxConns
	}
	if l.MaxHandshakes <= 0 {
		l.MaxHandshakes = min(def.MaxHandshakes, l.MaxConns)
	}
	if l.MaxChannels <= 0 {
		l.MaxChannels = def.MaxChannels
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = def.HandshakeTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = def.IdleTimeout
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, keys: newAuthorizedKeys(cfg.AuthorizedKeys), conns: map[*ssh.ServerConn]struct{}{}}
	s.ssh = &ssh.ServerConfig{
		PublicKeyCallback: s.checkKey,
		MaxAuthTries:      6,
		ServerVersion:     "SSH-2.0-hactl-control",
	}
	for _, k := range cfg.HostKeys {
		s.ssh.AddHostKey(k)
	}
	s.chans = newChanListener(&net.UnixAddr{Name: cfg.SocketPath, Net: "unix"})
	s.http = &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// Only root's keys authenticate, so every channel is root's: the
		// same identity a root client of the unix socket has.
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return control.WithPeer(ctx, control.Peer{UID: 0, GID: 0})
		},
	}
	return s, nil
}

// startHTTP serves the accepted channels, once.
func (s *Server) startHTTP() {
	s.httpOnce.Do(func() {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.http.Serve(s.chans); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("control_ssh: http", "err", err)
			}
		}()
	})
}

// Addr is the address listened on.
func (s *Server) Addr() net.Addr { return s.chans.addr }

// Limits are the caps in force.
func (s *Server) Limits() Limits { return s.cfg.Limits }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	return Stats{Open: open, RefusedLimit: s.refusedLimit.Load(), AuthFailed: s.authFailed.Load(),
		HandshakeFailed: s.handshakeFailed.Load(), ChannelsRejected: s.chansRejected.Load()}
}

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	s.startHTTP()
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, net.ErrClosed) {
				// EMFILE and friends: back off as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("control_ssh: accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if !s.admit() {
			c.Close()
			s.refused("over the connection limit", c.RemoteAddr(), &s.refusedLimit)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// admit takes a connection slot and a handshake slot, or says no.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.open >= s.cfg.Limits.MaxConns || s.handshakes >= s.cfg.Limits.MaxHandshakes {
		return false
	}
	s.open++
	s.handshakes++
	return true
}

// refused counts a refusal and logs it at debug, at most one line per 10 s
// with the number since the last.
func (s *Server) refused(why string, from net.Addr, counter *atomic.Uint64) {
	counter.Add(1)
	s.mu.Lock()
	s.unlogged++
	now := time.Now()
	if !s.lastLog.IsZero() && now.Sub(s.lastLog) < 10*time.Second {
		s.mu.Unlock()
		return
	}
	n := s.unlogged
	s.unlogged, s.lastLog = 0, now
	s.mu.Unlock()
	s.log.Debug("control_ssh: connection refused", "why", why, "from", addrString(from), "refused_since_last_line", n)
}

func addrString(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}

// handle runs one connection: handshake within HandshakeTimeout, then its
// channels until it closes or stays idle.
func (s *Server) handle(c net.Conn) {
	handshaking := true
	defer func() {
		s.mu.Lock()
		s.open--
		if handshaking {
			s.handshakes--
		}
		s.mu.Unlock()
	}()
	_ = c.SetDeadline(time.Now().Add(s.cfg.Limits.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.ssh)
	s.mu.Lock()
	s.handshakes--
	handshaking = false
	s.mu.Unlock()
	if err != nil {
		c.Close()
		var ae *ssh.ServerAuthError
		if errors.As(err, &ae) || errors.Is(err, errAuth) {
			s.refused("authentication failed: "+err.Error(), c.RemoteAddr(), &s.authFailed)
		} else {
			s.refused("handshake failed: "+err.Error(), c.RemoteAddr(), &s.handshakeFailed)
		}
		return
	}
	_ = c.SetDeadline(time.Time{})
	if !s.track(sc) {
		sc.Close()
		return
	}
	defer s.untrack(sc)
	s.log.Debug("control_ssh: connected", "from", addrString(c.RemoteAddr()), "key", sc.Permissions.Extensions["key"])
	go func() {
		for r := range reqs { // global requests: none served (tcpip-forward, keepalives)
			if r.WantReply {
				if r.Type != "keepalive@openssh.com" {
					s.chansRejected.Add(1)
				}
				_ = r.Reply(false, nil)
			}
		}
	}()
	idle := newIdle(s.cfg.Limits.IdleTimeout, func() { sc.Close() })
	defer idle.stop()
	for nc := range chans {
		s.channel(nc, idle)
	}
	sc.Wait()
}

func (s *Server) track(sc *ssh.ServerConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[sc] = struct{}{}
	return true
}

func (s *Server) untrack(sc *ssh.ServerConn) {
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
	sc.Close()
}

// streamLocal is direct-streamlocal@openssh.com's extra data
// (OpenSSH PROTOCOL, section 2.4).
type streamLocal struct {
	SocketPath string
	Reserved0  string
	Reserved1  uint32
}

// channel accepts a streamlocal channel to the control socket and hands it
// to the HTTP server; anything else is rejected.
func (s *Server) channel(nc ssh.NewChannel, idle *idleTimer) {
	if nc.ChannelType() != ChannelType {
		s.chansRejected.Add(1)
		_ = nc.Reject(ssh.Prohibited, "only "+ChannelType+" to the hactl control socket is served here")
		return
	}
	var req streamLocal
	if err := ssh.Unmarshal(nc.ExtraData(), &req); err != nil {
		s.chansRejected.Add(1)
		_ = nc.Reject(ssh.ConnectionFailed, "malformed "+ChannelType+" request")
		return
	}
	if filepath.Clean(req.SocketPath) != filepath.Clean(s.cfg.SocketPath) {
		s.chansRejected.Add(1)
		_ = nc.Reject(ssh.Prohibited, "only the hactl control socket "+s.cfg.SocketPath+" is served here")
		return
	}
	if !idle.open(s.cfg.Limits.MaxChannels) {
		s.chansRejected.Add(1)
		_ = nc.Reject(ssh.ResourceShortage, "too many channels open on this connection")
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		idle.close()
		return
	}
	go ssh.DiscardRequests(reqs)
	cc := &chanConn{Channel: ch, addr: s.chans.addr, done: idle.close}
	if !s.chans.push(cc) {
		cc.Close()
	}
}

var errAuth = errors.New("not authorized")

// checkKey lets in root with a usable key of the authorized_keys file.
func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if meta.User() != User {
		return nil, fmt.Errorf("%w: user %q: only root logs in here", errAuth, meta.User())
	}
	ok, err := s.keys.allowed(key)
	if err != nil {
		s.log.Debug("control_ssh: authorized_keys unusable", "err", err)
		return nil, fmt.Errorf("%w: %v", errAuth, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: key %s", errAuth, ssh.FingerprintSHA256(key))
	}
	return &ssh.Permissions{Extensions: map[string]string{"key": ssh.FingerprintSHA256(key)}}, nil
}

// Close stops accepting, closes every connection and waits for them, within
// ctx.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*ssh.ServerConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	s.chans.Close()
	for _, c := range conns {
		c.Close()
	}
	_ = s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

// idleTimer counts a connection's open channels and closes it once none
// has been open for a while.
type idleTimer struct {
	mu    sync.Mutex
	n     int
	t     *time.Timer
	after time.Duration
}

func newIdle(after time.Duration, fire func()) *idleTimer {
	return &idleTimer{after: after, t: time.AfterFunc(after, fire)}
}

// open counts a channel, unless limit are open.
func (i *idleTimer) open(limit int) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.n >= limit {
		return false
	}
	if i.n++; i.n == 1 {
		i.t.Stop()
	}
	return true
}

func (i *idleTimer) close() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.n--; i.n == 0 {
		i.t.Reset(i.after)
	}
}

func (i *idleTimer) stop() { i.t.Stop() }

// chanListener is a net.Listener of the accepted channels, for the
// http.Server.
type chanListener struct {
	addr net.Addr
	c    chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, c: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.c <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// chanConn is a channel as a net.Conn. Deadlines are not supported (the
// http.Server's per-request timeouts do not apply): the connection's idle
// timeout and the client's own call limit bound it instead.
type chanConn struct {
	ssh.Channel
	addr net.Addr
	once sync.Once
	done func()
}

func (c *chanConn) Close() error {
	err := c.Channel.Close()
	c.once.Do(c.done)
	return err
}

func (c *chanConn) LocalAddr() net.Addr              { return c.addr }
func (c *chanConn) RemoteAddr() net.Addr             { return c.addr }
func (c *chanConn) SetDeadline(time.Time) error      { return nil }
func (c *chanConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chanConn) SetWriteDeadline(time.Time) error { return nil }
