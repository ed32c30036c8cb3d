//go:build !linux

package scripts

import "context"

// Run reports ErrUnsupported: scripts run on Linux only.
func (r *Runner) Run(ctx context.Context, s *Script, ex Exec) Result {
	return Result{ExitCode: -1, Err: ErrUnsupported}
}
