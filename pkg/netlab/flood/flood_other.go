//go:build !linux

package flood

import (
	"context"
	"errors"
)

// Flooder is not supported on this OS.
type Flooder struct{}

// Open is not supported on this OS.
func Open(cfg Config) (*Flooder, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return nil, errors.New("flood: raw sockets are Linux-only")
}

// Close does nothing.
func (f *Flooder) Close() error { return nil }

// Run sends nothing.
func (f *Flooder) Run(context.Context) Result { return Result{} }
