package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const unitFile = "hactl.service"

// unit is a parsed unit file: section -> key -> values, in order (a key
// may repeat).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value in a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func TestHardening(t *testing.T) {
	u := parseUnit(t, unitFile)
	want := map[string]string{
		"Type":                     "notify",
		"NotifyAccess":             "main",
		"ExecStart":                "/usr/bin/hactl daemon $HACTL_OPTS",
		"ExecReload":               "/bin/kill -HUP $MAINPID",
		"Restart":                  "on-failure",
		"RuntimeDirectory":         "hactl",
		"RuntimeDirectoryPreserve": "yes",
		"NoNewPrivileges":          "yes",
		"ProtectSystem":            "strict",
		"ProtectHome":              "read-only",
		"PrivateTmp":               "yes",
		"PrivateDevices":           "yes",
		"ProtectKernelTunables":    "yes",
		"ProtectKernelModules":     "yes",
		"ProtectControlGroups":     "yes",
		"RestrictNamespaces":       "yes",
		"RestrictSUIDSGID":         "yes",
		"LockPersonality":          "yes",
		"SystemCallArchitectures":  "native",
		"KillMode":                 "mixed",
	}
	for k, v := range want {
		if got := u.get("Service", k); got != v {
			t.Errorf("[Service] %s=%q, want %q", k, got, v)
		}
	}
	if got := u.get("Service", "ReadWritePaths"); strings.TrimPrefix(got, "-") != "/run/hactl" {
		t.Errorf("ReadWritePaths=%q, want /run/hactl", got)
	}
	// Exactly the capabilities the daemon needs: a new one must be
	// justified in the unit's comment and added here.
	caps := strings.Fields(u.get("Service", "CapabilityBoundingSet"))
	wantCaps := []string{"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN"}
	if strings.Join(caps, " ") != strings.Join(wantCaps, " ") {
		t.Errorf("CapabilityBoundingSet=%v, want %v", caps, wantCaps)
	}
	if u.get("Service", "AmbientCapabilities") != "" {
		t.Error("AmbientCapabilities set: the daemon runs as root and needs none")
	}
	if u.get("Service", "User") != "" {
		t.Error("User= set: scripts need a root parent to run as their users")
	}
	fams := strings.Fields(u.get("Service", "RestrictAddressFamilies"))
	if strings.Join(fams, " ") != "AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET" {
		t.Errorf("RestrictAddressFamilies=%v", fams)
	}
	if u.get("Unit", "Conflicts") != "keepalived.service" {
		t.Error("no Conflicts=keepalived.service: two VRRP daemons on one node")
	}
	if u.get("Install", "WantedBy") != "multi-user.target" {
		t.Error("no WantedBy=multi-user.target")
	}
	// Every capability in the set is explained in a comment.
	raw, _ := os.ReadFile(unitFile)
	for _, c := range wantCaps {
		if !regexp.MustCompile(`(?m)^#\s+` + c + `\s`).Match(raw) {
			t.Errorf("%s is not justified in a comment", c)
		}
	}
}

// installed writes the unit with its programs pointing at files that exist
// here, since systemd-analyze checks that ExecStart is executable.
func installed(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(raw), "/usr/bin/hactl", self)
	if _, err := os.Stat("/bin/kill"); err != nil {
		s = strings.ReplaceAll(s, "/bin/kill", self)
	}
	path := filepath.Join(t.TempDir(), unitFile)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func systemdAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze not found (Debian package systemd); CI=true makes this a failure")
		}
		t.Skip("systemd-analyze not found (Debian package systemd)")
	}
	return p
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	sa := systemdAnalyze(t)
	out, err := exec.Command(sa, "verify", "--man=no", installed(t)).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdAnalyzeSecurity keeps the unit's exposure score where it is
// (3.3 of 10 with systemd 252; "OK").
func TestSystemdAnalyzeSecurity(t *testing.T) {
	sa := systemdAnalyze(t)
	out, err := exec.Command(sa, "security", "--offline=yes", "--no-pager", installed(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure %.1f", score)
	if score > 4.0 {
		t.Errorf("exposure %.1f > 4.0: the unit lost hardening\n%s", score, out)
	}
}
