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
	// NoOpen is set when the '{' was missing and, as keepalived does,
	// the lines up to the next '}' were read as the block (Open is then
	// the position of the first of them).
	NoOpen bool
	// closes marks the stand-in for a '}' that keepalived reads as the
	// end of a block earlier than the tree does (see unknownBlock).
	closes bool
	// bare marks a '{' with no keyword before it (Keyword is "{");
	// keepalived ignores it and reads its lines as keywords of the block
	// it is in, whose keyword is in (see unknownBlock).
	bare bool
	in   string
	// after is, for a block given to a keyword that takes none, that
	// keyword: keepalived reads the line, then the '{' as a bare one.
	after string
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
	toks  *tokenStream
	n     int
	i     int
	diag  *diagSink
	alive func() error
}

// parseTree builds the block tree of a token stream. It consumes the
// stream: the tokens behind it are released as it goes. alive (the load's
// checkpoint) is called every tokenChunk tokens; the tree is cut short
// when it reports an error.
func parseTree(toks *tokenStream, diag *diagSink, alive func() error) []*Statement {
	p := &treeParser{toks: toks, n: toks.len(), diag: diag, alive: alive}
	var out []*Statement
	for p.i < p.n {
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
	for p.i < p.n {
		if p.i%tokenChunk == tokenChunk-1 && p.alive() != nil {
			p.n = p.i // stop here
			break
		}
		t := p.toks.take(p.i)
		switch t.kind {
		case tokEOL:
			p.i++
		case tokLBrace:
			p.i++
			if last == nil {
				// keepalived: "Unexpected '{' - ignoring". The builder
				// reads its lines as those of the enclosing block.
				s := &Statement{Keyword: "{", Pos: t.pos, HasBlock: true, Open: t.pos, bare: true, in: keywordOf(parent)}
				stmts = append(stmts, s)
				if depth+1 > maxBlockDepth {
					p.diag.errorf(t.pos, "blocks nested more than %d deep", maxBlockDepth)
					p.skipBlock(t.pos)
				} else {
					s.Block = p.block(depth+1, s)
				}
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
			if last != nil && p.missingOpen(parent, last, t.pos) {
				// keepalived's block of last ends here: an empty one.
				last.Close = t.pos
				last = nil
				continue
			}
			if parent != nil {
				parent.Close = t.pos
				return stmts
			}
			p.diag.correctf(t.pos, "unexpected '}' with no block open: keepalived reports an extra '}' and skips it, and so does hactl")
			last = nil
		case tokWord:
			if last != nil && p.missingOpen(parent, last, t.pos) {
				last.Block = p.block(depth+1, last)
				last = nil
				continue
			}
			s := &Statement{Keyword: t.text, Pos: t.pos}
			p.i++
			for p.i < p.n && p.toks.take(p.i).kind == tokWord {
				w := p.toks.take(p.i)
				s.Args = append(s.Args, Arg{Text: w.text, Pos: w.pos, Quoted: w.quoted})
				p.i++
			}
			stmts = append(stmts, s)
			last = s
		}
	}
	if parent != nil && parent.bare {
		p.diag.correctf(parent.Open, "this '{' is never closed by a '}': keepalived reports a missing '}' and reads to the end of the file, and so does hactl")
	} else if parent != nil {
		p.diag.correctf(parent.Open, "'{' of %s is never closed by a '}': keepalived reports a missing '}' and reads the block to the end of the file, and so does hactl", parent.Keyword)
	}
	return stmts
}

// missingOpen reports whether last, a statement without a block, is one
// keepalived reads a block for whatever comes next: a section or value
// block whose '{' is missing. keepalived reports that ("Missing '{' at
// beginning of configuration block" for a section; for a value block only
// a log line, then "Extra '}' found" from its brace count) and reads the
// lines that follow, up to '}', as the block; so does this. It marks last
// as having a block starting at at.
func (p *treeParser) missingOpen(parent, last *Statement, at Pos) bool {
	if last.HasBlock {
		return false
	}
	section, ok := blockKeyword(keywordOf(parent), last.Keyword)
	if !ok {
		return false
	}
	last.HasBlock, last.NoOpen, last.Open = true, true, at
	what := "reports it"
	if !section {
		// alloc_value_block only logs it, but read_line's brace count
		// then finds an extra '}', a configuration error.
		what = "reports an extra '}' at its end"
	}
	p.diag.correctf(last.Pos, "'{' is missing after %s: keepalived %s and reads the lines that follow, up to '}', as its block, and so does hactl", last.Keyword, what)
	return true
}

// keywordOf is the keyword of the block parent whose lines keepalived
// reads: a bare '{' block's lines are those of the block it is in.
func keywordOf(parent *Statement) string {
	switch {
	case parent == nil:
		return ""
	case parent.bare:
		return parent.in
	}
	return parent.Keyword
}

// skipBlock skips to the '}' matching a '{' just consumed.
func (p *treeParser) skipBlock(open Pos) {
	depth := 1
	for p.i < p.n {
		switch p.toks.take(p.i).kind {
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

// tokenChunk is how many tokens a tokenStream holds per allocation.
const tokenChunk = 4096

// tokenStream is the token list of a load, in chunks rather than one
// slice: a multi-megabyte config has millions of tokens, and growing one
// slice of them copies hundreds of megabytes at a time, in steps the Go
// scheduler cannot preempt (the daemon's loop, under GOMAXPROCS=1, waited
// 0.4 s on one). Chunks are allocated one by one and released once
// consumed (take).
type tokenStream struct {
	chunks [][]token
	n      int
}

func (ts *tokenStream) len() int { return ts.n }

func (ts *tokenStream) add(t token) {
	if ts.n%tokenChunk == 0 {
		ts.chunks = append(ts.chunks, make([]token, 0, tokenChunk))
	}
	c := &ts.chunks[len(ts.chunks)-1]
	*c = append(*c, t)
	ts.n++
}

func (ts *tokenStream) at(i int) token { return ts.chunks[i/tokenChunk][i%tokenChunk] }

// take returns token i and releases the chunks before i's: a reader that
// takes tokens in order never goes back.
func (ts *tokenStream) take(i int) token {
	c := i / tokenChunk
	if c > 0 && ts.chunks[c-1] != nil {
		ts.chunks[c-1] = nil
	}
	return ts.chunks[c][i%tokenChunk]
}

// all returns every token (tests).
func (ts *tokenStream) all() []token {
	var out []token
	for _, c := range ts.chunks {
		out = append(out, c...)
	}
	return out
}
