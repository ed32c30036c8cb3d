package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Command is a remote command. Set Argv (each word quoted for the remote
// shell, so arguments arrive as given) or Script (a shell command line,
// sent as it is).
type Command struct {
	Argv   []string
	Script string
	// Stdin feeds the command's standard input (default: empty).
	Stdin io.Reader
	// Combined sends stderr to Result.Stdout too, interleaved as written.
	Combined bool
	// NoSudo runs the command as the login user even in sudo mode.
	NoSudo bool
	// Timeout overrides the pool's per-call limit (for slow commands).
	Timeout time.Duration
	// OutputLimit is the most bytes kept of each output stream (stdout,
	// stderr; the two together when Combined); 0 means
	// DefaultOutputLimit. A command that prints more is stopped at once
	// and the call fails with an *OutputLimitError.
	OutputLimit int
}

// DefaultOutputLimit bounds what a remote command may print on each stream
// (4 MiB): far above what hactl's probes print (ip -j addr of a node with
// thousands of addresses), far below what hurts the operator's machine
// when a broken or hostile node prints without end.
const DefaultOutputLimit = 4 << 20

// Result is what a remote command produced.
type Result struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Command is the command line sent to the remote shell.
	Command string `json:"command"`
	// Stdout is the standard output (with stderr when Combined).
	Stdout []byte `json:"stdout"`
	// Stderr is the error output (empty when Combined).
	Stderr []byte `json:"stderr"`
	// ExitStatus is the exit status; -1 when killed by a signal or when
	// the command did not finish.
	ExitStatus int `json:"exit_status"`
	// Duration is the time from session start to exit.
	Duration time.Duration `json:"duration_ns"`
}

// Run runs argv on the node and returns its output. It is RunCommand with
// Command{Argv: argv}.
func (c *Client) Run(ctx context.Context, argv ...string) (*Result, error) {
	return c.RunCommand(ctx, Command{Argv: argv})
}

// Output runs argv and returns its standard output. A non-zero exit is an
// error (an *ExitError inside the *NodeError) that carries stderr.
func (c *Client) Output(ctx context.Context, argv ...string) ([]byte, error) {
	r, err := c.RunCommand(ctx, Command{Argv: argv})
	if r == nil {
		return nil, err
	}
	return r.Stdout, err
}

// RunCommand runs cmd in a new session on the node's connection. The
// Result is returned whenever the command started, also with an error; a
// non-zero exit status gives an *ExitError. The call is bounded by ctx and
// by the pool's Timeout (or cmd.Timeout), and its output by
// cmd.OutputLimit; at the deadline, or when a stream passes the limit
// (*OutputLimitError, the Result holding the output up to the limit), the
// remote command is sent SIGKILL and the session closed. (sshd refuses signals in
// sessions without privilege separation, such as root logins: there the
// command runs on until it ends or next writes to the closed channel.)
func (c *Client) RunCommand(ctx context.Context, cmd Command) (*Result, error) {
	sc, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	limit := c.pool.cfg.Timeout
	if cmd.Timeout > 0 {
		limit = cmd.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	line := c.pool.commandLine(cmd)
	if line == "" {
		return nil, nodeErr(c.Node.Name, errors.New("empty remote command"))
	}
	res := &Result{Node: c.Node.Name, Command: line, ExitStatus: -1}
	sess, err := sc.NewSession()
	if err != nil {
		return nil, nodeErr(c.Node.Name, fmt.Errorf("new ssh session: %w", err))
	}
	defer sess.Close()
	keep := cmd.OutputLimit
	if keep <= 0 {
		keep = DefaultOutputLimit
	}
	over := make(chan string, 2) // the stream that passed the limit
	stdout := cappedBuffer{max: keep, name: "stdout", over: over}
	stderr := cappedBuffer{max: keep, name: "stderr", over: over}
	if cmd.Combined {
		stdout.name = "stdout and stderr"
	}
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	if cmd.Combined {
		sess.Stderr = &stdout
	}
	if cmd.Stdin != nil {
		sess.Stdin = cmd.Stdin
	}

	start := time.Now()
	done := make(chan error, 1)
	if err := sess.Start(line); err != nil {
		return nil, nodeErr(c.Node.Name, fmt.Errorf("%s: %w", line, err))
	}
	go func() { done <- sess.Wait() }()
	stop := func() {
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		select {
		case <-done:
		case <-time.After(100 * time.Millisecond): // sshd may answer the close only when the command exits
		}
	}
	select {
	case err = <-done:
	case stream := <-over:
		stop()
		err = &OutputLimitError{Command: line, Stream: stream, Limit: keep}
	case <-ctx.Done():
		stop()
		err = deadline(ctx, limit, line, ctx.Err())
	}
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()

	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	var ole *OutputLimitError
	if (stdout.passed() || stderr.passed()) && !errors.As(err, &ole) {
		// It ended (or failed) at once after passing the limit: still an
		// output error, as its output is not all there.
		name := stdout.name
		if !stdout.passed() {
			name = stderr.name
		}
		err = &OutputLimitError{Command: line, Stream: name, Limit: keep}
	}
	switch {
	case errors.As(err, &ole):
	case err == nil:
		res.ExitStatus = 0
		return res, nil
	case errors.As(err, &ee):
		res.ExitStatus = ee.ExitStatus()
		xe := &ExitError{Command: line, Status: ee.ExitStatus(), Stderr: string(res.Stderr)}
		if ee.Signal() != "" {
			res.ExitStatus, xe.Status, xe.Signal = -1, -1, ee.Signal()
		}
		if cmd.Combined {
			xe.Stderr = string(res.Stdout)
		}
		return res, nodeErr(c.Node.Name, xe)
	case errors.As(err, &missing):
		return res, nodeErr(c.Node.Name, fmt.Errorf("%s: the server sent no exit status (connection lost?): %w", line, err))
	}
	return res, nodeErr(c.Node.Name, err)
}

// commandLine renders cmd for the remote shell, through sudo -n in sudo
// mode: "sudo -n -- ip -j addr", or "sudo -n -- sh -c 'SCRIPT'".
func (p *Pool) commandLine(cmd Command) string {
	sudo := p.cfg.Sudo && !cmd.NoSudo
	switch {
	case cmd.Script != "" && sudo:
		return ShellQuote(p.cfg.SudoCommand, "-n", "--", "sh", "-c", cmd.Script)
	case cmd.Script != "":
		return cmd.Script
	case len(cmd.Argv) == 0:
		return ""
	case sudo:
		return ShellQuote(append([]string{p.cfg.SudoCommand, "-n", "--"}, cmd.Argv...)...)
	}
	return ShellQuote(cmd.Argv...)
}

// ShellQuote joins words into a POSIX shell command line in which each word
// stays one argument: words made only of safe characters stay bare, others
// are single-quoted.
func ShellQuote(words ...string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
			b.WriteString(w)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(w, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// cappedBuffer keeps the first max bytes written to it; two copying
// goroutines (stdout and stderr of one session) may write at once. The
// first write past max sends name on over, once, and fails, which ends
// that stream's copy: RunCommand then stops the command.
type cappedBuffer struct {
	max  int
	name string
	over chan<- string

	mu   sync.Mutex
	buf  bytes.Buffer
	full bool
}

// errOutputLimit ends the session's copy of a stream that passed its limit.
var errOutputLimit = errors.New("remote output limit reached")

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.full {
		return 0, errOutputLimit
	}
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:room])
		b.full = true
		b.over <- b.name // buffered for both streams: never blocks
		return room, errOutputLimit
	}
	return b.buf.Write(p)
}

func (b *cappedBuffer) passed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.full
}

func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
