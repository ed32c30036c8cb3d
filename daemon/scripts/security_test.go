package scripts

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// fakeFS is a file system of path -> FileInfo; links maps a path to the
// path it resolves to.
type fakeFS struct {
	files map[string]FileInfo
	links map[string]string
}

func (f fakeFS) Lstat(p string) (FileInfo, error) {
	if fi, ok := f.files[p]; ok {
		return fi, nil
	}
	return FileInfo{}, fs.ErrNotExist
}

func (f fakeFS) Stat(p string) (FileInfo, error) {
	if r, ok := f.links[p]; ok {
		p = r
	}
	return f.Lstat(p)
}

func (f fakeFS) EvalSymlinks(p string) (string, error) {
	if r, ok := f.links[p]; ok {
		return r, nil
	}
	return p, nil
}

const (
	dir    = fs.ModeDir | 0o755
	sticky = fs.ModeDir | fs.ModeSticky | 0o777
	exe    = 0o755
	link   = fs.ModeSymlink | 0o777
)

func baseFS() map[string]FileInfo {
	return map[string]FileInfo{
		"/":                  {Mode: dir},
		"/etc":               {Mode: dir},
		"/etc/keepalived":    {Mode: dir},
		"/etc/keepalived/ok": {Mode: exe},
		"/tmp":               {Mode: sticky},
		"/tmp/x":             {Mode: exe},
		"/home":              {Mode: dir},
		"/home/app":          {Mode: dir, UID: 1000, GID: 1000},
		"/home/app/check":    {Mode: exe, UID: 1000, GID: 1000},
	}
}

func TestCheckSecure(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		uid       uint32
		change    map[string]FileInfo
		links     map[string]string
		component string // "" means accepted
		reason    string
	}{
		{name: "root owned", path: "/etc/keepalived/ok"},
		{name: "group root writable is trusted", path: "/etc/keepalived/ok", change: map[string]FileInfo{"/etc/keepalived/ok": {Mode: 0o775}}},
		{name: "world writable file", path: "/etc/keepalived/ok", change: map[string]FileInfo{"/etc/keepalived/ok": {Mode: 0o757}},
			component: "/etc/keepalived/ok", reason: "writable by every user"},
		{name: "group writable file", path: "/etc/keepalived/ok", change: map[string]FileInfo{"/etc/keepalived/ok": {Mode: 0o775, GID: 100}},
			component: "/etc/keepalived/ok", reason: "writable by group 100"},
		{name: "file owned by another user", path: "/etc/keepalived/ok", change: map[string]FileInfo{"/etc/keepalived/ok": {Mode: exe, UID: 1000}},
			component: "/etc/keepalived/ok", reason: "owned by uid 1000"},
		{name: "world writable directory", path: "/etc/keepalived/ok", change: map[string]FileInfo{"/etc/keepalived": {Mode: fs.ModeDir | 0o777}},
			component: "/etc/keepalived", reason: "writable by every user"},
		{name: "directory owned by another user", path: "/etc/keepalived/ok", change: map[string]FileInfo{"/etc": {Mode: dir, UID: 5}},
			component: "/etc", reason: "owned by uid 5"},
		{name: "sticky world writable directory", path: "/tmp/x"},
		{name: "runner's own files", path: "/home/app/check", uid: 1000},
		{name: "another user's files for root", path: "/home/app/check", uid: 0,
			component: "/home/app", reason: "owned by uid 1000"},
		{name: "component not a directory", path: "/etc/keepalived/ok/x", change: map[string]FileInfo{"/etc/keepalived/ok/x": {Mode: exe}},
			component: "/etc/keepalived/ok", reason: "not a directory"},
		{name: "symlink to unsafe target", path: "/etc/keepalived/l",
			change:    map[string]FileInfo{"/etc/keepalived/l": {Mode: link}, "/home/app/check": {Mode: exe}},
			links:     map[string]string{"/etc/keepalived/l": "/home/app/check"},
			component: "/home/app", reason: "owned by uid 1000"},
		{name: "symlink to safe target", path: "/etc/keepalived/l",
			change: map[string]FileInfo{"/etc/keepalived/l": {Mode: link}},
			links:  map[string]string{"/etc/keepalived/l": "/etc/keepalived/ok"}},
		{name: "symlink owned by another user", path: "/etc/keepalived/l",
			change: map[string]FileInfo{"/etc/keepalived/l": {Mode: link, UID: 7}},
			links:  map[string]string{"/etc/keepalived/l": "/etc/keepalived/ok"}, component: "/etc/keepalived/l", reason: "owned by uid 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := baseFS()
			for k, v := range tt.change {
				files[k] = v
			}
			err := checkSecure(fakeFS{files: files, links: tt.links}, tt.path, tt.uid)
			if tt.component == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *InsecureError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInsecure) {
				t.Fatalf("err = %v, want an InsecureError", err)
			}
			if ie.Component != tt.component || !strings.Contains(ie.Reason, tt.reason) || ie.Script != tt.path {
				t.Errorf("got %+v, want component %s, reason containing %q", ie, tt.component, tt.reason)
			}
		})
	}
}

func TestExecutableBy(t *testing.T) {
	tests := []struct {
		mode     fs.FileMode
		owner    uint32
		ownerGID uint32
		uid, gid uint32
		want     bool
	}{
		{0o100, 5, 5, 0, 0, true},
		{0o644, 0, 0, 0, 0, false},
		{0o700, 5, 5, 5, 9, true},
		{0o070, 5, 5, 5, 5, false}, // owner bits decide for the owner
		{0o710, 5, 6, 7, 6, true},
		{0o701, 5, 6, 7, 6, false}, // group bits decide for the group
		{0o701, 5, 6, 7, 8, true},
	}
	for _, tt := range tests {
		got := executableBy(FileInfo{Mode: tt.mode, UID: tt.owner, GID: tt.ownerGID}, tt.uid, tt.gid)
		if got != tt.want {
			t.Errorf("mode %04o owner %d:%d runner %d:%d: got %v", tt.mode, tt.owner, tt.ownerGID, tt.uid, tt.gid, got)
		}
	}
}
