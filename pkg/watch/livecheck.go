package watch

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// The analysis of `hactl config check --live`: listen on each configured
// interface for a few advert intervals, then compare every configured
// instance with what was heard. pkg/cli turns the config into Configured
// instances and renders the LiveCheck.

// MinLiveCheck is the shortest a live check listens: three intervals of
// keepalived's default advert_int.
const MinLiveCheck = 3 * time.Second

// Configured is one configured VRRP instance, as a live check compares it
// with the wire.
type Configured struct {
	Name      string
	Interface string // "": not checked
	Family    vrrp.Family
	VRID      int
	// Advert is what the instance would advertise (its version, interval,
	// VIPs and VRRPv2 authentication).
	Advert Advert
}

// CheckStatus is the verdict on one configured instance.
type CheckStatus string

// The verdicts.
const (
	// CheckFree: nobody else was heard on the VRID.
	CheckFree CheckStatus = "free"
	// CheckInUse: heard with the same VIPs, version, interval and
	// authentication: this cluster.
	CheckInUse CheckStatus = "in-use"
	// CheckConflict: heard with different VIPs or version.
	CheckConflict CheckStatus = "conflict"
	// CheckMismatch: the same VIPs, but a different interval or
	// authentication.
	CheckMismatch CheckStatus = "mismatch"
	// CheckSkipped: the instance names no interface.
	CheckSkipped CheckStatus = "skipped"
)

// LiveCheck is the result of a live check (the JSON document of `config
// check --live -o json`, docs/json.md).
type LiveCheck struct {
	File       string          `json:"file"`
	Interfaces []string        `json:"interfaces"`
	DurationMS float64         `json:"duration_ms"`
	Valid      bool            `json:"valid"`
	Instances  []InstanceCheck `json:"instances"`
}

// Conflicts counts the instances whose verdict is CheckConflict.
func (c *LiveCheck) Conflicts() int {
	n := 0
	for _, in := range c.Instances {
		if in.Status == CheckConflict {
			n++
		}
	}
	return n
}

// Listened is how long the check listened.
func (c *LiveCheck) Listened() time.Duration {
	return time.Duration(c.DurationMS * float64(time.Millisecond))
}

// InstanceCheck is the verdict on one configured instance.
type InstanceCheck struct {
	Name      string        `json:"name"`
	Interface string        `json:"interface"`
	Family    string        `json:"family"`
	VRID      int           `json:"virtual_router_id"`
	Status    CheckStatus   `json:"status"`
	Sources   []SourceCheck `json:"sources"`
}

// SourceCheck is one source heard on a configured instance's VRID.
type SourceCheck struct {
	Src       string   `json:"src"`
	Node      string   `json:"node,omitempty"`
	Version   int      `json:"version"`
	Priority  int      `json:"priority"`
	Interval  float64  `json:"interval_ms"`
	Addresses []string `json:"addresses"`
	// Differ names how its adverts differ from the instance's (Mismatch's
	// words).
	Differ []string `json:"differ,omitempty"`
}

// LiveCheckConfig is one live check.
type LiveCheckConfig struct {
	// File is the config file checked (for the result).
	File      string
	Instances []Configured
	// Names names the sources heard.
	Names Options
	// Open starts the capture; nil means OpenLive.
	Open func(ifaces []string, now func() time.Time) (LiveSource, error)
	// Progress receives the "listening..." lines; nil discards them.
	Progress io.Writer
}

// CheckLive listens on each configured interface for three intervals of
// the slowest configured instance (at least MinLiveCheck, longer when a
// slower router is heard), then checks every instance against what was
// heard. Valid is false when one conflicts.
func CheckLive(ctx context.Context, c LiveCheckConfig) (LiveCheck, error) {
	var ifaces []string
	listen := MinLiveCheck
	for _, in := range c.Instances {
		if in.Interface != "" && !slices.Contains(ifaces, in.Interface) {
			ifaces = append(ifaces, in.Interface)
		}
		listen = max(listen, 3*in.Advert.Interval)
	}
	res := LiveCheck{File: c.File, Interfaces: ifaces, Valid: true}
	table := NewTable(c.Names)
	if len(ifaces) > 0 {
		listened, err := listenInto(ctx, c, ifaces, listen, table)
		if err != nil {
			return res, err
		}
		res.DurationMS = float64(listened.Milliseconds())
	}
	rows := table.Rows()
	for _, in := range c.Instances {
		ic := CheckInstance(in, rows)
		if ic.Status == CheckConflict {
			res.Valid = false
		}
		res.Instances = append(res.Instances, ic)
	}
	return res, nil
}

// listenInto captures on ifaces for listen (stretched to three intervals
// of the slowest router heard) into table.
func listenInto(ctx context.Context, c LiveCheckConfig, ifaces []string, listen time.Duration, table *Table) (time.Duration, error) {
	open, progress := c.Open, c.Progress
	if open == nil {
		open = OpenLive
	}
	if progress == nil {
		progress = io.Discard
	}
	src, err := open(ifaces, time.Now)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	fmt.Fprintf(progress, "listening for %s on %s...\n", listen, strings.Join(ifaces, ", "))
	var dec Decoder
	res, err := Listen(ctx, ListenConfig{
		Source: src, Duration: listen,
		Extend: func(listened time.Duration) time.Duration {
			need := ThreeIntervals(table)
			if listened < need {
				fmt.Fprintf(progress, "a router advertises every %v: listening until %v have passed\n",
					table.MaxInterval(), need.Round(time.Second))
			}
			return need
		},
		OnFrame: func(f Frame) bool {
			if p, ok := dec.Decode(f); ok {
				table.Observe(&p)
			}
			return false
		},
	})
	return res.Listened, err
}

// CheckInstance compares one configured instance with the rows heard.
func CheckInstance(in Configured, rows []Row) InstanceCheck {
	c := InstanceCheck{Name: in.Name, Interface: in.Interface, Family: FamilyWord(in.Family), VRID: in.VRID,
		Status: CheckFree, Sources: []SourceCheck{}}
	if in.Interface == "" {
		c.Status = CheckSkipped
		return c
	}
	for _, r := range rows {
		if r.Interface != in.Interface || r.Family != in.Family || r.VRID != in.VRID || r.Version == 0 {
			continue
		}
		ad := Advert{Version: vrrp.Version(r.Version), Interval: r.Interval, VIPs: r.Addresses}
		if r.Version == 2 {
			ad.AuthType, ad.AuthData = vrrp.AuthType(r.AuthType), r.AuthData
		}
		m := Compare(in.Advert, ad)
		s := SourceCheck{Src: r.Src.String(), Node: r.Node, Version: r.Version, Priority: r.Priority,
			Interval: float64(r.Interval) / float64(time.Millisecond), Addresses: addrStrings(r.Addresses)}
		if m != 0 {
			s.Differ = strings.Split(m.String(), ", ")
		}
		c.Sources = append(c.Sources, s)
		switch {
		case m&(MismatchVIPs|MismatchVersion) != 0:
			c.Status = CheckConflict
		case m != 0 && c.Status != CheckConflict:
			c.Status = CheckMismatch
		case c.Status == CheckFree:
			c.Status = CheckInUse
		}
	}
	return c
}

// FamilyWord is the address family as ip(8) writes it: "inet", "inet6"; "-"
// for neither.
func FamilyWord(f vrrp.Family) string {
	switch f {
	case vrrp.IPv4:
		return "inet"
	case vrrp.IPv6:
		return "inet6"
	}
	return "-"
}

func addrStrings(l []netip.Addr) []string {
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.String()
	}
	return out
}
