package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// lexLines returns each logical line's words, braces as "{" and "}".
func lexLines(t *testing.T, src string, opts LoadOptions) ([]string, Diagnostics) {
	t.Helper()
	sink := &diagSink{}
	r := newReader(opts, sink)
	r.lex("t.conf", []byte(src))
	var lines []string
	var cur []string
	for _, tk := range r.tokens.all() {
		switch tk.kind {
		case tokEOL:
			if len(cur) > 0 {
				lines = append(lines, strings.Join(cur, "|"))
			}
			cur = nil
		default:
			cur = append(cur, tk.text)
		}
	}
	return lines, sink.list
}

func TestLexer(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts LoadOptions
		want []string
	}{
		{"words", "a b\tc\n", LoadOptions{}, []string{"a|b|c"}},
		{"hash comment", "a # b c\n# whole line\n", LoadOptions{}, []string{"a"}},
		{"bang comment", "a ! b\n!x\nc!d\n", LoadOptions{}, []string{"a", "c"}},
		{"comment chars in quotes", `a "b # c" 'd ! e'` + "\n", LoadOptions{}, []string{"a|b # c|d ! e"}},
		{"escaped comment", `a\#b c\!d` + "\n", LoadOptions{}, []string{"a#b|c!d"}},
		{"quotes join", `ab"c d"e` + "\n", LoadOptions{}, []string{"abc de"}},
		{"escapes", `"a\tb" "\x41\101\n" '\"' "\cA"` + "\n", LoadOptions{}, []string{"a\tb|AA\n|\"|\x01"}},
		{"braces split", "a{b}c\nx { y }\n", LoadOptions{}, []string{"a|{|b|}|c", "x|{|y|}"}},
		{"quoted brace", `a "{" '}'` + "\n", LoadOptions{}, []string{"a|{|}"}},
		{"continuation", "a b \\\n  c\nd\n", LoadOptions{}, []string{"a|b|c", "d"}},
		{"continuation in quotes", "a \"b \\\nc\"\n", LoadOptions{}, []string{"a|b c"}},
		{"crlf", "a b\r\nc\r\n", LoadOptions{}, []string{"a|b", "c"}},
		{"no final newline", "a b", LoadOptions{}, []string{"a|b"}},
		{"conditional dropped", "@high a\n@^high b\nc\n", LoadOptions{}, []string{"b", "c"}},
		{"conditional kept", "@high a\n@^high b\n", LoadOptions{ConfigID: "high"}, []string{"a"}},
		{"definition", "$IF=eth0\ninterface $IF ${IF}x\n", LoadOptions{}, []string{"interface|eth0|eth0x"}},
		{"multi-line definition", "$BLK=a 1 \\\n  b 2\n$BLK\n", LoadOptions{}, []string{"a|1", "b|2"}},
		{"self reference terminates", "$A=$A$A\nx $A\n", LoadOptions{}, nil},
		{"undefined reference kept", "$A=1\nx $B\n", LoadOptions{}, []string{"x|$B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := lexLines(t, tc.src, tc.opts)
			if tc.want == nil {
				return // only must terminate
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLexerPositions(t *testing.T) {
	sink := &diagSink{}
	r := newReader(LoadOptions{}, sink)
	r.lex("p.conf", []byte("  key \"v w\"  {\n\tx\n"))
	var got []string
	for _, tk := range r.tokens.all() {
		if tk.kind != tokEOL {
			got = append(got, fmt.Sprintf("%s@%d:%d", tk.text, tk.pos.Line, tk.pos.Col))
		}
	}
	want := []string{"key@1:3", "v w@1:7", "{@1:14", "x@2:2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestLexerUnterminatedQuote: keepalived's reading of a quote never
// closed (lib/parser.c): a double quote is reported (decomment's
// "Unterminated quote", alloc_strvec_r's "Unmatched quote") and the line
// is dropped from it on, the words before it kept (a word ends at '"');
// a single quote is no quote to keepalived's parser, so it is a
// character, and what follows is read as usual.
func TestLexerUnterminatedQuote(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
		diag string
	}{
		{"a \"b\nc\n", []string{"a", "c"}, `t.conf:1:3: corrected: unterminated " quote: keepalived reports it and drops the line from the quote on, and so does hactl`},
		{"router_id ab\"c d { e\nf\n", []string{"router_id|ab", "f"}, `t.conf:1:13: corrected: unterminated " quote`},
		{"a \"b\" \"c\n", []string{"a|b"}, `t.conf:1:7: corrected: unterminated " quote`},
		{"router_id it's lb1 # c\nf\n", []string{"router_id|it's|lb1", "f"}, `t.conf:1:13: warning: unterminated ' quote: keepalived takes ' as a character here, and so does hactl`},
		{"a 'b' c'd {\n", []string{"a|b|c'd|{"}, `t.conf:1:8: warning: unterminated ' quote`},
		{"a x'y\\\nz\n", nil, `t.conf:1:4: warning: unterminated ' quote`},
	} {
		got, diags := lexLines(t, tc.src, LoadOptions{})
		if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.src, got, tc.want)
		}
		if len(diags) != 1 || !strings.HasPrefix(diags[0].String(), tc.diag) {
			t.Errorf("%q: got %v, want %s", tc.src, diags, tc.diag)
		}
	}
}

func TestLexerErrors(t *testing.T) {
	_, diags := lexLines(t, "~SEQ(i,1,3) x\n", LoadOptions{})
	if !diags.HasErrors() {
		t.Error("~SEQ must be reported")
	}
}

func TestSplitWords(t *testing.T) {
	got, ok := splitWords(`/bin/x a 'b c' "d \"e\"" f\ g`)
	want := []string{"/bin/x", "a", "b c", `d "e"`, "f g"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q %v, want %q", got, ok, want)
	}
	if _, ok := splitWords(`a 'b`); ok {
		t.Error("unterminated quote not reported")
	}
}

func TestTree(t *testing.T) {
	src := "a 1 {\n b 2\n c\n {\n  d\n }\n}\ne { f } g\n"
	top, diags := ParseTree("t.conf", []byte(src), LoadOptions{})
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	var dump func([]*Statement) string
	dump = func(ss []*Statement) string {
		var parts []string
		for _, s := range ss {
			p := s.Keyword + fmt.Sprint(s.ArgTexts())
			if s.HasBlock {
				p += "{" + dump(s.Block) + "}"
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ";")
	}
	want := "a[1]{b[2];c[]{d[]}};e[]{f[]};g[]"
	if got := dump(top); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestTreeErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"a {\n b\n", "t.conf:1:3: corrected: '{' of a is never closed by a '}': keepalived reports a missing '}' and reads the block to the end of the file, and so does hactl"},
		{"a\n}\n", "t.conf:2:1: corrected: unexpected '}' with no block open: keepalived reports an extra '}' and skips it, and so does hactl"},
		{"{\n", "t.conf:1:1: corrected: this '{' is never closed by a '}'"},
		{strings.Repeat("a {", 100) + strings.Repeat("}", 100), "t.conf:1:195: blocks nested more than 64 deep"},
	} {
		_, diags := ParseTree("t.conf", []byte(tc.src), LoadOptions{})
		if len(diags) == 0 || !strings.HasPrefix(diags[0].String(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, diags, tc.want)
		}
	}
}

func TestInclude(t *testing.T) {
	main := filepath.Join("testdata", "include", "main.conf")
	cfg, diags, err := Load(main, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range cfg.Instances {
		names = append(names, in.Name)
	}
	if want := []string{"VI_A", "VI_B", "VI_C"}; !reflect.DeepEqual(names, want) {
		t.Errorf("instances %v, want %v", names, want)
	}
	if len(cfg.Files) != 4 {
		t.Errorf("files %v", cfg.Files)
	}
	want := []string{
		"testdata/include/main.conf:7:1: warning: include \"testdata/include/missing/*.conf\": no matching file",
		"testdata/include/conf.d/c.extra:7:12: corrected: priority \"0\" is not valid (1 to 255): keepalived reports it and uses the default 100, and so does hactl",
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIncludeCycle(t *testing.T) {
	files := map[string]string{"/x/a.conf": "include b.conf\n", "/x/b.conf": "include a.conf\n"}
	opts := LoadOptions{
		ReadFile: func(n string) ([]byte, error) { return []byte(files[n]), nil },
		Glob: func(p string) ([]string, error) {
			if _, ok := files[p]; ok {
				return []string{p}, nil
			}
			return nil, nil
		},
	}
	_, diags, err := Load("/x/a.conf", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(diags.Errors()) != 1 || !strings.Contains(diags[0].Message, "includes itself") {
		t.Errorf("got %v", diags)
	}
}

func TestExpandBraces(t *testing.T) {
	got := expandBraces("/a/{b,c{d,e}}/f{,.x}", 100)
	want := []string{"/a/b/f", "/a/b/f.x", "/a/cd/f", "/a/cd/f.x", "/a/ce/f", "/a/ce/f.x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	if got := expandBraces("a{b}c", 10); !reflect.DeepEqual(got, []string{"a{b}c"}) {
		t.Errorf("single alternative: %v", got)
	}
}
