package cli

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// runConfigCheckLive validates the config, then has watch.CheckLive listen
// on each configured interface for a few advert intervals, and renders
// its verdict: configured VRIDs that another router already uses with a
// different VIP set (or version) fail the check.
func runConfigCheckLive(ctx context.Context, opts *ConfigCheckOptions) error {
	file, cfg, err := loadValidConfig(opts.IO, opts.File, opts.Defaults, "fix it before the live check")
	if err != nil {
		return err
	}
	res, err := watch.CheckLive(ctx, watch.LiveCheckConfig{File: file, Instances: configuredInstances(cfg),
		Names: watchNames(opts.Global), Progress: opts.IO.ErrOut})
	if err != nil {
		return fmt.Errorf("config check --live: %w", err)
	}
	if opts.Global != nil && opts.Global.JSON() {
		if err := writeJSON(opts.IO, res); err != nil {
			return err
		}
	} else if err := printLiveCheck(opts.IO, res); err != nil {
		return err
	}
	if !res.Valid {
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

// configuredInstances is what the live check needs of each instance: what
// it would advertise, and where.
func configuredInstances(cfg *config.Config) []watch.Configured {
	out := make([]watch.Configured, 0, len(cfg.Instances))
	for _, in := range cfg.Instances {
		c := watch.Configured{Name: in.Name, Interface: in.Interface, Family: vrrp.IPv4, VRID: in.VRID,
			Advert: watch.Advert{Version: vrrp.Version(in.Version), Interval: in.AdvertInt}}
		if in.Family == config.FamilyIPv6 {
			c.Family = vrrp.IPv6
		}
		for _, v := range in.VIPs {
			c.Advert.VIPs = append(c.Advert.VIPs, v.Prefix.Addr())
		}
		if in.Version == 2 && in.Auth != nil {
			c.Advert.AuthType = vrrp.AuthSimple
			c.Advert.AuthData, _ = vrrp.Password(in.Auth.Password)
			if in.Auth.Type == "AH" {
				// The key is in the ICV, not on the wire: the message
				// carries auth type AH and eight zero bytes.
				c.Advert.AuthType, c.Advert.AuthData = vrrp.AuthAH, [8]byte{}
			}
		}
		out = append(out, c)
	}
	return out
}

// printLiveCheck prints one line per instance, and a verdict on stderr.
func printLiveCheck(io *IOStreams, res watch.LiveCheck) error {
	tb := newTable(io.Out, "INSTANCE", "INTERFACE", "FAMILY", "VRID", "STATUS", "HEARD")
	for _, in := range res.Instances {
		var heard []string
		for _, s := range in.Sources {
			h := sourceText(netip.MustParseAddr(s.Src), s.Node) + " v" + strconv.Itoa(s.Version) + " VIPs " + dash(strings.Join(s.Addresses, ","))
			if len(s.Differ) > 0 {
				h += " (differs in " + strings.Join(s.Differ, ", ") + ")"
			}
			heard = append(heard, h)
		}
		if err := tb.Append(in.Name, dash(in.Interface), in.Family, strconv.Itoa(in.VRID), string(in.Status), dash(strings.Join(heard, "; "))); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	if n := res.Conflicts(); n > 0 {
		fmt.Fprintf(io.ErrOut, "%s: %s already used on the wire by another router with different VIPs or version\n",
			res.File, countWord(n, "configured VRID"))
	} else {
		fmt.Fprintf(io.ErrOut, "%s: no configured VRID conflicts with what was heard in %v\n", res.File,
			res.Listened().Round(100*time.Millisecond))
	}
	return nil
}
