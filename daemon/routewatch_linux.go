//go:build linux

package daemon

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/config"
)

// watchRoutes posts every route of keepalived's protocol the kernel
// deletes in the daemon's namespace to the loop (routeGone), and every
// interface that comes up (linkUp). Events lost
// to a full socket buffer (a router's churn) have the loop check every
// tracked route, at most once a second.
func (r *runtime) watchRoutes(ctx context.Context) error {
	var pending atomic.Bool
	var last atomic.Int64 // UnixNano of the last check posted
	return vip.WatchRoutes(ctx, config.RTProtoKeepalived, func(d vip.DeletedRoute) {
		at := r.clock.Now()
		r.post(func(r *runtime) { r.routeGone(routeGone{d: d, at: at}) })
	}, func(dev string) {
		at := r.clock.Now()
		r.post(func(r *runtime) { r.linkUp(dev, at) })
	}, func(err error) {
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("route events", "err", err)
		if pending.Swap(true) {
			return
		}
		wait := time.Until(time.Unix(0, last.Load()).Add(time.Second))
		time.AfterFunc(max(wait, 0), func() {
			at := r.clock.Now()
			last.Store(time.Now().UnixNano())
			pending.Store(false)
			r.post(func(r *runtime) { r.checkHeldRoutes(at) })
		})
	})
}
