package config

import (
	"os"
	"sort"
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
}

// Load reads the configuration file at path and everything it includes.
// The error is non-nil only when path itself cannot be read; every problem
// inside the configuration is a Diagnostic. The Config is returned even
// when the diagnostics hold errors, for tools that want to show it.
func Load(path string, opts LoadOptions) (*Config, Diagnostics, error) {
	var (
		src []byte
		err error
	)
	if opts.ReadFile != nil {
		src, err = opts.ReadFile(path)
	} else {
		src, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, diags := Parse(path, src, opts)
	return cfg, diags, nil
}

// Parse reads a configuration from src, named name in diagnostics.
// Relative includes are resolved against name's directory.
func Parse(name string, src []byte, opts LoadOptions) (*Config, Diagnostics) {
	sink := &diagSink{}
	r := newReader(opts, sink)
	r.lex(name, src)
	top := parseTree(r.tokens, sink)
	b := newBuilder(sink)
	b.build(top)
	b.resolve()
	b.cfg.Files = r.files
	return b.cfg, orderDiagnostics(sink.list, r.files)
}

// ParseTree reads src into the generic block tree without building the
// model, with the lexical and structural diagnostics.
func ParseTree(name string, src []byte, opts LoadOptions) ([]*Statement, Diagnostics) {
	sink := &diagSink{}
	r := newReader(opts, sink)
	r.lex(name, src)
	top := parseTree(r.tokens, sink)
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
