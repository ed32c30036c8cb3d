//go:build !unix

package config

import "os"

// openNonBlocking opens name read-only; systems without FIFOs have nothing
// to block on.
func openNonBlocking(name string) (*os.File, error) { return os.Open(name) }
