package statefile

import (
	"log/slog"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// Options configure Serve.
type Options struct {
	// Group may read the JSON twin; -1 is root only (see Write).
	Group int
	// Log receives write failures and the recovery; nil discards.
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the retries after a failed write
	// (defaults 100 ms and 30 s); the wait doubles from one to the other.
	MinBackoff, MaxBackoff time.Duration
	// Prepare, when set, runs on each status received before it is
	// written (the daemon sorts there, off its event loop).
	Prepare func(*api.Status)
	// write replaces Write in tests.
	write func(path string, st api.Status, gid int) error
}

// Default retry bounds after a failed write.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// Serve writes every status received on ch to path until ch is closed
// (the last one received is written before Serve returns, when it can be).
//
// A write that fails (a full disk, say) removes both files at once: a
// reader then finds no state rather than a stale one, such as MASTER on a
// node that has since become BACKUP. The write is retried with a doubling
// backoff, with the newest status when one has arrived meanwhile, until it
// succeeds. The first failure of a run of them is logged, then one line
// per retry, which the backoff keeps to about two a minute, and the
// recovery.
func Serve(ch <-chan api.Status, path string, opts Options) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	write := opts.write
	if write == nil {
		write = Write
	}
	lo, hi := opts.MinBackoff, opts.MaxBackoff
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi < lo {
		hi = max(lo, DefaultMaxBackoff)
	}
	var (
		pending *api.Status
		retry   <-chan time.Time
		backoff = lo
		failed  int
	)
	for {
		if pending == nil {
			st, ok := <-ch
			if !ok {
				return
			}
			pending = prepare(opts, st)
		} else if retry != nil {
			select {
			case st, ok := <-ch:
				if !ok {
					// Stopping: one last try, then give up.
					if write(path, *pending, opts.Group) != nil {
						Remove(path)
					}
					return
				}
				pending = prepare(opts, st)
			case <-retry:
			}
			retry = nil
		}
		err := write(path, *pending, opts.Group)
		if err == nil {
			if failed > 0 {
				log.Info("state file written again", "path", path, "failed_writes", failed)
			}
			pending, failed, backoff = nil, 0, lo
			continue
		}
		Remove(path)
		failed++
		log.Error("state file not written; removed it so no stale state is read; retrying", "err", err, "retry_in", backoff, "failed_writes", failed)
		retry = time.After(backoff)
		backoff = min(2*backoff, hi)
	}
}

func prepare(opts Options, st api.Status) *api.Status {
	if opts.Prepare != nil {
		opts.Prepare(&st)
	}
	return &st
}
