package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Client calls a daemon's control API.
type Client struct {
	http *http.Client
	// base is the URL prefix; the host part is a placeholder, since the
	// transport dials the socket whatever the URL says.
	base string
}

// DialFunc opens a connection to the daemon's socket (locally, or through
// an SSH connection).
type DialFunc func(ctx context.Context) (net.Conn, error)

// NewClient returns a client whose requests travel over connections from
// dial.
func NewClient(dial DialFunc) *Client {
	tr := &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		DisableKeepAlives: false,
		MaxIdleConns:      1,
	}
	return &Client{http: &http.Client{Transport: tr}, base: "http://hactl"}
}

// NewUnixClient returns a client for the daemon socket at path on this host.
func NewUnixClient(path string) *Client {
	return NewClient(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	})
}

// Status calls GET /v1/status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.do(ctx, http.MethodGet, PathStatus, nil, &s)
}

// Instance calls GET /v1/instances/NAME.
func (c *Client) Instance(ctx context.Context, name string) (*Instance, error) {
	var in Instance
	return &in, c.do(ctx, http.MethodGet, PathInstance+url.PathEscape(name), nil, &in)
}

// Promote calls POST /v1/instances/NAME/promote.
func (c *Client) Promote(ctx context.Context, name string, req PromoteRequest) (*Instance, error) {
	var in Instance
	return &in, c.do(ctx, http.MethodPost, PathInstance+url.PathEscape(name)+"/promote", req, &in)
}

// ClearPromotion calls DELETE /v1/instances/NAME/promote.
func (c *Client) ClearPromotion(ctx context.Context, name string) (*Instance, error) {
	var in Instance
	return &in, c.do(ctx, http.MethodDelete, PathInstance+url.PathEscape(name)+"/promote", nil, &in)
}

// Reload calls POST /v1/reload.
func (c *Client) Reload(ctx context.Context) (*ReloadResult, error) {
	var r ReloadResult
	return &r, c.do(ctx, http.MethodPost, PathReload, nil, &r)
}

// Metrics fetches the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathMetrics, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return "", decodeError(resp.StatusCode, b)
	}
	return string(b), err
}

// CloseIdleConnections releases the connection kept for reuse.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: bad answer: %w", method, path, err)
	}
	return nil
}

func decodeError(status int, body []byte) error {
	e := &Error{}
	if json.Unmarshal(body, e) != nil || e.Message == "" {
		e = &Error{Status: status, Code: "http", Message: strings.TrimSpace(string(body))}
	}
	e.Status = status
	return e
}
