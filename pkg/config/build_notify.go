package config

// The notification keywords beyond the notify scripts: the notify FIFOs
// of global_defs and their switches (keepalived's global_parser.c,
// notify_fifo and notify_fifo_script), and the instances' and sync
// groups' extra notifications (vrrp_parser.c).

// globalNotifyHandlers are global_defs' FIFO keywords.
func (b *builder) globalNotifyHandlers(g *GlobalDefs) map[string]handler {
	n := &g.Notify
	return map[string]handler{
		"notify_fifo":             func(s *Statement) { b.fifo(s, "", &n.FIFO) },
		"notify_fifo_script":      func(s *Statement) { b.fifoScript(s, "", &n.FIFO) },
		"vrrp_notify_fifo":        func(s *Statement) { b.fifo(s, "vrrp_", &n.VRRPFIFO) },
		"vrrp_notify_fifo_script": func(s *Statement) { b.fifoScript(s, "vrrp_", &n.VRRPFIFO) },
		"vrrp_notify_priority_changes": func(s *Statement) {
			b.flag(s, &n.PriorityChanges)
		},
		"fifo_write_vrrp_states_on_reload": func(s *Statement) {
			// keepalived's handler takes no value and reads none.
			if len(s.Args) > 0 {
				b.extraWords(s, 0)
			}
			n.WriteStatesOnReload = true
		},
	}
}

// fifo reads "notify_fifo PATH [USER [GROUP]]"; a second one is reported
// and ignored, as keepalived does.
func (b *builder) fifo(s *Statement, kind string, dst **FIFO) {
	if len(s.Args) == 0 {
		b.diag.correctf(s.Pos, "no %snotify_fifo name specified: keepalived reports it and ignores the line, and so does hactl", kind)
		return
	}
	if *dst != nil && (*dst).Path != "" {
		b.diag.correctf(s.Args[0].Pos, "%snotify_fifo already specified: keepalived reports it and ignores %s, and so does hactl", kind, s.Args[0].Text)
		return
	}
	if !b.nargs(s, 1, 3) {
		return
	}
	if *dst == nil {
		*dst = &FIFO{}
	}
	f := *dst
	f.Path, f.Pos = s.Args[0].Text, s.Args[0].Pos
	if len(s.Args) > 1 {
		f.User = s.Args[1].Text
	}
	if len(s.Args) > 2 {
		f.Group = s.Args[2].Text
	}
}

// fifoScript reads "notify_fifo_script CMD [USER [GROUP]]".
func (b *builder) fifoScript(s *Statement, kind string, dst **FIFO) {
	if len(s.Args) == 0 {
		b.diag.correctf(s.Pos, "no %snotify_fifo_script specified: keepalived reports it and ignores the line, and so does hactl", kind)
		return
	}
	if *dst != nil && (*dst).Script != nil {
		b.diag.correctf(s.Args[0].Pos, "%snotify_fifo_script already specified: keepalived reports it and ignores %s, and so does hactl", kind, s.Args[0].Text)
		return
	}
	c, ok := b.command(s, true)
	if !ok {
		return
	}
	if *dst == nil {
		*dst = &FIFO{}
	}
	(*dst).Script = c
}

// instanceNotifyHandlers are a vrrp_instance's extra notifications.
func (b *builder) instanceNotifyHandlers(in *Instance) map[string]handler {
	return map[string]handler{
		"notify_deleted": func(s *Statement) {
			if in.NotifyDeleted {
				b.diag.correctf(s.Pos, "notify_deleted already specified: keepalived reports it and ignores the line, and so does hactl")
				return
			}
			if len(s.Args) > 0 {
				c, ok := b.command(s, true)
				if !ok {
					return
				}
				in.Notify.Deleted = c
			}
			in.NotifyDeleted = true
		},
		"notify_master_rx_lower_pri": func(s *Statement) { b.notify(s, &in.Notify.MasterRxLowerPri) },
		"notify_priority_changes":    func(s *Statement) { b.optionalFlag(s, &in.NotifyPriorityChanges) },
	}
}

// syncGroupNotifyHandlers are a vrrp_sync_group's.
func (b *builder) syncGroupNotifyHandlers(g *SyncGroup) map[string]handler {
	return map[string]handler{
		"notify_priority_changes": func(s *Statement) { b.optionalFlag(s, &g.NotifyPriorityChanges) },
	}
}

// optionalFlag is flag for a setting that inherits when not given.
func (b *builder) optionalFlag(s *Statement, dst **bool) {
	var v bool
	if b.flag(s, &v) {
		*dst = &v
	}
}

// NotifiesPriority reports whether in's effective priority changes are
// notified (MASTER_PRIORITY, BACKUP_PRIORITY lines): its own
// notify_priority_changes, else its sync group's, else the global
// vrrp_notify_priority_changes, as keepalived resolves it (vrrp.c,
// vrrp_complete_instance).
func (c *Config) NotifiesPriority(in *Instance) bool {
	if in.NotifyPriorityChanges != nil {
		return *in.NotifyPriorityChanges
	}
	for _, g := range c.SyncGroups {
		if g.Name == in.SyncGroup && g.NotifyPriorityChanges != nil {
			return *g.NotifyPriorityChanges
		}
	}
	return c.Global.Notify.PriorityChanges
}
