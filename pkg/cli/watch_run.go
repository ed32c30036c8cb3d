package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/hactl/hactl/pkg/pcapread"
	"github.com/hactl/hactl/pkg/watch"
)

// redrawEvery bounds how often the terminal table is redrawn.
const redrawEvery = 250 * time.Millisecond

// watcher is one run of `hactl watch`: frames in, NDJSON or a table out.
// Live capture and capture files feed the same observe.
type watcher struct {
	opts  *WatchOptions
	table *watch.Table
	dec   watch.Decoder
	enc   *json.Encoder

	ndjson bool // one JSON object per packet on stdout
	live   bool // the table is redrawn in place (a terminal)
	color  bool

	seen, skipped int
	first, last   time.Time // packet times
	ifaces        []string  // listened on
	listened      time.Duration
	interrupted   bool
	warnings      []string
	dirty         bool
}

func newWatcher(opts *WatchOptions, t *watch.Table) *watcher {
	w := &watcher{opts: opts, table: t, enc: json.NewEncoder(opts.IO.Out)}
	jsonOut := opts.Global != nil && opts.Global.JSON()
	w.ndjson = !opts.Free && (jsonOut || !opts.IO.IsStdoutTTY())
	w.live = !opts.Free && !w.ndjson && opts.File == ""
	w.color = opts.IO.ColorEnabled()
	return w
}

// observe decodes and records one frame; it reports whether --count is
// reached.
func (w *watcher) observe(f watch.Frame) bool {
	p, ok := w.dec.Decode(f)
	if !ok {
		w.skipped++
		return false
	}
	w.table.Observe(&p)
	w.seen++
	if w.first.IsZero() {
		w.first = p.Time
	}
	w.last = p.Time
	if w.ndjson {
		if err := w.enc.Encode(p); err != nil {
			w.warn("writing output: %v", err)
		}
	} else {
		w.dirty = true
	}
	return w.opts.Count > 0 && w.seen >= w.opts.Count
}

func (w *watcher) warn(format string, args ...any) {
	w.warnings = append(w.warnings, fmt.Sprintf(format, args...))
}

// openCapture opens a capture file and reads its header.
func openCapture(path string) (*pcapread.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	cr, err := pcapread.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return cr, f, nil
}

// readFile feeds an opened capture through observe. A capture that ends in
// the middle of a packet (copied while tcpdump was writing) is a warning;
// anything else that stops the reader is an error, after what was read.
func (w *watcher) readFile(path string, cr *pcapread.Reader) error {
	n, err := w.readCapture(cr)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		w.warn("%s: the capture ends in the middle of record %d", path, n+1)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: record %d: %w", path, n+1, err)
	}
	return nil
}

// readCapture reads every record of a capture (up to --duration of capture
// time after the first), observing each frame until --count is reached. It
// returns how many records it read.
func (w *watcher) readCapture(cr *pcapread.Reader) (int, error) {
	var start time.Time
	for n := 0; ; n++ {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if start.IsZero() {
			start = rec.Time
		} else if w.opts.Duration > 0 && rec.Time.Sub(start) > w.opts.Duration {
			return n, nil
		}
		f, ok := frameOf(rec)
		if !ok {
			w.skipped++
			continue
		}
		if w.observe(f) {
			return n + 1, nil
		}
	}
}

// frameOf strips a record's link layer. Frames that are not IP (ARP,
// LLDP...) are skipped; a broken or unknown link layer is kept, so that it
// shows as INVALID rather than vanishing.
func frameOf(rec pcapread.Record) (watch.Frame, bool) {
	f := watch.Frame{Time: rec.Time, Interface: rec.Interface}
	n, err := rec.Network()
	switch {
	case errors.Is(err, pcapread.ErrLinkType):
		f.LinkError = watch.ErrLinkType
		return f, true
	case err != nil:
		f.LinkError = "length"
		return f, true
	case n.IP == nil:
		return f, false
	}
	if f.Interface == "" && n.IfIndex > 0 {
		f.Interface = "if" + strconv.Itoa(n.IfIndex)
	}
	f.SrcMAC, f.Data = n.SrcMAC, n.IP
	return f, true
}

// listen captures on the wire until the context ends (Ctrl-C), the
// duration passes or the count is reached.
func (w *watcher) listen(ctx context.Context) error {
	ifaces, err := watch.Interfaces(w.opts.Interface)
	if err != nil {
		return err
	}
	return w.listenOn(ctx, ifaces)
}

// listenOn captures on ifaces (watch.OpenLive, watch.Listen); see listen.
func (w *watcher) listenOn(ctx context.Context, ifaces []string) error {
	w.ifaces = ifaces
	now := w.opts.Now
	if now == nil {
		now = time.Now
	}
	src, err := watch.OpenLive(ifaces, now)
	if err != nil {
		return err
	}
	defer src.Close()
	duration := w.opts.Duration
	if w.opts.Free && duration == 0 {
		duration = defaultFreeListen
	}
	if w.opts.Free || !w.ndjson {
		what := "listening"
		if duration > 0 {
			what += " for " + duration.String()
		}
		fmt.Fprintf(w.opts.IO.ErrOut, "%s on %s...\n", what, joinComma(ifaces))
	}
	lc := watch.ListenConfig{Source: src, Duration: duration, OnFrame: w.observe}
	if w.opts.Free {
		// --free: every router must have had three chances to speak.
		lc.Extend = func(listened time.Duration) time.Duration {
			need := watch.ThreeIntervals(w.table)
			if listened < need {
				fmt.Fprintf(w.opts.IO.ErrOut, "a router advertises every %v: listening until %v have passed\n",
					w.table.MaxInterval(), need.Round(time.Second))
			}
			return need
		}
	}
	if w.live {
		lc.Tick = redrawEvery
		lc.OnTick = func() {
			if w.dirty {
				w.draw(now())
			}
		}
		w.draw(now())
	}
	res, err := watch.Listen(ctx, lc)
	w.listened, w.interrupted = res.Listened, res.Interrupted
	return err
}
