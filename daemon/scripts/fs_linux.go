//go:build linux

package scripts

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// OSFS is the host's file system.
type OSFS struct{}

// Lstat calls os.Lstat.
func (OSFS) Lstat(path string) (FileInfo, error) { return fileInfo(os.Lstat(path)) }

// Stat calls os.Stat.
func (OSFS) Stat(path string) (FileInfo, error) { return fileInfo(os.Stat(path)) }

// EvalSymlinks calls filepath.EvalSymlinks.
func (OSFS) EvalSymlinks(path string) (string, error) { return filepath.EvalSymlinks(path) }

func fileInfo(fi fs.FileInfo, err error) (FileInfo, error) {
	if err != nil {
		return FileInfo{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileInfo{}, fmt.Errorf("%s: no owner information", fi.Name())
	}
	return FileInfo{Mode: fi.Mode(), UID: st.Uid, GID: st.Gid}, nil
}
