package runfile

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CheckDir refuses a run directory that a user other than root or the
// daemon's own could change: one owned by another user, one writable by
// every user (a sticky /tmp included: anyone may plant a symlink or a
// FIFO under a name the daemon will use), one writable by a group other
// than root's or the daemon's, or one below a directory such a user could
// rename it out of (an ancestor writable by others without the sticky
// bit). Symlinks on the way are followed, and the directories holding
// them are checked too.
func CheckDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	uid, gid := os.Geteuid(), os.Getegid()
	for _, chain := range []string{real, abs} {
		for p, leaf := chain, true; ; p, leaf = filepath.Dir(p), false {
			fi, err := os.Lstat(p)
			if err != nil {
				return fmt.Errorf("run directory %s: %w", dir, err)
			}
			if fi.IsDir() { // a symlink's safety is its directory's
				if why := unsafeDir(fi, leaf && chain == real, uid, gid); why != "" {
					return fmt.Errorf("run directory %s: %s is %s; another local user could plant a symlink or a FIFO where the daemon writes its socket, pid and state files (use a directory owned by root and writable only by it, mode 0755, such as /run/hactl)", dir, p, why)
				}
			}
			if p == filepath.Dir(p) {
				break
			}
		}
	}
	return nil
}

// unsafeDir says why fi is not safe, or "" when it is. The run directory
// itself (leaf) may be writable by no one else; an ancestor may be when
// it is sticky, since then no one else can rename or remove the entry
// below it, which is ours.
func unsafeDir(fi os.FileInfo, leaf bool, uid, gid int) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	mode := fi.Mode()
	if int(st.Uid) != 0 && int(st.Uid) != uid {
		return fmt.Sprintf("owned by uid %d", st.Uid)
	}
	othersWrite := mode.Perm()&0o002 != 0
	groupWrite := mode.Perm()&0o020 != 0 && int(st.Gid) != 0 && int(st.Gid) != gid
	if !othersWrite && !groupWrite {
		return ""
	}
	if !leaf && mode&os.ModeSticky != 0 {
		return ""
	}
	if othersWrite {
		return fmt.Sprintf("writable by every user (mode %04o)", modeBits(mode))
	}
	return fmt.Sprintf("writable by group %d (mode %04o)", st.Gid, modeBits(mode))
}

func modeBits(m os.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&os.ModeSticky != 0 {
		b |= 0o1000
	}
	if m&os.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&os.ModeSetuid != 0 {
		b |= 0o4000
	}
	return b
}
