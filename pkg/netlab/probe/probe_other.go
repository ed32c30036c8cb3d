//go:build !linux

package probe

import "errors"

// ErrUnsupported is returned off Linux.
var ErrUnsupported = errors.New("probe: Linux only")
