package runfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Write replaces path with data, mode perm, and group gid when gid >= 0
// (the owner stays the daemon's user). A reader sees the old file or the
// new one, never half of one, and a symlink, FIFO or file planted at path
// or at a temporary name is never opened.
func Write(path string, data []byte, perm os.FileMode, gid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	werr := fill(tmp, data, perm, gid)
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		// unlink does not follow a symlink: at worst it removes one that
		// replaced our temporary file.
		os.Remove(name)
		return werr
	}
	return nil
}

func fill(f *os.File, data []byte, perm os.FileMode, gid int) error {
	if gid >= 0 {
		if err := f.Chown(-1, gid); err != nil {
			return err
		}
	}
	// Through the descriptor, after the chown (which may clear set-id
	// bits): the temporary file was created 0600, so no one else could
	// open it in between.
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// ErrNotRegular is returned by Read for a path that is a symlink, a FIFO,
// a device or a directory.
var ErrNotRegular = errors.New("not a regular file (a symlink, FIFO or device is never followed or read)")

// Read returns the contents of the regular file at path, at most max
// bytes (a longer file is an error). It does not follow a symlink and does
// not wait on a FIFO. A missing file is an error matching os.ErrNotExist.
func Read(path string, max int64) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if err == unix.ELOOP {
			return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}
