package config

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a configuration file. Line and Col count from 1; Col
// counts bytes. The zero Pos means "no position" (for example a problem with
// the file as a whole).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// IsValid reports whether p names a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats p as file:line:col, or the parts of it that are known.
func (p Pos) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Severity tells the three classes of findings apart, by what keepalived
// 2.2.7 does with them.
type Severity int

const (
	// SeverityError: neither keepalived's daemon nor hactl's runs this
	// configuration (keepalived exits, or hactl cannot do what it says).
	SeverityError Severity = iota
	// SeverityWarning: keepalived at most notes it (keepalived -t
	// passes); hactl runs the configuration as keepalived does. `hactl
	// config check` exits 0 unless --strict.
	SeverityWarning
	// SeverityCorrected: keepalived reports a configuration error and
	// runs anyway with its own correction (a default kept, a keyword or
	// reference dropped, BACKUP for an unknown state). hactl's daemon
	// applies the same correction and starts, unless --strict; `hactl
	// config check` exits 1, since what runs is not what the file says.
	SeverityCorrected
)

// String returns "error", "warning" or "corrected".
func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityCorrected:
		return "corrected"
	}
	return "error"
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one problem found in a configuration.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// HostDependent marks findings that depend on the host the check runs
	// on (an interface or a script that is missing, a script others can
	// write). `hactl config check --strict` turns them into errors.
	HostDependent bool `json:"host_dependent,omitempty"`
}

// String returns "file:line:col: message" for errors,
// "file:line:col: warning: message" for warnings and
// "file:line:col: corrected: message" for what keepalived corrects.
func (d Diagnostic) String() string {
	switch d.Severity {
	case SeverityWarning:
		return d.Pos.String() + ": warning: " + d.Message
	case SeverityCorrected:
		return d.Pos.String() + ": corrected: " + d.Message
	}
	return d.Pos.String() + ": " + d.Message
}

// Diagnostics is a list of problems, in the order Sort leaves them: by file
// order of appearance, line and column.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error: a configuration
// that neither keepalived nor hactl runs.
func (ds Diagnostics) HasErrors() bool { return ds.has(SeverityError) }

// HasCorrected reports whether keepalived would correct something: the
// daemon runs such a configuration (unless --strict), config check fails
// it.
func (ds Diagnostics) HasCorrected() bool { return ds.has(SeverityCorrected) }

func (ds Diagnostics) has(s Severity) bool {
	for _, d := range ds {
		if d.Severity == s {
			return true
		}
	}
	return false
}

// Errors returns the diagnostics that are errors.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(SeverityError) }

// Warnings returns the diagnostics that are warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(SeverityWarning) }

// Corrected returns the diagnostics keepalived corrects.
func (ds Diagnostics) Corrected() Diagnostics { return ds.filter(SeverityCorrected) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Strict returns a copy of ds in which host-dependent warnings are errors.
func (ds Diagnostics) Strict() Diagnostics {
	out := make(Diagnostics, len(ds))
	for i, d := range ds {
		if d.HostDependent {
			d.Severity = SeverityError
		}
		out[i] = d
	}
	return out
}

// AllStrict returns a copy of ds in which every warning and every
// correction is an error (config check --strict).
func (ds Diagnostics) AllStrict() Diagnostics {
	out := make(Diagnostics, len(ds))
	for i, d := range ds {
		d.Severity = SeverityError
		out[i] = d
	}
	return out
}

// String joins the diagnostics, one a line.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Sort orders the diagnostics by file name, line and column; diagnostics
// without a file come first and equal positions keep their order. Load and
// Parse return diagnostics ordered by the order in which files were read
// instead, which this does not change unless called.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// diagSink collects diagnostics.
type diagSink struct {
	list Diagnostics
}

func (s *diagSink) errorf(p Pos, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: p, Severity: SeverityError, Message: fmt.Sprintf(format, args...)})
}

func (s *diagSink) warnf(p Pos, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: p, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...)})
}

// correctf records what keepalived reports and corrects; the message says
// what keepalived does and that hactl does the same.
func (s *diagSink) correctf(p Pos, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: p, Severity: SeverityCorrected, Message: fmt.Sprintf(format, args...)})
}

func (s *diagSink) hostWarnf(p Pos, format string, args ...any) {
	s.list = append(s.list, Diagnostic{Pos: p, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...), HostDependent: true})
}
