package layering

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// doc is the map whose layer table this test enforces.
const doc = "../../docs/architecture.md"

// The sections of doc read here sit between these markers (HTML comments,
// invisible when the markdown is rendered).
const (
	layersBegin     = "<!-- layering:layers -->"
	exceptionsBegin = "<!-- layering:exceptions -->"
	sectionEnd      = "<!-- /layering -->"
)

// harness is the lab every end-to-end test builds its namespaces with: a
// test of any layer may import it (tests only; the code may not).
var harness = []string{"pkg/netlab", "pkg/netlab/etcdlab", "pkg/netlab/flood", "pkg/netlab/labtest", "pkg/netlab/probe"}

// leaves must import nothing of the project (issue 15): the protocol core
// and the config model stay usable, and testable, on their own.
var leaves = []string{"pkg/vrrp", "pkg/config"}

// edge is one import: from imports to, both relative to the module.
type edge struct{ from, to string }

// table is what doc says: each package's layer, and the imports allowed
// against the rule, each with its reason.
type table struct {
	layer      map[string]int
	exceptions map[edge]string
}

var (
	layerRow     = regexp.MustCompile("^\\|\\s*([1-9])\\s*\\|\\s*`([^`]+)`\\s*\\|")
	exceptionRow = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|\\s*`([^`]+)`\\s*\\|([^|]*)\\|")
)

// readTable parses doc's layer table and exception table.
func readTable(r io.Reader) (table, error) {
	t := table{layer: map[string]int{}, exceptions: map[edge]string{}}
	section := ""
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch line {
		case layersBegin, exceptionsBegin:
			section = line
			continue
		case sectionEnd:
			section = ""
			continue
		}
		switch section {
		case layersBegin:
			m := layerRow.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if _, dup := t.layer[m[2]]; dup {
				return t, fmt.Errorf("line %d: %s is listed twice", n, m[2])
			}
			t.layer[m[2]], _ = strconv.Atoi(m[1])
		case exceptionsBegin:
			m := exceptionRow.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if strings.TrimSpace(m[3]) == "" {
				return t, fmt.Errorf("line %d: the exception %s -> %s gives no reason", n, m[1], m[2])
			}
			t.exceptions[edge{m[1], m[2]}] = strings.TrimSpace(m[3])
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	if len(t.layer) == 0 {
		return t, errors.New("no layer table found (rows `| N | `path` | ... |` between " + layersBegin + " and " + sectionEnd + ")")
	}
	return t, nil
}

// family is the unit within which a layer's packages may import each
// other: the first directory, or the first two under cmd/, pkg/ and
// internal/ (daemon/statefile and daemon/runfile are one family,
// pkg/cluster and pkg/netlab are two).
func family(p string) string {
	parts := strings.Split(p, "/")
	switch {
	case len(parts) >= 2 && (parts[0] == "pkg" || parts[0] == "cmd" || parts[0] == "internal"):
		return parts[0] + "/" + parts[1]
	default:
		return parts[0]
	}
}

// allowed is the rule of doc: a package imports packages of lower
// layers, and of its own layer only within its family. Layer 1 imports
// nothing of the project.
func (t table) allowed(e edge) error {
	lf, lt := t.layer[e.from], t.layer[e.to]
	switch {
	case lf == 1:
		return fmt.Errorf("layer 1 imports nothing of the project")
	case lt > lf:
		return fmt.Errorf("layer %d imports layer %d above it", lf, lt)
	case lt == lf && family(e.from) != family(e.to):
		return fmt.Errorf("layer %d imports another family of its own layer", lf)
	}
	return nil
}

// pkg is what `go list -json` says of one package, paths made relative to
// the module.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// goList lists the module's packages for goos, with the imports of each
// restricted to the module's own.
func goList(t *testing.T, module, goos string) []pkg {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-json=ImportPath,Imports,TestImports,XTestImports,Error", "./...")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS="+goos)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("GOOS=%s go list: %v\n%s", goos, err, stderr.String())
	}
	var pkgs []pkg
	own := func(paths []string) []string {
		var o []string
		for _, p := range paths {
			if rel, ok := strings.CutPrefix(p, module+"/"); ok {
				o = append(o, rel)
			}
		}
		return o
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("GOOS=%s go list: %v", goos, err)
		}
		if p.Error != nil {
			t.Fatalf("GOOS=%s go list %s: %s", goos, p.ImportPath, p.Error.Err)
		}
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		p.ImportPath, p.Imports, p.TestImports, p.XTestImports = rel, own(p.Imports), own(p.TestImports), own(p.XTestImports)
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// modulePath reads the module line of go.mod.
func modulePath(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	t.Fatal("go.mod: no module line")
	return ""
}

// TestLayers checks every import of every package, its tests included,
// for linux and for darwin (the _other.go files have their own imports),
// against the layer table of docs/architecture.md.
func TestLayers(t *testing.T) {
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := readTable(f)
	if err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	module := modulePath(t)
	used := map[edge]bool{}
	listed := map[string]bool{}
	// found collects each finding once, with the GOOS values it holds for.
	found := map[string][]string{}
	var goos string
	errorf := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		found[msg] = append(found[msg], goos)
	}
	for _, goos = range []string{"linux", "darwin"} {
		for _, p := range goList(t, module, goos) {
			listed[p.ImportPath] = true
			if _, ok := tab.layer[p.ImportPath]; !ok {
				errorf("%s is in no layer: add a row `| N | `%s` | one line |` to the layer table of docs/architecture.md", p.ImportPath, p.ImportPath)
				continue
			}
			check := func(imports []string, test bool) {
				for _, to := range imports {
					e := edge{p.ImportPath, to}
					switch {
					case to == p.ImportPath: // an external test of its own package
						continue
					case tab.layer[to] == 0:
						continue // reported as a package in no layer
					case test && slices.Contains(harness, to):
						continue
					}
					err := tab.allowed(e)
					if err == nil {
						continue
					}
					if _, ok := tab.exceptions[e]; ok {
						used[e] = true
						continue
					}
					what := "imports"
					if test {
						what = "tests import"
					}
					errorf("%s (layer %d) %s %s (layer %d): %v; move the type rather than add the arrow, or document an exception in docs/architecture.md",
						e.from, tab.layer[e.from], what, e.to, tab.layer[e.to], err)
				}
			}
			check(p.Imports, false)
			check(p.TestImports, true)
			check(p.XTestImports, true)

			if slices.Contains(leaves, p.ImportPath) && len(p.Imports) > 0 {
				errorf("%s must import nothing of the project, imports %v", p.ImportPath, p.Imports)
			}
			if p.ImportPath != "pkg/cli" && !strings.HasPrefix(p.ImportPath, "cmd/") {
				for _, imports := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
					if slices.Contains(imports, "pkg/cli") {
						errorf("%s imports pkg/cli; only cmd/... may", p.ImportPath)
					}
				}
			}
		}
	}
	for _, msg := range slices.Sorted(maps.Keys(found)) {
		t.Errorf("GOOS=%s: %s", strings.Join(found[msg], ","), msg)
	}
	for p := range tab.layer {
		if !listed[p] {
			t.Errorf("docs/architecture.md lists %s, which is no package of the module: remove or rename its row", p)
		}
	}
	for e, why := range tab.exceptions {
		if !used[e] {
			t.Errorf("docs/architecture.md excepts %s -> %s (%s), which the rule allows or no code does: remove the exception", e.from, e.to, why)
		}
	}
}

// TestRule checks the rule itself on a small table.
func TestRule(t *testing.T) {
	const md = "intro\n" + layersBegin + `
| layer | package | what |
|---|---|---|
| 1 | ` + "`pkg/vrrp`" + ` | core |
| 1 | ` + "`pkg/api`" + ` | types |
| 2 | ` + "`daemon/vip`" + ` | VIPs |
| 2 | ` + "`daemon/runfile`" + ` | files |
| 2 | ` + "`pkg/watch`" + ` | analysis |
| 3 | ` + "`daemon`" + ` | runtime |
| 3 | ` + "`pkg/cluster`" + ` | operator logic |
` + sectionEnd + `
| 9 | ` + "`outside/the/markers`" + ` | ignored |
` + exceptionsBegin + `
| from | to | why |
|---|---|---|
| ` + "`pkg/cluster`" + ` | ` + "`daemon`" + ` | a reason |
` + sectionEnd + "\n"
	tab, err := readTable(strings.NewReader(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.layer) != 7 || tab.layer["outside/the/markers"] != 0 || tab.exceptions[edge{"pkg/cluster", "daemon"}] != "a reason" {
		t.Fatalf("parsed %v %v", tab.layer, tab.exceptions)
	}
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"daemon", "daemon/vip", true},           // down, own family
		{"daemon", "pkg/watch", true},            // down, another family
		{"daemon/vip", "daemon/runfile", true},   // same layer, same family
		{"pkg/watch", "daemon/vip", false},       // same layer, another family
		{"daemon/vip", "daemon", false},          // up, own family
		{"pkg/vrrp", "pkg/api", false},           // layer 1 imports nothing of ours
		{"pkg/cluster", "daemon", false},         // same layer, another family
		{"daemon/runfile", "pkg/cluster", false}, // up
		{"pkg/cluster", "pkg/api", true},         // down
	} {
		err := tab.allowed(edge{tc.from, tc.to})
		if (err == nil) != tc.ok {
			t.Errorf("%s -> %s: %v, want allowed %v", tc.from, tc.to, err, tc.ok)
		}
	}
	for p, want := range map[string]string{"daemon/statefile": "daemon", "daemon": "daemon", "pkg/netlab/probe": "pkg/netlab", "cmd/hactl": "cmd/hactl", "internal/layering": "internal/layering"} {
		if got := family(p); got != want {
			t.Errorf("family(%s) = %s, want %s", p, got, want)
		}
	}
	if _, err := readTable(strings.NewReader(exceptionsBegin + "\n| `a` | `b` |  |\n" + sectionEnd)); err == nil {
		t.Error("an exception without a reason was accepted")
	}
}

var (
	// fileRef is a backquoted path of the repository that names a Go
	// file, with an optional function: `daemon/runtime.go:receive`.
	fileRef = regexp.MustCompile("`((?:cmd|daemon|internal|pkg|packaging)/[A-Za-z0-9_./-]+\\.go)(?::([A-Za-z_][A-Za-z0-9_]*))?`")
)

// TestDocReferences checks that every Go file docs/architecture.md names
// exists and defines the function named with it, so that a move shows up
// as a failing test naming the stale reference.
func TestDocReferences(t *testing.T) {
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	refs := fileRef.FindAllStringSubmatch(string(b), -1)
	if len(refs) < 20 {
		t.Fatalf("%s: only %d file references found; is the notation `file.go:function` still used?", doc, len(refs))
	}
	for _, m := range refs {
		file, fn := m[1], m[2]
		src, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Errorf("%s names %s, which does not exist: correct the reference", doc, file)
			continue
		}
		if fn == "" {
			continue
		}
		def := regexp.MustCompile(`(?m)^func (\([^)]*\) )?` + regexp.QuoteMeta(fn) + `[\[(]`)
		if !def.Match(src) {
			t.Errorf("%s names %s:%s, but %s defines no function or method %s: correct the reference", doc, file, fn, file, fn)
		}
	}
}
