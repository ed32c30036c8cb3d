package cli

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// ANSI sequences for the terminal table.
const (
	ansiHomeClear = "\x1b[H\x1b[2J"
	ansiRed       = "\x1b[31m"
	ansiYellow    = "\x1b[33m"
	ansiMagenta   = "\x1b[35m"
	ansiReset     = "\x1b[0m"
)

// draw redraws the table in place on the terminal.
func (w *watcher) draw(now time.Time) {
	var b bytes.Buffer
	b.WriteString(ansiHomeClear)
	fmt.Fprintf(&b, "hactl watch on %s: %d packets, %s  (Ctrl-C to stop)\n\n", joinComma(w.ifaces), w.seen, now.Format("15:04:05"))
	_ = renderRows(&b, w.table, w.color)
	_, _ = w.opts.IO.Out.Write(b.Bytes())
	w.dirty = false
}

// finish prints the final table (unless NDJSON went to stdout) and the
// summary on stderr.
func (w *watcher) finish() {
	if !w.ndjson {
		if w.live {
			w.draw(time.Now())
		} else {
			_ = renderRows(w.opts.IO.Out, w.table, w.color)
		}
	}
	w.summary(w.opts.IO.ErrOut)
}

// renderRows writes one line per (interface, family, VRID, source).
func renderRows(out io.Writer, t *watch.Table, color bool) error {
	tb := newTable(out, "INTERFACE", "FAMILY", "VRID", "SOURCE", "VERSION", "PRIORITY", "INTERVAL", "VIPS", "AUTH", "PACKETS", "LAST SEEN", "FLAGS")
	for _, r := range t.Rows() {
		vrid, version, prio, interval := "-", "-", "-", "-"
		if r.VRID > 0 || r.Version > 0 {
			vrid, version, prio = strconv.Itoa(r.VRID), "v"+strconv.Itoa(r.Version), strconv.Itoa(r.Priority)
			interval = r.Interval.String()
		}
		if err := tb.Append(dash(r.Interface), watch.FamilyWord(r.Family), vrid, sourceText(r.Src, r.Node), version, prio, interval,
			dash(joinAddrs(r.Addresses)), authWord(r), packetsText(r), r.LastSeen.Local().Format("15:04:05.000"), flagText(r, color)); err != nil {
			return err
		}
	}
	return tb.Render()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sourceText(a netip.Addr, node string) string {
	s := "?"
	if a.IsValid() {
		s = a.String()
	}
	if node != "" {
		s += " (" + node + ")"
	}
	return s
}

func joinAddrs(l []netip.Addr) string {
	s := make([]string, len(l))
	for i, a := range l {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func joinComma(l []string) string { return strings.Join(l, ", ") }

func authWord(r watch.Row) string {
	if r.Version != 2 {
		return "-"
	}
	if r.AH {
		// watch has no key: the AH header is read, its ICV not verified.
		return "AH (ICV unchecked)"
	}
	switch r.AuthType {
	case 0:
		return "none"
	case 1:
		return "PASS"
	case 2:
		return "AH (no AH header)"
	}
	return "type " + strconv.Itoa(r.AuthType)
}

func packetsText(r watch.Row) string {
	s := strconv.Itoa(r.Packets)
	if r.Invalid > 0 {
		s += fmt.Sprintf(" (%d invalid)", r.Invalid)
	}
	return s
}

// flagText renders a row's flags with what they refer to:
// CONFLICT(10.0.0.3) DUAL-MASTER(10.0.0.2) RESIGN INVALID(checksum).
func flagText(r watch.Row, color bool) string {
	var parts []string
	paint := func(c, s string) string {
		if color {
			return c + s + ansiReset
		}
		return s
	}
	if r.Flags&watch.FlagConflict != 0 {
		parts = append(parts, paint(ansiRed, "CONFLICT("+joinAddrs(r.ConflictWith)+")"))
	}
	if r.Flags&watch.FlagDualMaster != 0 {
		parts = append(parts, paint(ansiRed, "DUAL-MASTER("+joinAddrs(r.DualMasterWith)+")"))
	}
	if r.Flags&watch.FlagResign != 0 {
		parts = append(parts, paint(ansiYellow, "RESIGN"))
	}
	if r.Flags&watch.FlagInvalid != 0 {
		parts = append(parts, paint(ansiMagenta, "INVALID("+r.LastError+")"))
	}
	return strings.Join(parts, " ")
}

// summary writes what was seen, and every finding naming both sources.
func (w *watcher) summary(out io.Writer) {
	total, invalid := w.table.Packets()
	rows := w.table.Rows()
	var b strings.Builder
	switch {
	case w.interrupted:
		b.WriteString("interrupted: ")
	case w.opts.File != "":
		fmt.Fprintf(&b, "%s: ", w.opts.File)
	}
	fmt.Fprintf(&b, "%s (%d invalid) from %s", countWord(total, "VRRP packet"), invalid, countWord(countSources(rows), "source"))
	if w.opts.File == "" {
		fmt.Fprintf(&b, " in %v", w.listened.Round(100*time.Millisecond))
	} else if total > 0 {
		fmt.Fprintf(&b, " over %v of capture", w.last.Sub(w.first).Round(time.Millisecond))
	}
	if w.skipped > 0 {
		fmt.Fprintf(&b, "; %s skipped", countWord(w.skipped, "non-VRRP packet"))
	}
	b.WriteString("\n")
	for _, f := range w.table.Findings() {
		b.WriteString(findingText(w.table, f) + "\n")
	}
	byRule := map[string]int{}
	for _, r := range rows {
		if r.Invalid > 0 {
			byRule[r.LastError] += r.Invalid
		}
	}
	if len(byRule) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(byRule)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, byRule[k]))
		}
		fmt.Fprintf(&b, "INVALID packets by rule: %s\n", strings.Join(parts, ", "))
	}
	for _, r := range rows {
		if r.Flags&watch.FlagResign != 0 {
			fmt.Fprintf(&b, "RESIGN %s %s VRID %d: %s sent priority 0 (a master stopping)\n",
				dash(r.Interface), watch.FamilyWord(r.Family), r.VRID, sourceText(r.Src, r.Node))
		}
	}
	for _, s := range w.warnings {
		b.WriteString("warning: " + s + "\n")
	}
	_, _ = io.WriteString(out, b.String())
}

func countSources(rows []watch.Row) int {
	seen := map[netip.Addr]bool{}
	for _, r := range rows {
		seen[r.Src] = true
	}
	return len(seen)
}

// findingText is one summary line: CONFLICT eth0 inet VRID 60: 10.0.0.1
// (node1) [VIPs 10.0.0.100] and 10.0.0.3 [VIPs 10.0.0.200] differ in VIPs.
func findingText(t *watch.Table, f watch.Finding) string {
	rows := map[netip.Addr]watch.Row{}
	for _, r := range t.Rows() {
		if r.Group == f.Group {
			rows[r.Src] = r
		}
	}
	desc := func(a netip.Addr) string {
		r := rows[a]
		return fmt.Sprintf("%s [v%d, %v, VIPs %s]", sourceText(a, r.Node), r.Version, r.Interval, dash(joinAddrs(r.Addresses)))
	}
	head := fmt.Sprintf("%s %s %s VRID %d: ", f.Flag, dash(f.Interface), watch.FamilyWord(f.Family), f.VRID)
	if f.Flag == watch.FlagConflict {
		return head + desc(f.A) + " and " + desc(f.B) + " differ in " + f.Mismatch.String()
	}
	return head + desc(f.A) + " and " + desc(f.B) + " both advertise as master (split brain), seen from " +
		f.First.Local().Format("15:04:05.000") + " to " + f.Last.Local().Format("15:04:05.000")
}

// freeResult is the JSON document of `watch --free -o json`.
type freeResult struct {
	Interfaces []string         `json:"interfaces,omitempty"`
	File       string           `json:"file,omitempty"`
	DurationMS float64          `json:"duration_ms,omitempty"`
	Packets    int              `json:"packets"`
	Families   []freeFamilyJSON `json:"families"`
}

type freeFamilyJSON struct {
	Family string `json:"family"`
	Used   []int  `json:"used"`
	Free   []int  `json:"free"`
}

// printFree prints the free VRIDs per family.
func (w *watcher) printFree() error {
	res := freeResult{Interfaces: w.ifaces, File: w.opts.File, Packets: w.seen}
	if w.opts.File == "" {
		res.DurationMS = float64(w.listened.Milliseconds())
	}
	for _, f := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		res.Families = append(res.Families, freeFamilyJSON{Family: watch.FamilyWord(f), Used: append([]int{}, w.table.Used(f)...), Free: w.table.Free(f)})
	}
	for _, s := range w.warnings {
		fmt.Fprintln(w.opts.IO.ErrOut, "warning: "+s)
	}
	if w.opts.Global != nil && w.opts.Global.JSON() {
		return writeJSON(w.opts.IO, res)
	}
	tb := newTable(w.opts.IO.Out, "FAMILY", "USED", "FREE")
	for _, f := range res.Families {
		if err := tb.Append(f.Family, dash(watch.Ranges(f.Used)), dash(watch.Ranges(f.Free))); err != nil {
			return err
		}
	}
	return tb.Render()
}

// completeInterfaces completes --interface with this host's interfaces.
func completeInterfaces(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	names, _ := watch.Interfaces("")
	return names, cobra.ShellCompDirectiveNoFileComp
}
