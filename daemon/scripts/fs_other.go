//go:build !linux

package scripts

// OSFS is the host's file system; without Linux it answers nothing.
type OSFS struct{}

// Lstat reports ErrUnsupported.
func (OSFS) Lstat(string) (FileInfo, error) { return FileInfo{}, ErrUnsupported }

// Stat reports ErrUnsupported.
func (OSFS) Stat(string) (FileInfo, error) { return FileInfo{}, ErrUnsupported }

// EvalSymlinks reports ErrUnsupported.
func (OSFS) EvalSymlinks(string) (string, error) { return "", ErrUnsupported }
