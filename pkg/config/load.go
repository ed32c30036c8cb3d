package config

import (
	"context"
	"fmt"
	"sort"
)

// Defaults of LoadOptions' budget: generous for real configurations (a
// few dozen files, a few megabytes), small enough that an include loop or
// a hostile include tree is refused in milliseconds.
const (
	DefaultMaxFiles = 1000
	DefaultMaxBytes = 64 << 20
)

// LoadOptions tune how a configuration is read.
type LoadOptions struct {
	// ConfigID is keepalived's -i/--config-id: lines starting "@ID " are
	// kept only when ID matches, "@^ID " only when it does not. Empty
	// means no id, so "@ID" lines are dropped and "@^ID" lines kept.
	ConfigID string
	// ReadFile and Glob replace os.ReadFile and filepath.Glob for
	// included files (tests use them); nil means the real file system.
	ReadFile func(name string) ([]byte, error)
	Glob     func(pattern string) ([]string, error)
	// Context, when set, stops a load that it cancels: it is checked
	// between files and every few hundred lines, and Load then returns
	// its error. Nil means context.Background().
	Context context.Context
	// MaxFiles bounds the files read by one load, the main file
	// included and a file included twice counted twice (default
	// DefaultMaxFiles); MaxBytes bounds their total size (default
	// DefaultMaxBytes). Going over either is an error diagnostic at the
	// include that would go over, and nothing more is read.
	MaxFiles int
	MaxBytes int64
}

func (o LoadOptions) maxFiles() int {
	if o.MaxFiles > 0 {
		return o.MaxFiles
	}
	return DefaultMaxFiles
}

func (o LoadOptions) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Load reads the configuration file at path and everything it includes.
// The error is non-nil only when path itself cannot be read (it is not a
// regular file, or is larger than the budget) or when opts.Context ended
// the load; every problem inside the configuration is a Diagnostic. The
// Config is returned even when the diagnostics hold errors, for tools that
// want to show it.
func Load(path string, opts LoadOptions) (*Config, Diagnostics, error) {
	sink := &diagSink{}
	r := newReader(opts, sink)
	if err := r.alive(); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	src, err := r.readFile(path)
	if err != nil {
		return nil, nil, err
	}
	cfg, diags := r.parse(path, src)
	if r.canceled != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, r.canceled)
	}
	return cfg, diags, nil
}

// Parse reads a configuration from src, named name in diagnostics.
// Relative includes are resolved against name's directory.
// src counts against opts' budget as one file. A load that opts.Context
// cancels returns what was built so far, with an error diagnostic saying
// so.
func Parse(name string, src []byte, opts LoadOptions) (*Config, Diagnostics) {
	r := newReader(opts, &diagSink{})
	r.reads, r.bytes = 1, int64(len(src))
	cfg, diags := r.parse(name, src)
	if r.canceled != nil {
		diags = append(diags, Diagnostic{Pos: Pos{File: name}, Severity: SeverityError, Message: "reading stopped: " + r.canceled.Error()})
	}
	return cfg, diags
}

// parse lexes src and what it includes, then builds the model. A load
// stopped early (budget, cancellation) builds nothing, so that a half-read
// file does not add a cascade of errors to the one that matters.
func (r *reader) parse(name string, src []byte) (*Config, Diagnostics) {
	r.lex(name, src)
	b := newBuilder(r.diag)
	if !r.stopped() {
		top := parseTree(&r.tokens, r.diag, r.alive)
		if r.alive() == nil {
			b.build(top, r.alive)
			b.resolve()
			b.warnKeywords(top)
		}
	}
	b.cfg.Files = r.files
	return b.cfg, orderDiagnostics(r.diag.list, r.files)
}

// ParseTree reads src into the generic block tree without building the
// model, with the lexical and structural diagnostics.
func ParseTree(name string, src []byte, opts LoadOptions) ([]*Statement, Diagnostics) {
	sink := &diagSink{}
	r := newReader(opts, sink)
	r.reads, r.bytes = 1, int64(len(src))
	r.lex(name, src)
	if r.stopped() {
		return nil, orderDiagnostics(sink.list, r.files)
	}
	top := parseTree(&r.tokens, sink, r.alive)
	return top, orderDiagnostics(sink.list, r.files)
}

// SortByFiles orders diagnostics by the position of their file in files
// (Config.Files: the order files were read), then by line and column, and
// drops exact duplicates. Use it after appending the result of Check to the
// result of Load.
func (ds Diagnostics) SortByFiles(files []string) Diagnostics {
	return orderDiagnostics(ds, files)
}

// orderDiagnostics sorts by the order files were read, then line and
// column, and drops exact duplicates.
func orderDiagnostics(ds Diagnostics, files []string) Diagnostics {
	rank := map[string]int{}
	for i, f := range files {
		if _, ok := rank[f]; !ok {
			rank[f] = i + 1
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if ra, rb := rank[a.File], rank[b.File]; ra != rb {
			return ra < rb
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 && d == ds[i-1] {
			continue
		}
		out = append(out, d)
	}
	return out
}
