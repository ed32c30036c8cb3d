package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTimingKeywords: keepalived's timing knobs, their global defaults
// and strict mode's rules (vrrp.c, vrrp_complete_instance).
func TestTimingKeywords(t *testing.T) {
	timing := func(in *Instance, _ *Config) any {
		return sp(in.Timing.DownTimerAdverts, in.Timing.LowerPrioNoAdvert, in.Timing.HigherPrioSendAdvert)
	}
	garp := func(in *Instance, _ *Config) any {
		g := in.GARP
		return sp(g.MasterRepeat, g.MasterDelay, g.MasterRefreshRepeat, g.LowerPrioRepeat, g.LowerPrioDelay)
	}
	glob := func(body string) string { return "global_defs {\n" + body + "}\n" }
	tests := []struct {
		name string
		src  string
		get  func(*Instance, *Config) any
		want string
		diag string
	}{
		{"defaults", withInst(""), timing, "3 false false", ""},
		{"instance", withInst("  down_timer_adverts 5\n  lower_prio_no_advert\n  higher_prio_send_advert true\n"), timing, "5 true true", ""},
		{"global defaults", glob(" vrrp_down_timer_adverts 1\n vrrp_lower_prio_no_advert\n vrrp_higher_prio_send_advert\n") + withInst(""), timing, "1 true true", ""},
		{"instance over global", glob(" vrrp_down_timer_adverts 1\n vrrp_lower_prio_no_advert\n") + withInst("  down_timer_adverts 4\n  lower_prio_no_advert false\n"), timing, "4 false false", ""},
		{"out of range", withInst("  down_timer_adverts 101\n"), timing, "3 false false", "down_timer_adverts"},
		{"strict defaults", glob(" vrrp_strict\n vrrp_higher_prio_send_advert\n") + withInst(""), timing, "3 true false", ""},
		{"strict refuses", glob(" vrrp_strict\n") + withInst("  down_timer_adverts 2\n  lower_prio_no_advert off\n  higher_prio_send_advert\n"), timing, "3 true false", "incompatible with strict mode"},
		{"startup delay", glob(" vrrp_startup_delay 2.5\n") + withInst(""), func(_ *Instance, c *Config) any { return c.Global.StartupDelay }, "2.5s", ""},
		{"garp defaults", withInst(""), garp, fmt.Sprint(sp(5, 5*time.Second, 1, 5, 5*time.Second)), ""},
		{"vrrp_min_garp", glob(" vrrp_min_garp\n") + withInst(""), garp, fmt.Sprint(sp(1, time.Duration(0), 0, 1, time.Duration(0))), ""},
		{"vrrp_min_garp keeps what was set", glob(" vrrp_garp_master_repeat 3\n vrrp_min_garp true\n") + withInst(""), garp, fmt.Sprint(sp(3, time.Duration(0), 0, 3, time.Duration(0))), ""},
		{"vrrp_min_garp false", glob(" vrrp_min_garp false\n") + withInst(""), garp, fmt.Sprint(sp(5, 5*time.Second, 1, 5, 5*time.Second)), ""},
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
			if strings.Contains(diags.String(), "not implemented in hactl") || strings.Contains(diags.String(), ": partial in hactl: hactl counts") {
				t.Errorf("a timing keyword is still warned about:\n%s", diags)
			}
		})
	}
}
