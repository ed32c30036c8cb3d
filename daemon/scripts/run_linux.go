//go:build linux

package scripts

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// Run runs s once and waits for it. It never returns before the script's
// process group has been signalled when the run timed out or ctx ended;
// it returns at the latest KillGrace after that.
func (r *Runner) Run(ctx context.Context, s *Script, ex Exec) Result {
	start := time.Now()
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if ex.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, ex.Timeout)
	}
	defer cancel()

	out := &limitBuffer{limit: r.opts.OutputLimit}
	cmd := exec.CommandContext(runCtx, s.Path)
	cmd.Args = append(append([]string(nil), s.Args...), ex.Args...)
	cmd.Env = r.env(s.Cred)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	attr := &syscall.SysProcAttr{
		// Its own process group, so that a timeout kills what the
		// script started too.
		Setpgid: true,
		// Scripts die with the daemon, as keepalived's do.
		Pdeathsig: syscall.SIGTERM,
	}
	if r.uid == 0 {
		// setgroups runs too: without a ':' group the script has no
		// supplementary groups (keepalived clears them as well).
		attr.Credential = &syscall.Credential{Uid: s.Cred.UID, Gid: s.Cred.GID, Groups: s.Cred.Groups}
	}
	cmd.SysProcAttr = attr
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = r.opts.KillGrace

	res := Result{ExitCode: -1}
	if err := cmd.Start(); err != nil {
		res.Err = fmt.Errorf("starting %s: %w", s.Path, err)
		res.Duration = time.Since(start)
		r.logResult(s, ex, res)
		return res
	}
	pid := cmd.Process.Pid
	werr := cmd.Wait()
	res.Duration = time.Since(start)
	res.Output, res.Dropped = out.result()
	if st := cmd.ProcessState; st != nil {
		res.ExitCode = st.ExitCode()
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
		}
	}
	success := cmd.ProcessState != nil && cmd.ProcessState.Success()
	if runCtx.Err() != nil && !success {
		// Whatever is left of the group goes now: the leader may have
		// died of the SIGTERM while its children ignored it.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		if ctx.Err() != nil {
			res.Err = fmt.Errorf("%s: run cancelled: %w", s.Path, ctx.Err())
		} else {
			res.TimedOut = true
			res.Err = fmt.Errorf("%s: timed out after %s", s.Path, ex.Timeout)
		}
	} else if werr != nil && !success {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			res.Err = fmt.Errorf("%s: %w", s.Path, werr)
		}
	}
	// A success whose output pipe was held open by a background child
	// (exec.ErrWaitDelay) is still a success.
	r.logResult(s, ex, res)
	return res
}
