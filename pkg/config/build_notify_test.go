package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestNotifyKeywords: the notify FIFOs and the extra notifications, as
// keepalived 2.2.7 reads them (global_parser.c notify_fifo and
// notify_fifo_script, vrrp_parser.c).
func TestNotifyKeywords(t *testing.T) {
	group := func(extra string) string {
		return withInst("") + "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n" + extra + "}\n"
	}
	fifo := func(f *FIFO) string {
		if f == nil {
			return "none"
		}
		s := fmt.Sprintf("%s %s:%s", f.Path, f.User, f.Group)
		if f.Script != nil {
			s += fmt.Sprintf(" script=%q %s:%s", f.Script.Args, f.Script.User, f.Script.Group)
		}
		return s
	}
	tests := []struct {
		name string
		src  string
		get  func(in *Instance, c *Config) any
		want string
		diag string // a diagnostic that must be there
	}{
		{"no fifo", withInst(""), func(_ *Instance, c *Config) any {
			n := c.Global.Notify
			return sp(fifo(n.FIFO), fifo(n.VRRPFIFO), n.PriorityChanges, n.WriteStatesOnReload, c.NotifiesPriority(c.Instances[0]))
		}, "none none false false false", ""},
		{"notify_fifo", "global_defs {\n notify_fifo /run/k.fifo\n notify_fifo_script \"/bin/reader -x\" nobody nogroup\n}\n" + withInst(""),
			func(_ *Instance, c *Config) any { return fifo(c.Global.Notify.FIFO) }, `/run/k.fifo : script=["/bin/reader" "-x"] nobody:nogroup`, ""},
		{"script before fifo", "global_defs {\n vrrp_notify_fifo_script /bin/reader\n vrrp_notify_fifo /run/v.fifo nobody\n}\n" + withInst(""),
			func(_ *Instance, c *Config) any { return fifo(c.Global.Notify.VRRPFIFO) }, `/run/v.fifo nobody: script=["/bin/reader"] :`, ""},
		{"second fifo ignored", "global_defs {\n notify_fifo /a\n notify_fifo /b\n}\n" + withInst(""),
			func(_ *Instance, c *Config) any { return fifo(c.Global.Notify.FIFO) }, "/a :", "notify_fifo already specified"},
		{"fifo without name", "global_defs {\n vrrp_notify_fifo\n}\n" + withInst(""),
			func(_ *Instance, c *Config) any { return fifo(c.Global.Notify.VRRPFIFO) }, "none", "no vrrp_notify_fifo name"},
		{"switches", "global_defs {\n vrrp_notify_priority_changes\n fifo_write_vrrp_states_on_reload\n}\n" + withInst(""),
			func(in *Instance, c *Config) any {
				return sp(c.Global.Notify.PriorityChanges, c.Global.Notify.WriteStatesOnReload, c.NotifiesPriority(in))
			}, "true true true", ""},
		{"priority changes off globally", "global_defs {\n vrrp_notify_priority_changes false\n}\n" + withInst(""),
			func(in *Instance, c *Config) any { return c.NotifiesPriority(in) }, "false", ""},
		{"instance overrides global", "global_defs {\n vrrp_notify_priority_changes\n}\n" + withInst("  notify_priority_changes no\n"),
			func(in *Instance, c *Config) any { return c.NotifiesPriority(in) }, "false", ""},
		{"group's default", group("  notify_priority_changes\n"),
			func(_ *Instance, c *Config) any { return c.NotifiesPriority(c.Instances[0]) }, "true", ""},
		{"instance overrides group", "vrrp_instance VI_1 {\n" + base + "  notify_priority_changes false\n}\nvrrp_sync_group G {\n  group {\n    VI_1\n  }\n  notify_priority_changes\n}\n",
			func(_ *Instance, c *Config) any { return c.NotifiesPriority(c.Instances[0]) }, "false", ""},
		{"bad bool", withInst("  notify_priority_changes maybe\n"),
			func(in *Instance, c *Config) any { return in.NotifyPriorityChanges == nil }, "true", "notify_priority_changes"},
		{"notify_deleted", withInst("  notify_deleted\n"),
			func(in *Instance, _ *Config) any { return sp(in.NotifyDeleted, in.Notify.Deleted == nil) }, "true true", ""},
		{"notify_deleted script", withInst("  notify_deleted \"/bin/gone x\"\n"),
			func(in *Instance, _ *Config) any { return sp(in.NotifyDeleted, in.Notify.Deleted.Args) }, "true [/bin/gone x]", ""},
		{"notify_master_rx_lower_pri", withInst("  notify_master_rx_lower_pri /bin/recover\n"),
			func(in *Instance, _ *Config) any { return in.Notify.MasterRxLowerPri.Args }, "[/bin/recover]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := parseString(t, tt.src)
			if diags.HasErrors() {
				t.Fatalf("errors:\n%s", diags)
			}
			if got := fmt.Sprint(tt.get(cfg.Instances[0], cfg)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.diag != "" && !strings.Contains(diags.String(), tt.diag) {
				t.Errorf("diagnostics lack %q:\n%s", tt.diag, diags)
			}
			if strings.Contains(diags.String(), "not implement") {
				t.Errorf("a notify keyword is still warned about:\n%s", diags)
			}
		})
	}
}
