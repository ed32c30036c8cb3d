package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The files the package must install, in Debian's standard places.
var wantFiles = []string{
	"./usr/bin/hactl",
	"./lib/systemd/system/hactl.service",
	"./etc/hactl/hactl.conf",
	"./etc/default/hactl",
	"./usr/share/man/man1/hactl.1.gz",
	"./usr/share/man/man1/hactl-daemon.1.gz",
	"./usr/share/bash-completion/completions/hactl",
	"./usr/share/zsh/vendor-completions/_hactl",
	"./usr/share/fish/vendor_completions.d/hactl.fish",
	"./usr/share/doc/hactl/copyright",
	"./usr/share/doc/hactl/README.md",
}

func need(t *testing.T, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (Debian package %s); CI=true makes this a failure", prog, pkg)
		}
		t.Skipf("%s not found (Debian package %s)", prog, pkg)
	}
	return p
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDebPackage builds the package as make deb does (scripts/deb.sh on a
// freshly built binary), inspects it, installs it into a throwaway root
// and runs the installed hactl from there.
func TestDebPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hactl and a Debian package (about 20 s)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("Debian packages are built on Linux")
	}
	dpkgDeb := need(t, "dpkg-deb", "dpkg")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hactl")
	run(t, repo, nil, "go", "build", "-trimpath", "-ldflags",
		"-s -w -X github.com/hactl/hactl/pkg/version.Version=v1.2.3-4-gabcdef0", "-o", bin, "./cmd/hactl")
	out := run(t, repo, []string{"VERSION=v1.2.3-4-gabcdef0"}, "scripts/deb.sh", bin, filepath.Join(tmp, "dist"))
	deb := strings.TrimSpace(out)
	if filepath.Base(deb) != "hactl_1.2.3+4.gabcdef0_"+debArch(t)+".deb" {
		t.Errorf("package file %s: want the Debian version 1.2.3+4.gabcdef0", deb)
	}

	info := run(t, "", nil, dpkgDeb, "--info", deb)
	for _, want := range []string{"Package: hactl", "Version: 1.2.3+4.gabcdef0", "Architecture: " + debArch(t), "Section: net", "conffiles", "postinst", "prerm", "postrm"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
		}
	}
	contents := run(t, "", nil, dpkgDeb, "--contents", deb)
	for _, f := range wantFiles {
		if !containsPath(contents, f) {
			t.Errorf("package lacks %s", f)
		}
	}
	for _, line := range strings.Split(contents, "\n") {
		if line != "" && !strings.Contains(line, " root/root ") {
			t.Errorf("not owned by root: %s", line)
		}
	}

	root := filepath.Join(tmp, "root")
	if os.Geteuid() == 0 && haveProg("dpkg") {
		installWithDpkg(t, root, deb)
	} else {
		t.Log("not root or no dpkg: extracting with dpkg-deb -x instead of installing")
		run(t, "", nil, dpkgDeb, "-x", deb, root)
	}
	hactl := filepath.Join(root, "usr/bin/hactl")
	if v := run(t, "", nil, hactl, "version"); !strings.Contains(v, "v1.2.3-4-gabcdef0") {
		t.Errorf("installed hactl version: %s", v)
	}
	conf := filepath.Join(root, "etc/hactl/hactl.conf")
	if v := run(t, "", nil, hactl, "config", "check", conf); !strings.Contains(v, "valid, 0 instances, 0 warnings") {
		t.Errorf("config check of the shipped config: %s", v)
	}
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/hactl.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/usr/bin/hactl daemon") {
		t.Errorf("unit not in place or not pointing at /usr/bin/hactl: %v", err)
	}
	// The commented example in the shipped config is valid once
	// uncommented (its interface may be missing here: a warning).
	example := filepath.Join(tmp, "example.conf")
	if err := os.WriteFile(example, []byte(uncommentExample(t, conf)), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := run(t, "", nil, hactl, "config", "check", example); !strings.Contains(v, "valid, 1 instance") {
		t.Errorf("the example of hactl.conf: %s", v)
	}
	if os.Geteuid() == 0 && haveProg("dpkg") {
		purgeWithDpkg(t, root)
	}
}

// uncommentExample returns the example of hactl.conf, from its
// "# vrrp_script" line on, without the leading "# ".
func uncommentExample(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(b), "\n# vrrp_script ")
	if !ok {
		t.Fatal("no example vrrp_script in hactl.conf")
	}
	var out []string
	for _, line := range strings.Split("# vrrp_script "+example, "\n") {
		line = strings.TrimPrefix(line, "#")
		out = append(out, strings.TrimPrefix(line, " "))
	}
	return strings.Join(out, "\n")
}

// installWithDpkg installs into an empty dpkg database under root. The
// maintainer scripts run outside a chroot (the root has no shell) with
// DPKG_ROOT set, which they honour by doing nothing to the host.
func installWithDpkg(t *testing.T, root, deb string) {
	t.Helper()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// libc6 and procps are not in the empty database: --force-depends.
	run(t, "", nil, "dpkg", "--root="+root, "--force-script-chrootless", "--force-depends", "--log=/dev/null", "-i", deb)
	st := run(t, "", nil, "dpkg", "--root="+root, "--status", "hactl")
	if !strings.Contains(st, "Status: install ok installed") {
		t.Errorf("dpkg --status:\n%s", st)
	}
	for _, c := range []string{"/etc/hactl/hactl.conf", "/etc/default/hactl"} {
		if !strings.Contains(st, c) {
			t.Errorf("%s is not a conffile:\n%s", c, st)
		}
	}
}

func purgeWithDpkg(t *testing.T, root string) {
	t.Helper()
	run(t, "", nil, "dpkg", "--root="+root, "--force-script-chrootless", "--log=/dev/null", "--purge", "hactl")
	for _, f := range []string{"usr/bin/hactl", "etc/hactl/hactl.conf", "lib/systemd/system/hactl.service"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			t.Errorf("%s left after purge", f)
		}
	}
}

func haveProg(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

func debArch(*testing.T) string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	}
	return runtime.GOARCH
}

// containsPath reports whether dpkg-deb --contents lists path (the last
// field of a line).
func containsPath(contents, path string) bool {
	for _, line := range strings.Split(contents, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == path {
			return true
		}
	}
	return false
}
