package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// Fixtures shared with pkg/config.
const (
	validConf   = "../config/testdata/valid.conf"
	invalidConf = "../config/testdata/invalid.conf"
)

// stubHost is a config.HostChecker with eth0 and every file present,
// executable and owned safely.
type stubHost struct{ ifaces map[string]bool }

type stubInfo struct{ mode fs.FileMode }

func (s stubInfo) Name() string       { return "x" }
func (s stubInfo) Size() int64        { return 0 }
func (s stubInfo) Mode() fs.FileMode  { return s.mode }
func (s stubInfo) ModTime() time.Time { return time.Time{} }
func (s stubInfo) IsDir() bool        { return s.mode.IsDir() }
func (s stubInfo) Sys() any           { return nil }

func (h stubHost) InterfaceExists(n string) bool { return h.ifaces[n] }
func (h stubHost) Stat(p string) (fs.FileInfo, error) {
	if strings.HasSuffix(p, "/") || filepath.Ext(p) == "" && !strings.Contains(filepath.Base(p), "true") {
		return stubInfo{fs.ModeDir | 0o755}, nil
	}
	return stubInfo{0o755}, nil
}
func (h stubHost) LookPath(n string) (string, error) { return "/usr/bin/" + n, nil }

func runCheck(t *testing.T, opts *ConfigCheckOptions) (int, string, string) {
	t.Helper()
	io, out, errOut := TestStreams()
	opts.IO = io
	if opts.Global == nil {
		opts.Global = &GlobalOptions{Output: "table"}
	}
	err := runConfigCheck(context.Background(), opts)
	if err != nil {
		var ee *ExitError
		if !asExit(err, &ee) || ee.Err != nil {
			errOut.WriteString("hactl: " + err.Error() + "\n")
		}
	}
	return ExitCode(err), out.String(), errOut.String()
}

func TestConfigCheckValid(t *testing.T) {
	code, out, errOut := runCheck(t, &ConfigCheckOptions{File: validConf, Host: stubHost{map[string]bool{"eth0": true}}})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if want := validConf + ":16:14: warning: (VI_1) VRRPv2 advert_int 1.5 must be whole seconds; rounded to 2\n"; errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
	if want := validConf + ": valid, 1 instance, 1 warning\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
}

func TestConfigCheckInvalidListsEveryError(t *testing.T) {
	code, out, errOut := runCheck(t, &ConfigCheckOptions{File: invalidConf, Host: stubHost{map[string]bool{"eth0": true}}})
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out != "" {
		t.Errorf("stdout not empty: %q", out)
	}
	for _, want := range []string{
		invalidConf + `:3:21: virtual_router_id "300" is not valid`,
		invalidConf + `:4:12: corrected: priority "0" is not valid`,
		invalidConf + `:5:9: corrected: unknown state "PRIMARY"`,
		invalidConf + `:7:5: corrected: (VI_1) track_script nosuch: no vrrp_script of that name is defined`,
		invalidConf + `:11:5: corrected: (VI_1) 2001:db8::1/128: every virtual_ipaddress must be of one address family`,
		invalidConf + `: invalid, 1 error, 4 corrections, 0 warnings`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestConfigCheckStrict(t *testing.T) {
	noIf := stubHost{map[string]bool{}}
	code, _, errOut := runCheck(t, &ConfigCheckOptions{File: validConf, Host: noIf})
	if code != 0 || !strings.Contains(errOut, ":13:3: warning: (VI_1) interface eth0 does not exist on this host") {
		t.Errorf("without --strict: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCheck(t, &ConfigCheckOptions{File: validConf, Host: noIf, Strict: true})
	if code != 1 || !strings.Contains(errOut, ":13:3: (VI_1) interface eth0 does not exist on this host") {
		t.Errorf("with --strict: exit %d\n%s", code, errOut)
	}
}

// TestConfigCheckClasses: config check's exit code follows keepalived's
// verdict: 1 for what keepalived corrects (the daemon would run it), 0
// for what it only notes, 1 for anything under --strict.
func TestConfigCheckClasses(t *testing.T) {
	const head = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.10/24\n  }\n"
	tests := []struct {
		name       string
		body       string
		code       int // without --strict; --strict always gives 1 when there is a finding
		want, last string
	}{
		{"clean", "", 0, "", ": valid, 1 instance, 0 warnings"},
		{"unknown keyword", "  priorty 5\n", 1, `:7:3: corrected: unknown keyword "priorty" in vrrp_instance VI_1: keepalived reports it and skips it, and so does hactl`,
			": invalid, 1 correction keepalived would apply (hactl daemon runs it with the same; --strict refuses it), 0 warnings"},
		{"unknown state", "  state Master\n", 1, `:7:9: corrected: unknown state "Master"`, "1 correction"},
		{"invalid number", "  priority 300\n", 1, `:7:12: corrected: priority "300" is not valid (1 to 255): keepalived reports it and uses the default 100`, "1 correction"},
		{"dropped track reference", "  track_script {\n    chk\n  }\n}\nvrrp_script chk {\n  script /bin/true\n", 1,
			`:8:5: corrected: (VI_1) track_script chk: vrrp_script chk is defined further down`, "1 correction"},
		{"extra word after a flag", "  nopreempt false\n", 0, `:7:13: warning: nopreempt takes no value: keepalived ignores "false" and sets nopreempt all the same`, ": valid, 1 instance, 1 warning"},
		{"nopreempt with MASTER", "  state MASTER\n  priority 100\n  nopreempt\n", 0, `:9:3: warning: (VI_1) nopreempt does not work with state MASTER`, ": valid"},
		{"missing parameter", "  priority\n", 1, `:7:3: priority needs a value (keepalived exits on a missing parameter)`, ": invalid, 1 error, 0 corrections"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "k.conf")
			if err := os.WriteFile(file, []byte(head+tc.body+"}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			host := stubHost{map[string]bool{"eth0": true}}
			code, out, errOut := runCheck(t, &ConfigCheckOptions{File: file, Host: host})
			if code != tc.code || !strings.Contains(errOut, tc.want) || !strings.Contains(out+errOut, tc.last) {
				t.Errorf("exit %d (want %d)\nstdout %s\nstderr %s\nwant %q and %q", code, tc.code, out, errOut, tc.want, tc.last)
			}
			code, _, errOut = runCheck(t, &ConfigCheckOptions{File: file, Host: host, Strict: true})
			if want := min(1, len(tc.want)); code != want {
				t.Errorf("--strict: exit %d, want %d\n%s", code, want, errOut)
			}
		})
	}
}

func TestConfigCheckDefaultPaths(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "hactl.conf")
	second := filepath.Join(dir, "keepalived.conf")
	host := stubHost{map[string]bool{"eth0": true}}
	src, err := os.ReadFile(validConf)
	if err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runCheck(t, &ConfigCheckOptions{Defaults: []string{first, second}, Host: host})
	if code != 1 || !strings.Contains(errOut, "none of "+first+", "+second+" exists") {
		t.Errorf("no file: exit %d\n%s", code, errOut)
	}
	if err := os.WriteFile(second, src, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCheck(t, &ConfigCheckOptions{Defaults: []string{first, second}, Host: host})
	if code != 0 || !strings.HasPrefix(out, second+": valid") {
		t.Errorf("fallback: exit %d %q", code, out)
	}
	if err := os.WriteFile(first, []byte("vrrp_instance X {\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCheck(t, &ConfigCheckOptions{Defaults: []string{first, second}, Host: host})
	if code != 1 || !strings.Contains(errOut, first+":1:1:") {
		t.Errorf("first default wins: exit %d\n%s", code, errOut)
	}
}

func TestConfigCheckJSON(t *testing.T) {
	code, out, _ := runCheck(t, &ConfigCheckOptions{File: invalidConf, Global: &GlobalOptions{Output: "json"}, Host: stubHost{map[string]bool{"eth0": true}}})
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var res struct {
		Valid       bool `json:"valid"`
		Errors      int  `json:"errors"`
		Corrected   int  `json:"corrected"`
		Diagnostics []struct {
			Pos      config.Pos `json:"pos"`
			Severity string     `json:"severity"`
			Message  string     `json:"message"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Valid || res.Errors != 1 || res.Corrected != 4 || res.Diagnostics[0].Pos.Line != 3 || res.Diagnostics[0].Severity != "error" ||
		res.Diagnostics[1].Severity != "corrected" {
		t.Errorf("got %+v", res)
	}
}

func TestConfigShow(t *testing.T) {
	io, out, errOut := TestStreams()
	err := runConfigShow(context.Background(), &ConfigShowOptions{IO: io, Global: &GlobalOptions{Output: "json"}, File: validConf})
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var doc struct {
		Instances []struct {
			Name        string  `json:"name"`
			Priority    int     `json:"priority"`
			AdvertIntMS float64 `json:"advert_int_ms"`
			McastGroup  string  `json:"mcast_group"`
			VIPs        []struct {
				Address string `json:"address"`
				Label   string `json:"label"`
			} `json:"virtual_ipaddress"`
			TrackScript []struct {
				Name   string `json:"name"`
				Weight int    `json:"weight"`
			} `json:"track_script"`
		} `json:"instances"`
		Global struct {
			ControlSocket string `json:"control_socket"`
		} `json:"global_defs"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	in := doc.Instances[0]
	if in.Name != "VI_1" || in.Priority != 150 || in.AdvertIntMS != 2000 || in.McastGroup != "224.0.0.18" ||
		in.VIPs[0].Address != "192.0.2.10/24" || in.VIPs[0].Label != "eth0:1" || in.TrackScript[0].Weight != -20 ||
		doc.Global.ControlSocket != "/run/hactl/hactl.sock" {
		t.Errorf("got %+v", doc)
	}
	if !strings.Contains(errOut.String(), "warning: (VI_1) VRRPv2 advert_int") {
		t.Errorf("warnings must go to stderr: %q", errOut)
	}

	io, out, _ = TestStreams()
	if err := runConfigShow(context.Background(), &ConfigShowOptions{IO: io, Global: &GlobalOptions{Output: "table"}, File: validConf}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "INSTANCE") || !strings.Contains(out.String(), "VI_1") || !strings.Contains(out.String(), "192.0.2.10/24") {
		t.Errorf("table:\n%s", out)
	}

	io, out, errOut = TestStreams()
	err = runConfigShow(context.Background(), &ConfigShowOptions{IO: io, Global: &GlobalOptions{Output: "json"}, File: invalidConf})
	if ExitCode(err) != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "invalid, 1 error") {
		t.Errorf("invalid: %v %q %q", err, out, errOut)
	}
}

func TestConfigCommandsThroughCobra(t *testing.T) {
	code, out, errOut := run(t, nil, "config", "show", "-o", "json", validConf)
	if code != 0 || !strings.Contains(out, `"instances"`) {
		t.Errorf("config show: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = run(t, nil, "config", "check", invalidConf)
	if code != 1 || !strings.Contains(errOut, "invalid, 1 error, 4 corrections") {
		t.Errorf("config check: exit %d\n%s", code, errOut)
	}
}

// TestConfigCheckCanceled: the command's context (SIGINT, SIGTERM) stops
// the reading.
func TestConfigCheckCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io, _, _ := TestStreams()
	err := runConfigCheck(ctx, &ConfigCheckOptions{IO: io, Global: &GlobalOptions{}, File: validConf})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}
