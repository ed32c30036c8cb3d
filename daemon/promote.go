package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hactl/hactl/daemon/runfile"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// promotionStore keeps sticky promotions in a file beside the state file,
// so that a promotion survives a daemon restart (not a reboot: /run).
type promotionStore struct {
	path string
}

// maxPromotionsFile bounds what load reads: a few hundred bytes per
// instance.
const maxPromotionsFile = 4 << 20

func (p *promotionStore) load() (map[string]api.Promotion, error) {
	b, err := runfile.Read(p.path, maxPromotionsFile)
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
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return err
	}
	return runfile.Write(p.path, b, 0o600, -1)
}

// promote sets a sticky promotion on in; expires is zero for "until
// cleared". The promotions file is written first: when it cannot be
// (a full disk, say) nothing changes and the error says so, so the API
// never answers 200 for a promotion a restart would forget.
func (r *runtime) promote(in *instance, since, expires time.Time) error {
	prev := in.promotion
	in.promotion = &api.Promotion{Since: since, ExpiresAt: expires}
	// Persist first, then act: the file is on disk before the advert that
	// starts the handover, so no file I/O delays the old master's release.
	if err := r.promos.save(r.insts); err != nil {
		in.promotion = prev
		r.log.Error("promotion refused: promotions file not written", "instance", in.c.Name, "err", err)
		return fmt.Errorf("%s not promoted: the promotions file could not be written, so the promotion would not survive a restart: %w", in.c.Name, err)
	}
	r.applyPromotion(in, since, expires)
	return nil
}

// applyPromotion arms the expiry timer and steps the machine; the caller
// has saved the promotion.
func (r *runtime) applyPromotion(in *instance, since, expires time.Time) {
	if in.promoTimer != nil {
		in.promoTimer.Stop()
		in.promoTimer = nil
	}
	in.promotion = &api.Promotion{Since: since, ExpiresAt: expires}
	if !expires.IsZero() {
		in.promoTimer = r.clock.AfterFunc(expires.Sub(r.clock.Now()), func() {
			r.post(func(r *runtime) {
				if in.promotion != nil && !in.promotion.ExpiresAt.After(r.clock.Now()) {
					r.log.Info("promotion expired", "instance", in.c.Name)
					// An expired promotion ends even when the file cannot
					// be rewritten: a restart ignores an expired entry.
					if err := r.clearPromotion(in, true); err != nil {
						r.log.Error("promotions file not rewritten after an expiry", "err", err)
					}
				}
			})
		})
	}
	r.log.Info("promoted", "instance", in.c.Name, "until", untilText(expires))
	r.writeState()
	r.step(in, vrrp.Promote())
}

// clearPromotion ends in's promotion. Unless force, a promotions file
// that cannot be rewritten keeps the promotion and returns the error, as
// promote does.
func (r *runtime) clearPromotion(in *instance, force bool) error {
	if in.promotion == nil {
		return nil
	}
	prev := in.promotion
	in.promotion = nil
	err := r.promos.save(r.insts)
	if err != nil && !force {
		in.promotion = prev
		r.log.Error("promotion clear refused: promotions file not written", "instance", in.c.Name, "err", err)
		return fmt.Errorf("promotion of %s not cleared: the promotions file could not be written, so a restart would restore it: %w", in.c.Name, err)
	}
	if in.promoTimer != nil {
		in.promoTimer.Stop()
		in.promoTimer = nil
	}
	r.log.Info("promotion cleared", "instance", in.c.Name)
	r.step(in, vrrp.ClearPromotion())
	r.writeState()
	return err
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
		case !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(r.clock.Now()):
			r.log.Info("saved promotion expired while the daemon was down", "instance", name)
		default:
			r.log.Info("restoring promotion", "instance", name)
			r.applyPromotion(in, p.Since, p.ExpiresAt)
		}
	}
	// Drop the entries not restored; a failure leaves them in the file,
	// where the next start skips them again.
	if err := r.promos.save(r.insts); err != nil {
		r.log.Error("promotions not saved", "err", err)
	}
	r.writeState()
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return "cleared"
	}
	return t.Format(time.RFC3339)
}
