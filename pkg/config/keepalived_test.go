package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireRoot skips a test that needs root, or fails it under CI=true where
// every test must run.
func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: runs keepalived in a network namespace")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root (to create a network namespace), and CI=true requires every test to run")
		}
		t.Skip("needs root to create a network namespace for keepalived -t")
	}
}

// keepalivedNS creates a network namespace with veth links eth0..eth3 and
// removes it when the test ends. The root namespace is not touched.
func keepalivedNS(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	if _, err := exec.LookPath("keepalived"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("keepalived is not installed")
		}
		t.Skip("keepalived is not installed")
	}
	return vethNS(t, "hcfg-")
}

// vethNS creates a network namespace named prefix plus random hex, with
// veth pairs eth0-eth1 and eth2-eth3 (down, no addresses), and removes it
// when the test ends. The root namespace is not touched.
func vethNS(t *testing.T, prefix string) string {
	t.Helper()
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	ns := prefix + hex.EncodeToString(rnd[:])
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })
	ipCmd(t, "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	ipCmd(t, "-n", ns, "link", "add", "eth2", "type", "veth", "peer", "name", "eth3")
	return ns
}

// ipCmd runs ip with args, failing the test with its output on error.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// keepalivedCheck runs keepalived -t on file inside ns and returns its exit
// code and output.
func keepalivedCheck(t *testing.T, ns, file string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("ip", "netns", "exec", ns, "keepalived", "-t", "-l", "-f", file,
		"-p", filepath.Join(dir, "k.pid"), "-r", filepath.Join(dir, "v.pid"), "-c", filepath.Join(dir, "c.pid"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("keepalived -t: %v", err)
	return 0, ""
}

// inst wraps instance keywords in a vrrp_instance block.
func inst(name, body string) string {
	return "vrrp_instance " + name + " {\n" + body + "\n}\n"
}

const basicInst = `  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.10/24
  }`

// agreementCases are configurations whose keepalived verdict does not
// depend on the host beyond the namespace's eth0..eth3. want is hactl's
// verdict: "ok" (no diagnostics), "warn" (warnings only), "corrected"
// (keepalived reports it and runs with a correction, which hactl applies
// too; no hard error) or "error" (neither runs it).
var agreementCases = []struct {
	name, conf, want string
	extra            map[string]string // more files next to the main one
}{
	{name: "minimal", conf: inst("VI_1", basicInst), want: "ok"},
	// use_vmac is partial (a VMAC deleted while running is not re-created).
	{name: "vmac", want: "ok", conf: "global_defs {\n  vmac_prefix vm\n  vmac_addr_prefix va\n}\n" +
		inst("VI_1", basicInst+"\n  use_vmac vm51 02:11:22:33:44\n  use_vmac_addr\n  vmac_xmit_base\n  virtual_ipaddress_excluded {\n    192.0.2.30/24 dev eth1\n  }")},
	{name: "vmac-rfc5798-mac", want: "corrected", conf: inst("VI_1", basicInst+"\n  use_vmac 00:00:5e:00:01:33")},
	{name: "vmac-xmit-base-alone", want: "corrected", conf: inst("VI_1", basicInst+"\n  vmac_xmit_base")},
	{name: "vmac-unicast-no-interface", want: "corrected", conf: inst("VI_1", "  virtual_router_id 51\n  use_vmac\n  unicast_src_ip 192.0.2.1\n  unicast_peer {\n    192.0.2.2\n  }\n  virtual_ipaddress {\n    192.0.2.10/24\n  }")},
	{name: "garp-extra-if", want: "ok", conf: "global_defs {\n  vrrp_garp_extra_if 20 all\n}\n" + inst("VI_1", basicInst+"\n  garp_extra_if 30")},
	{name: "vmac-garp-intvl-deprecated", want: "warn", conf: inst("VI_1", basicInst+"\n  vmac_garp_intvl 30")},
	{name: "vmac-strict-mac", want: "corrected", conf: "global_defs {\n  vrrp_strict\n}\n" + inst("VI_1", basicInst+"\n  use_vmac 02:11:22:33:44:55")},
	// Every keyword here is implemented (vrrp_startup_delay since issue 17,
	// the tracked route dev too): no diagnostics, as keepalived gives none.
	{name: "everything", want: "ok", conf: `global_defs {
  router_id node1
  vrrp_version 2
  vrrp_mcast_group4 224.0.0.19
  vrrp_garp_master_delay 3
  vrrp_garp_master_repeat 2
  vrrp_garp_master_refresh 60
  vrrp_startup_delay 2.5
  enable_script_security
  script_user root
}
track_file tf1 {
  file /tmp/hactl-agreement-track
  weight 5
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 2
  nopreempt
  garp_master_delay 1
  garp_master_repeat 3
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.10/24 dev eth0 label eth0:vip brd 192.0.2.255 scope global
    192.0.2.11
  }
  virtual_ipaddress_excluded {
    198.51.100.7/32
  }
  virtual_routes {
    198.51.100.0/24 via 192.0.2.1 dev eth0
    blackhole 203.0.113.0/24 no_track
  }
  track_interface {
    eth2 weight 10
    eth3
  }
  track_file {
    tf1 weight 3
  }
}
vrrp_instance VI_2 {
  interface eth2
  virtual_router_id 51
  priority 90
  virtual_ipaddress {
    192.0.2.20
  }
}
vrrp_sync_group G1 {
  sync_group_tracking_weight
  group {
    VI_1
    VI_2
  }
}
`},
	{name: "v3 centiseconds", want: "ok", conf: inst("VI_1", basicInst+"\n  version 3\n  advert_int 0.25")},
	{name: "ipv6", want: "ok", conf: inst("VI_6", `  interface eth0
  virtual_router_id 7
  virtual_ipaddress {
    fe80::7/64
    2001:db8::7/64
  }`)},
	{name: "unicast", want: "ok", conf: inst("VI_U", basicInst+`
  unicast_src_ip 192.0.2.2
  check_unicast_src
  unicast_ttl 64
  unicast_fault_no_peer
  unicast_peer {
    192.0.2.3 min_ttl 1 max_ttl 255
    192.0.2.4
  }`)},
	// hactl's deliberate difference: it checks unicast sources anyway.
	{name: "unicast without check_unicast_src", want: "warn", conf: inst("VI_U", basicInst+`
  unicast_src_ip 192.0.2.2
  unicast_peer {
    192.0.2.3
  }`)},
	{name: "unicast_fault_no_peer without peers", want: "warn", conf: "global_defs {\n  vrrp_check_unicast_src\n}\n" + inst("VI_U", basicInst+`
  unicast_fault_no_peer`)},
	{name: "layout", want: "ok", conf: `! keepalived style comment
vrrp_instance VI_1
{
  interface eth0   # trailing comment
  virtual_router_id 51
  virtual_ipaddress { 192.0.2.10/24 }
  priority "100"
}
`},
	{name: "include", want: "ok", conf: "include sub/*.conf\n",
		extra: map[string]string{"sub/vi1.conf": inst("VI_1", basicInst)}},
	{name: "v2 fractional advert_int", want: "warn", conf: inst("VI_1", basicInst+"\n  advert_int 1.5")},
	{name: "nopreempt with MASTER", want: "warn", conf: inst("VI_1", basicInst+"\n  state MASTER\n  nopreempt")},
	{name: "auth with v3", want: "warn", conf: inst("VI_1", basicInst+"\n  version 3\n  authentication {\n    auth_type PASS\n    auth_pass x\n  }")},
	{name: "no VIP in v2", want: "warn", conf: inst("VI_1", "  interface eth0\n  virtual_router_id 51")},
	{name: "vrid 0", want: "error", conf: inst("VI_1", strings.Replace(basicInst, "51", "0", 1))},
	{name: "vrid 256", want: "error", conf: inst("VI_1", strings.Replace(basicInst, "51", "256", 1))},
	{name: "priority 0", want: "corrected", conf: inst("VI_1", strings.Replace(basicInst, "priority 100", "priority 0", 1))},
	{name: "priority 300", want: "corrected", conf: inst("VI_1", strings.Replace(basicInst, "priority 100", "priority 300", 1))},
	{name: "no vrid", want: "error", conf: inst("VI_1", "  interface eth0\n  virtual_ipaddress {\n    192.0.2.1\n  }")},
	{name: "no interface", want: "error", conf: inst("VI_1", "  virtual_router_id 5\n  virtual_ipaddress {\n    192.0.2.1\n  }")},
	{name: "unknown keyword", want: "corrected", conf: inst("VI_1", basicInst+"\n  priorty 100")},
	{name: "mixed families", want: "corrected", conf: inst("VI_1", basicInst+"\n  virtual_ipaddress {\n    2001:db8::1\n  }")},
	{name: "bad address", want: "corrected", conf: inst("VI_1", basicInst+"\n  virtual_ipaddress {\n    192.0.2.300\n  }")},
	{name: "duplicate vrid", want: "error", conf: inst("VI_1", basicInst) + inst("VI_2", strings.Replace(basicInst, "192.0.2.10", "192.0.2.11", 1))},
	{name: "undefined track_script", want: "corrected", conf: inst("VI_1", basicInst+"\n  track_script {\n    nosuch\n  }")},
	{name: "bad state", want: "corrected", conf: inst("VI_1", basicInst+"\n  state PRIMARY")},
	{name: "track weight out of range", want: "corrected", conf: inst("VI_1", basicInst+"\n  track_interface {\n    eth2 weight 300\n  }")},
	{name: "missing brace", want: "corrected", conf: inst("VI_1", basicInst+"\n  virtual_ipaddress {\n    192.0.2.12\n")},
	{name: "extra brace", want: "corrected", conf: inst("VI_1", basicInst) + "}\n"},
	{name: "script weight out of range", want: "corrected", conf: "global_defs {\n  enable_script_security\n  script_user root\n}\nvrrp_script chk {\n  script /bin/true\n  weight 300\n}\n" + inst("VI_1", basicInst+"\n  track_script {\n    chk\n  }")},
	// Issue 14: what keepalived ignores without a word, and what it
	// corrects (keepalived -t exits non-zero on each of the latter).
	{name: "extra words", want: "warn", conf: inst("VI_1", basicInst+"\n  nopreempt false\n  priority 100 100\n  advert_int 1 1\n  dont_track_primary yes\n  accept true") +
		"global_defs {\n  router_id a b\n  vrrp_strict true\n}\n"},
	{name: "state Master", want: "corrected", conf: inst("VI_1", basicInst+"\n  state Master")},
	{name: "track_interface on one line", want: "corrected", conf: inst("VI_1", basicInst+"\n  track_interface { eth2 eth3 weight -10 }")},
	{name: "forward track_script", want: "corrected", conf: "global_defs {\n  enable_script_security\n  script_user root\n}\n" +
		inst("VI_1", basicInst+"\n  track_script {\n    chk\n  }") + "vrrp_script chk {\n  script /bin/true\n}\n"},
	{name: "section without brace", want: "corrected", conf: "vrrp_instance VI_1\n" + basicInst + "\n}\n"},
	{name: "value block without brace", want: "corrected", conf: inst("VI_1", basicInst+"\n  virtual_ipaddress_excluded\n    192.0.2.99\n  }")},
	{name: "unknown block", want: "corrected", conf: inst("VI_1", basicInst+"\n  virtual_ipaddres {\n    192.0.2.99\n  }\n  advert_int 2")},
	{name: "duplicate instance, instance with two names", want: "corrected", conf: inst("VI_1", basicInst) + inst("VI_1", basicInst+"\n  priority 50") + inst("A B", basicInst)},
	{name: "garp interval 0", want: "corrected", conf: "global_defs {\n  vrrp_garp_interval 0\n}\n" + inst("VI_1", basicInst)},
}

// TestKeepalivedAgreement runs keepalived 2.2.7's own checker (-t) on the
// same files as hactl: whatever keepalived accepts hactl must accept, and
// whatever hactl rejects keepalived must reject. Where keepalived rejects
// and hactl accepts, hactl must at least warn.
func TestKeepalivedAgreement(t *testing.T) {
	ns := keepalivedNS(t)
	for _, tc := range agreementCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			main := filepath.Join(dir, "keepalived.conf")
			writeFiles(t, dir, map[string]string{"keepalived.conf": tc.conf})
			writeFiles(t, dir, tc.extra)
			_, diags, err := Load(main, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			code, out := keepalivedCheck(t, ns, main)
			t.Logf("keepalived -t: exit %d\n%s\nhactl:\n%s", code, out, diags)
			got := "ok"
			switch {
			case diags.HasErrors():
				got = "error"
			case diags.HasCorrected():
				got = "corrected"
			case len(diags) > 0:
				got = "warn"
			}
			if got != tc.want {
				t.Errorf("hactl verdict %s, want %s", got, tc.want)
			}
			switch {
			case code == 0 && (got == "error" || got == "corrected"):
				t.Errorf("keepalived accepts the file, hactl's config check rejects it (%s)", got)
			case code != 0 && got == "ok":
				t.Errorf("keepalived rejects the file (exit %d), hactl reports nothing", code)
			}
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
