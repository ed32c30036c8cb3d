//go:build linux

package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// promotionStore keeps sticky promotions in a file beside the state file,
// so that a promotion survives a daemon restart (not a reboot: /run).
type promotionStore struct {
	path string
}

func (p *promotionStore) load() (map[string]api.Promotion, error) {
	b, err := os.ReadFile(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]api.Promotion{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]api.Promotion{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	return m, nil
}

func (p *promotionStore) save(insts []*instance) error {
	m := map[string]api.Promotion{}
	for _, in := range insts {
		if in.promotion != nil {
			m[in.c.Name] = *in.promotion
		}
	}
	if len(m) == 0 {
		if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := p.path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p.path)
}

// promote sets a sticky promotion on in; expires is zero for "until
// cleared".
func (r *runtime) promote(in *instance, since, expires time.Time) {
	if in.promoTimer != nil {
		in.promoTimer.Stop()
		in.promoTimer = nil
	}
	in.promotion = &api.Promotion{Since: since, ExpiresAt: expires}
	if !expires.IsZero() {
		in.promoTimer = time.AfterFunc(time.Until(expires), func() {
			r.post(func(r *runtime) {
				if in.promotion != nil && !in.promotion.ExpiresAt.After(time.Now()) {
					r.log.Info("promotion expired", "instance", in.c.Name)
					r.clearPromotion(in)
				}
			})
		})
	}
	r.log.Info("promoted", "instance", in.c.Name, "until", untilText(expires))
	// Persist first, then act: the file is on disk before the advert that
	// starts the handover, so no file I/O delays the old master's release.
	r.savePromotions()
	r.step(in, vrrp.Promote())
}

func (r *runtime) clearPromotion(in *instance) {
	if in.promoTimer != nil {
		in.promoTimer.Stop()
		in.promoTimer = nil
	}
	if in.promotion == nil {
		return
	}
	in.promotion = nil
	r.log.Info("promotion cleared", "instance", in.c.Name)
	r.step(in, vrrp.ClearPromotion())
	r.savePromotions()
}

func (r *runtime) savePromotions() {
	if err := r.promos.save(r.insts); err != nil {
		r.log.Error("promotions not saved", "err", err)
	}
	r.writeState()
}

// restorePromotions re-applies the promotions a previous run saved.
func (r *runtime) restorePromotions() {
	m, err := r.promos.load()
	if err != nil {
		r.log.Error("saved promotions unreadable; ignoring them", "err", err)
		return
	}
	for name, p := range m {
		in := r.byName[name]
		switch {
		case in == nil:
			r.log.Warn("saved promotion for an instance no longer configured", "instance", name)
		case !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(time.Now()):
			r.log.Info("saved promotion expired while the daemon was down", "instance", name)
		default:
			r.log.Info("restoring promotion", "instance", name)
			r.promote(in, p.Since, p.ExpiresAt)
		}
	}
	r.savePromotions()
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return "cleared"
	}
	return t.Format(time.RFC3339)
}

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
		r.promote(in, time.Now(), expires)
		return in.status(time.Now()), nil
	})
}

func (b backend) ClearPromotion(name string) (api.Instance, error) {
	return call(b, func(r *runtime) (api.Instance, error) {
		in, err := r.lookup(name)
		if err != nil {
			return api.Instance{}, err
		}
		r.clearPromotion(in)
		return in.status(time.Now()), nil
	})
}

func (b backend) Reload() (api.ReloadResult, error) {
	return call(b, func(r *runtime) (api.ReloadResult, error) { return r.reload() })
}

func (r *runtime) lookup(name string) (*instance, error) {
	in := r.byName[name]
	if in == nil {
		return nil, fmt.Errorf("no instance %q on this node: %w", name, control.ErrNotFound)
	}
	return in, nil
}
