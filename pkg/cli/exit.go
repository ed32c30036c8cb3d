package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, as documented in docs/exit-codes.md and docs/cli-contract.md.
const (
	ExitOK          = 0 // success
	ExitFailure     = 1 // usage, configuration or resolution error
	ExitNoOwner     = 2 // who-owns: no node holds the VIP
	ExitSplitBrain  = 3 // who-owns: more than one node holds the VIP; watch: two masters seen
	ExitUnreachable = 4 // some node could not be asked, nothing worse seen
	ExitPartial     = 5 // failover/restart-safe stopped part-way
	ExitConflict    = 6 // watch: a VRID conflict seen (and no two masters)
)

// ExitError carries an exit code with an optional message. A nil Err means
// the command already printed what it had to say.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// WithExit wraps err so that the command exits with code.
func WithExit(code int, err error) error { return &ExitError{Code: code, Err: err} }

// ExitCode maps an error returned by a command to the process exit code.
// It is the only place where errors become exit codes.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, context.Canceled) {
		return 130
	}
	return ExitFailure
}
