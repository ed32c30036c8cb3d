package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
)

// maxIncludeDepth bounds nested includes.
const maxIncludeDepth = 32

// maxBraceExpansions bounds the patterns one include's {a,b} alternatives
// may expand to.
const maxBraceExpansions = 1024

// maxGlobs bounds the patterns globbed by one load: a file of a million
// include lines that match nothing would otherwise read a directory a
// million times, each with its warning.
const maxGlobs = 10000

// ErrBudget is wrapped by the errors of files refused because the load
// would go over LoadOptions.MaxFiles or MaxBytes.
var ErrBudget = errors.New("configuration budget exceeded")

// ErrNotRegular is wrapped by the errors of configuration files that are
// not regular files (a FIFO, a device, a socket, a directory).
var ErrNotRegular = errors.New("not a regular file")

// reader lexes a main file and everything it includes into one token
// stream.
type reader struct {
	opts   LoadOptions
	diag   *diagSink
	defs   map[string]string
	tokens tokenStream
	stack  []string // files being read, outermost first
	files  []string // every file read, in order
	// expanded counts bytes produced by definition substitution.
	expanded          int
	expansionReported bool

	ctx          context.Context
	reads, globs int   // files read and patterns globbed so far
	bytes        int64 // bytes read so far
	// exhausted is set when the budget refused a file: nothing more is
	// read. canceled is ctx's error once it ended the load.
	exhausted bool
	canceled  error
}

func newReader(opts LoadOptions, diag *diagSink) *reader {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	return &reader{opts: opts, diag: diag, defs: map[string]string{}, ctx: ctx}
}

// stopped reports whether the load ends early: the budget or the context.
func (r *reader) stopped() bool { return r.exhausted || r.canceled != nil }

// alive is the load's checkpoint, called between files and every few
// hundred lines or statements. It yields the processor first: under
// GOMAXPROCS=1 the daemon's event loop then runs within microseconds of
// becoming ready, instead of waiting for the scheduler to preempt a long
// parse (about 10 ms). It returns the context's error once it is done.
func (r *reader) alive() error {
	if r.canceled != nil {
		return r.canceled
	}
	runtime.Gosched()
	if err := r.ctx.Err(); err != nil {
		r.canceled = err
	}
	return r.canceled
}

func (r *reader) emit(t token) { r.tokens.add(t) }

// lex reads one file's text.
func (r *reader) lex(name string, src []byte) {
	r.stack = append(r.stack, name)
	r.files = append(r.files, name)
	newFileLexer(r, name, src).run()
	r.stack = r.stack[:len(r.stack)-1]
	// A file ends a logical line even when it lacks a final newline.
	if n := r.tokens.len(); n > 0 && r.tokens.at(n-1).kind != tokEOL {
		r.emit(token{kind: tokEOL, pos: r.tokens.at(n - 1).pos})
	}
}

// include expands pattern relative to the including file's directory and
// lexes every match in name order. No match is a warning, as keepalived
// carries on without the file.
func (r *reader) include(from, pattern string, at Pos) {
	if len(r.stack) >= maxIncludeDepth {
		r.diag.errorf(at, "include %q: includes nested more than %d deep", pattern, maxIncludeDepth)
		return
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(from), pattern)
	}
	if r.stopped() || r.alive() != nil {
		return
	}
	patterns := expandBraces(pattern, maxBraceExpansions)
	var matches []string
	for _, p := range patterns {
		if r.globs++; r.globs > maxGlobs {
			r.diag.errorf(at, "include %q: refused: one load may expand at most %d include patterns", pattern, maxGlobs)
			r.exhausted = true
			return
		}
		m, err := r.glob(p)
		if err != nil {
			r.diag.errorf(at, "include %q: %v", pattern, err)
			return
		}
		matches = append(matches, m...)
	}
	if len(matches) == 0 {
		r.diag.warnf(at, "include %q: no matching file", pattern)
		return
	}
	for _, m := range matches {
		if slices.Contains(r.stack, m) {
			r.diag.errorf(at, "include %q: %s includes itself", pattern, m)
			continue
		}
		src, err := r.readFile(m)
		if err != nil {
			switch {
			case errors.Is(err, ErrBudget):
				r.diag.errorf(at, "include %q: refused: %v", pattern, err)
				r.exhausted = true
				return
			case errors.Is(err, fs.ErrNotExist):
				r.diag.warnf(at, "include %q: %s does not exist", pattern, m)
			default:
				r.diag.errorf(at, "include %q: %v", pattern, err)
			}
			continue
		}
		r.lex(m, src)
		if r.stopped() {
			return
		}
	}
}

// readFile reads one configuration file within the load's budget. Only a
// regular file is read (a symbolic link to one is followed, as keepalived
// does): the file is opened without blocking and the opened descriptor is
// checked, so a FIFO, a device such as /dev/zero, a socket or a directory
// is refused at once, and cannot be swapped in between a check and the
// read.
func (r *reader) readFile(name string) ([]byte, error) {
	if r.reads >= r.opts.maxFiles() {
		return nil, fmt.Errorf("%s: %w: reading it would make more than %d file reads in one load (a file included twice counts twice)", name, ErrBudget, r.opts.maxFiles())
	}
	left := r.opts.maxBytes() - r.bytes
	var src []byte
	if r.opts.ReadFile != nil {
		b, err := r.opts.ReadFile(name)
		if err != nil {
			return nil, err
		}
		src = b
	} else {
		f, err := openRegular(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if st.Size() > left {
			return nil, r.overBytes(name, st.Size())
		}
		// The size may change under us: read at most one byte past the
		// budget to know.
		if src, err = io.ReadAll(io.LimitReader(f, left+1)); err != nil {
			return nil, err
		}
	}
	if int64(len(src)) > left {
		return nil, r.overBytes(name, int64(len(src)))
	}
	r.reads++
	r.bytes += int64(len(src))
	return src, nil
}

func (r *reader) overBytes(name string, size int64) error {
	return fmt.Errorf("%s: %w: its %d bytes would make more than %s of configuration in one load (%d bytes read before it)",
		name, ErrBudget, size, byteSize(r.opts.maxBytes()), r.bytes)
}

// byteSize formats n for a diagnostic: "64 MiB", "2.5 KiB", "12 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// openRegular opens name for reading if it is a regular file.
func openRegular(name string) (*os.File, error) {
	f, err := openNonBlocking(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileKind(st.Mode()))}
	}
	return f, nil
}

// fileKind names a file type for a refusal.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.String()
}

func (r *reader) glob(pattern string) ([]string, error) {
	if r.opts.Glob != nil {
		return r.opts.Glob(pattern)
	}
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	// Directories cannot be configuration files; keepalived skips them too.
	out := m[:0]
	for _, f := range m {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// expandBraces expands csh-style alternatives: "a{b,c}d" gives "abd" and
// "acd". Unbalanced braces and single alternatives are kept literally. At
// most limit patterns are produced, which also bounds the work.
func expandBraces(s string, limit int) []string {
	var out []string
	var rec func(s string)
	rec = func(s string) {
		if len(out) >= limit {
			return
		}
		open, depth := -1, 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '{':
				if depth == 0 {
					open = i
				}
				depth++
			case '}':
				if depth == 0 {
					continue
				}
				depth--
				if depth > 0 {
					continue
				}
				alts := splitTopLevel(s[open+1 : i])
				if len(alts) < 2 {
					continue
				}
				for _, a := range alts {
					rec(s[:open] + a + s[i+1:])
					if len(out) >= limit {
						return
					}
				}
				return
			}
		}
		out = append(out, s)
	}
	rec(s)
	return out
}

// splitTopLevel splits s at commas that are not inside braces.
func splitTopLevel(s string) []string {
	var out []string
	depth, last := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[last:i])
				last = i + 1
			}
		}
	}
	return append(out, s[last:])
}
