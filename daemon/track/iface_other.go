//go:build !linux

package track

import (
	"context"
	"errors"
)

// startInterfaces reports that interfaces can be watched on Linux only.
func (m *Monitor) startInterfaces(context.Context, []string) error {
	return errors.New("watching interfaces is supported on Linux only")
}
