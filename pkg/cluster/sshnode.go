package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/remote"
)

// SSHNode is a Node reached through pkg/remote, over one SSH connection.
// It asks the hactl control socket first (GET /v1/status through a
// streamlocal channel: no remote command, no shell). A daemon that
// answers with its interfaces answers everything; only when none answers
// (keepalived or bare nodes), or an older daemon answers without its
// interfaces, does the node run one remote command: the probe script
// (`ip -j addr`, plus the keepalived probe when no hactl daemon answered).
type SSHNode struct {
	c *remote.Client

	mu    sync.Mutex
	asked bool
	sock  socketAnswer

	probed bool
	probe  probeResult
	err    error
}

// socketAnswer is what the control socket said, kept for the node's
// other calls.
type socketAnswer struct {
	st *api.Status
	// fault is socketFault's verdict on a failed call; note refusedNote's.
	fault error
	note  string
}

// NewSSHNode returns the node behind c.
func NewSSHNode(c *remote.Client) *SSHNode { return &SSHNode{c: c} }

// Name is the node's name.
func (n *SSHNode) Name() string { return n.c.Node.Name }

// status asks the control socket once; later callers get its answer. A
// call cut short by the caller's context is not kept.
func (n *SSHNode) status(ctx context.Context) socketAnswer {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.asked {
		return n.sock
	}
	// Connect first, on the caller's context: the pool's own connect
	// limit then names what failed ("connect to HOST:22: timed out after
	// 3s"), where the socket call's deadline below would only say
	// "context deadline exceeded". The pool keeps the error, so the probe
	// and the daemon calls report the same one. On a daemon serving
	// control_ssh this connection is the daemon's and sshd is not
	// contacted; elsewhere it is sshd's.
	if _, err := n.c.ConnectSocket(ctx); err != nil {
		a := socketAnswer{fault: err}
		if !errors.Is(ctx.Err(), context.Canceled) { // cancelled: let a later call try again
			n.asked, n.sock = true, a
		}
		return a
	}
	limit := n.c.Timeout()
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cl := api.NewClient(func(ctx context.Context) (net.Conn, error) { return n.c.DialSocket(ctx, "") })
	defer cl.CloseIdleConnections()
	st, serr := cl.Status(cctx)
	var a socketAnswer
	if serr == nil {
		a.st = st
	} else {
		socket := n.socket()
		a.fault = socketFault(cctx, socket, serr, limit)
		a.note = refusedNote(socket, serr)
		if a.fault == nil && a.note == "" && ctx.Err() != nil {
			return socketAnswer{fault: ctx.Err()} // cancelled: let a later call try again
		}
	}
	n.asked, n.sock = true, a
	return a
}

// run runs the probe script once; later callers get its result. With a
// hactl daemon answering, only the address part runs.
func (n *SSHNode) run(ctx context.Context, withKeepalived bool) (probeResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.probed {
		return n.probe, n.err
	}
	script := addrProbe
	if withKeepalived {
		script += keepalivedProbe
	}
	res, err := n.c.RunCommand(ctx, remote.Command{Script: script})
	err = shortCommandError(err, script)
	if err != nil {
		var xe *remote.ExitError
		if res == nil || !errors.As(err, &xe) {
			if ctx.Err() != nil && !errors.Is(err, remote.ErrTimeout) {
				return probeResult{}, err // cancelled: let a later call try again
			}
			n.probed, n.err = true, err
			return probeResult{}, err
		}
		// The script ran; a failing last step does not hide what it found.
	}
	n.probed, n.probe = true, parseProbe(res.Stdout)
	return n.probe, nil
}

// Addresses takes the node's addresses from its daemon's answer; without
// one it runs the probe (`ip -j addr show`).
func (n *SSHNode) Addresses(ctx context.Context) ([]Interface, error) {
	a := n.status(ctx)
	if a.st != nil && a.st.Interfaces != nil {
		return fromAPIInterfaces(a.st.Interfaces)
	}
	if a.fault != nil {
		// Unreachable, or a daemon that answers badly or not at all: the
		// node is an error whatever its addresses (Daemon says the same),
		// and a socket that never answered has used the node's time.
		return nil, a.fault
	}
	p, err := n.run(ctx, a.st == nil)
	if err != nil {
		return nil, err
	}
	if p.addrErr != "" || len(p.addrOut) == 0 {
		return nil, fmt.Errorf("ip -j addr show failed (is iproute2 installed?): %s", firstLine(p.addrOut))
	}
	ifs, err := ParseIPAddrJSON(p.addrOut)
	if err != nil {
		return nil, err
	}
	return ifs, nil
}

// Daemon asks the hactl control socket first; when it cannot be opened,
// it reports keepalived (from the probe script) or none. A socket that
// opens but answers badly or not at all within the pool's timeout makes
// the node an error (socketFault).
func (n *SSHNode) Daemon(ctx context.Context) (*Daemon, error) {
	a := n.status(ctx)
	if a.st != nil {
		return hactlDaemon(a.st), nil
	}
	if a.fault != nil {
		return nil, a.fault
	}
	p, err := n.run(ctx, true)
	if err != nil {
		return nil, err
	}
	if d := p.keepalivedDaemon(); d != nil {
		return d, nil
	}
	if a.note != "" {
		// A daemon answered, but refused: say so rather than "none".
		return &Daemon{Kind: DaemonHactl, Instances: []Instance{}, Note: a.note}, nil
	}
	return &Daemon{Kind: DaemonNone, Instances: []Instance{}}, nil
}

// fromAPIInterfaces converts the interfaces a daemon read through
// netlink, as ParseIPAddrJSON converts iproute2's.
func fromAPIInterfaces(in []api.Interface) ([]Interface, error) {
	out := make([]Interface, 0, len(in))
	for _, ai := range in {
		ifc := Interface{Name: ai.Name, Index: ai.Index, MAC: ai.MAC, Up: ai.Up, Addrs: make([]netip.Prefix, 0, len(ai.Addrs))}
		for _, ad := range ai.Addrs {
			p, err := netip.ParsePrefix(ad.Prefix)
			if err != nil {
				return nil, fmt.Errorf("control socket: %s: address %q: %w", ai.Name, ad.Prefix, err)
			}
			ifc.Addrs = append(ifc.Addrs, p)
		}
		out = append(out, ifc)
	}
	return out, nil
}

// socket is the control socket's path on the node.
func (n *SSHNode) socket() string {
	if n.c.Node.Socket != "" {
		return n.c.Node.Socket
	}
	return remote.DefaultSocket
}

// hactlDaemon converts a control-API status.
func hactlDaemon(st *api.Status) *Daemon {
	d := &Daemon{Kind: DaemonHactl, Version: st.Daemon.Version, PID: st.Daemon.PID, StartedAt: st.Daemon.StartedAt, StateSource: SourceSocket, Instances: []Instance{}}
	for _, in := range st.Instances {
		d.Instances = append(d.Instances, fromAPI(in))
	}
	return d
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}

// probeCommand names the probe script in errors, instead of its text.
const probeCommand = "probe (ip -j addr show; keepalived)"

// commandError is an error about the probe script whose message names it
// briefly; errors.Is and As still reach the original.
type commandError struct {
	msg string
	err error
}

func (e *commandError) Error() string { return e.msg }
func (e *commandError) Unwrap() error { return e.err }

// shortCommandError replaces the probe script's text in err's message by
// probeCommand: pkg/remote names the command line it ran, which for a
// script is the whole script.
func shortCommandError(err error, line string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !strings.Contains(msg, line) {
		return err
	}
	return &commandError{msg: strings.ReplaceAll(msg, line, probeCommand), err: err}
}
