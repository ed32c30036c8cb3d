package config

import (
	"regexp"
	"strings"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tokWord   tokKind = iota // a word, quotes removed and escapes decoded
	tokLBrace                // an unquoted '{'
	tokRBrace                // an unquoted '}'
	tokEOL                   // the end of a logical line
)

// token is one lexical token with its position.
type token struct {
	kind   tokKind
	text   string // the word's value; "{" or "}" for braces
	quoted bool   // some part of the word was quoted or escaped
	pos    Pos
}

// maxDefinitionPasses bounds nested "$NAME" substitution, so that a
// definition that refers to itself cannot loop.
const maxDefinitionPasses = 16

var (
	definitionRE = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*)$`)
	referenceRE  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
)

// fileLexer tokenizes one file. Include directives are handed to the
// reader, which lexes the included files into the same token stream.
type fileLexer struct {
	r     *reader
	name  string
	lines []string
	next  int // index of the next physical line to read
}

// physLine is a logical line's text as it is being tokenized.
type physLine struct {
	text string
	line int // line number, from 1
	col  int // column of text[0], from 1
}

func newFileLexer(r *reader, name string, src []byte) *fileLexer {
	text := string(src)
	lines := strings.Split(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return &fileLexer{r: r, name: name, lines: lines}
}

func (lx *fileLexer) pos(line, col int) Pos { return Pos{File: lx.name, Line: line, Col: col} }

// run lexes the whole file.
// It stops early when the load does: the budget refused an include, or
// the load's context ended (checked every checkpointLines lines).
func (lx *fileLexer) run() {
	for lx.next < len(lx.lines) {
		n := lx.next
		if lx.r.stopped() || (n%checkpointLines == checkpointLines-1 && lx.r.alive() != nil) {
			return
		}
		lx.next++
		lx.logicalLine(physLine{text: lx.lines[n], line: n + 1, col: 1})
	}
}

// checkpointLines is how many lines are lexed between two checkpoints
// (reader.alive): some tens of microseconds of work.
const checkpointLines = 256

// trimLeft removes leading blanks, keeping the column right.
func trimLeft(pl physLine) physLine {
	i := 0
	for i < len(pl.text) && (pl.text[i] == ' ' || pl.text[i] == '\t') {
		i++
	}
	pl.text = pl.text[i:]
	pl.col += i
	return pl
}

// logicalLine applies the line-level rules (conditionals, definitions,
// substitution, include) and then tokenizes what is left.
func (lx *fileLexer) logicalLine(pl physLine) {
	pl = trimLeft(pl)
	if pl.text == "" {
		return
	}
	if pl.text[0] == '@' {
		var ok bool
		if pl, ok = lx.conditional(pl); !ok {
			return
		}
	}
	if pl.text == "" {
		return
	}
	if pl.text[0] == '$' && lx.definition(pl) {
		return
	}
	if strings.HasPrefix(pl.text, "~SEQ") || strings.HasPrefix(pl.text, "~LST") {
		lx.r.diag.errorf(lx.pos(pl.line, pl.col), "%s loops are not supported by hactl", pl.text[:4])
		return
	}
	for _, sub := range lx.substitute(pl) {
		sub = trimLeft(sub)
		if sub.text == "" {
			continue
		}
		if lx.include(sub) {
			continue
		}
		lx.tokenize(sub)
	}
}

// conditional handles "@id rest" and "@^id rest": the rest of the line is
// kept when the configuration id matches (or, with '^', does not match).
func (lx *fileLexer) conditional(pl physLine) (physLine, bool) {
	negate := strings.HasPrefix(pl.text, "@^")
	start := 1
	if negate {
		start = 2
	}
	end := strings.IndexAny(pl.text, " \t")
	if end < 0 {
		return pl, false // nothing after the id: keepalived drops the line
	}
	id := pl.text[start:end]
	match := lx.r.opts.ConfigID != "" && id == lx.r.opts.ConfigID
	if match == negate {
		return pl, false
	}
	pl.text = pl.text[end:]
	pl.col += end
	return trimLeft(pl), true
}

// definition records "$NAME=value"; a value ending in '\' continues on the
// next lines, which become separate lines where the name is used.
func (lx *fileLexer) definition(pl physLine) bool {
	m := definitionRE.FindStringSubmatch(pl.text)
	if m == nil {
		return false
	}
	name, value := m[1], strings.TrimSpace(m[2])
	var parts []string
	for strings.HasSuffix(value, `\`) {
		parts = append(parts, strings.TrimRight(strings.TrimSuffix(value, `\`), " \t"))
		if lx.next >= len(lx.lines) {
			value = ""
			break
		}
		value = strings.TrimSpace(lx.lines[lx.next])
		lx.next++
	}
	parts = append(parts, value)
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	lx.r.defs[name] = strings.Join(kept, "\n")
	return true
}

// substitute replaces $NAME and ${NAME} by their definitions. A multi-line
// definition yields several lines, all at the position of the original one.
// Names that are not defined are left as they are.
func (lx *fileLexer) substitute(pl physLine) []physLine {
	if len(lx.r.defs) == 0 || !strings.Contains(pl.text, "$") {
		return []physLine{pl}
	}
	text := pl.text
	for range maxDefinitionPasses {
		changed := false
		text = referenceRE.ReplaceAllStringFunc(text, func(ref string) string {
			m := referenceRE.FindStringSubmatch(ref)
			name := m[1] + m[2]
			if v, ok := lx.r.defs[name]; ok {
				changed = true
				return v
			}
			return ref
		})
		if !changed || len(text) > maxLineExpansion {
			break
		}
	}
	if len(text) > maxLineExpansion {
		lx.r.diag.errorf(lx.pos(pl.line, pl.col), "definitions expand this line to more than %d bytes", maxLineExpansion)
		return nil
	}
	lx.r.expanded += len(text)
	if lx.r.expanded > maxTotalExpansion {
		if !lx.r.expansionReported {
			lx.r.expansionReported = true
			lx.r.diag.errorf(lx.pos(pl.line, pl.col), "definitions expand the configuration to more than %d bytes; the rest is not expanded", maxTotalExpansion)
		}
		return nil
	}
	var out []physLine
	for i, t := range strings.Split(text, "\n") {
		col := pl.col
		if i > 0 {
			col = 1
		}
		out = append(out, physLine{text: t, line: pl.line, col: col})
	}
	return out
}

// maxLineExpansion bounds a line after definition substitution, and
// maxTotalExpansion all substituted lines together.
const (
	maxLineExpansion  = 16 << 10
	maxTotalExpansion = 1 << 20
)

// includeKeywords are keepalived's include directives; the variants differ
// in which problems keepalived reports, hactl treats them alike.
var includeKeywords = []string{"include", "includer", "includem", "includew", "includeb", "includea"}

// include recognises an include directive at the start of a line and hands
// its pattern to the reader. The pattern is the raw rest of the line, so
// braces in it are glob alternatives, not blocks.
func (lx *fileLexer) include(pl physLine) bool {
	end := strings.IndexAny(pl.text, " \t")
	if end < 0 {
		return false
	}
	kw := pl.text[:end]
	found := false
	for _, k := range includeKeywords {
		if kw == k {
			found = true
			break
		}
	}
	if !found {
		return false
	}
	rest := trimLeft(physLine{text: pl.text[end:], line: pl.line, col: pl.col + end})
	pattern := stripComment(rest.text)
	pattern = strings.TrimSpace(pattern)
	if len(pattern) >= 2 && pattern[0] == '"' && pattern[len(pattern)-1] == '"' {
		pattern = pattern[1 : len(pattern)-1]
	}
	at := lx.pos(pl.line, pl.col)
	if pattern == "" {
		lx.r.diag.errorf(at, "%s: missing file name", kw)
		return true
	}
	lx.r.include(lx.name, pattern, at)
	return true
}

// stripComment cuts s at the first '#' or '!' outside double quotes.
func stripComment(s string) string {
	quote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quote = !quote
		case '\\':
			i++
		case '#', '!':
			if !quote {
				return s[:i]
			}
		}
	}
	return s
}

// tokenize splits a logical line into words and braces and ends it with an
// EOL token. A '\' at the very end of a line continues it on the next
// physical line.
func (lx *fileLexer) tokenize(pl physLine) {
	var (
		buf      []byte
		inWord   bool
		quoted   bool
		quote    byte
		wordPos  Pos
		quotePos Pos
		// Where the open quote is, to read the line again from there
		// when it is never closed: the line (it may have continued), the
		// index, and the word as it was before the quote.
		quoteLine             physLine
		quoteAt               int
		quoteBuf              []byte
		quoteInWord, quoteWas bool
		// literal: a single quote at quoteAt is read as a character.
		literalAt = -1
	)
	flush := func() {
		if inWord {
			lx.r.emit(token{kind: tokWord, text: string(buf), quoted: quoted, pos: wordPos})
		}
		buf, inWord, quoted = buf[:0], false, false
	}
	start := func(j int) {
		if !inWord {
			inWord = true
			wordPos = lx.pos(pl.line, pl.col+j)
		}
	}
	s := pl.text
	endPos := func() Pos { return lx.pos(pl.line, pl.col+len(s)) }
	for j := 0; ; j++ {
		if j >= len(s) {
			switch quote {
			case '"':
				// keepalived's read_line and alloc_strvec_r report it and
				// drop the line from the quote on; the word before the
				// quote stays a word.
				lx.r.diag.correctf(quotePos, "unterminated \" quote: keepalived reports it and drops the line from the quote on, and so does hactl")
				buf, inWord, quoted = append(buf[:0], quoteBuf...), quoteInWord, quoteWas
			case '\'':
				// keepalived does not take ' as a quote outside script
				// commands: read it again as a character.
				lx.r.diag.warnf(quotePos, "unterminated ' quote: keepalived takes ' as a character here, and so does hactl")
				if pl.line != quoteLine.line {
					// The line went on past a final '\' (hactl's
					// continuation): keep what was read.
					break
				}
				buf, inWord, quoted = append(buf[:0], quoteBuf...), quoteInWord, quoteWas
				pl, s, j = quoteLine, quoteLine.text, quoteAt-1
				literalAt = quoteAt
				quote = 0
				continue
			}
			flush()
			lx.r.emit(token{kind: tokEOL, pos: endPos()})
			return
		}
		c := s[j]
		if c == '\\' && j == len(s)-1 {
			// Line continuation: carry on with the next physical line.
			if lx.next >= len(lx.lines) {
				lx.r.diag.warnf(lx.pos(pl.line, pl.col+j), "'\\' continues the line past the end of the file")
				s = s[:j]
				j--
				continue
			}
			if quote == 0 {
				flush()
			}
			n := lx.next
			lx.next++
			pl = physLine{text: lx.lines[n], line: n + 1, col: 1}
			s = pl.text
			j = -1
			continue
		}
		if quote != 0 {
			switch c {
			case quote:
				quote = 0
			case '\\':
				var r byte
				r, j = decodeEscape(s, j)
				buf = append(buf, r)
			default:
				buf = append(buf, c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\v', '\f':
			flush()
		case '#', '!':
			flush()
			lx.r.emit(token{kind: tokEOL, pos: lx.pos(pl.line, pl.col+j)})
			return
		case '{', '}':
			flush()
			k := tokLBrace
			if c == '}' {
				k = tokRBrace
			}
			lx.r.emit(token{kind: k, text: string(c), pos: lx.pos(pl.line, pl.col+j)})
		case '"', '\'':
			if c == '\'' && j == literalAt && pl.line == quoteLine.line {
				start(j)
				buf = append(buf, c)
				continue
			}
			quoteLine, quoteAt, quoteBuf, quoteInWord, quoteWas = pl, j, append(quoteBuf[:0], buf...), inWord, quoted
			start(j)
			quoted = true
			quote = c
			quotePos = lx.pos(pl.line, pl.col+j)
		case '\\':
			start(j)
			quoted = true
			var r byte
			r, j = decodeEscape(s, j)
			buf = append(buf, r)
		default:
			start(j)
			buf = append(buf, c)
		}
	}
}

// decodeEscape decodes the escape sequence whose '\' is at s[j] and returns
// the byte and the index of the sequence's last byte. The sequences are
// keepalived's: \a \b \E \f \n \r \t \v, \NNN (octal, up to 3 digits),
// \xHH... (hex), \cC (control character); any other \C is C.
func decodeEscape(s string, j int) (byte, int) {
	j++
	if j >= len(s) {
		return '\\', j - 1
	}
	c := s[j]
	switch {
	case c == 'x' && j+1 < len(s) && isHex(s[j+1]):
		var v byte
		for j+1 < len(s) && isHex(s[j+1]) {
			j++
			v = v<<4 | hexVal(s[j])
		}
		return v, j
	case c == 'c' && j+1 < len(s):
		return s[j+1] & 0x1f, j + 1
	case c >= '0' && c <= '7':
		v := c - '0'
		for k := 0; k < 2 && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '7'; k++ {
			j++
			v = v<<3 | (s[j] - '0')
		}
		return v, j
	}
	switch c {
	case 'a':
		return '\a', j
	case 'b':
		return '\b', j
	case 'E':
		return 0x1b, j
	case 'f':
		return '\f', j
	case 'n':
		return '\n', j
	case 'r':
		return '\r', j
	case 't':
		return '\t', j
	case 'v':
		return '\v', j
	}
	return c, j
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// splitWords splits s the way the lexer splits a line, without comments or
// braces: used for the second pass over a script's command line, which
// keepalived also splits with quotes and escapes.
func splitWords(s string) ([]string, bool) {
	var (
		words  []string
		buf    []byte
		inWord bool
		quote  byte
	)
	for j := 0; j < len(s); j++ {
		c := s[j]
		if quote != 0 {
			switch c {
			case quote:
				quote = 0
			case '\\':
				var r byte
				r, j = decodeEscape(s, j)
				buf = append(buf, r)
			default:
				buf = append(buf, c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			if inWord {
				words = append(words, string(buf))
			}
			buf, inWord = buf[:0], false
		case '"', '\'':
			inWord = true
			quote = c
		case '\\':
			inWord = true
			var r byte
			r, j = decodeEscape(s, j)
			buf = append(buf, r)
		default:
			inWord = true
			buf = append(buf, c)
		}
	}
	if inWord {
		words = append(words, string(buf))
	}
	return words, quote == 0
}
