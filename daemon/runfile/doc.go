// Package runfile writes and reads the daemon's files in its run
// directory (the pid file, the sticky promotions, the state file and its
// JSON twin) without ever following a link planted there, and checks at
// start that the run directory is one only root can change.
//
// Every write goes to a fresh temporary file created with O_CREAT|O_EXCL
// (which fails on any existing name, symlinks included), gets its mode and
// group through the open descriptor (fchmod, fchown: never by path, which
// a user who can write the directory could swap for a symlink between two
// calls), is synced and then renamed over the final name (rename(2)
// replaces a symlink at the destination, it does not follow it). Reads
// open with O_NOFOLLOW and O_NONBLOCK and accept only a regular file of
// bounded size, so a planted symlink, FIFO or device is refused instead of
// read or waited on.
package runfile
