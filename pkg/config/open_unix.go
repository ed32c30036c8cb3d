//go:build unix

package config

import (
	"os"
	"syscall"
)

// openNonBlocking opens name read-only without blocking: opening a FIFO
// for reading otherwise waits for a writer. O_NONBLOCK does nothing to the
// reads of a regular file, the only kind that is then read.
func openNonBlocking(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
