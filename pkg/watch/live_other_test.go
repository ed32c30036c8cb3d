//go:build !linux

package watch

import (
	"errors"
	"testing"
)

func TestOpenLiveUnsupported(t *testing.T) {
	if _, err := OpenLive([]string{"en0"}, nil); !errors.Is(err, ErrLiveUnsupported) {
		t.Fatalf("err %v, want ErrLiveUnsupported", err)
	}
}
