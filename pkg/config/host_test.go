package config

import (
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

type fakeInfo struct {
	name string
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

// fakeHost is a HostChecker with a fixed set of interfaces and files.
type fakeHost struct {
	ifaces map[string]bool
	files  map[string]fs.FileMode
	path   map[string]string
}

func (h fakeHost) InterfaceExists(n string) bool { return h.ifaces[n] }

func (h fakeHost) Stat(p string) (fs.FileInfo, error) {
	if m, ok := h.files[p]; ok {
		return fakeInfo{p, m}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
}

func (h fakeHost) LookPath(n string) (string, error) {
	if p, ok := h.path[n]; ok {
		return p, nil
	}
	return "", os.ErrNotExist
}

func TestCheck(t *testing.T) {
	src := `global_defs {
  enable_script_security
}
vrrp_script ok {
  script "/usr/bin/ok arg"
}
vrrp_script open {
  script /opt/x/open.sh
}
vrrp_script gone {
  script /nowhere/gone.sh
}
vrrp_script bypath {
  script "pidof sshd"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  track_interface {
    eth9
  }
  notify_master /tmp/evil.sh
  virtual_ipaddress {
    192.0.2.1 dev eth8
  }
}
`
	cfg, diags := parseString(t, src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	host := fakeHost{
		ifaces: map[string]bool{"eth0": true},
		files: map[string]fs.FileMode{
			"/usr/bin/ok": 0o755, "/usr/bin": fs.ModeDir | 0o755, "/usr": fs.ModeDir | 0o755, "/": fs.ModeDir | 0o755,
			"/opt/x/open.sh": 0o757, "/opt/x": fs.ModeDir | 0o755, "/opt": fs.ModeDir | 0o755,
			"/tmp/evil.sh": 0o755, "/tmp": fs.ModeDir | fs.ModeSticky | 0o777,
			"/usr/bin/pidof": 0o755,
		},
		path: map[string]string{"pidof": "/usr/bin/pidof"},
	}
	got := Check(cfg, host)
	want := []string{
		"test.conf:8:10: warning: script /opt/x/open.sh is writable by others: keepalived disables the vrrp_script with enable_script_security and runs it without; hactl's daemon refuses it either way",
		"test.conf:11:10: warning: script /nowhere/gone.sh does not exist: keepalived disables the vrrp_script, and so does hactl's daemon (the instances tracking it run without it)",
		"test.conf:20:5: warning: (VI_1) track_interface eth9 does not exist on this host: keepalived reports it and does not track it; hactl tracks it as down (its weight applies, or FAULT when unweighted) until it appears",
		"test.conf:24:5: warning: (VI_1) address 192.0.2.1/32 dev eth8 does not exist on this host: keepalived reports it and skips the address; hactl keeps it and fails to add it while the interface is missing, and tracks the interface: the instance stays in FAULT until it appears (no_track on the address says not to)",
	}
	var lines []string
	for _, d := range got {
		if !d.HostDependent {
			t.Errorf("not host-dependent: %v", d)
		}
		lines = append(lines, d.String())
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !got.Strict().HasErrors() || got.HasErrors() {
		t.Error("Strict must turn host-dependent warnings into errors")
	}
}

func TestJSON(t *testing.T) {
	cfg, diags := parseString(t, withInst("  version 3\n  advert_int 0.5\n  preempt_delay 3\n  vip_lease 4\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b, err := jsonMarshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"advert_int_ms":500`, `"preempt_delay_ms":3000`, `"vip_lease_ms":4000`, `"virtual_router_id":51`,
		`"address":"192.0.2.10/24"`, `"master_delay_ms":5000`, `"vrrp_mcast_group4":"224.0.0.18"`, `"instances":[`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// countingHost counts interface lookups (each a full dump on a real host).
type countingHost struct {
	fakeHost
	asked map[string]int
}

func (h countingHost) InterfaceExists(n string) bool {
	h.asked[n]++
	return h.fakeHost.InterfaceExists(n)
}

func TestCheckAsksOncePerInterface(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		b.WriteString("vrrp_instance VI_" + string(rune('0'+i)) + " {\n  interface eth0\n  virtual_router_id " + string(rune('0'+i)) + "\n  virtual_ipaddress {\n    192.0.2." + string(rune('0'+i)) + "\n  }\n}\n")
	}
	cfg, diags := parseString(t, b.String())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	h := countingHost{fakeHost: fakeHost{ifaces: map[string]bool{"eth0": true}}, asked: map[string]int{}}
	if d := Check(cfg, h); d.HasErrors() || len(d) != 0 {
		t.Fatalf("diagnostics: %v", d)
	}
	if h.asked["eth0"] != 1 {
		t.Errorf("eth0 looked up %d times for 5 instances, want once", h.asked["eth0"])
	}
}

// userHost is a fakeHost that also knows users and groups.
type userHost struct {
	fakeHost
	users, groups map[string]bool
}

func (h userHost) UserExists(n string) bool  { return h.users[n] }
func (h userHost) GroupExists(n string) bool { return h.groups[n] }

// TestCheckScriptUsers: keepalived resolves a script's user when it reads
// the line and drops the vrrp_script (or ignores the notify script) when
// the user or group does not exist; config check says so, as a
// host-dependent warning.
func TestCheckScriptUsers(t *testing.T) {
	src := `vrrp_script chk {
  user ghost
  script /bin/true
}
vrrp_script grp {
  script /bin/true
  user root nogroup
}
vrrp_script fine {
  script /bin/true
  user root root
}
` + withInst("  notify_master \"/bin/true\" ghost\n  track_script {\n    chk\n    grp\n    fine\n  }\n")
	cfg, diags := parseString(t, src)
	if diags.HasErrors() || diags.HasCorrected() {
		t.Fatalf("%s", diags)
	}
	h := userHost{fakeHost{ifaces: map[string]bool{"eth0": true}, files: map[string]fs.FileMode{"/bin/true": 0o755, "/bin": fs.ModeDir | 0o755, "/": fs.ModeDir | 0o755}},
		map[string]bool{"root": true}, map[string]bool{"root": true}}
	got := Check(cfg, h)
	want := []string{
		"test.conf:3:10: warning: script user ghost of vrrp_script chk does not exist on this host: keepalived reports it and drops the vrrp_script (the instances tracking it run without it), and so does hactl's daemon",
		"test.conf:6:10: warning: script group nogroup of vrrp_script grp does not exist on this host: keepalived reports it and drops the vrrp_script",
		"test.conf:19:17: warning: script user ghost of notify_master of instance VI_1 does not exist on this host: keepalived ignores the notify script (Invalid user/group), and so does hactl's daemon",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(want), got)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].String(), w) || !got[i].HostDependent {
			t.Errorf("diagnostic %d:\n%s\nwant prefix\n%s", i, got[i], w)
		}
	}
	// A host that cannot tell users apart checks none.
	if d := Check(cfg, h.fakeHost); len(d) != 0 {
		t.Errorf("without a UserChecker: %s", d)
	}
}
