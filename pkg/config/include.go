package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// maxIncludeDepth bounds nested includes.
const maxIncludeDepth = 32

// maxBraceExpansions bounds the patterns one include's {a,b} alternatives
// may expand to.
const maxBraceExpansions = 1024

// reader lexes a main file and everything it includes into one token
// stream.
type reader struct {
	opts   LoadOptions
	diag   *diagSink
	defs   map[string]string
	tokens []token
	stack  []string // files being read, outermost first
	files  []string // every file read, in order
	// expanded counts bytes produced by definition substitution.
	expanded          int
	expansionReported bool
}

func newReader(opts LoadOptions, diag *diagSink) *reader {
	return &reader{opts: opts, diag: diag, defs: map[string]string{}}
}

func (r *reader) emit(t token) { r.tokens = append(r.tokens, t) }

// lex reads one file's text.
func (r *reader) lex(name string, src []byte) {
	r.stack = append(r.stack, name)
	r.files = append(r.files, name)
	newFileLexer(r, name, src).run()
	r.stack = r.stack[:len(r.stack)-1]
	// A file ends a logical line even when it lacks a final newline.
	if n := len(r.tokens); n > 0 && r.tokens[n-1].kind != tokEOL {
		r.emit(token{kind: tokEOL, pos: r.tokens[n-1].pos})
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
	patterns := expandBraces(pattern, maxBraceExpansions)
	var matches []string
	for _, p := range patterns {
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
			if errors.Is(err, fs.ErrNotExist) {
				r.diag.warnf(at, "include %q: %s does not exist", pattern, m)
			} else {
				r.diag.errorf(at, "include %q: %v", pattern, err)
			}
			continue
		}
		r.lex(m, src)
	}
}

func (r *reader) readFile(name string) ([]byte, error) {
	if r.opts.ReadFile != nil {
		return r.opts.ReadFile(name)
	}
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return os.ReadFile(name)
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
