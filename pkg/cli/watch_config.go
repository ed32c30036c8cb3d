package cli

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// minLiveCheck is the shortest `config check --live` listens: three
// intervals of keepalived's default advert_int.
const minLiveCheck = 3 * time.Second

// liveCheckResult is the JSON document of `config check --live -o json`.
type liveCheckResult struct {
	File       string              `json:"file"`
	Interfaces []string            `json:"interfaces"`
	DurationMS float64             `json:"duration_ms"`
	Valid      bool                `json:"valid"`
	Instances  []liveInstanceCheck `json:"instances"`
}

// liveInstanceCheck is the verdict on one configured instance.
type liveInstanceCheck struct {
	Name      string `json:"name"`
	Interface string `json:"interface"`
	Family    string `json:"family"`
	VRID      int    `json:"virtual_router_id"`
	// Status: "free" (nobody else heard), "in-use" (heard with the same
	// VIPs, version, interval and authentication: this cluster), "conflict"
	// (heard with different VIPs or version), "mismatch" (same VIPs, but a
	// different interval or authentication), "skipped" (no interface).
	Status  string         `json:"status"`
	Sources []liveSourceJS `json:"sources"`
}

type liveSourceJS struct {
	Src       string   `json:"src"`
	Node      string   `json:"node,omitempty"`
	Version   int      `json:"version"`
	Priority  int      `json:"priority"`
	Interval  float64  `json:"interval_ms"`
	Addresses []string `json:"addresses"`
	Differ    []string `json:"differ,omitempty"`
}

// runConfigCheckLive validates the config, then listens on each configured
// interface for a few advert intervals and reports configured VRIDs that
// another router already uses with a different VIP set (or version).
func runConfigCheckLive(ctx context.Context, opts *ConfigCheckOptions) error {
	file, cfg, err := loadValidConfig(opts.IO, opts.File, opts.Defaults, "fix it before the live check")
	if err != nil {
		return err
	}
	var ifaces []string
	listen := minLiveCheck
	for _, in := range cfg.Instances {
		if in.Interface != "" && !slices.Contains(ifaces, in.Interface) {
			ifaces = append(ifaces, in.Interface)
		}
		listen = max(listen, 3*in.AdvertInt)
	}
	res := liveCheckResult{File: file, Interfaces: ifaces, Valid: true}
	table := watch.NewTable(watchNames(opts.Global))
	if len(ifaces) > 0 {
		w := newWatcher(&WatchOptions{IO: &IOStreams{Out: discard{}, ErrOut: opts.IO.ErrOut}, Global: opts.Global, Free: true,
			Duration: listen}, table)
		w.ndjson = false
		if err := w.listenOn(ctx, ifaces); err != nil {
			return fmt.Errorf("config check --live: %w", err)
		}
		res.DurationMS = float64(w.listened.Milliseconds())
	}
	rows := table.Rows()
	for _, in := range cfg.Instances {
		c := checkInstance(in, rows)
		if c.Status == "conflict" {
			res.Valid = false
		}
		res.Instances = append(res.Instances, c)
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

// checkInstance compares one configured instance with what was heard.
func checkInstance(in *config.Instance, rows []watch.Row) liveInstanceCheck {
	fam := vrrp.IPv4
	if in.Family == config.FamilyIPv6 {
		fam = vrrp.IPv6
	}
	c := liveInstanceCheck{Name: in.Name, Interface: in.Interface, Family: familyWord(fam), VRID: in.VRID, Status: "free",
		Sources: []liveSourceJS{}}
	if in.Interface == "" {
		c.Status = "skipped"
		return c
	}
	own := watch.Advert{Version: vrrp.Version(in.Version), Interval: in.AdvertInt}
	for _, v := range in.VIPs {
		own.VIPs = append(own.VIPs, v.Prefix.Addr())
	}
	if in.Version == 2 && in.Auth != nil {
		own.AuthType = vrrp.AuthSimple
		own.AuthData, _ = vrrp.Password(in.Auth.Password)
	}
	for _, r := range rows {
		if r.Interface != in.Interface || r.Family != fam || r.VRID != in.VRID || r.Version == 0 {
			continue
		}
		ad := watch.Advert{Version: vrrp.Version(r.Version), Interval: r.Interval, VIPs: r.Addresses}
		if r.Version == 2 {
			ad.AuthType, ad.AuthData = vrrp.AuthType(r.AuthType), r.AuthData
		}
		m := watch.Compare(own, ad)
		s := liveSourceJS{Src: r.Src.String(), Node: r.Node, Version: r.Version, Priority: r.Priority,
			Interval: float64(r.Interval) / float64(time.Millisecond), Addresses: addrStrings(r.Addresses)}
		if m != 0 {
			s.Differ = strings.Split(m.String(), ", ")
		}
		c.Sources = append(c.Sources, s)
		switch {
		case m&(watch.MismatchVIPs|watch.MismatchVersion) != 0:
			c.Status = "conflict"
		case m != 0 && c.Status != "conflict":
			c.Status = "mismatch"
		case c.Status == "free":
			c.Status = "in-use"
		}
	}
	return c
}

func addrStrings(l []netip.Addr) []string {
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.String()
	}
	return out
}

// printLiveCheck prints one line per instance, and a verdict on stderr.
func printLiveCheck(io *IOStreams, res liveCheckResult) error {
	tb := newTable(io.Out, "INSTANCE", "INTERFACE", "FAMILY", "VRID", "STATUS", "HEARD")
	conflicts := 0
	for _, in := range res.Instances {
		var heard []string
		for _, s := range in.Sources {
			h := sourceText(netip.MustParseAddr(s.Src), s.Node) + " v" + strconv.Itoa(s.Version) + " VIPs " + dash(strings.Join(s.Addresses, ","))
			if len(s.Differ) > 0 {
				h += " (differs in " + strings.Join(s.Differ, ", ") + ")"
			}
			heard = append(heard, h)
		}
		if in.Status == "conflict" {
			conflicts++
		}
		if err := tb.Append(in.Name, dash(in.Interface), in.Family, strconv.Itoa(in.VRID), in.Status, dash(strings.Join(heard, "; "))); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	if conflicts > 0 {
		fmt.Fprintf(io.ErrOut, "%s: %s already used on the wire by another router with different VIPs or version\n",
			res.File, countWord(conflicts, "configured VRID"))
	} else {
		fmt.Fprintf(io.ErrOut, "%s: no configured VRID conflicts with what was heard in %v\n", res.File,
			time.Duration(res.DurationMS*float64(time.Millisecond)).Round(100*time.Millisecond))
	}
	return nil
}

// discard is an io.Writer that drops everything.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
