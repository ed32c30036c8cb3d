package config

import (
	"encoding/json"
	"math"
	"time"
)

// ParamMatch is how a vrrp_track_process compares a process's arguments
// with the ones configured (keepalived's param_match).
type ParamMatch string

// The param_match modes. ParamMatchNone compares no arguments.
const (
	ParamMatchNone ParamMatch = ""
	// ParamMatchExact: the arguments are exactly the ones given.
	ParamMatchExact ParamMatch = "exact"
	// ParamMatchInitial: the given arguments start the process's, the
	// last one possibly as a prefix of the process's argument.
	ParamMatchInitial ParamMatch = "initial"
	// ParamMatchPartial: the given arguments are the process's first
	// ones, whole; more may follow.
	ParamMatchPartial ParamMatch = "partial"
)

// QuorumMaxUnlimited is quorum_max when it is not set (keepalived's
// UINT_MAX).
const QuorumMaxUnlimited = math.MaxUint32

// TrackProcess is a vrrp_track_process block: the number of running
// processes that match decides whether it is up (quorum <= count <=
// quorum_max).
type TrackProcess struct {
	Name string `json:"name"`
	Pos  Pos    `json:"pos"`
	// Process is the name compared with /proc/PID/stat's comm, or, with
	// FullCommand, with the first word of /proc/PID/cmdline.
	Process string `json:"process"`
	// Params are the words after the process on the process line.
	Params     []string   `json:"params,omitempty"`
	ParamMatch ParamMatch `json:"param_match,omitempty"`
	// FullCommand compares the command line rather than comm (set too by
	// Params and ParamMatch, as keepalived does).
	FullCommand   bool `json:"full_command"`
	Weight        int  `json:"weight"`
	WeightReverse bool `json:"weight_reverse"`
	// Quorum and QuorumMax bound the number of matching processes for
	// the tracker to be up; QuorumMax 0 (with Quorum 0) means up while
	// none runs.
	Quorum    uint32 `json:"quorum"`
	QuorumMax uint32 `json:"quorum_max"`
	// TerminateDelay holds off a loss of quorum by an exit; ForkDelay
	// holds off a gain by a fork of a tracked process. delay sets both.
	TerminateDelay time.Duration `json:"-"`
	ForkDelay      time.Duration `json:"-"`
}

// MarshalJSON encodes durations as *_ms numbers.
func (p TrackProcess) MarshalJSON() ([]byte, error) {
	type plain TrackProcess
	return json.Marshal(struct {
		plain
		TerminateDelayMS float64 `json:"terminate_delay_ms"`
		ForkDelayMS      float64 `json:"fork_delay_ms"`
	}{plain(p), ms(p.TerminateDelay), ms(p.ForkDelay)})
}

// IfDelay is one interface_up_down_delays line: a link change of the
// interface takes effect for its trackers only once it has lasted this
// long (keepalived's down_debounce_timer and up_debounce_timer).
type IfDelay struct {
	Interface string        `json:"interface"`
	Down      time.Duration `json:"-"`
	Up        time.Duration `json:"-"`
	Pos       Pos           `json:"pos"`
}

// MarshalJSON encodes durations as *_ms numbers.
func (d IfDelay) MarshalJSON() ([]byte, error) {
	type plain IfDelay
	return json.Marshal(struct {
		plain
		DownMS float64 `json:"down_ms"`
		UpMS   float64 `json:"up_ms"`
	}{plain(d), ms(d.Down), ms(d.Up)})
}

// paramMatchWords are param_match's values.
var paramMatchWords = map[string]ParamMatch{"initial": ParamMatchInitial, "partial": ParamMatchPartial}

// maxProcessDelay is the largest delay keepalived takes (3600 s).
const maxProcessDelay = 3600 * time.Second

// trackProcess reads a vrrp_track_process block as keepalived's
// vrrp_tprocess_* handlers do.
func (b *builder) trackProcess(s *Statement) {
	name, ok := b.sectionName(s)
	if !ok {
		return
	}
	if o, dup := b.procs[name]; dup {
		b.diag.correctf(s.Args[0].Pos, "vrrp_track_process %s is already defined at %s: keepalived keeps both and resolves references to the first, and hactl keeps the first", name, o.Pos)
		return
	}
	tp := &TrackProcess{Name: name, Pos: s.Pos, Quorum: 1, QuorumMax: QuorumMaxUnlimited}
	what := "vrrp_track_process " + name
	delay := func(c *Statement, term, fork bool) {
		if !b.nargs(c, 1, 1) {
			return
		}
		d, note, err := parseSeconds(c.Args[0].Text, time.Microsecond, maxProcessDelay)
		if err != nil {
			b.diag.correctf(c.Args[0].Pos, "%s: %s: %v: keepalived reports it and ignores it, and so does hactl", what, c.Keyword, err)
			return
		}
		if note != "" {
			b.diag.warnf(c.Args[0].Pos, "%s: %s: %s", what, c.Keyword, note)
		}
		if term {
			tp.TerminateDelay = d
		}
		if fork {
			tp.ForkDelay = d
		}
	}
	h := map[string]handler{
		"process": func(c *Statement) {
			if !b.nargs(c, 1, -1) {
				return
			}
			if tp.Process != "" {
				b.diag.correctf(c.Pos, "%s: process is already set: keepalived reports it and ignores %q, and so does hactl", what, c.Args[0].Text)
				return
			}
			tp.Process = c.Args[0].Text
			for _, a := range c.Args[1:] {
				tp.Params = append(tp.Params, a.Text)
			}
			if len(tp.Params) > 0 {
				if tp.ParamMatch == ParamMatchNone {
					tp.ParamMatch = ParamMatchExact
				}
				tp.FullCommand = true
			}
		},
		"param_match": func(c *Statement) {
			if !b.nargs(c, 0, 1) {
				return
			}
			mode := ParamMatchExact
			if len(c.Args) == 1 {
				m, ok := paramMatchWords[c.Args[0].Text]
				if !ok {
					b.diag.correctf(c.Args[0].Pos, "%s: invalid param_match type %q (want initial or partial, or nothing for exact): keepalived reports it and ignores it, and so does hactl", what, c.Args[0].Text)
					return
				}
				mode = m
			}
			tp.ParamMatch, tp.FullCommand = mode, true
		},
		"weight": func(c *Statement) {
			if !b.nargs(c, 1, 2) {
				return
			}
			if tp.Weight != 0 {
				b.diag.correctf(c.Pos, "%s: weight is already set: keepalived reports it and ignores %q, and so does hactl", what, c.Args[0].Text)
				return
			}
			n, err := parseInt(c.Args[0].Text, -254, 254)
			if err != nil {
				b.diag.correctf(c.Args[0].Pos, "%s: weight must be between -254 and 254: %v: keepalived reports it and ignores it, and so does hactl", what, err)
				return
			}
			if len(c.Args) > 1 {
				if c.Args[1].Text == "reverse" {
					tp.WeightReverse = true
				} else {
					b.diag.correctf(c.Args[1].Pos, "%s: unknown weight option %q (want reverse): keepalived reports it and ignores it, and so does hactl", what, c.Args[1].Text)
				}
			}
			tp.Weight = int(n)
		},
		"quorum": func(c *Statement) {
			if !b.nargs(c, 1, 1) {
				return
			}
			n, err := parseUint(c.Args[0].Text, 1, 65535)
			switch {
			case err != nil:
				b.diag.correctf(c.Args[0].Pos, "%s: quorum must be between 1 and 65535: %v: keepalived reports it and ignores it, and so does hactl", what, err)
			case uint32(n) > tp.QuorumMax:
				b.diag.correctf(c.Args[0].Pos, "%s: quorum %d is greater than quorum_max %d: keepalived reports it and ignores it, and so does hactl", what, n, tp.QuorumMax)
			default:
				tp.Quorum = uint32(n)
			}
		},
		"quorum_max": func(c *Statement) {
			if !b.nargs(c, 1, 1) {
				return
			}
			n, err := parseUint(c.Args[0].Text, 0, 65535)
			switch {
			case err != nil:
				b.diag.correctf(c.Args[0].Pos, "%s: quorum_max must be between 0 and 65535: %v: keepalived reports it and ignores it, and so does hactl", what, err)
				return
			case (n != 0 || tp.Quorum > 1) && uint32(n) < tp.Quorum:
				b.diag.correctf(c.Args[0].Pos, "%s: quorum_max %d is less than quorum %d: keepalived reports it and ignores it, and so does hactl", what, n, tp.Quorum)
				return
			}
			tp.QuorumMax = uint32(n)
			if n == 0 {
				tp.Quorum = 0
			} else if tp.Quorum == 0 {
				tp.Quorum = 1
			}
		},
		"delay":           func(c *Statement) { delay(c, true, true) },
		"terminate_delay": func(c *Statement) { delay(c, true, false) },
		"fork_delay":      func(c *Statement) { delay(c, false, true) },
		"full_command": func(c *Statement) {
			if b.nargs(c, 0, 0) {
				tp.FullCommand = true
			}
		},
	}
	b.walk(s, blockSpec{name: what, ctx: CtxTrackProcess, handlers: h})
	if tp.Process == "" {
		b.diag.correctf(s.Pos, "%s has no process: keepalived reports it (process name not specified) and removes it (instances do not track it), and so does hactl", what)
		b.invalid[name] = true
		return
	}
	if !tp.FullCommand && len(tp.Process) > 15 {
		b.diag.warnf(s.Pos, "%s: process %q is longer than the 15 bytes the kernel keeps of a process name (comm): it never matches, in keepalived as in hactl (use full_command to compare the command line)", what, tp.Process)
	}
	b.procs[name] = tp
	b.cfg.TrackProcesses = append(b.cfg.TrackProcesses, tp)
}

// procLookup finds vrrp_track_process definitions for resolveRefs.
func (b *builder) procLookup(n string) (int, bool, Pos, bool) {
	tp, ok := b.procs[n]
	if !ok {
		return 0, false, Pos{}, false
	}
	return tp.Weight, tp.WeightReverse, tp.Pos, true
}

// groupProcessWeights applies keepalived's one rule for a sync group's
// track_process: its weights stay (sync_group_tracking_weight or not),
// but are set to 0 when a member is an address owner.
func (b *builder) groupProcessWeights(g *SyncGroup, refs []TrackRef, byName map[string]*Instance) []TrackRef {
	owner := false
	for _, m := range g.Instances {
		if in := byName[m]; in != nil && in.Priority == ownerPriority {
			owner = true
		}
	}
	if !owner {
		return refs
	}
	for i, r := range refs {
		if r.Weight != 0 {
			b.diag.correctf(r.Pos, "(%s) cannot have weighted track process %s with a member having priority %d: keepalived reports it and sets the weight to 0, and so does hactl", g.Name, r.Name, ownerPriority)
			refs[i].Weight = 0
		}
	}
	return refs
}

// ifDelays reads interface_up_down_delays: lines "IFNAME DOWN [UP]" of
// seconds (0 to 255, microseconds), as keepalived's alloc_if_up_down_delay.
func (b *builder) ifDelays(s *Statement) {
	for _, line := range b.valueLines(s) {
		name := line[0]
		if !validIfName(name.Text) {
			b.diag.correctf(name.Pos, "interface_up_down_delays: interface name %q is invalid: keepalived reports it and ignores the line, and so does hactl", name.Text)
			continue
		}
		if len(line) < 2 {
			b.diag.correctf(name.Pos, "interface_up_down_delays: no timeouts specified for %s: keepalived reports it and ignores the line, and so does hactl", name.Text)
			continue
		}
		if len(line) > 3 {
			b.diag.warnf(line[3].Pos, "interface_up_down_delays: too many parameters for %s: keepalived reports it and ignores %q and what follows, and so does hactl", name.Text, line[3].Text)
		}
		d := IfDelay{Interface: name.Text, Pos: name.Pos}
		ok := true
		for i, dst := range []*time.Duration{&d.Down, &d.Up} {
			if i+1 >= len(line) {
				break
			}
			v, note, err := parseSeconds(line[i+1].Text, 0, 255*time.Second)
			if err != nil {
				b.diag.correctf(line[i+1].Pos, "interface_up_down_delays: invalid %s delay for %s: %v: keepalived reports it and ignores the line, and so does hactl", [2]string{"down", "up"}[i], name.Text, err)
				ok = false
				break
			}
			if note != "" {
				b.diag.warnf(line[i+1].Pos, "interface_up_down_delays: %s", note)
			}
			*dst = v
		}
		if !ok {
			continue
		}
		replaced := false
		for i, o := range b.cfg.IfDelays {
			if o.Interface == d.Interface {
				b.cfg.IfDelays[i], replaced = d, true
			}
		}
		if !replaced {
			b.cfg.IfDelays = append(b.cfg.IfDelays, d)
		}
	}
}
