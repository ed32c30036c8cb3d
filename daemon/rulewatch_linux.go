//go:build linux

package daemon

import (
	"context"

	"github.com/hactl/hactl/daemon/vip"
)

// watchRules posts every policy rule the kernel deletes in the daemon's
// namespace to the loop (ruleGone).
func (r *runtime) watchRules(ctx context.Context) error {
	return vip.WatchRules(ctx, func(d vip.Rule) {
		r.post(func(r *runtime) { r.ruleGone(d) })
	}, func(err error) {
		if ctx.Err() == nil {
			r.log.Warn("rule events", "err", err)
		}
	})
}
