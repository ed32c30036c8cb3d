package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// Limits on what the client reads from a daemon, so that a broken or
// hostile socket cannot make the operator's process grow without bound.
const (
	// MaxAnswerBytes bounds a JSON answer (4 MiB: a status of a thousand
	// instances is a few hundred kB).
	MaxAnswerBytes = 4 << 20
	// MaxMetricsBytes bounds the Prometheus exposition.
	MaxMetricsBytes = 16 << 20
	// maxHeaderBytes bounds the response header.
	maxHeaderBytes = 64 << 10
)

// ErrBadAnswer: the socket answered, but not with a usable control-API
// answer: too big, not JSON, not a hactl status. The error says which.
var ErrBadAnswer = errors.New("bad answer")

// DialError is a control socket that could not be opened: nothing
// listens there (no hactl daemon), or the dial was refused. Every other
// error of a call means a connection was opened and its answer failed.
type DialError struct{ Err error }

func (e *DialError) Error() string { return e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// IsDialError reports whether err is a socket that could not be opened
// (a *DialError), as opposed to one that answered badly or not at all.
func IsDialError(err error) bool {
	var de *DialError
	return errors.As(err, &de)
}

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
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := dial(ctx)
			if err != nil {
				return nil, &DialError{Err: err}
			}
			return c, nil
		},
		DisableKeepAlives:      false,
		MaxIdleConns:           1,
		MaxResponseHeaderBytes: maxHeaderBytes,
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

// Status calls GET /v1/status. An answer that is not a hactl daemon's
// status is an ErrBadAnswer.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.do(ctx, http.MethodGet, PathStatus, nil, &s); err != nil {
		return &s, err
	}
	if s.Daemon.Name != "hactl" {
		return &s, fmt.Errorf("GET %s: %w: not a hactl status (daemon name %q)", PathStatus, ErrBadAnswer, s.Daemon.Name)
	}
	return &s, nil
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
		return "", callError(http.MethodGet, PathMetrics, err)
	}
	defer resp.Body.Close()
	b, err := readAnswer(resp.Body, MaxMetricsBytes)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", PathMetrics, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", decodeError(resp.StatusCode, b)
	}
	return string(b), nil
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
		return callError(method, path, err)
	}
	defer resp.Body.Close()
	b, err := readAnswer(resp.Body, MaxAnswerBytes)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w: %v", method, path, ErrBadAnswer, err)
	}
	return nil
}

// callError names the call in an error of http.Client.Do; a dial error
// stays a *DialError (and its message the dialer's).
func callError(method, path string, err error) error {
	var de *DialError
	if errors.As(err, &de) {
		return de
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its "Get \"http://hactl/v1/status\":" names a URL that is no address
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// sizeText is "4 MiB" for whole MiB, else a number of bytes.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readAnswer reads a body of at most limit bytes; a longer one is an
// ErrBadAnswer, read no further.
func readAnswer(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: larger than %s", ErrBadAnswer, sizeText(limit))
	}
	return b, nil
}

// maxErrorText bounds the message of an error answer, which is printed
// on the operator's terminal.
const maxErrorText = 300

func decodeError(status int, body []byte) error {
	e := &Error{}
	if json.Unmarshal(body, e) != nil || e.Message == "" {
		e = &Error{Code: "http", Message: string(body)}
	}
	e.Status = status
	e.Message = cleanText(e.Message)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if len(e.Code) > 40 {
		e.Code = "http"
	}
	e.Code = cleanText(e.Code)
	return e
}

// cleanText makes a daemon's words safe to print: valid UTF-8, no control
// characters (terminal escapes), at most maxErrorText bytes.
func cleanText(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "?"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > maxErrorText {
		s = strings.ToValidUTF8(s[:maxErrorText], "") + "..."
	}
	return s
}
