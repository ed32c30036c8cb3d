package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary text to the whole pipeline: it must neither
// panic nor hang, every diagnostic must carry a position in the file, and
// the model must encode as JSON. Includes are confined to an empty fake
// file system so that fuzzing reads nothing from the host.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.conf"))
	more, _ := filepath.Glob(filepath.Join("testdata", "include", "*", "*"))
	corpus, _ := filepath.Glob(filepath.Join(corpusDir, "*keepalived*"))
	for _, p := range append(append(seeds, more...), corpus...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, c := range agreementCases {
		f.Add([]byte(c.conf))
	}
	f.Add([]byte("$A=x \\\n$A\n@a b\n\"unterminated\n{{}}}\ninclude {a,b}\n"))
	opts := LoadOptions{
		ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
		Glob:     func(string) ([]string, error) { return nil, nil },
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		done := make(chan struct{})
		var (
			cfg   *Config
			diags Diagnostics
		)
		go func() {
			defer close(done)
			cfg, diags = Parse("fuzz.conf", src, opts)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse did not finish in 10s")
		}
		for _, d := range diags {
			if d.Pos.File != "fuzz.conf" || d.Pos.Line < 1 {
				t.Errorf("diagnostic without a position: %v", d)
			}
		}
		if _, err := json.Marshal(cfg); err != nil {
			t.Errorf("model does not encode: %v", err)
		}
	})
}

// TestPathologicalInputs bounds the time of inputs that once were, or could
// be, slow: brace alternatives in includes, self-multiplying definitions,
// deep nesting, very long lines.
func TestPathologicalInputs(t *testing.T) {
	for name, src := range map[string]string{
		"braces":   "include " + strings.Repeat("{a,b}", 24) + "\n",
		"defs":     "$A=$A$A$A$A\n" + strings.Repeat("x $A $A $A\n", 50),
		"nesting":  strings.Repeat("a {\n", 5000),
		"longline": strings.Repeat("a ", 100000) + "\n",
		"manyvips": "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n" + strings.Repeat(" 10.0.0.1\n", 20000) + "}\n}\n",
	} {
		start := time.Now()
		Parse("p.conf", []byte(src), LoadOptions{Glob: func(string) ([]string, error) { return nil, nil }})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", name, d)
		}
	}
}
