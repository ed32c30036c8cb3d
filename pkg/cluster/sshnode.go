package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/remote"
)

// SSHNode is a Node reached through pkg/remote. Per node it costs one
// remote command (`ip -j addr` plus the keepalived probe, in one shell
// line) and, for hactl, one HTTP call on the control socket through the
// same SSH connection (streamlocal: no remote command, no shell).
type SSHNode struct {
	c *remote.Client

	mu     sync.Mutex
	probed bool
	probe  probeResult
	err    error
}

// NewSSHNode returns the node behind c.
func NewSSHNode(c *remote.Client) *SSHNode { return &SSHNode{c: c} }

// Name is the node's name.
func (n *SSHNode) Name() string { return n.c.Node.Name }

// run runs the probe script once; later callers get its result.
func (n *SSHNode) run(ctx context.Context) (probeResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.probed {
		return n.probe, n.err
	}
	res, err := n.c.RunCommand(ctx, remote.Command{Script: addrProbe + keepalivedProbe})
	err = shortCommandError(err)
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

// Addresses runs `ip -j addr show` on the node.
func (n *SSHNode) Addresses(ctx context.Context) ([]Interface, error) {
	p, err := n.run(ctx)
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
	limit := n.c.Timeout()
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cl := api.NewClient(func(ctx context.Context) (net.Conn, error) { return n.c.DialSocket(ctx, "") })
	defer cl.CloseIdleConnections()
	st, serr := cl.Status(cctx)
	if serr == nil {
		return hactlDaemon(st), nil
	}
	socket := n.socket()
	if err := socketFault(cctx, socket, serr, limit); err != nil {
		return nil, err
	}
	p, err := n.run(ctx)
	if err != nil {
		return nil, err
	}
	if d := p.keepalivedDaemon(); d != nil {
		return d, nil
	}
	if note := refusedNote(socket, serr); note != "" {
		// A daemon answered, but refused: say so rather than "none".
		return &Daemon{Kind: DaemonHactl, Instances: []Instance{}, Note: note}, nil
	}
	return &Daemon{Kind: DaemonNone, Instances: []Instance{}}, nil
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
func shortCommandError(err error) error {
	if err == nil {
		return nil
	}
	line := addrProbe + keepalivedProbe
	msg := err.Error()
	if !strings.Contains(msg, line) {
		return err
	}
	return &commandError{msg: strings.ReplaceAll(msg, line, probeCommand), err: err}
}
