package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultTimeout bounds each connect and each call when Config.Timeout is 0.
const DefaultTimeout = 5 * time.Second

// Dialer opens a network connection, like net.Dialer.DialContext. The lab
// passes netlab.Host.Dial, which dials from inside a network namespace.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Config configures a Pool. The zero value is usable: direct TCP, 5 s
// timeouts, strict host keys, the agent at $SSH_AUTH_SOCK, no sudo.
type Config struct {
	// Dialer opens the TCP connection to a node or first jump host
	// (default: net.Dialer).
	Dialer Dialer
	// Timeout bounds each connect (TCP, SSH handshake and authentication)
	// and each call (command, socket dial). Default DefaultTimeout.
	Timeout time.Duration
	// HostKeyPolicy is strict unless set to HostKeyAcceptNew.
	HostKeyPolicy HostKeyPolicy
	// AcceptNewHint ends the unknown-host error: how the user turns on
	// accept-new in the calling program (e.g. "rerun with --accept-new").
	AcceptNewHint string
	// AgentSocket is the ssh-agent socket; "" means $SSH_AUTH_SOCK, "none"
	// means no agent.
	AgentSocket string
	// Sudo runs every remote command as SudoCommand -n -- COMMAND.
	Sudo bool
	// SudoCommand is the sudo program on the nodes (default "sudo").
	SudoCommand string
	// Notes receives one line per event the operator should know about,
	// such as an accepted host key (the CLI passes stderr). nil discards.
	Notes io.Writer
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Pool holds one SSH connection per destination, dialed on first use and
// reused by every call until Close. Jump hosts are connections of the pool
// too, so nodes behind one bastion share its connection. A Pool is safe for
// concurrent use.
type Pool struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	conns  map[string]*conn
	open   []*conn // in order of successful dial, for closing
	closed bool
	// fellBack are the nodes whose control port was logged as unused.
	fellBack map[string]bool

	notesMu sync.Mutex
	khMu    sync.Mutex

	// dbMu guards dbs: the known_hosts databases read so far, by their
	// list of files, so that a command to N nodes parses each file once,
	// not N times (at 256 nodes the parse per connection made the fan-out
	// grow faster than linearly). accept-new, which writes a file,
	// empties it.
	dbMu sync.Mutex
	dbs  map[string]*hostDB

	agentOnce sync.Once
	agent     agent.ExtendedAgent
	agentConn net.Conn
	agentErr  error
}

// conn is one SSH connection, dialed once.
type conn struct {
	mu      sync.Mutex
	dialing chan struct{} // closed when the dial in progress ends
	client  *ssh.Client
	err     error // remembered so an unreachable node costs one timeout
}

// NewPool returns a Pool; nothing is dialed until a Client is used.
func NewPool(cfg Config) *Pool {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Dialer == nil {
		var d net.Dialer
		cfg.Dialer = d.DialContext
	}
	if cfg.SudoCommand == "" {
		cfg.SudoCommand = "sudo"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pool{cfg: cfg, log: log, conns: map[string]*conn{}}
}

// Timeout is the pool's per-connect and per-call limit.
func (p *Pool) Timeout() time.Duration { return p.cfg.Timeout }

// Client returns the handle for node n. It does not dial; the first call
// that needs the connection does, once.
func (p *Pool) Client(n Node) *Client {
	return &Client{Node: n, pool: p}
}

// Close closes every connection (nodes before the jump hosts they go
// through) and the agent connection. Calls after Close fail with ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	open := p.open
	p.open = nil
	p.mu.Unlock()
	for i := len(open) - 1; i >= 0; i-- {
		open[i].mu.Lock()
		client := open[i].client
		open[i].mu.Unlock()
		if client == nil {
			continue // a control connection that closed (forget)
		}
		if err := client.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
			p.log.Debug("closing ssh connection", "err", err)
		}
	}
	if p.agentConn != nil {
		p.agentConn.Close()
	}
	return nil
}

// forget drops the connection key when it is still sc, so that the next
// call dials again (a control connection whose daemon restarted).
func (p *Pool) forget(key string, sc *ssh.Client) {
	p.mu.Lock()
	c := p.conns[key]
	p.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.client == sc {
		c.client, c.err = nil, nil
	}
	c.mu.Unlock()
}

func (p *Pool) notef(format string, args ...any) {
	if p.cfg.Notes == nil {
		return
	}
	p.notesMu.Lock()
	defer p.notesMu.Unlock()
	fmt.Fprintf(p.cfg.Notes, "hactl: "+format+"\n", args...)
}

// connect returns the SSH connection to n, dialing it if this is the first
// use. Concurrent callers wait for one dial. A failed dial is remembered:
// later calls get the same error without another timeout, unless the
// failure was the caller's own cancellation.
func (p *Pool) connect(ctx context.Context, n Node) (*ssh.Client, error) {
	return p.connectWith(ctx, n.Destination(), n, p.dial)
}

// connectWith is connect for the connection called key, dialed by dial.
func (p *Pool) connectWith(ctx context.Context, key string, n Node, dial func(context.Context, Node) (*ssh.Client, error)) (*ssh.Client, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	c := p.conns[key]
	if c == nil {
		c = &conn{}
		p.conns[key] = c
	}
	p.mu.Unlock()

	for range 2 {
		c.mu.Lock()
		if c.client != nil || c.err != nil {
			client, err := c.client, c.err
			c.mu.Unlock()
			return client, err
		}
		if c.dialing != nil {
			wait := c.dialing
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		c.dialing = make(chan struct{})
		c.mu.Unlock()

		client, err := dial(ctx, n)

		c.mu.Lock()
		close(c.dialing)
		c.dialing = nil
		if err == nil {
			p.mu.Lock()
			if p.closed {
				err = ErrClosed
				client.Close()
				client = nil
			} else {
				p.open = append(p.open, c)
			}
			p.mu.Unlock()
		}
		if err == nil || !errors.Is(err, context.Canceled) {
			c.client, c.err = client, err
		}
		c.mu.Unlock()
		return client, err
	}
	return nil, fmt.Errorf("connect to %s: concurrent dial failed, try again", n.Addr())
}

// dial opens the transport (directly, or through the jump host's
// connection), then runs the SSH handshake, all within Config.Timeout.
func (p *Pool) dial(ctx context.Context, n Node) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	addr := n.Addr()
	start := time.Now()
	raw, err := p.transport(ctx, n, addr, p.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	cfg, tried, err := p.clientConfig(n, false)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return p.handshake(ctx, n, raw, addr, cfg, tried, start)
}

// transport opens the TCP connection to addr, directly or through n's jump
// host, within limit (and ctx). The jump host's own connection has ctx's
// time, not limit: it is shared, and its failure is remembered.
func (p *Pool) transport(ctx context.Context, n Node, addr string, limit time.Duration) (net.Conn, error) {
	var jump *ssh.Client
	if n.Jump != nil {
		var jerr error
		if jump, jerr = p.connect(ctx, *n.Jump); jerr != nil {
			return nil, fmt.Errorf("jump host %s: %w", n.Jump.Name, stripNode(jerr, n.Jump.Name))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if jump != nil {
		raw, err := jump.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, deadline(ctx, limit, fmt.Sprintf("connect to %s through %s", addr, n.Jump.Name), err)
		}
		return raw, nil
	}
	raw, err := p.cfg.Dialer(ctx, "tcp", addr)
	if err != nil {
		return nil, deadline(ctx, limit, "connect to "+addr, err)
	}
	return raw, nil
}

// handshake runs the SSH handshake on raw, within ctx.
func (p *Pool) handshake(ctx context.Context, n Node, raw net.Conn, addr string, cfg *ssh.ClientConfig, tried []string, start time.Time) (*ssh.Client, error) {
	// The handshake has no context of its own: closing the transport when
	// the deadline passes is what ends it.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if !stop() {
		if sc != nil {
			sc.Close()
		}
		return nil, deadline(ctx, p.cfg.Timeout, "ssh handshake with "+addr, ctx.Err())
	}
	if err != nil {
		raw.Close()
		var hk *HostKeyError
		switch {
		case errors.As(err, &hk):
			return nil, hk
		case strings.Contains(err.Error(), "no common algorithm for host key"):
			return nil, fmt.Errorf("%w for %s: the server offers none of the key types known_hosts lists for it (%s): %w",
				ErrHostKeyMismatch, knownhosts.Normalize(addr), strings.Join(cfg.HostKeyAlgorithms, ", "), err)
		case strings.Contains(err.Error(), "unable to authenticate"):
			p.log.Debug("ssh authentication failed", "node", n.Name, "err", err)
			return nil, fmt.Errorf("%w as %s@%s: the server accepted none of the keys offered (%s)", ErrAuth, n.User, addr, strings.Join(tried, ", "))
		}
		return nil, fmt.Errorf("ssh to %s: %w", addr, err)
	}
	p.log.Debug("ssh connected", "node", n.Name, "dest", n.Destination(), "took", time.Since(start))
	return ssh.NewClient(sc, chans, reqs), nil
}

// stripNode unwraps a NodeError about node, so an error about a jump host
// reads "target: jump host J: ..." and not "target: jump host J: J: ...".
func stripNode(err error, node string) error {
	var ne *NodeError
	if errors.As(err, &ne) && ne.Node == node {
		return ne.Err
	}
	return err
}

// deadline turns an error caused by ctx's deadline into a timeoutError
// naming the limit; other errors get what as context.
func deadline(ctx context.Context, limit time.Duration, what string, err error) error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &timeoutError{what: what, limit: limit.String(), cause: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// clientConfig assembles the x/crypto client config for n. With control,
// for the daemon's control_ssh port: host keys are checked under the
// node's SSH address and never accepted as new (control.go).
func (p *Pool) clientConfig(n Node, control bool) (*ssh.ClientConfig, []string, error) {
	hk, err := p.hostKeysFor(n)
	if err != nil {
		return nil, nil, err
	}
	hk.noAccept = control
	signers, tried, err := p.signers(n)
	if err != nil {
		return nil, nil, err
	}
	return &ssh.ClientConfig{
		User:              n.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(),
		ClientVersion:     "SSH-2.0-hactl",
	}, tried, nil
}

// Client is a handle on one node of a Pool. All its calls share the pool's
// one connection to the node. Its methods are safe for concurrent use.
type Client struct {
	// Node is the node this client reaches.
	Node Node
	pool *Pool

	mu         sync.Mutex
	transports []*http.Transport
}

// Timeout is the pool's per-connect and per-call limit.
func (c *Client) Timeout() time.Duration { return c.pool.cfg.Timeout }

// Connect dials the node if no call has yet, and returns the connection.
// Callers rarely need it: Run and DialSocket connect on their own.
func (c *Client) Connect(ctx context.Context) (*ssh.Client, error) {
	sc, err := c.pool.connect(ctx, c.Node)
	return sc, nodeErr(c.Node.Name, err)
}

// Close releases the client's idle HTTP connections. The SSH connection
// belongs to the Pool and is closed by Pool.Close.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.transports {
		t.CloseIdleConnections()
	}
	c.transports = nil
	return nil
}
