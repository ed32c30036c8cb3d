//go:build linux

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badScripts makes, in a fresh directory, the three scripts the red-team
// pass found `config check --strict` passing and the daemon refusing, and
// one safe script. It needs root (chown).
func badScripts(t *testing.T) (dir string, paths map[string]string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	dir = t.TempDir()
	paths = map[string]string{}
	mk := func(name string, mode os.FileMode, uid, gid int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	paths["safe"] = mk("safe.sh", 0o755, 0, 0)
	paths["other_owner"] = mk("other_owner.sh", 0o755, 65534, 0)
	paths["group_writable"] = mk("group_writable.sh", 0o775, 0, 65534)
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // no sticky bit
		t.Fatal(err)
	}
	target := filepath.Join(open, "target.sh")
	if err := os.WriteFile(target, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths["symlink"] = filepath.Join(dir, "link.sh")
	if err := os.Symlink(target, paths["symlink"]); err != nil {
		t.Fatal(err)
	}
	return dir, paths
}

// scriptsConf tracks one vrrp_script per name and uses notifyMaster as
// the instance's notify_master script.
func scriptsConf(scripts map[string]string, names []string, notifyMaster string) string {
	var b strings.Builder
	// --strict makes keepalived's SECURITY VIOLATION warning an error.
	b.WriteString("global_defs {\n    enable_script_security\n    script_user root\n}\n")
	for _, n := range names {
		fmt.Fprintf(&b, "vrrp_script %s {\n    script %q\n    weight -10\n}\n", n, scripts[n])
	}
	b.WriteString("vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n    priority 100\n")
	if notifyMaster != "" {
		fmt.Fprintf(&b, "    notify_master %q\n", notifyMaster)
	}
	b.WriteString("    virtual_ipaddress {\n        192.0.2.10/24\n    }\n    track_script {\n")
	for _, n := range names {
		fmt.Fprintf(&b, "        %s\n", n)
	}
	b.WriteString("    }\n}\n")
	return b.String()
}

// TestConfigCheckStrictRefusesWhatTheDaemonRefuses: each of the three
// scripts is an error under --strict, at its script line, naming the
// script and the rule; a safe script passes.
func TestConfigCheckStrictRefusesWhatTheDaemonRefuses(t *testing.T) {
	dir, paths := badScripts(t)
	for _, tc := range []struct {
		name string
		want string
	}{
		{"other_owner", "is owned by uid 65534, neither root nor the runner"},
		{"group_writable", "is writable by group 65534 (mode 0775)"},
		{"symlink", filepath.Join(dir, "open") + " is writable by every user (mode 0777)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(dir, tc.name+".conf")
			if err := os.WriteFile(conf, []byte(scriptsConf(paths, []string{"safe", tc.name}, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runCheck(t, &ConfigCheckOptions{File: conf, Strict: true})
			if code != ExitFailure {
				t.Errorf("exit %d, want %d\n%s", code, ExitFailure, errOut)
			}
			// The script's line: the second vrrp_script block's "script".
			at := conf + ":10:12: vrrp_script " + tc.name + " (dropped: the instances tracking it run without it, as keepalived drops it): hactl daemon refuses this script: script " + paths[tc.name]
			if !strings.Contains(errOut, at) || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "safe.sh") {
				t.Errorf("stderr:\n%s\nwant %q and %q", errOut, at, tc.want)
			}
			if n := strings.Count(errOut, paths[tc.name]); n != 1 {
				t.Errorf("the script is named %d times, want once:\n%s", n, errOut)
			}
			// Without --strict the same finding is a warning: exit 0.
			if code, _, errOut := runCheck(t, &ConfigCheckOptions{File: conf}); code != 0 || !strings.Contains(errOut, "warning: vrrp_script "+tc.name) {
				t.Errorf("without --strict: exit %d\n%s", code, errOut)
			}
		})
	}
	t.Run("notify script", func(t *testing.T) {
		conf := filepath.Join(dir, "notify.conf")
		if err := os.WriteFile(conf, []byte(scriptsConf(paths, []string{"safe"}, paths["group_writable"])), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCheck(t, &ConfigCheckOptions{File: conf, Strict: true})
		if code != ExitFailure || !strings.Contains(errOut, "notify_master of instance VI_1 (it would be skipped): hactl daemon refuses this script") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
	t.Run("safe", func(t *testing.T) {
		conf := filepath.Join(dir, "safe.conf")
		if err := os.WriteFile(conf, []byte(scriptsConf(paths, []string{"safe"}, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := runCheck(t, &ConfigCheckOptions{File: conf, Strict: true}); code != 0 {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
}
