package config

import (
	"strconv"
	"strings"
)

// keywordUse is where a configuration uses a keyword that hactl does not
// (fully) implement.
type keywordUse struct {
	k     Keyword
	first Pos
	n     int
}

// keywordWalk collects the uses of the keywords Keywords marks partial or
// not implemented.
type keywordWalk struct {
	uses  []*keywordUse
	index map[[2]string]*keywordUse
}

// warnKeywords walks the block tree after the build and warns, once per
// keyword and with the count of its uses, about every keyword the
// configuration uses that hactl does not implement the way keepalived
// does (Keywords' Partial and NotImplemented entries). Ignored keywords
// are already in reportIgnored's warning; sections that failed to build
// are walked all the same: what they say is not done either way.
func (b *builder) warnKeywords(top []*Statement) {
	w := &keywordWalk{index: map[[2]string]*keywordUse{}}
	w.top(top)
	for _, u := range w.uses {
		msg := u.k.Name + ": " + string(u.k.Status) + " in hactl: " + u.k.Diff
		if u.k.Context != CtxTop && u.k.Context != CtxGlobal && u.k.Context != CtxInstance && u.k.Context != CtxSyncGroup {
			msg = u.k.Context + " " + msg
		}
		if u.n > 1 {
			msg += " (" + strconv.Itoa(u.n) + " uses; this is the first)"
		}
		if u.k.Corrected {
			b.diag.correctf(u.first, "%s", msg)
			continue
		}
		b.diag.warnf(u.first, "%s", msg)
	}
}

func (w *keywordWalk) top(stmts []*Statement) {
	for _, s := range stmts {
		w.noteStmt(CtxTop, s)
		switch s.Keyword {
		case "global_defs":
			w.block(CtxGlobal, s.Block)
		case "vrrp_instance":
			w.instance(s.Block)
		case "vrrp_sync_group":
			w.block(CtxSyncGroup, s.Block)
		case "static_ipaddress":
			for _, c := range s.Block {
				if ws := c.Words(); len(ws) > 1 {
					w.options(CtxVIP, ws[1:])
				}
			}
		case "static_routes":
			for _, c := range s.Block {
				w.routeLine(c.Words())
			}
		case "static_rules":
			for _, c := range s.Block {
				w.options(CtxRule, c.Words())
			}
		default:
			if _, isBlock := blockKeyword("", s.Keyword); s.HasBlock && !s.NoOpen && !isBlock {
				w.top(s.Block) // read as top-level keywords, as above
			}
		}
	}
}

// watchedBlocks are the blocks whose difference (keepalived watches the
// entries for deletions by hand, hactl does not) exists only for lines
// keepalived tracks; a block whose every line is untracked is not noted.
// None now: static_routes, the last, is watched as keepalived watches it.
var watchedBlocks = map[[2]string]bool{}

// anyTracked reports whether a line of s is one keepalived tracks: a route
// with dev (or oif) and without no_track.
func anyTracked(s *Statement) bool {
	for _, c := range s.Block {
		words := c.Words()
		noTrack, dev := false, false
		for _, a := range words {
			if a.Text == "nexthop" {
				break
			}
			switch a.Text {
			case "no_track":
				noTrack = true
			case "dev", "oif":
				dev = true
			}
		}
		if !noTrack && dev {
			return true
		}
	}
	return false
}

func (w *keywordWalk) noteStmt(ctx string, s *Statement) {
	if watchedBlocks[[2]string{ctx, s.Keyword}] && !anyTracked(s) {
		return
	}
	w.note(ctx, s.Keyword, s.Pos)
}

func (w *keywordWalk) note(ctx, name string, p Pos) {
	k, ok := lookupKeyword(ctx, name)
	if !ok || (k.Status != KeywordPartial && k.Status != KeywordNotImplemented) {
		return
	}
	key := [2]string{ctx, name}
	u := w.index[key]
	if u == nil {
		u = &keywordUse{k: k, first: p}
		w.index[key] = u
		w.uses = append(w.uses, u)
	}
	u.n++
}

func (w *keywordWalk) block(ctx string, stmts []*Statement) {
	for _, s := range stmts {
		if _, isBlock := blockKeyword(ctx, s.Keyword); s.HasBlock && !s.NoOpen && !isBlock {
			// A bare '{', or one after a keyword that takes no block (an
			// unknown one too): keepalived reads its lines as keywords
			// of this block.
			w.block(ctx, s.Block)
		}
		if offFlag(s) {
			continue
		}
		w.noteStmt(ctx, s)
	}
}

// offFlag reports a flag keyword turned off by its argument
// ("strict_mode off"), which asks for keepalived's default.
func offFlag(s *Statement) bool {
	if len(s.Args) != 1 {
		return false
	}
	switch strings.ToLower(s.Args[0].Text) {
	case "off", "false", "no", "0":
		return true
	}
	return false
}

func (w *keywordWalk) instance(stmts []*Statement) {
	w.block(CtxInstance, stmts)
	iface := ""
	for _, s := range stmts {
		if s.Keyword == "interface" && len(s.Args) > 0 {
			iface = s.Args[0].Text
		}
	}
	for _, s := range stmts {
		switch s.Keyword {
		case "virtual_ipaddress", "virtual_ipaddress_excluded":
			for _, c := range s.Block {
				w.vipLine(c.Words(), iface)
			}
		case "virtual_routes":
			for _, c := range s.Block {
				w.routeLine(c.Words())
			}
		case "virtual_rules":
			for _, c := range s.Block {
				w.options(CtxRule, c.Words())
			}
		case "unicast_peer":
			for _, c := range s.Block {
				w.options(CtxUnicastPeer, c.Args)
			}
		}
	}
}

// tracked are the options noted only when keepalived would track the
// interface they name (vipLine, routeLine).
var tracked = map[[2]string]bool{{CtxVIP, "dev"}: true, {CtxRoute, "dev"}: true, {CtxRoute, "oif"}: true}

// options notes the option keywords of a line, skipping their values.
func (w *keywordWalk) options(ctx string, words []Arg) {
	for i := 0; i < len(words); i++ {
		k, ok := lookupKeyword(ctx, words[i].Text)
		if !ok {
			continue
		}
		if !tracked[[2]string{ctx, k.Name}] {
			w.note(ctx, k.Name, words[i].Pos)
		}
		i += k.Values
	}
}

// vipLine notes a VIP line's options, and a dev other than the
// instance's interface without no_track: keepalived faults the instance
// when that interface goes down, hactl does not.
func (w *keywordWalk) vipLine(words []Arg, iface string) {
	if len(words) < 2 {
		return
	}
	w.options(CtxVIP, words[1:])
	var dev *Arg
	noTrack := false
	for i := 1; i < len(words); i++ {
		switch words[i].Text {
		case "dev":
			if i+1 < len(words) {
				dev = &words[i+1]
			}
		case "no_track":
			noTrack = true
		}
	}
	if dev != nil && !noTrack && dev.Text != iface {
		w.note(CtxVIP, "dev", dev.Pos)
	}
}

// routeLine notes a virtual_routes line's options; the destination and
// values are skipped. A route with dev and without no_track is noted too:
// keepalived faults the instance when that interface goes down.
func (w *keywordWalk) routeLine(words []Arg) {
	nh := len(words)
	for i, a := range words {
		if a.Text == "nexthop" {
			nh = i
			break
		}
	}
	if nh < len(words) {
		nh++ // the first nexthop is a route option
	}
	w.options(CtxRoute, words[:nh])
	w.options(CtxNexthop, words[nh:])
	dev, noTrack := "", false
	var devPos Pos
	for i, a := range words {
		if a.Text == "nexthop" {
			break
		}
		switch a.Text {
		case "dev", "oif":
			if i+1 < len(words) {
				dev, devPos = a.Text, words[i+1].Pos
			}
		case "no_track":
			noTrack = true
		}
	}
	if dev != "" && !noTrack {
		w.note(CtxRoute, dev, devPos)
	}
}
