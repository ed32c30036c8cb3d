package resolve

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; errors.Is matches them on any error of Resolve.
var (
	// ErrNXDomain: the name does not exist (NXDOMAIN), under every name
	// the search list produced.
	ErrNXDomain = errors.New("no such host")
	// ErrServFail: the server could not answer (SERVFAIL).
	ErrServFail = errors.New("server failure (SERVFAIL)")
	// ErrRefused: the server refused the query (REFUSED, NOTIMP).
	ErrRefused = errors.New("query refused")
	// ErrNoAddress: the name exists but has no A or AAAA records.
	ErrNoAddress = errors.New("no A or AAAA records")
	// ErrTimeout: no server answered in time.
	ErrTimeout = errors.New("DNS timeout")
	// ErrNoServers: there is no nameserver to ask.
	ErrNoServers = errors.New("no DNS servers")
	// ErrBadName: the argument is neither an address nor a valid name.
	ErrBadName = errors.New("not an IP address or a valid host name")
)

// Error is a failed resolution. Its message reads
// "vip.example.com: no such host (NXDOMAIN from 192.0.2.53:53; tried ...)".
type Error struct {
	// Name is the argument as given.
	Name string
	// Err is one of the sentinels, possibly wrapping a network error.
	Err error
	// Server is the server whose answer decided the outcome, if any.
	Server string
	// Tried lists the fully qualified names queried, in order.
	Tried []string
	// Detail adds context ("after 2 attempts of 1s").
	Detail string
}

// Error is "NAME: what (from SERVER; detail; tried NAMES)".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v", e.Name, e.Err)
	var paren []string
	if e.Server != "" {
		paren = append(paren, "from "+e.Server)
	}
	if e.Detail != "" {
		paren = append(paren, e.Detail)
	}
	if len(e.Tried) > 1 || (len(e.Tried) == 1 && strings.TrimSuffix(e.Tried[0], ".") != strings.TrimSuffix(e.Name, ".")) {
		paren = append(paren, "tried "+strings.Join(e.Tried, ", "))
	}
	if len(paren) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(paren, "; "))
	}
	return b.String()
}

// Unwrap returns the sentinel (which may wrap the network error).
func (e *Error) Unwrap() error { return e.Err }

// netError keeps a network error reachable beside a sentinel.
type netError struct {
	kind  error
	cause error
}

func (e *netError) Error() string   { return fmt.Sprintf("%v: %v", e.kind, e.cause) }
func (e *netError) Unwrap() []error { return []error{e.kind, e.cause} }
