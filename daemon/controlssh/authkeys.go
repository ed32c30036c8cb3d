package controlssh

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultAuthorizedKeys is root's authorized_keys file, read when
// control_ssh_authorized_keys names none.
const DefaultAuthorizedKeys = "/root/.ssh/authorized_keys"

// allowedOptions are the authorized_keys options that leave what the
// control listener serves (one direct-streamlocal channel, no session, no
// pty) exactly as sshd would allow it. A key with any other option
// (command=, from=, restrict, no-port-forwarding, permitopen=,
// permitlisten=, principals=, cert-authority, tunnel=, a FIDO option, one
// this list does not know) is skipped: sshd might refuse it a streamlocal
// channel, or allow it only from some address, and the listener does not
// second-guess which.
var allowedOptions = map[string]bool{
	"no-pty": true, "no-x11-forwarding": true, "no-agent-forwarding": true, "no-user-rc": true,
	"pty": true, "x11-forwarding": true, "agent-forwarding": true, "user-rc": true, "port-forwarding": true,
}

// authorizedKeys reads root's authorized_keys file, again whenever it
// changes (its inode, size or mtime), so that a key added or removed
// applies to the next connection without a restart or reload.
type authorizedKeys struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	stat fileStamp
	keys map[string]bool // marshaled public key -> usable
	err  error
}

type fileStamp struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func newAuthorizedKeys(path string) *authorizedKeys {
	if path == "" {
		path = DefaultAuthorizedKeys
	}
	return &authorizedKeys{path: path, now: time.Now}
}

// allowed reports whether key may log in as root; an error says why the
// file could not be used (missing, unsafe permissions, unreadable).
func (a *authorizedKeys) allowed(key ssh.PublicKey) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.refresh(); err != nil {
		return false, err
	}
	return a.keys[string(key.Marshal())], nil
}

// refresh re-reads the file if it changed since the last read.
func (a *authorizedKeys) refresh() error {
	f, err := os.Open(a.path)
	if err != nil {
		a.keys, a.err, a.stat = nil, err, fileStamp{}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		a.keys, a.err = nil, err
		return err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if err := checkPerms(a.path, fi, st); err != nil {
		a.keys, a.err, a.stat = nil, err, fileStamp{}
		return err
	}
	stamp := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if st != nil {
		stamp.dev, stamp.ino = uint64(st.Dev), st.Ino
	}
	if a.keys != nil && stamp == a.stat {
		return nil
	}
	b, err := readLimited(f, 4<<20)
	if err != nil {
		a.keys, a.err = nil, err
		return err
	}
	a.keys, a.err, a.stat = parseAuthorizedKeys(b, a.now()), nil, stamp
	return nil
}

// checkPerms refuses a file others could have written: it must be a
// regular file owned by root, not writable by group or others (as the
// daemon's scripts are checked, and as sshd's StrictModes does).
func checkPerms(path string, fi os.FileInfo, st *syscall.Stat_t) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: writable by group or others (mode %04o): refused; chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	if st != nil && st.Uid != 0 {
		return fmt.Errorf("%s: owned by uid %d, not root: refused", path, st.Uid)
	}
	return nil
}

func readLimited(f *os.File, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", f.Name(), limit)
	}
	return b, nil
}

// parseAuthorizedKeys returns the keys of b usable for the control
// listener (keyUsable); lines that do not parse are skipped, as sshd
// skips them.
func parseAuthorizedKeys(b []byte, now time.Time) map[string]bool {
	keys := map[string]bool{}
	for len(b) > 0 {
		pub, _, opts, rest, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			break // no further valid line
		}
		b = rest
		if keyUsable(opts, now) {
			keys[string(pub.Marshal())] = true
		}
	}
	return keys
}

// keyUsable reports whether a key with these authorized_keys options may
// open the control socket: options in allowedOptions only, plus an
// expiry-time that has not passed.
func keyUsable(opts []string, now time.Time) bool {
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		name = strings.ToLower(name)
		if name == "expiry-time" && hasVal {
			t, err := parseExpiry(strings.Trim(val, `"`))
			if err != nil || !now.Before(t) {
				return false
			}
			continue
		}
		if hasVal || !allowedOptions[name] {
			return false
		}
	}
	return true
}

// parseExpiry reads sshd's expiry-time: YYYYMMDD[HHMM[SS]], local time,
// or UTC with a trailing Z.
func parseExpiry(s string) (time.Time, error) {
	loc := time.Local
	if rest, ok := strings.CutSuffix(s, "Z"); ok {
		s, loc = rest, time.UTC
	}
	for _, layout := range []string{"20060102", "200601021504", "20060102150405"} {
		if len(s) == len(layout) {
			return time.ParseInLocation(layout, s, loc)
		}
	}
	return time.Time{}, fmt.Errorf("expiry-time %q: want YYYYMMDD[HHMM[SS]][Z]", s)
}
