package remote

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; test with errors.Is on any error of this package.
var (
	// ErrHostKeyUnknown: the host is in no known_hosts file (strict mode).
	ErrHostKeyUnknown = errors.New("unknown host key")
	// ErrHostKeyMismatch: known_hosts has other keys for the host.
	ErrHostKeyMismatch = errors.New("host key mismatch")
	// ErrHostKeyRevoked: the offered key is marked @revoked.
	ErrHostKeyRevoked = errors.New("host key revoked")
	// ErrAuth: the server accepted none of the keys offered.
	ErrAuth = errors.New("ssh authentication failed")
	// ErrNoKeys: there is no agent and no usable identity file.
	ErrNoKeys = errors.New("no SSH keys to offer")
	// ErrTimeout: a connect or call passed its deadline.
	ErrTimeout = errors.New("timed out")
	// ErrClosed: the Pool was closed.
	ErrClosed = errors.New("remote: pool closed")
	// ErrOutputLimit: a remote command printed more than its output limit
	// and was stopped (an *OutputLimitError).
	ErrOutputLimit = errors.New("remote output limit passed")
)

// NodeError is the error of an operation on one node; its message starts
// with the node's name. Every error about a node is one.
type NodeError struct {
	Node string
	Err  error
}

// Error is "NODE: cause".
func (e *NodeError) Error() string { return e.Node + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *NodeError) Unwrap() error { return e.Err }

// nodeErr wraps err for node unless it already names it.
func nodeErr(node string, err error) error {
	if err == nil {
		return nil
	}
	var ne *NodeError
	if errors.As(err, &ne) && ne.Node == node {
		return err
	}
	return &NodeError{Node: node, Err: err}
}

// timeoutError marks a deadline with the limit that was passed, and keeps
// the cause (context.DeadlineExceeded or a net timeout) reachable.
type timeoutError struct {
	what  string
	limit string
	cause error
}

func (e *timeoutError) Error() string {
	if e.what == "" {
		return fmt.Sprintf("timed out after %s: %v", e.limit, e.cause)
	}
	return fmt.Sprintf("%s: timed out after %s", e.what, e.limit)
}

func (e *timeoutError) Unwrap() []error { return []error{ErrTimeout, e.cause} }

// ExitError is a remote command that ran and exited with a non-zero status
// (or was killed by a signal).
type ExitError struct {
	// Command is the command line as sent to the remote shell.
	Command string
	// Status is the exit status; -1 when the command died of a signal or
	// the server sent no status.
	Status int
	// Signal is the signal name when the command was killed.
	Signal string
	// Stderr is the command's error output (trimmed).
	Stderr string
}

// Error is "COMMAND: exit status N: first lines of stderr".
func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", e.Command)
	if e.Signal != "" {
		fmt.Fprintf(&b, "killed by signal %s", e.Signal)
	} else {
		fmt.Fprintf(&b, "exit status %d", e.Status)
	}
	if s := firstLines(e.Stderr, 3); s != "" {
		b.WriteString(": " + s)
	}
	if strings.Contains(e.Stderr, "a password is required") || strings.Contains(e.Stderr, "a terminal is required") {
		b.WriteString(" (sudo -n needs passwordless sudo for this user: add a NOPASSWD rule in sudoers)")
	}
	return b.String()
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "; ")
}

// OutputLimitError is a remote command that printed more than its output
// limit (Command.OutputLimit, DefaultOutputLimit) on one stream, and was
// stopped there: sent SIGKILL and its session closed. errors.Is matches it
// with ErrOutputLimit.
type OutputLimitError struct {
	// Command is the command line as sent to the remote shell.
	Command string
	// Stream is "stdout", "stderr", or "stdout and stderr" (Combined).
	Stream string
	// Limit is the limit passed, in bytes.
	Limit int
}

// Error is "COMMAND: printed more than 4 MiB on stdout; stopped".
func (e *OutputLimitError) Error() string {
	return fmt.Sprintf("%s: printed more than %s on %s; stopped", e.Command, byteSize(e.Limit), e.Stream)
}

// Is matches ErrOutputLimit.
func (e *OutputLimitError) Is(target error) bool { return target == ErrOutputLimit }

// byteSize is "4 MiB", "64 KiB" or "1000 bytes": exact, never rounded.
func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
