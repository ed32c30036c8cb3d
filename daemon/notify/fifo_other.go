//go:build !linux

package notify

import (
	"errors"
	"fmt"

	"github.com/hactl/hactl/pkg/config"
)

type fifo struct {
	spec    config.FIFO
	created bool
}

func (n *Notifier) openFIFO(spec config.FIFO) (*fifo, error) {
	return nil, fmt.Errorf("notify FIFO %s: %w", spec.Path, errors.ErrUnsupported)
}

func (n *Notifier) writeFIFO(*fifo, string) {}

func (n *Notifier) closeFIFO(*fifo) {}
