package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"golang.org/x/crypto/ssh"
)

// DialSocket opens the unix socket at path on the node through the SSH
// connection (OpenSSH's direct-streamlocal@openssh.com channel, which sshd
// allows unless AllowStreamLocalForwarding is no). An empty path means the
// node's Socket. The socket is opened by sshd as the login user: sudo mode
// does not apply. When the node's daemon serves the control API over SSH
// itself (control_ssh, DefaultControlPort), the channel goes to it and
// sshd is not contacted; otherwise, or when it refuses this path, through
// sshd as before.
func (c *Client) DialSocket(ctx context.Context, path string) (net.Conn, error) {
	if path == "" {
		path = c.Node.Socket
	}
	if path == "" {
		path = DefaultSocket
	}
	sc, viaControl, err := c.pool.connectSocket(ctx, c.Node)
	if err != nil {
		return nil, nodeErr(c.Node.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.pool.cfg.Timeout)
	defer cancel()
	conn, err := sc.DialContext(ctx, "unix", path)
	var oe *ssh.OpenChannelError
	if err != nil && viaControl && !errors.As(err, &oe) && ctx.Err() == nil {
		// The control connection ended (the daemon restarted): dial again,
		// which falls back to sshd while the daemon is down.
		c.pool.forget(controlKey(c.Node), sc)
		if sc, viaControl, err = c.pool.connectSocket(ctx, c.Node); err != nil {
			return nil, nodeErr(c.Node.Name, err)
		}
		conn, err = sc.DialContext(ctx, "unix", path)
	}
	if err != nil && viaControl && errors.As(err, &oe) {
		// The daemon serves its own socket only: another path (a second
		// daemon on the node) goes through sshd.
		c.pool.log.Debug("control port refused the socket, trying sshd", "node", c.Node.Name, "socket", path, "err", err)
		if sc, err = c.Connect(ctx); err != nil {
			return nil, err
		}
		conn, err = sc.DialContext(ctx, "unix", path)
	}
	if err != nil {
		what := "control socket " + path
		if strings.Contains(err.Error(), "administratively prohibited") {
			what += " (refused by sshd: is AllowStreamLocalForwarding off?)"
		} else if strings.Contains(err.Error(), "open failed") || strings.Contains(err.Error(), "connect failed") {
			what += " (no such socket, or not allowed for user " + c.Node.User + ": is the hactl daemon running?)"
		}
		return nil, nodeErr(c.Node.Name, deadline(ctx, c.pool.cfg.Timeout, what, err))
	}
	return conn, nil
}

// HTTPClient returns an http.Client whose every connection is a fresh
// stream to the unix socket at path on the node (empty: the node's Socket),
// over the pool's one SSH connection. The URL's host is ignored; use
// "http://NODE/...". Its Timeout is the pool's per-call limit; change it on
// the returned client for long polls. Client.Close drops its idle streams.
func (c *Client) HTTPClient(path string) *http.Client {
	t := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialSocket(ctx, path)
		},
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     c.pool.cfg.Timeout * 6,
		DisableCompression:  true, // a local socket: compression costs CPU for nothing
	}
	c.mu.Lock()
	c.transports = append(c.transports, t)
	c.mu.Unlock()
	return &http.Client{Transport: t, Timeout: c.pool.cfg.Timeout}
}

// URL returns "http://NODE" + p, a URL for requests through HTTPClient
// whose host part names the node in logs and errors.
func (c *Client) URL(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return fmt.Sprintf("http://%s%s", hostForURL(c.Node.Name), p)
}

// hostForURL keeps a node name usable as a URL host.
func hostForURL(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x80 && (r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "node"
	}
	return b.String()
}
