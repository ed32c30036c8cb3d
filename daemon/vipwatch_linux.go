//go:build linux

package daemon

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// watchVIPs subscribes to the kernel's address events in the calling
// thread's network namespace (the daemon's) and posts every deletion to
// the loop (vipGone). If the subscription dies (the socket's buffer
// overflowed, ENOBUFS: events were lost), it subscribes again after a
// pause and has the loop check every held VIP (checkHeldVIPs). It ends
// with ctx.
func (r *runtime) watchVIPs(ctx context.Context) error {
	ns, err := netns.Get()
	if err != nil {
		return err
	}
	ch, err := subscribeAddrs(ctx, ns, r)
	if err != nil {
		ns.Close()
		return err
	}
	go func() {
		defer ns.Close()
		for {
			for u := range ch {
				if u.NewAddr {
					continue
				}
				at := r.clock.Now()
				a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
				if !ok {
					continue
				}
				g := addrGone{addr: a.Unmap(), at: at}
				if ifi, err := net.InterfaceByIndex(u.LinkIndex); err == nil {
					g.dev = ifi.Name
				}
				if !r.post(func(r *runtime) { r.vipGone(g) }) {
					return
				}
			}
			for ctx.Err() == nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				if ch, err = subscribeAddrs(ctx, ns, r); err == nil {
					break
				}
				r.log.Warn("address events: subscribe again", "err", err)
			}
			if ctx.Err() != nil {
				return
			}
			at := r.clock.Now()
			r.log.Warn("address events were lost; checking the VIPs held")
			if !r.post(func(r *runtime) { r.checkHeldVIPs(at) }) {
				return
			}
		}
	}()
	return nil
}

func subscribeAddrs(ctx context.Context, ns netns.NsHandle, r *runtime) (chan netlink.AddrUpdate, error) {
	ch := make(chan netlink.AddrUpdate, 256)
	err := netlink.AddrSubscribeWithOptions(ch, ctx.Done(), netlink.AddrSubscribeOptions{
		Namespace:         &ns,
		ReceiveBufferSize: 1 << 20,
		ErrorCallback: func(err error) {
			if ctx.Err() == nil {
				r.log.Warn("address events", "err", err)
			}
		},
	})
	return ch, err
}
