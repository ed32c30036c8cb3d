//go:build linux

package daemon

import (
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// backend serves the control API by running each request on the loop.
type backend struct{ r *runtime }

// call runs fn on the loop and waits for it, bounded.
func call[T any](b backend, fn func(r *runtime) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	var zero T
	if !b.r.post(func(r *runtime) { v, err := fn(r); ch <- result{v, err} }) {
		return zero, errors.New("daemon is stopping")
	}
	select {
	case res := <-ch:
		return res.v, res.err
	case <-time.After(10 * time.Second):
		return zero, errors.New("daemon loop did not answer within 10s")
	}
}

func (b backend) Status() api.Status {
	st, err := call(b, func(r *runtime) (api.Status, error) { return r.status(), nil })
	if err != nil {
		return api.Status{Daemon: api.Daemon{Name: "hactl", LastReloadError: err.Error()}}
	}
	return st
}

func (b backend) Instance(name string) (api.Instance, error) {
	return call(b, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		return in.status(time.Now()), nil
	})
}

func (b backend) Promote(name string, d time.Duration) (api.Instance, error) {
	return call(b, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		if st := in.m.State(); st == vrrp.Fault {
			return api.Instance{}, fmt.Errorf("%s is in FAULT; a faulty node cannot be promoted: %w", name, control.ErrConflict)
		}
		var expires time.Time
		if d > 0 {
			expires = time.Now().Add(d)
		}
		if err := r.promote(in, time.Now(), expires); err != nil {
			return api.Instance{}, err
		}
		return in.status(time.Now()), nil
	})
}

func (b backend) ClearPromotion(name string) (api.Instance, error) {
	return call(b, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		if err := r.clearPromotion(in, false); err != nil {
			return api.Instance{}, err
		}
		return in.status(time.Now()), nil
	})
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
