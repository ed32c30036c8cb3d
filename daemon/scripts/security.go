package scripts

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// ErrInsecure is wrapped by the errors of scripts refused by the
// script-security rule.
var ErrInsecure = errors.New("script is writable by a user other than root and the runner")

// FileInfo is what the security check needs to know about one path
// component, without following a final symbolic link (lstat).
type FileInfo struct {
	Mode fs.FileMode
	UID  uint32
	GID  uint32
}

// FS is the file system as the security check and the PATH search see it.
// OSFS is the real one; tests inject their own.
type FS interface {
	// Lstat describes path without following a final symbolic link.
	Lstat(path string) (FileInfo, error)
	// Stat describes path, following symbolic links.
	Stat(path string) (FileInfo, error)
	// EvalSymlinks returns path with every symbolic link resolved.
	EvalSymlinks(path string) (string, error)
}

// InsecureError says which path component made a script unsafe and why.
type InsecureError struct {
	// Script is the file that was to run; Component is the file or
	// directory at fault (Script itself, a directory above it, or a
	// component of its symbolic link target's path).
	Script    string
	Component string
	Reason    string
}

func (e *InsecureError) Error() string {
	if e.Component == e.Script {
		return fmt.Sprintf("script %s is unsafe: %s", e.Script, e.Reason)
	}
	return fmt.Sprintf("script %s is unsafe: %s %s", e.Script, e.Component, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInsecure) true.
func (e *InsecureError) Unwrap() error { return ErrInsecure }

// checkSecure applies the script-security rule to path (absolute) for a
// runner with the given uid. It walks every component of path as
// written, from "/" down, with lstat; if the path goes through symbolic
// links, the resolved path is walked as well, since that is the file that
// runs. A component is unsafe when
//
//   - its owner is neither root nor the runner, or
//   - it is a regular file or a directory without the sticky bit, and it is
//     world-writable, or group-writable by a group other than root's.
//
// This is keepalived's check_security() (keepalived/core/notify.c),
// generalised from "root or the setuid owner" to "root or the runner", and
// applied whoever the runner is (keepalived only checks scripts that run as
// root). A directory component that is a symbolic link (/bin on merged-/usr
// systems) is judged by its owner, and its target by the second walk;
// keepalived refuses such paths outright.
func checkSecure(fsys FS, path string, uid uint32) error {
	if err := walkSecure(fsys, path, path, uid); err != nil {
		return err
	}
	real, err := fsys.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("script %s: resolving symbolic links: %w", path, err)
	}
	if real != path {
		return walkSecure(fsys, path, real, uid)
	}
	return nil
}

func walkSecure(fsys FS, script, path string, uid uint32) error {
	path = filepath.Clean(path)
	if !filepath.IsAbs(path) {
		return fmt.Errorf("script %s: path %s is not absolute", script, path)
	}
	comps := []string{"/"}
	cur := "/"
	for _, part := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		comps = append(comps, cur)
	}
	for i, c := range comps {
		fi, err := fsys.Lstat(c)
		if err != nil {
			return fmt.Errorf("script %s: %w", script, err)
		}
		last := i == len(comps)-1
		isLink := fi.Mode&fs.ModeSymlink != 0
		switch {
		case !last && !fi.Mode.IsDir() && !isLink:
			return &InsecureError{Script: script, Component: c, Reason: "is not a directory"}
		case last && !fi.Mode.IsRegular() && !isLink:
			return &InsecureError{Script: script, Component: c, Reason: "is not a regular file"}
		}
		if reason := unsafeReason(fi, uid); reason != "" {
			return &InsecureError{Script: script, Component: c, Reason: reason}
		}
	}
	return nil
}

// unsafeReason returns why one component is unsafe, or "".
//
// Group write is trusted only for root's group, as in keepalived: the
// runner's own group may have other members.
func unsafeReason(fi FileInfo, uid uint32) string {
	if fi.UID != 0 && fi.UID != uid {
		return fmt.Sprintf("is owned by uid %d, neither root nor the runner (uid %d)", fi.UID, uid)
	}
	// Symbolic links have no permissions of their own, and a sticky
	// directory lets others replace only their own files.
	if fi.Mode&fs.ModeSymlink != 0 || (fi.Mode.IsDir() && fi.Mode&fs.ModeSticky != 0) {
		return ""
	}
	perm := fi.Mode.Perm()
	switch {
	case perm&0o002 != 0:
		return fmt.Sprintf("is writable by every user (mode %04o)", perm)
	case perm&0o020 != 0 && fi.GID != 0:
		return fmt.Sprintf("is writable by group %d (mode %04o)", fi.GID, perm)
	}
	return ""
}

// executableBy reports whether a file with fi can be executed by uid/gid,
// as keepalived's is_executable().
func executableBy(fi FileInfo, uid, gid uint32) bool {
	m := fi.Mode.Perm()
	switch {
	case uid == 0:
		return m&0o111 != 0
	case uid == fi.UID:
		return m&0o100 != 0
	case gid == fi.GID:
		return m&0o010 != 0
	default:
		return m&0o001 != 0
	}
}
