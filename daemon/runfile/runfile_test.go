package runfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// plantTarget makes a root-only file with known content, the kind of file
// an attacker wants the daemon to overwrite or open up.
func plantTarget(t *testing.T) string {
	t.Helper()
	target := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(target, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return target
}

func checkTarget(t *testing.T, target string) {
	t.Helper()
	fi, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(target)
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode() != 0o600 || string(b) != "secret\n" || int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
		t.Errorf("target changed: mode %v uid %d gid %d content %q", fi.Mode(), st.Uid, st.Gid, b)
	}
}

func TestWriteReplacesAPlantedSymlink(t *testing.T) {
	target := plantTarget(t)
	path := filepath.Join(t.TempDir(), "hactl.pid")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("42\n"), 0o644, -1); err != nil {
		t.Fatal(err)
	}
	checkTarget(t, target)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("pid file: %v %v, want a regular file 0644", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(path); string(b) != "42\n" {
		t.Errorf("pid file holds %q", b)
	}
}

func TestWriteModeAndGroup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	const gid = 50
	if err := Write(path, []byte("{}"), 0o640, gid); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o640 || (os.Getuid() == 0 && st.Gid != gid) {
		t.Errorf("mode %v gid %d, want 0640 and group %d", fi.Mode(), st.Gid, gid)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1 (no temporaries left)", len(entries))
	}
}

func TestWriteFailureLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if err := os.Mkdir(path, 0o755); err != nil { // rename over a directory fails
		t.Fatal(err)
	}
	if err := Write(path, []byte("x"), 0o644, -1); err == nil {
		t.Error("rename over a directory: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries left, want only the directory", len(entries))
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	target := plantTarget(t)
	regular := filepath.Join(dir, "regular")
	os.WriteFile(regular, []byte("123\n"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 100), 0o644)
	for _, tc := range []struct {
		path, want, err string
	}{
		{regular, "123\n", ""},
		{link, "", "not a regular file"},
		{fifo, "", "not a regular file"},
		{dir, "", "not a regular file"},
		{big, "", "larger than 64 bytes"},
		{filepath.Join(dir, "missing"), "", "no such file"},
	} {
		b, err := Read(tc.path, 64)
		if tc.err == "" && (err != nil || string(b) != tc.want) {
			t.Errorf("%s: %q %v, want %q", tc.path, b, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want an error with %q", tc.path, err, tc.err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing"), 64); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v does not match os.ErrNotExist", err)
	}
}

func TestCheckDir(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: the modes and owners checked are root's")
	}
	base := t.TempDir() // 0700 root, under a sticky /tmp
	mk := func(name string, mode os.FileMode, uid, gid int) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
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
	os.Chmod(base, 0o755)
	good := mk("good", 0o755, 0, 0)
	rootGroup := mk("rootgroup", 0o775, 0, 0)
	world := mk("world", 0o777, 0, 0)
	sticky := mk("sticky", os.ModeSticky|0o777, 0, 0)
	staff := mk("staff", 0o775, 0, 50)
	foreign := mk("foreign", 0o755, 65534, 65534)
	under := filepath.Join(world, "hactl")
	os.Mkdir(under, 0o755)
	underSticky := filepath.Join(sticky, "hactl")
	os.Mkdir(underSticky, 0o755)
	link := filepath.Join(base, "link")
	os.Symlink(world, link)
	for _, tc := range []struct {
		dir, err string
	}{
		{good, ""},
		{rootGroup, ""},
		{underSticky, ""},
		{"/tmp", "writable by every user (mode 1777)"},
		{world, "writable by every user (mode 0777)"},
		{sticky, "writable by every user (mode 1777)"},
		{staff, "writable by group 50 (mode 0775)"},
		{foreign, "owned by uid 65534"},
		{under, world + " is writable by every user"},
		{link, world + " is writable by every user"},
		{filepath.Join(base, "missing"), "no such file"},
	} {
		err := CheckDir(tc.dir)
		if tc.err == "" && err != nil {
			t.Errorf("%s: %v", tc.dir, err)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want an error with %q", tc.dir, err, tc.err)
		}
	}
}
