package config

// Arg is one argument of a statement.
type Arg struct {
	Text   string // the value, quotes removed and escapes decoded
	Pos    Pos
	Quoted bool // some part of it was quoted or escaped
}

// Statement is one node of the generic block tree: a keyword, its arguments
// on the same logical line, and optionally a block of child statements. In a
// value block such as virtual_ipaddress every line is a statement whose
// keyword is the line's first word.
type Statement struct {
	Keyword string
	Pos     Pos // position of the keyword
	Args    []Arg
	// HasBlock is set when a '{' followed the statement (on its line or
	// on a later one); Block holds the statements inside.
	HasBlock bool
	Block    []*Statement
	Open     Pos // position of '{'
	Close    Pos // position of '}' (zero when it is missing)
}

// ArgTexts returns the arguments' values.
func (s *Statement) ArgTexts() []string {
	out := make([]string, len(s.Args))
	for i, a := range s.Args {
		out[i] = a.Text
	}
	return out
}

// Words returns the keyword and arguments as one list, the way keepalived
// sees a line.
func (s *Statement) Words() []Arg {
	return append([]Arg{{Text: s.Keyword, Pos: s.Pos}}, s.Args...)
}

// maxBlockDepth bounds the nesting of blocks; deeper blocks are skipped with
// an error (keepalived's deepest block is three levels).
const maxBlockDepth = 64

// treeParser builds the block tree from tokens.
type treeParser struct {
	toks []token
	i    int
	diag *diagSink
}

// parseTree builds the block tree of a token stream.
func parseTree(toks []token, diag *diagSink) []*Statement {
	p := &treeParser{toks: toks, diag: diag}
	var out []*Statement
	for p.i < len(p.toks) {
		out = append(out, p.block(0, nil)...)
	}
	return out
}

// block parses statements until the '}' that closes the block opened by
// parent (or until the end of input when parent is nil).
func (p *treeParser) block(depth int, parent *Statement) []*Statement {
	var (
		stmts []*Statement
		last  *Statement // may still receive a '{' from a later line
	)
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		switch t.kind {
		case tokEOL:
			p.i++
		case tokLBrace:
			p.i++
			if last == nil {
				p.diag.errorf(t.pos, "unexpected '{' without a keyword before it")
				p.skipBlock(t.pos)
				continue
			}
			last.HasBlock = true
			last.Open = t.pos
			if depth+1 > maxBlockDepth {
				p.diag.errorf(t.pos, "blocks nested more than %d deep", maxBlockDepth)
				p.skipBlock(t.pos)
			} else {
				last.Block = p.block(depth+1, last)
			}
			last = nil
		case tokRBrace:
			p.i++
			if parent != nil {
				parent.Close = t.pos
				return stmts
			}
			p.diag.errorf(t.pos, "unexpected '}' with no block open")
			last = nil
		case tokWord:
			s := &Statement{Keyword: t.text, Pos: t.pos}
			p.i++
			for p.i < len(p.toks) && p.toks[p.i].kind == tokWord {
				w := p.toks[p.i]
				s.Args = append(s.Args, Arg{Text: w.text, Pos: w.pos, Quoted: w.quoted})
				p.i++
			}
			stmts = append(stmts, s)
			last = s
		}
	}
	if parent != nil {
		p.diag.errorf(parent.Open, "'{' of %s is never closed by a '}'", parent.Keyword)
	}
	return stmts
}

// skipBlock skips to the '}' matching a '{' just consumed.
func (p *treeParser) skipBlock(open Pos) {
	depth := 1
	for p.i < len(p.toks) {
		switch p.toks[p.i].kind {
		case tokLBrace:
			depth++
		case tokRBrace:
			depth--
		}
		p.i++
		if depth == 0 {
			return
		}
	}
	p.diag.errorf(open, "'{' is never closed by a '}'")
}
