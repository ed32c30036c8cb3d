package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultControlPort is the port of a hactl daemon's own SSH listener for
// the control API (global_defs control_ssh), tried before sshd for every
// control-socket call unless the node's control_port says otherwise.
const DefaultControlPort = 922

// ControlConnectLimit bounds the TCP connect to the control port (not the
// SSH handshake, which has the pool's timeout): a node without the
// listener answers a refusal at once, a firewall that drops the port
// costs at most this once per node and command.
const ControlConnectLimit = 500 * time.Millisecond

// controlAddr is the daemon's control_ssh address for n, or "" when the
// control port is not tried: control_port=none, or a login user other
// than root (only root's keys authenticate there).
func (n Node) controlAddr() string {
	if n.ControlPort < 0 || n.User != "root" {
		return ""
	}
	port := n.ControlPort
	if port == 0 {
		port = DefaultControlPort
	}
	return net.JoinHostPort(n.Host, strconv.Itoa(port))
}

// controlError is a failure on the control port after which the socket
// call goes to sshd instead (nothing listening, a handshake or
// authentication failure): not the node's error.
type controlError struct{ err error }

func (e *controlError) Error() string { return "control port: " + e.err.Error() }
func (e *controlError) Unwrap() error { return e.err }

// dialControl connects to the daemon's control_ssh listener on n. A
// host-key error comes back as it is (it is the node's error: something
// other than the node's root answers there, or known_hosts has no key for
// the node); every other failure as a *controlError.
func (p *Pool) dialControl(ctx context.Context, n Node) (*ssh.Client, error) {
	addr := n.controlAddr()
	if addr == "" {
		return nil, &controlError{errors.New("not tried")}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	start := time.Now()
	raw, err := p.transport(ctx, n, addr, min(ControlConnectLimit, p.cfg.Timeout))
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, err
		}
		var ne *NodeError
		if errors.As(err, &ne) || strings.HasPrefix(err.Error(), "jump host ") {
			return nil, err // the jump host itself failed: the node's error either way
		}
		return nil, &controlError{err}
	}
	cfg, tried, err := p.clientConfig(n, true)
	if err != nil {
		raw.Close()
		return nil, &controlError{err}
	}
	// The host key is checked under the node's SSH address (its sshd's
	// known_hosts entry): the daemon presents sshd's own host keys.
	sc, err := p.handshake(ctx, n, raw, addr, cfg, tried, start)
	if err != nil {
		var hk *HostKeyError
		if errors.As(err, &hk) && !(errors.Is(err, ErrHostKeyUnknown) && p.cfg.HostKeyPolicy == HostKeyAcceptNew) {
			return nil, fmt.Errorf("control port %s: %w", addr, hk)
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, err
		}
		return nil, &controlError{err}
	}
	// The daemon's restart ends the connection (sshd's would outlive
	// it): the next call dials again, and falls back to sshd while the
	// daemon is down.
	go func() {
		_ = sc.Wait()
		p.forget(controlKey(n), sc)
	}()
	return sc, nil
}

func controlKey(n Node) string { return "control " + n.Destination() }

// connectSocket returns the connection that socket calls to n use: the
// daemon's control port when it answers, else sshd's. The verdict is
// kept by the pool, so a node without the listener costs one refused
// connect per command.
func (p *Pool) connectSocket(ctx context.Context, n Node) (*ssh.Client, bool, error) {
	if n.controlAddr() != "" {
		sc, err := p.connectWith(ctx, controlKey(n), n, p.dialControl)
		if err == nil {
			return sc, true, nil
		}
		var ce *controlError
		if !errors.As(err, &ce) {
			return nil, false, err
		}
		p.logFallback(n, ce)
	}
	sc, err := p.connect(ctx, n)
	return sc, false, err
}

// logFallback logs, once per node and pool, why the control port was not
// used.
func (p *Pool) logFallback(n Node, ce *controlError) {
	p.mu.Lock()
	if p.fellBack == nil {
		p.fellBack = map[string]bool{}
	}
	seen := p.fellBack[n.Destination()]
	p.fellBack[n.Destination()] = true
	p.mu.Unlock()
	if !seen && ce.err.Error() != "not tried" {
		p.log.Debug("control port unused, socket calls go through sshd", "node", n.Name, "err", ce.err)
	}
}

// ConnectSocket connects the way DialSocket will: to the daemon's control
// port if it answers, else to sshd. It reports which. Callers use it to
// name a connect failure before the socket call's own deadline would.
func (c *Client) ConnectSocket(ctx context.Context) (viaControl bool, err error) {
	_, viaControl, err = c.pool.connectSocket(ctx, c.Node)
	return viaControl, nodeErr(c.Node.Name, err)
}
