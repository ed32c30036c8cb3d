// Package cli is hactl's command tree. Each command lives in its own file as
// an Options struct, a newCmdX constructor that binds flags, and a run
// function that knows nothing of cobra, so tests drive commands against
// in-memory streams. Errors become exit codes in one place: ExitCode.
package cli
