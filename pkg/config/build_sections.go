package config

import (
	"maps"
	"math"
	"strconv"
	"time"
)

// scriptIgnored are vrrp_script keywords hactl skips (none today).
var scriptIgnored = set()

func (b *builder) vrrpScript(s *Statement) {
	name, ok := b.sectionName(s)
	if !ok {
		return
	}
	if o, dup := b.scripts[name]; dup {
		b.diag.correctf(s.Args[0].Pos, "vrrp_script %s is already defined at %s: keepalived keeps both and resolves references to the first, and hactl keeps the first", name, o.Pos)
		return
	}
	sc := &Script{Name: name, Pos: s.Pos, Interval: time.Second, Rise: 1, Fall: 1}
	hasScript := false
	// user may come before script: keepalived keeps it aside and so does
	// this, applied once the block is read.
	var user, group string
	h := map[string]handler{
		"script": func(c *Statement) {
			if hasScript {
				b.diag.errorf(c.Pos, "script is already set for vrrp_script %s", name)
				return
			}
			if len(c.Args) > 1 {
				b.diag.warnf(c.Args[1].Pos, "script: words after the command are ignored, as keepalived does; quote the command line to pass arguments")
				c = &Statement{Keyword: c.Keyword, Pos: c.Pos, Args: c.Args[:1], HasBlock: c.HasBlock, Open: c.Open}
			}
			if cmd, ok := b.command(c, false); ok {
				sc.Command, hasScript = *cmd, true
			}
		},
		"interval": func(c *Statement) { b.scriptSeconds(c, &sc.Interval) },
		"timeout":  func(c *Statement) { b.scriptSeconds(c, &sc.Timeout) },
		"weight": func(c *Statement) {
			if !b.nargs(c, 1, 2) {
				return
			}
			n, err := parseInt(c.Args[0].Text, -253, 253)
			if err != nil {
				// keepalived reports it and keeps what strtol read.
				n, _ = strconv.ParseInt(c.Args[0].Text, 10, 32)
				b.diag.correctf(c.Args[0].Pos, "vrrp_script %s: weight must be between -253 and 253: %v: keepalived reports it and uses %d all the same, and so does hactl", name, err, n)
			}
			sc.Weight = int(n)
			if len(c.Args) > 1 {
				if c.Args[1].Text != "reverse" {
					b.diag.correctf(c.Args[1].Pos, "vrrp_script %s: unknown weight option %q (want reverse): keepalived reports it and ignores it, and so does hactl", name, c.Args[1].Text)
					return
				}
				sc.WeightReverse = true
			}
		},
		"rise": func(c *Statement) { b.uintInto(c, &sc.Rise, 1, math.MaxInt32) },
		"fall": func(c *Statement) { b.uintInto(c, &sc.Fall, 1, math.MaxInt32) },
		"user": func(c *Statement) {
			if b.nargs(c, 1, 2) {
				user, group = c.Args[0].Text, ""
				if len(c.Args) > 1 {
					group = c.Args[1].Text
				}
			}
		},
		"init_fail": func(c *Statement) {
			if b.nargs(c, 0, 0) {
				sc.InitFail = true
			}
		},
	}
	b.walk(s, blockSpec{name: "vrrp_script " + name, ctx: CtxScript, handlers: h, ignored: scriptIgnored})
	if !hasScript {
		b.diag.correctf(s.Pos, "vrrp_script %s has no script: keepalived reports it and removes it (instances do not track it), and so does hactl", name)
		b.invalid[name] = true
		return
	}
	if user != "" {
		sc.Command.User, sc.Command.Group = user, group
	}
	b.scripts[name] = sc
	b.cfg.Scripts = append(b.cfg.Scripts, sc)
}

// scriptSeconds reads a whole number of seconds; 0 becomes 1 as in
// keepalived.
func (b *builder) scriptSeconds(s *Statement, dst *time.Duration) {
	if !b.nargs(s, 1, 1) {
		return
	}
	n, err := parseUint(s.Args[0].Text, 0, maxDelaySeconds)
	if err != nil {
		b.badValue(s, s.Args[0].Pos, "%s: %v", s.Keyword, err)
		return
	}
	if n == 0 {
		b.diag.correctf(s.Args[0].Pos, "%s must be greater than 0: keepalived reports it and uses 1, and so does hactl", s.Keyword)
		n = 1
	}
	*dst = time.Duration(n) * time.Second
}

func (b *builder) trackFile(s *Statement) {
	name, ok := b.sectionName(s)
	if !ok {
		return
	}
	if o, dup := b.tfiles[name]; dup {
		b.diag.errorf(s.Args[0].Pos, "track_file %s is already defined at %s", name, o.Pos)
		return
	}
	tf := &TrackFile{Name: name, Pos: s.Pos, Weight: 1}
	h := map[string]handler{
		"file": func(c *Statement) {
			if !b.nargs(c, 1, 1) {
				return
			}
			if tf.File != "" {
				b.diag.errorf(c.Pos, "file is already set for track_file %s", name)
				return
			}
			tf.File = c.Args[0].Text
		},
		"weight": func(c *Statement) {
			if !b.nargs(c, 1, 2) {
				return
			}
			n, err := parseInt(c.Args[0].Text, -254, 254)
			if err != nil {
				b.diag.correctf(c.Args[0].Pos, "track_file %s: weight must be between -254 and 254: %v: keepalived reports it and uses 1, and so does hactl", name, err)
				n = 1
			}
			tf.Weight = int(n)
			if len(c.Args) > 1 {
				if c.Args[1].Text != "reverse" {
					b.diag.correctf(c.Args[1].Pos, "track_file %s: unknown weight option %q (want reverse): keepalived reports it and ignores it, and so does hactl", name, c.Args[1].Text)
					return
				}
				tf.WeightReverse = true
			}
		},
		"init_file": func(c *Statement) {
			if !b.noBlock(c) {
				return
			}
			tf.InitFile = true
			for _, a := range c.Args {
				if a.Text == "overwrite" {
					tf.Overwrite = true
					continue
				}
				n, err := parseInt(a.Text, -254, 254)
				if err != nil {
					b.diag.correctf(a.Pos, "track_file %s: init_file: want a value in [-254, 254] or overwrite, not %q: keepalived reports it and ignores it, and so does hactl", name, a.Text)
					continue
				}
				tf.InitValue = int(n)
			}
		},
	}
	b.walk(s, blockSpec{name: "track_file " + name, ctx: CtxTrackFile, handlers: h})
	if tf.File == "" {
		b.diag.correctf(s.Pos, "track_file %s has no file: keepalived reports it and removes it (instances do not track it), and so does hactl", name)
		b.invalid[name] = true
		return
	}
	b.tfiles[name] = tf
	b.cfg.TrackFiles = append(b.cfg.TrackFiles, tf)
}

// groupDraft is a vrrp_sync_group before its references are resolved.
type groupDraft struct {
	g          *SyncGroup
	members    []Arg
	scriptRefs []refDraft
	fileRefs   []refDraft
	procRefs   []refDraft
}

// syncGroupIgnored are vrrp_sync_group keywords hactl skips.
var syncGroupIgnored = set("track_bfd", "smtp_alert")

func (b *builder) syncGroup(s *Statement) {
	name, ok := b.sectionName(s)
	if !ok {
		return
	}
	if o, dup := b.groupByName[name]; dup {
		b.diag.correctf(s.Args[0].Pos, "vrrp_sync_group %s is already defined at %s: keepalived reports it and skips this block, and so does hactl", name, o.g.Pos)
		return
	}
	gd := &groupDraft{g: &SyncGroup{Name: name, Pos: s.Pos}}
	g := gd.g
	hasGroup := false
	h := map[string]handler{
		"group": func(c *Statement) {
			if hasGroup {
				b.diag.correctf(c.Pos, "group is already given for vrrp_sync_group %s: keepalived reports it and skips this one, and so does hactl", name)
				return
			}
			hasGroup = true
			for _, line := range b.valueLines(c) {
				gd.members = append(gd.members, line...)
			}
		},
		"notify_master": func(c *Statement) { b.notify(c, &g.Notify.Master) },
		"notify_backup": func(c *Statement) { b.notify(c, &g.Notify.Backup) },
		"notify_fault":  func(c *Statement) { b.notify(c, &g.Notify.Fault) },
		"notify_stop":   func(c *Statement) { b.notify(c, &g.Notify.Stop) },
		"notify":        func(c *Statement) { b.notify(c, &g.Notify.Any) },
		"track_interface": func(c *Statement) {
			g.TrackInterfaces = append(g.TrackInterfaces, b.trackInterfaces(c, g.TrackInterfaces)...)
		},
		"guard":        func(c *Statement) { b.guardRef(c, &g.Guard, &g.GuardPos) },
		"track_script": func(c *Statement) { gd.scriptRefs = append(gd.scriptRefs, b.trackRefs(c)...) },
		"track_file":   func(c *Statement) { gd.fileRefs = append(gd.fileRefs, b.trackRefs(c)...) },
		"track_process": func(c *Statement) {
			gd.procRefs = append(gd.procRefs, b.trackRefs(c)...)
		},
		"sync_group_tracking_weight": func(c *Statement) {
			if b.nargs(c, 0, 0) {
				g.TrackingWeight = true
			}
		},
	}
	maps.Copy(h, b.syncGroupNotifyHandlers(g))
	spec := blockSpec{name: "vrrp_sync_group " + name, ctx: CtxSyncGroup, handlers: h, ignored: syncGroupIgnored,
		deprecated: map[string]string{"global_tracking": "sync_group_tracking_weight"}}
	b.walk(s, spec)
	if len(gd.members) == 0 {
		b.diag.correctf(s.Pos, "vrrp_sync_group %s has no group { ... } of instances: keepalived reports it and removes the group, and so does hactl", name)
		return
	}
	b.groups = append(b.groups, gd)
	b.groupByName[name] = gd
}
