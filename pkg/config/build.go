package config

import (
	"fmt"
	"sort"
	"strings"
)

// builder turns the block tree into the typed model.
type builder struct {
	diag    *diagSink
	cfg     *Config
	global  globalDraft
	scripts map[string]*Script
	tfiles  map[string]*TrackFile
	procs   map[string]*TrackProcess
	insts   []*instDraft
	groups  []*groupDraft
	// rulePrio4 and rulePrio6 count the rules given keepalived's
	// automatic preference, per family (build_rules.go).
	rulePrio4, rulePrio6 uint32
	// instByName and groupByName index insts and groups (a duplicate
	// name is found without a scan of every earlier block).
	instByName  map[string]*instDraft
	groupByName map[string]*groupDraft
	// scriptsUsed is set when any script or notify command is configured.
	scriptsUsed bool
	firstScript Pos
	// invalid names vrrp_script and track_file blocks dropped for errors,
	// so that references to them do not repeat the error.
	invalid map[string]bool
	// spill holds statements keepalived reads at the top level after an
	// unknown keyword's block closed a section early (see unknownBlock).
	spill []*Statement
	// vmacNames are the VMAC interface names given by use_vmac, and the
	// instance that gave each.
	vmacNames map[string]string
	// guards indexes cfg.EtcdGuards by name (build_guard.go).
	guards map[string]*EtcdGuard
}

// handler handles one keyword inside a block.
type handler func(s *Statement)

// blockSpec describes the keywords of one kind of block.
type blockSpec struct {
	name     string             // for messages: "global_defs", "vrrp_instance VI_1"
	ctx      string             // the keyword table's context (CtxGlobal...)
	handlers map[string]handler // keywords hactl uses
	ignored  map[string]bool    // keepalived keywords hactl skips
	// deprecated maps old spellings to the keyword to use instead.
	deprecated map[string]string
}

func newBuilder(diag *diagSink) *builder {
	return &builder{
		diag:    diag,
		cfg:     &Config{},
		global:  globalDraft{g: defaultGlobals()},
		scripts: map[string]*Script{},
		tfiles:  map[string]*TrackFile{},
		procs:   map[string]*TrackProcess{},
		invalid: map[string]bool{},

		vmacNames: map[string]string{},
		guards:    map[string]*EtcdGuard{},

		instByName:  map[string]*instDraft{},
		groupByName: map[string]*groupDraft{},
	}
}

// rootIgnored are top-level sections outside the VRRP subset: parsed for
// syntax, then skipped.
var rootIgnored = set(
	"virtual_server", "virtual_server_group", "bfd_instance", "SSL", "linkbeat_interfaces",
	"track_group", "garp_group",
	"net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "use_pid_dir",
	"instance", "child_wait_time", "linkbeat_use_polling",
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// build walks the top-level statements.
// alive is the load's checkpoint (reader.alive), called every few
// statements; building stops when it reports an error.
func (b *builder) build(top []*Statement, alive func() error) {
	q := &stmtQueue{}
	q.push(top)
	for n := 0; ; n++ {
		if n%checkpointStatements == checkpointStatements-1 && alive() != nil {
			return
		}
		s, ok := q.pop()
		if !ok {
			return
		}
		switch s.Keyword {
		case "global_defs":
			if b.needBlock(s) {
				b.walk(s, b.globalSpec())
			}
		case "vrrp_script":
			b.vrrpScript(s)
		case "track_file", "vrrp_track_file":
			if s.Keyword == "vrrp_track_file" {
				b.diag.warnf(s.Pos, "vrrp_track_file is deprecated; use track_file")
			}
			b.trackFile(s)
		case "vrrp_track_process":
			b.trackProcess(s)
		case "interface_up_down_delays":
			b.ifDelays(s)
		case "vrrp_instance":
			b.instance(s)
		case "vrrp_sync_group":
			b.syncGroup(s)
		case "static_ipaddress", "static_routes", "static_rules":
			b.static(s)
		case "etcd_guard":
			b.etcdGuard(s)
		default:
			switch {
			case s.closes:
				b.diag.correctf(s.Pos, "this '}' closes no block: keepalived took an earlier '}' as the end of the block it was in (see the unknown keyword above), reports an unknown keyword '}' and skips it, and so does hactl")
			case rootIgnored[s.Keyword]:
				b.ignoreIn(CtxTop, s)
			default:
				b.unknown(s, "at top level")
				b.unknownBlock(s, "the top level", q)
			}
		}
		if b.spill != nil {
			q.push(b.spill)
			b.spill = nil
		}
	}
}

// checkpointStatements is how many top-level statements are built between
// two checkpoints.
const checkpointStatements = 16

// stmtQueue reads statement lists front to back; a list pushed is read
// before what remains of the others, without copying them (a hostile file
// with thousands of unknown blocks stays linear).
type stmtQueue struct{ lists [][]*Statement }

func (q *stmtQueue) push(l []*Statement) {
	if len(l) > 0 {
		q.lists = append(q.lists, l)
	}
}

func (q *stmtQueue) pop() (*Statement, bool) {
	for len(q.lists) > 0 {
		top := &q.lists[len(q.lists)-1]
		if len(*top) == 0 {
			q.lists = q.lists[:len(q.lists)-1]
			continue
		}
		s := (*top)[0]
		*top = (*top)[1:]
		return s, true
	}
	return nil, false
}

// drain returns what remains, in order, and empties q.
func (q *stmtQueue) drain() []*Statement {
	var out []*Statement
	for i := len(q.lists) - 1; i >= 0; i-- {
		out = append(out, q.lists[i]...)
	}
	q.lists = nil
	return out
}

// walk dispatches the statements of owner's block to the spec's handlers.
// An unknown keyword with a block ends the walk early as it ends
// keepalived's (see unknownBlock): what remains of the block, and its
// '}', are left in b.spill for the top level.
func (b *builder) walk(owner *Statement, spec blockSpec) {
	q := &stmtQueue{}
	q.push(owner.Block)
	for {
		s, ok := q.pop()
		if !ok {
			return
		}
		if s.closes {
			b.spill = q.drain()
			if owner.Close.IsValid() { // else the file ended inside the block
				b.spill = append(b.spill, &Statement{Keyword: "}", Pos: owner.Close, closes: true})
			}
			return
		}
		if h, ok := spec.handlers[s.Keyword]; ok {
			if _, block := blockKeyword(spec.ctx, s.Keyword); s.HasBlock && !block && spec.ctx != "" {
				// keepalived reads the line, then "Unexpected '{' -
				// ignoring": the block is read as bare '{' block.
				line := *s
				line.HasBlock, line.Block, line.Open, line.Close = false, nil, Pos{}, Pos{}
				h(&line)
				b.unknownBlock(&Statement{Keyword: "{", Pos: s.Open, HasBlock: true, Block: s.Block, Open: s.Open, Close: s.Close, bare: true, after: s.Keyword}, spec.name, q)
				continue
			}
			h(s)
			continue
		}
		if repl, ok := spec.deprecated[s.Keyword]; ok {
			b.diag.warnf(s.Pos, "%s is deprecated; use %s", s.Keyword, repl)
			if h, ok := spec.handlers[repl]; ok {
				h(s)
			}
			continue
		}
		if spec.ignored[s.Keyword] {
			b.ignoreIn(spec.ctx, s)
			continue
		}
		b.unknown(s, "in "+spec.name)
		b.unknownBlock(s, spec.name, q)
	}
}

// unknownBlock applies keepalived's reading of an unknown keyword that
// has a block: process_stream reports the keyword, then "Unexpected '{' -
// ignoring", reads the lines of the block as keywords of the block it is
// in (where), and takes the block's '}' as the end of that block. It
// queues the block's lines and a closing mark to be read next.
func (b *builder) unknownBlock(s *Statement, where string, q *stmtQueue) {
	if !s.HasBlock || s.NoOpen {
		return
	}
	if s.after != "" {
		b.diag.correctf(s.Open, "'{' after %s, which takes no block: keepalived reads the line, reports \"Unexpected '{' - ignoring\", reads the lines of the block as keywords of %s and the block's '}' as the end of %s (what follows it is read one level up), and so does hactl",
			s.after, where, where)
	} else if s.bare {
		b.diag.correctf(s.Open, "'{' with no keyword before it: keepalived reports \"Unexpected '{' - ignoring\", reads the lines of the block as keywords of %s and the block's '}' as the end of %s (what follows it is read one level up), and so does hactl",
			where, where)
	} else {
		b.diag.correctf(s.Open, "'{' after the unknown keyword %s: keepalived ignores it and reads the lines of the block as keywords of %s, and the block's '}' as the end of %s (what follows it is read one level up), and so does hactl",
			s.Keyword, where, where)
	}
	if s.Close.IsValid() { // else the file ended inside the block
		q.push([]*Statement{{Keyword: "}", Pos: s.Close, closes: true}})
	}
	q.push(s.Block)
}

func (b *builder) unknown(s *Statement, where string) {
	if s.bare {
		return // unknownBlock reports it
	}
	b.diag.correctf(s.Pos, "unknown keyword %q %s: keepalived reports it and skips it, and so does hactl", s.Keyword, where)
}

// ignoreIn records a keyword of context ctx that hactl skips. A keyword
// the table marks partial or not implemented is warned about by name
// (warnKeywords), so it stays out of reportIgnored's list: one message
// for each keyword.
func (b *builder) ignoreIn(ctx string, s *Statement) {
	own := false
	if k, ok := lookupKeyword(ctx, s.Keyword); ok {
		own = k.Status == KeywordPartial || k.Status == KeywordNotImplemented
	}
	b.cfg.Ignored = append(b.cfg.Ignored, Ignored{Keyword: s.Keyword, Pos: s.Pos, ownWarning: own})
}

// reportIgnored emits the single warning that lists what was skipped,
// but for the keywords warned about on their own.
func (b *builder) reportIgnored() {
	count := map[string]int{}
	var order []string
	var first Pos
	for _, ig := range b.cfg.Ignored {
		if ig.ownWarning {
			continue
		}
		if len(order) == 0 {
			first = ig.Pos
		}
		if count[ig.Keyword] == 0 {
			order = append(order, ig.Keyword)
		}
		count[ig.Keyword]++
	}
	if len(order) == 0 {
		return
	}
	sort.Strings(order)
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = k
		if count[k] > 1 {
			parts[i] = fmt.Sprintf("%s (%d)", k, count[k])
		}
	}
	b.diag.warnf(first, "hactl ignores what is outside its VRRP subset: %s", strings.Join(parts, ", "))
}

// needBlock checks that s has a block.
func (b *builder) needBlock(s *Statement) bool {
	if !s.HasBlock {
		b.diag.errorf(s.Pos, "%s needs a '{' block", s.Keyword)
		return false
	}
	return true
}

// noBlock reports a block given to a keyword that takes none.
func (b *builder) noBlock(s *Statement) bool {
	if s.HasBlock {
		b.diag.errorf(s.Open, "%s does not take a '{' block", s.Keyword)
		return false
	}
	return true
}

// nargs checks that s has at least lo arguments and no block. Words past
// hi (hi < 0: no upper bound) are dropped with a warning: keepalived's
// handlers read the slots they know and never look at the rest.
func (b *builder) nargs(s *Statement, lo, hi int) bool {
	if !b.noBlock(s) {
		return false
	}
	n := len(s.Args)
	switch {
	case n < lo && lo == 1:
		b.diag.errorf(s.Pos, "%s needs a value (keepalived exits on a missing parameter)", s.Keyword)
		return false
	case n < lo:
		b.diag.errorf(s.Pos, "%s needs %d values (keepalived exits on a missing parameter)", s.Keyword, lo)
		return false
	case hi >= 0 && n > hi:
		b.extraWords(s, hi)
	}
	return true
}

// extraWords warns about the words of s past its first keep ones and
// drops them, as keepalived ignores them.
func (b *builder) extraWords(s *Statement, keep int) {
	extra := s.Args[keep]
	switch {
	case keep == 0:
		b.diag.warnf(extra.Pos, "%s takes no value: keepalived ignores %q and sets %s all the same, and so does hactl (to undo %s, remove the line)",
			s.Keyword, extra.Text, s.Keyword, s.Keyword)
	default:
		b.diag.warnf(extra.Pos, "%s takes %s: keepalived ignores %q and what follows, and so does hactl",
			s.Keyword, countValues(keep), extra.Text)
	}
	s.Args = s.Args[:keep]
}

func countValues(n int) string {
	if n == 1 {
		return "one value"
	}
	return fmt.Sprintf("%d values", n)
}

// flag handles a keyword without arguments, or with an optional <BOOL>
// (keepalived's check_true_false: an invalid one is reported and the line
// ignored).
func (b *builder) flag(s *Statement, dst *bool) bool {
	if !b.nargs(s, 0, 1) {
		return false
	}
	if len(s.Args) == 0 {
		*dst = true
		return true
	}
	v, err := parseBool(s.Args[0].Text)
	if err != nil {
		b.diag.correctf(s.Args[0].Pos, "%s: %v: keepalived reports it and ignores the line, and so does hactl", s.Keyword, err)
		return false
	}
	*dst = v
	return true
}

// badValue reports a value keepalived refuses: it logs a configuration
// error and keeps what it had (the default), and hactl does the same. For
// hactl's own keywords (which keepalived does not know) it is an error.
func (b *builder) badValue(s *Statement, p Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if hactlKeywords[s.Keyword] {
		b.diag.errorf(p, "%s", msg)
		return
	}
	b.diag.correctf(p, "%s: keepalived reports it and keeps the default, and so does hactl", msg)
}

// hactlKeywords are hactl's own keywords; keepalived does not know them.
var hactlKeywords = set("state_file", "control_socket", "notify_master_dir", "vip_lease",
	"control_ssh", "control_ssh_authorized_keys", "control_ssh_host_key",
	"etcd_guard", "guard", "endpoints", "ttl", "key_prefix", "ca_file", "cert_file", "key_file", "username", "password")

// sectionName checks the single name argument of a named section. For
// vrrp_instance and vrrp_sync_group keepalived checks the count and skips
// the block on a mismatch; other sections read the name's slot (a missing
// one makes keepalived exit) and ignore further words.
func (b *builder) sectionName(s *Statement) (string, bool) {
	counted := s.Keyword == "vrrp_instance" || s.Keyword == "vrrp_sync_group"
	switch {
	case len(s.Args) == 0 && counted:
		b.diag.correctf(s.Pos, "%s needs a name: keepalived reports it and skips the block, and so does hactl", s.Keyword)
		return "", false
	case len(s.Args) == 0:
		b.diag.errorf(s.Pos, "%s needs a name (keepalived exits on a missing parameter)", s.Keyword)
		return "", false
	case len(s.Args) > 1 && counted:
		b.diag.correctf(s.Args[1].Pos, "%s takes one name, not %d words: keepalived reports it and skips the block, and so does hactl", s.Keyword, len(s.Args))
		return "", false
	case len(s.Args) > 1:
		b.extraWords(s, 1)
	}
	if !b.needBlock(s) {
		return "", false
	}
	return s.Args[0].Text, true
}

// valueLines returns the lines of a value block (virtual_ipaddress { ... })
// as word lists. keepalived also accepts the block's first line on the
// keyword's line after '{', which the tree already puts inside the block.
func (b *builder) valueLines(s *Statement) [][]Arg {
	if len(s.Args) > 0 {
		b.diag.correctf(s.Args[0].Pos, "%s: unexpected %q before '{' (values go inside the block): keepalived reports it and ignores it, and so does hactl", s.Keyword, s.Args[0].Text)
	}
	if !b.needBlock(s) {
		return nil
	}
	var out [][]Arg
	for _, c := range s.Block {
		if c.HasBlock {
			b.diag.errorf(c.Open, "unexpected '{' inside %s", s.Keyword)
		}
		out = append(out, c.Words())
	}
	return out
}

// command reads a script keyword: keepalived takes the first word as the
// command line (split again, honouring quotes) and the next two as user and
// group.
func (b *builder) command(s *Statement, allowUser bool) (*Command, bool) {
	max := 1
	if allowUser {
		max = 3
	}
	if !b.nargs(s, 1, max) {
		return nil, false
	}
	args, ok := splitWords(s.Args[0].Text)
	if !ok {
		b.diag.errorf(s.Args[0].Pos, "%s: unterminated quote in command %q", s.Keyword, s.Args[0].Text)
		return nil, false
	}
	if len(args) == 0 || args[0] == "" {
		b.diag.errorf(s.Args[0].Pos, "%s: empty command", s.Keyword)
		return nil, false
	}
	c := &Command{Args: args, Pos: s.Args[0].Pos}
	if len(s.Args) > 1 {
		c.User = s.Args[1].Text
	}
	if len(s.Args) > 2 {
		c.Group = s.Args[2].Text
	}
	b.noteScript(s.Pos)
	return c, true
}

func (b *builder) noteScript(p Pos) {
	if !b.scriptsUsed {
		b.scriptsUsed = true
		b.firstScript = p
	}
}

// sectionKeywords are keepalived's keywords with a sub-level of keywords,
// by the keyword of the block they are in ("" at top level); valueBlocks
// are those whose block is a list of values (keepalived's
// alloc_value_block). The tree parser reads a block for them even when
// their '{' is missing, as keepalived does.
var (
	sectionKeywords = map[string]map[string]bool{
		"": set("global_defs", "vrrp_script", "track_file", "vrrp_track_file", "vrrp_instance",
			"vrrp_sync_group", "virtual_server", "virtual_server_group", "static_ipaddress",
			"static_routes", "static_rules", "bfd_instance", "SSL", "linkbeat_interfaces",
			"track_group", "garp_group", "vrrp_track_process", "etcd_guard"),
		"vrrp_instance": set("authentication"),
	}
	valueBlocks = map[string]map[string]bool{
		"vrrp_instance": set("virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes",
			"virtual_rules", "track_interface", "track_script", "track_file", "track_process",
			"track_bfd", "unicast_peer"),
		"vrrp_sync_group": set("group", "track_interface", "track_script", "track_file",
			"track_process", "track_bfd"),
	}
)

// blockKeyword reports whether kw, inside a block of parent ("" at top
// level), opens a block for keepalived, and whether it is a section (a
// sub-level of keywords) rather than a value block.
func blockKeyword(parent, kw string) (section, ok bool) {
	if sectionKeywords[parent][kw] {
		return true, true
	}
	return false, valueBlocks[parent][kw]
}
