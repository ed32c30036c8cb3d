package track

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// startFiles applies init_file, reads every track file once and starts the
// poller.
//
// Track files are polled every Options.FilePoll rather than watched with
// inotify: a read of a small file is cheap, polling survives the file's
// directory being replaced, and it needs nothing Linux-specific. The cost
// is up to one period of delay (keepalived reacts at once).
func (m *Monitor) startFiles(ctx context.Context) {
	for _, f := range m.files {
		if f.InitFile && !m.opts.Reload {
			if err := initFile(f); err != nil {
				m.log.Error("track_file init_file failed", "track_file", f.Name, "file", f.File, "err", err)
			}
		}
		v, detail, err := readTrackFile(f.File)
		if err != nil {
			m.log.Warn("track_file holds an invalid number; using 0", "track_file", f.Name, "file", f.File, "err", err)
		}
		m.initState(Key{KindFile, f.Name}, State{Status: StatusOK, Value: v, Detail: detail})
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(m.opts.FilePoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, f := range m.files {
				m.pollFile(f)
			}
		}
	}()
}

func (m *Monitor) pollFile(f *config.TrackFile) {
	key := Key{KindFile, f.Name}
	v, detail, err := readTrackFile(f.File)
	if err != nil {
		// keepalived ignores an out-of-range number and keeps the last
		// value; log it once per distinct problem.
		if m.State(key).Detail != err.Error() {
			m.log.Warn("track_file holds an invalid number; keeping the last value", "track_file", f.Name, "file", f.File, "err", err)
			m.mu.Lock()
			st := m.states[key]
			st.Detail = err.Error()
			m.states[key] = st
			m.mu.Unlock()
		}
		return
	}
	if m.set(key, State{Status: StatusOK, Value: v, Detail: detail}) {
		m.log.Info("track_file value changed", "track_file", f.Name, "file", f.File, "value", v)
	}
}

// initFile writes init_file's value when the file is missing, or always
// with overwrite (a regular file only).
func initFile(f *config.TrackFile) error {
	fi, err := os.Stat(f.File)
	switch {
	case err == nil && !f.Overwrite:
		return nil
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", f.File)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return os.WriteFile(f.File, []byte(strconv.Itoa(f.InitValue)+"\n"), 0o644)
}

// readTrackFile reads the number in a track file the way keepalived does:
// strtol(base 0) of the first 127 bytes, so leading blanks, a sign, 0x
// (hex) and a leading 0 (octal) are understood and anything after the
// number is ignored. A missing or empty file, or one without a number, is 0.
// A number outside -2^31..2^31 is an error (keepalived ignores it).
func readTrackFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, "missing", nil
		}
		return 0, err.Error(), nil
	}
	defer f.Close()
	buf := make([]byte, 127)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err.Error(), nil
	}
	v, ok := strtol(string(buf[:n]))
	if !ok || v < math.MinInt32 || v > math.MaxInt32+1 {
		return 0, "", fmt.Errorf("%s: number out of range", path)
	}
	return v, "", nil
}

// strtol parses like C's strtol(s, NULL, 0); ok is false on overflow.
func strtol(s string) (int64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digit(s[i+2], 16) >= 0:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	var v uint64
	for ; i < len(s); i++ {
		d := digit(s[i], base)
		if d < 0 {
			break
		}
		v = v*uint64(base) + uint64(d)
		if v > 1<<62 {
			return 0, false
		}
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

func digit(c byte, base int) int {
	d := -1
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'z':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		d = int(c-'A') + 10
	}
	if d >= base {
		return -1
	}
	return d
}
