package scripts

import (
	"fmt"
	"sync"
	"time"
)

// Exec describes one run of a Script.
type Exec struct {
	// Timeout bounds the run; 0 means only ctx does.
	Timeout time.Duration
	// Args are appended to the script's argv (notify's TYPE NAME STATE
	// PRIORITY).
	Args []string
	// Label names the run in logs ("vrrp_script chk_web", "notify_master
	// VI_1").
	Label string
	// Quiet leaves logging to the caller, which has the Result. Trackers
	// use it to log on changes only.
	Quiet bool
}

// Result is what a run did.
type Result struct {
	// ExitCode is the exit status, -1 when the script was killed by a
	// signal or did not start.
	ExitCode int
	// Signal names the signal that ended the script, if one did.
	Signal string
	// TimedOut is set when the run outlived Exec.Timeout and was killed.
	TimedOut bool
	// Err is set when the script did not start, timed out, or ctx ended
	// the run.
	Err error
	// Output is the first OutputLimit bytes of stdout and stderr;
	// Dropped counts the bytes beyond.
	Output   []byte
	Dropped  int
	Duration time.Duration
}

// OK reports whether the run succeeded: it exited with status 0 in time.
func (r Result) OK() bool { return r.Err == nil && r.ExitCode == 0 && !r.TimedOut }

// Describe says how the run ended, for logs and events.
func (r Result) Describe() string {
	switch {
	case r.TimedOut:
		return fmt.Sprintf("timed out after %s and was killed", r.Duration.Round(time.Millisecond))
	case r.Err != nil:
		return r.Err.Error()
	case r.Signal != "":
		return "killed by signal " + r.Signal
	case r.ExitCode == 0:
		return "succeeded"
	default:
		return fmt.Sprintf("exited with status %d", r.ExitCode)
	}
}

// LogAttrs are the attributes the Runner logs a run with.
func (r Result) LogAttrs() []any {
	attrs := []any{"result", r.Describe(), "duration", r.Duration.Round(time.Millisecond)}
	if len(r.Output) > 0 {
		attrs = append(attrs, "output", string(r.Output))
	}
	if r.Dropped > 0 {
		attrs = append(attrs, "output_dropped_bytes", r.Dropped)
	}
	return attrs
}

func (r *Runner) logResult(s *Script, ex Exec, res Result) {
	if r.opts.Observe != nil {
		r.opts.Observe(ex.Label, res)
	}
	if ex.Quiet {
		return
	}
	attrs := append([]any{"script", ex.Label, "cmd", s.String(), "user", s.Cred.User}, res.LogAttrs()...)
	if res.OK() {
		r.log.Info("script finished", attrs...)
		return
	}
	r.log.Warn("script failed", attrs...)
}

// limitBuffer keeps the first limit bytes written and counts the rest.
type limitBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	dropped int
}

func (b *limitBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - len(b.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf = append(b.buf, p[:room]...)
	}
	b.dropped += len(p) - room
	return len(p), nil
}

func (b *limitBuffer) result() ([]byte, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...), b.dropped
}
