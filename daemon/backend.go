package daemon

import (
	"fmt"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// backend serves the control API by running each request on the loop.
type backend struct{ r *runtime }

// loopAnswer bounds how long a read (status, an instance, a scrape) waits
// for the loop: well under the CLI's default 5 s timeout, so that a wedged
// loop is answered with 503 rather than by the client giving up.
const loopAnswer = 2 * time.Second

// call runs fn on the loop and waits for it, bounded.
func call[T any](b backend, fn func(r *runtime) (T, error)) (T, error) {
	return callWithin(b, 10*time.Second, fn)
}

// callWithin runs fn on the loop and waits at most d for it. A loop that
// does not answer, or has stopped, is control.ErrUnavailable (503).
func callWithin[T any](b backend, d time.Duration, fn func(r *runtime) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	var zero T
	t := time.NewTimer(d)
	defer t.Stop()
	timeout := fmt.Errorf("daemon loop did not answer within %v: %w", d, control.ErrUnavailable)
	// The queue itself may be full (a wedged loop under a flood): the
	// bound covers queueing too.
	select {
	case b.r.events <- func(r *runtime) { v, err := fn(r); ch <- result{v, err} }:
	case <-b.r.done:
		return zero, fmt.Errorf("daemon is stopping: %w", control.ErrUnavailable)
	case <-t.C:
		return zero, timeout
	}
	select {
	case res := <-ch:
		return res.v, res.err
	case <-t.C:
		return zero, timeout
	}
}

// loopStatus copies the loop's state on the loop and sorts it here, in
// the caller's goroutine: the status without the host's interfaces, all
// the metrics need (a scrape makes no netlink dump).
func (b backend) loopStatus() (api.Status, error) {
	st, err := callWithin(b, loopAnswer, func(r *runtime) (api.Status, error) { return r.status(), nil })
	if err != nil {
		return api.Status{}, err
	}
	sortStatus(&st)
	return st, nil
}

// Status is GET /v1/status: the loop's state and the host's interfaces,
// read here, off the loop, at request time.
func (b backend) Status() (api.Status, error) {
	st, err := b.loopStatus()
	if err != nil {
		return api.Status{}, err
	}
	if ifs, err := readInterfaces(); err != nil {
		st.InterfacesError = err.Error()
	} else {
		st.Interfaces = ifs
	}
	return st, nil
}

func (b backend) Instance(name string) (api.Instance, error) {
	in, err := callWithin(b, loopAnswer, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		return in.status(r.clock.Now()), nil
	})
	if err == nil {
		sortConflicts(&in)
	}
	return in, err
}

func (b backend) Promote(name string, d time.Duration) (api.Instance, error) {
	return sorted(call(b, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		if st := in.m.State(); st == vrrp.Fault {
			return api.Instance{}, fmt.Errorf("%s is in FAULT; a faulty node cannot be promoted: %w", name, control.ErrConflict)
		}
		var expires time.Time
		if d > 0 {
			expires = r.clock.Now().Add(d)
		}
		if err := r.promote(in, r.clock.Now(), expires); err != nil {
			return api.Instance{}, err
		}
		return in.status(r.clock.Now()), nil
	}))
}

func (b backend) ClearPromotion(name string) (api.Instance, error) {
	return sorted(call(b, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		if err := r.clearPromotion(in, false); err != nil {
			return api.Instance{}, err
		}
		return in.status(r.clock.Now()), nil
	}))
}

// sorted sorts an instance's conflicts off the loop, as Status does.
func sorted(in api.Instance, err error) (api.Instance, error) {
	if err == nil {
		sortConflicts(&in)
	}
	return in, err
}

// Reload is served by reloadingBackend (reload.go): a reload runs off the
// loop.

func (r *runtime) lookup(name string) (*instance, error) {
	in := r.byName[name]
	if in == nil {
		return nil, fmt.Errorf("no instance %q on this node: %w", name, control.ErrNotFound)
	}
	return in, nil
}
