//go:build linux

package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

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
