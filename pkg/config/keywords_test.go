package config

import (
	"flag"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-keyword-docs", false, "rewrite docs/config.md's keyword status table from Keywords")

func TestKeywordTableWellFormed(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, k := range Keywords {
		key := [2]string{k.Context, k.Name}
		if seen[key] {
			t.Errorf("%s %q is listed twice", k.Context, k.Name)
		}
		seen[key] = true
		silent := k.Status == KeywordImplemented || k.Status == KeywordHactl
		if silent != (k.Diff == "") {
			t.Errorf("%s %q (%s): a difference text goes with every status but implemented and hactl only, and only with them", k.Context, k.Name, k.Status)
		}
		if strings.Contains(k.Diff, "|") {
			t.Errorf("%s %q: '|' in the text breaks the markdown table", k.Context, k.Name)
		}
	}
}

const (
	keywordDocBegin = "<!-- keyword-status: begin (generated from pkg/config/keywords.go by go test ./pkg/config -run TestKeywordDocs -update-keyword-docs) -->\n"
	keywordDocEnd   = "<!-- keyword-status: end -->\n"
)

// TestKeywordDocs checks that docs/config.md's keyword status table is
// Keywords, rendered.
func TestKeywordDocs(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "config.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, keywordDocBegin), strings.Index(doc, keywordDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no keyword status table between the markers %q and %q", path, keywordDocBegin, keywordDocEnd)
	}
	have := doc[i+len(keywordDocBegin) : j]
	want := KeywordMarkdown()
	if have == want {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(doc[:i+len(keywordDocBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's keyword status table is stale: run go test ./pkg/config -run TestKeywordDocs -update-keyword-docs", path)
}

// parserKeywords derives, from the parser's source (build*.go), every
// keyword it knows, by table context: the keys of its handler maps, its
// set(...) tables and the string cases of the functions that read
// blocks and lines by hand. A table or function the mapping below does
// not know fails the test, so that a new keyword table cannot go unseen.
func parserKeywords(t *testing.T) map[[2]string]bool {
	t.Helper()
	// Where each source of keywords belongs; "" means values, not keywords.
	handlerFuncs := map[string]string{
		"globalSpec": CtxGlobal, "instanceSpec": CtxInstance, "vrrpScript": CtxScript,
		"trackFile": CtxTrackFile, "syncGroup": CtxSyncGroup, "trackProcess": CtxTrackProcess, "etcdGuard": CtxEtcdGuard,
		"globalNotifyHandlers": CtxGlobal, "instanceNotifyHandlers": CtxInstance, "syncGroupNotifyHandlers": CtxSyncGroup,
		"globalTimingHandlers": CtxGlobal, "instanceTimingHandlers": CtxInstance,
	}
	setVars := map[string]string{
		"rootIgnored": CtxTop, "globalIgnored": CtxGlobal, "instanceIgnored": CtxInstance,
		"scriptIgnored": CtxScript, "syncGroupIgnored": CtxSyncGroup, "vipFlags": CtxVIP,
		"routeTypes": CtxRoute, "routeValued": CtxRoute, "routeFlags": CtxRoute, "scopeNames": "",
		// Tables about keywords listed elsewhere: which ones open blocks,
		// and hactl's own (checked against the table's "hactl only").
		"sectionKeywords": "", "valueBlocks": "", "hactlKeywords": "",
	}
	caseFuncs := map[string]string{
		"build": CtxTop, "authentication": CtxAuth, "vip": CtxVIP, "route": CtxRoute,
		"weightOpts": CtxTrackOption, "nexthops": CtxNexthop,
		"rule": CtxRule, "static": CtxTop,
		"rttValue": "", "routeDest": "", "encap": "",
	}
	cmpFuncs := map[string]string{"unicastPeer": CtxUnicastPeer, "weightOpts": CtxTrackOption, "rule": CtxRule}
	// Keyword maps other than handler maps: their keys are keywords.
	mapVars := map[string]string{"metricNames": CtxRoute, "rtnTypes": CtxRoute, "ruleTypeActions": CtxRule}
	values := map[string]bool{"": true, "MASTER": true, "BACKUP": true, "AH": true, "PASS": true,
		"+": true, "-": true, "forever": true, "default": true, "all": true, "lock": true}

	files, err := filepath.Glob("build*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no build*.go: %v", err)
	}
	out := map[[2]string]bool{}
	hactlOwn := map[string]bool{}
	add := func(ctx, s string) {
		if ctx != "" && !values[s] {
			out[[2]string{ctx, s}] = true
		}
	}
	unquote := func(e ast.Expr) (string, bool) {
		bl, ok := e.(*ast.BasicLit)
		if !ok || bl.Kind != gotoken.STRING {
			return "", false
		}
		s, err := strconv.Unquote(bl.Value)
		return s, err == nil
	}
	fset := gotoken.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		type unit struct {
			name   string
			isFunc bool
			node   ast.Node
		}
		var units []unit
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				units = append(units, unit{d.Name.Name, true, d})
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					name := ""
					if vs, ok := sp.(*ast.ValueSpec); ok && len(vs.Names) == 1 {
						name = vs.Names[0].Name
					}
					units = append(units, unit{name, false, sp})
				}
			}
		}
		for _, u := range units {
			fn, isFunc := u.name, u.isFunc
			ast.Inspect(u.node, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CompositeLit:
					mt, ok := n.Type.(*ast.MapType)
					if !ok {
						return true
					}
					if ctx, ok := mapVars[fn]; ok && !isFunc {
						for _, e := range n.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								if s, ok := unquote(kv.Key); ok {
									add(ctx, s)
								}
							}
						}
						return true
					}
					vt, _ := mt.Value.(*ast.Ident)
					kt, _ := mt.Key.(*ast.Ident)
					if vt == nil || kt == nil || kt.Name != "string" || vt.Name != "handler" {
						return true
					}
					ctx, known := handlerFuncs[fn]
					if !known {
						t.Errorf("%s: a keyword map in %s, which the keyword test does not know: map it to its context in parserKeywords", fset.Position(n.Pos()), fn)
						return true
					}
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if s, ok := unquote(kv.Key); ok {
								add(ctx, s)
							}
						}
					}
				case *ast.KeyValueExpr:
					// blockSpec{deprecated: map[string]string{OLD: NEW}}.
					id, ok := n.Key.(*ast.Ident)
					lit, isLit := n.Value.(*ast.CompositeLit)
					if !ok || id.Name != "deprecated" || !isLit {
						return true
					}
					ctx, known := handlerFuncs[fn]
					if !known {
						t.Errorf("%s: deprecated keywords in %s, which the keyword test does not know: map it in parserKeywords", fset.Position(n.Pos()), fn)
						return true
					}
					for _, e := range lit.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if s, ok := unquote(kv.Key); ok {
								add(ctx, s)
							}
						}
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); !ok || id.Name != "set" {
						return true
					}
					ctx, known := setVars[fn]
					if !known || isFunc {
						t.Errorf("%s: a keyword set(...) in %s, which the keyword test does not know: map it in parserKeywords", fset.Position(n.Pos()), fn)
						return true
					}
					for _, a := range n.Args {
						if s, ok := unquote(a); ok {
							add(ctx, s)
							if fn == "hactlKeywords" {
								hactlOwn[s] = true
							}
						}
					}
				case *ast.CaseClause:
					ctx, known := caseFuncs[fn]
					for _, e := range n.List {
						ast.Inspect(e, func(m ast.Node) bool {
							if s, ok := unquote(asExpr(m)); ok {
								if !known && !values[s] && fn != "instanceSpec" {
									t.Errorf("%s: case %q in %s, which the keyword test does not know: map it in parserKeywords", fset.Position(m.Pos()), s, fn)
								}
								add(ctx, s)
							}
							return true
						})
					}
				case *ast.BinaryExpr:
					if n.Op != gotoken.EQL && n.Op != gotoken.NEQ {
						return true
					}
					if s, ok := unquote(n.Y); ok {
						add(cmpFuncs[fn], s)
					}
				}
				return true
			})
		}
	}
	// Read outside build*.go: include (include.go).
	out[[2]string{CtxTop, "include"}] = true
	if len(hactlOwn) > 0 {
		for _, k := range Keywords {
			if (k.Status == KeywordHactl) != hactlOwn[k.Name] && (k.Status == KeywordHactl || k.Context == CtxGlobal || k.Context == CtxInstance) {
				t.Errorf("%s %q: the table says %s, the parser's hactlKeywords says %t", k.Context, k.Name, k.Status, hactlOwn[k.Name])
			}
		}
	}
	return out
}

func asExpr(n ast.Node) ast.Expr {
	e, _ := n.(ast.Expr)
	return e
}

// TestKeywordTableMatchesParser checks that Keywords lists exactly the
// keywords the parser knows.
func TestKeywordTableMatchesParser(t *testing.T) {
	parsed := parserKeywords(t)
	table := map[[2]string]bool{}
	for _, k := range Keywords {
		table[[2]string{k.Context, k.Name}] = true
	}
	var missing, extra []string
	for k := range parsed {
		if !table[k] {
			missing = append(missing, k[0]+": "+k[1])
		}
	}
	for k := range table {
		if !parsed[k] {
			extra = append(extra, k[0]+": "+k[1])
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, m := range missing {
		t.Errorf("the parser knows %s, the keyword table (keywords.go) does not", m)
	}
	for _, e := range extra {
		t.Errorf("the keyword table lists %s, which the parser does not know", e)
	}
	if len(parsed) < 250 {
		t.Errorf("only %d keywords derived from the parser: the derivation is broken", len(parsed))
	}
}

// keywordProbe returns a configuration that uses k, for the warning test.
func keywordProbe(k Keyword) string {
	val := ""
	if k.Values > 0 {
		val = " 1"
		switch k.Name {
		case "dev", "oif":
			val = " eth2"
		}
	}
	// Blocks warned about only when a line is tracked get one.
	switch [2]string{k.Context, k.Name} {
	case [2]string{CtxTop, "static_routes"}:
		return "static_routes {\n  192.0.2.0/24 dev eth0\n}\n" + inst("VI_1", basicInst)
	}
	switch k.Context {
	case CtxTop:
		return k.Name + " {\n}\n" + inst("VI_1", basicInst)
	case CtxGlobal:
		return "global_defs {\n  " + k.Name + " 1\n}\n" + inst("VI_1", basicInst)
	case CtxInstance:
		return inst("VI_1", basicInst+"\n  "+k.Name+" 1")
	case CtxSyncGroup:
		return inst("VI_1", basicInst) + inst("VI_2", strings.ReplaceAll(strings.Replace(basicInst, "51", "52", 1), "192.0.2.10", "192.0.2.11")) +
			"vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n  " + k.Name + " 1\n}\n"
	case CtxVIP:
		return inst("VI_1", basicInst+"\n  virtual_ipaddress {\n    192.0.2.20/24 "+k.Name+val+"\n  }")
	case CtxRoute:
		line := "198.51.100.0/24 via 192.0.2.1 " + k.Name + val
		if slices.Contains([]string{"unicast", "blackhole", "unreachable", "prohibit", "throw", "local", "broadcast", "anycast", "multicast", "nat"}, k.Name) {
			line = k.Name + " 198.51.100.0/24"
		}
		return inst("VI_1", basicInst+"\n  virtual_routes {\n    "+line+"\n  }")
	case CtxUnicastPeer:
		return inst("VI_1", basicInst+"\n  unicast_peer {\n    192.0.2.3 "+k.Name+" 1\n  }")
	case CtxNexthop:
		return inst("VI_1", basicInst+"\n  virtual_routes {\n    198.51.100.0/24 nexthop via 192.0.2.1 "+k.Name+val+"\n  }")
	case CtxRule:
		return inst("VI_1", basicInst+"\n  virtual_rules {\n    from 192.0.2.0/24 table 100 priority 100 "+k.Name+val+"\n  }")
	}
	return ""
}

// TestKeywordWarnings checks that every keyword the table marks partial
// or not implemented is warned about, by name and with its difference,
// where a configuration uses it; and that implemented ones are not. A
// keyword marked Corrected gets the same message as a corrected
// diagnostic instead of a warning.
func TestKeywordWarnings(t *testing.T) {
	for _, k := range Keywords {
		conf := keywordProbe(k)
		if conf == "" {
			continue
		}
		_, diags := Parse("k.conf", []byte(conf), LoadOptions{})
		warned := false
		for _, d := range diags {
			sev := SeverityWarning
			if k.Corrected {
				sev = SeverityCorrected
			}
			if d.Severity == sev && strings.Contains(d.Message, k.Name+": "+string(k.Status)+" in hactl: "+k.Diff) {
				warned = true
			}
		}
		want := k.Status == KeywordPartial || k.Status == KeywordNotImplemented
		if warned != want {
			t.Errorf("%s %q (%s): warned %t, want %t\n%s\n%s", k.Context, k.Name, k.Status, warned, want, conf, diags)
		}
	}
}

func TestKeywordWarningsOncePerKeyword(t *testing.T) {
	conf := inst("VI_1", basicInst+`
  promote_secondaries
  virtual_ipaddress {
    192.0.2.20/24 dev eth0 -nodad
    192.0.2.21/24 dev eth2 no_track
    192.0.2.22/24 dev eth2
    192.0.2.23/24 -nodad
  }
  virtual_routes {
    198.51.100.0/24 via 192.0.2.1 dev eth2 no_track
    198.51.101.0/24 via 192.0.2.1 encap ip dst 10.0.0.1 onlink
  }
  strict_mode off
  promote_secondaries`)
	_, diags := Parse("k.conf", []byte(conf), LoadOptions{})
	var got []string
	for _, d := range diags {
		if strings.Contains(d.Message, " in hactl: ") {
			got = append(got, d.Pos.String()+" "+d.Message[:strings.Index(d.Message, " in hactl: ")])
			if strings.Contains(d.Message, "promote_secondaries") && !strings.Contains(d.Message, "2 uses") {
				t.Errorf("promote_secondaries: used twice, not counted so: %s", d.Message)
			}
		}
	}
	want := []string{
		"k.conf:8:3 promote_secondaries: not implemented",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s\nall:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), diags)
	}
}

// TestKeywordNamedOnce checks, on every corpus file, that a keyword is
// named by one message: a not-implemented or partial keyword gets its
// own warning and is left out of the "hactl ignores ..." list (issue 14:
// use_ipvlan, native_ipv6, static_routes... were named by both).
func TestKeywordNamedOnce(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "compat", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	const ignoredPrefix = "hactl ignores what is outside its VRRP subset: "
	for _, f := range files {
		_, diags, err := Load(f, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		own := map[string]bool{}
		for _, d := range diags {
			if name, _, ok := strings.Cut(d.Message, ": "); ok && !strings.Contains(name, " ") {
				own[name] = true
			}
		}
		for _, d := range diags {
			list, ok := strings.CutPrefix(d.Message, ignoredPrefix)
			if !ok {
				continue
			}
			for _, item := range strings.Split(list, ", ") {
				name, _, _ := strings.Cut(item, " (")
				if own[name] {
					t.Errorf("%s: %s is named twice: in %q and in a warning of its own", f, name, d)
				}
				for _, ctx := range []string{CtxTop, CtxGlobal, CtxInstance, CtxSyncGroup} {
					if k, ok := lookupKeyword(ctx, name); ok && k.Status != KeywordIgnored && k.Status != KeywordDeprecated {
						t.Logf("%s: %s (%s in %s) in the ignored list", f, name, k.Status, ctx)
					}
				}
			}
		}
	}
}

// TestKeywordWarningsInBareBlocks: keepalived reads the lines of a bare
// '{' block (or of a block after a keyword that takes none) as keywords
// of the block it is in, so hactl warns about the keywords there too.
func TestKeywordWarningsInBareBlocks(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{withInst("  {\n    use_ipvlan\n  }\n"), "8:5: warning: use_ipvlan: not implemented in hactl"},
		{withInst("  priority 90 {\n    old_unicast_checksum\n  }\n"), "8:5: warning: old_unicast_checksum: not implemented in hactl"},
		{"{\n  track_group G {\n    group {\n      VI_1\n    }\n  }\n}\n" + withInst(""), "2:3: warning: track_group: not implemented in hactl"},
	} {
		_, diags := parseString(t, tc.src)
		found := false
		for _, d := range diags {
			if strings.HasPrefix(strings.TrimPrefix(d.String(), "test.conf:"), tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no %q in\n%s", tc.src, tc.want, diags)
		}
	}
}
