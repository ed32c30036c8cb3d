//go:build linux

package daemon

import (
	"slices"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
)

// reload reads the config again. A broken config keeps the running one
// (every error is logged and returned). A valid one applies what can
// change under a running instance without disturbing it; an instance whose
// identity changed (interface, VRID, family, version, interval, VIPs,
// peers, auth) or that was added or removed needs a restart, which is
// logged.
func (r *runtime) reload() (api.ReloadResult, error) {
	_ = r.sd.Reloading()
	defer func() { _ = r.sd.Ready("reloaded") }()
	res := api.ReloadResult{Diagnostics: []string{}}
	cfg, diags, err := loadConfig(r.daemon.ConfigFile, r.log)
	for _, d := range diags {
		res.Diagnostics = append(res.Diagnostics, d.String())
	}
	if err != nil {
		r.daemon.LastReloadError = err.Error()
		r.log.Error("reload: config refused, the running one stays", "err", err)
		return res, nil
	}
	newByName := map[string]*config.Instance{}
	for _, c := range cfg.Instances {
		newByName[c.Name] = c
	}
	for _, in := range r.insts {
		c, ok := newByName[in.c.Name]
		if !ok {
			r.log.Warn("reload: instance removed from the config keeps running until restart", "instance", in.c.Name)
			continue
		}
		if !sameIdentity(in.c, c) {
			r.log.Warn("reload: instance changed beyond priority and trackers; restart the daemon to apply", "instance", in.c.Name)
			continue
		}
		if c.Priority != in.c.Priority {
			r.log.Info("reload: priority changed", "instance", in.c.Name, "from", in.c.Priority, "to", c.Priority)
		}
		in.c = c
	}
	for name := range newByName {
		if r.byName[name] == nil {
			r.log.Warn("reload: new instance starts on the next daemon restart", "instance", name)
		}
	}
	// New trackers, carrying the scripts' states over so a reload does not
	// move mastership.
	old := r.mon
	prev := old.Snapshot()
	old.Stop()
	if err := r.startTrackers(r.ctx, cfg, prev); err != nil {
		r.log.Error("reload: trackers", "err", err)
	}
	for _, in := range r.insts {
		r.feedTrackers(in)
	}
	r.cfg = cfg
	r.daemon.ReloadedAt, r.daemon.LastReloadError = time.Now(), ""
	res.Reloaded = true
	r.writeState()
	return res, nil
}

func sameIdentity(a, b *config.Instance) bool {
	return a.Interface == b.Interface && a.VRID == b.VRID && a.Family == b.Family && a.Version == b.Version &&
		a.AdvertInt == b.AdvertInt && a.SrcIP == b.SrcIP && a.Unicast == b.Unicast && a.McastGroup == b.McastGroup &&
		slices.EqualFunc(a.UnicastPeers, b.UnicastPeers, func(x, y config.UnicastPeer) bool { return x.Addr == y.Addr }) &&
		slices.EqualFunc(a.VIPs, b.VIPs, sameVIP) && slices.EqualFunc(a.ExcludedVIPs, b.ExcludedVIPs, sameVIP) &&
		sameAuth(a.Auth, b.Auth) && a.Preempt == b.Preempt && a.PreemptDelay == b.PreemptDelay && a.Accept == b.Accept &&
		a.VIPLease == b.VIPLease && (a.Priority == 255) == (b.Priority == 255)
}

func sameVIP(x, y config.VIP) bool {
	return x.Prefix == y.Prefix && x.Dev == y.Dev && x.Label == y.Label && x.Scope == y.Scope && x.Broadcast == y.Broadcast
}

func sameAuth(a, b *config.Auth) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
