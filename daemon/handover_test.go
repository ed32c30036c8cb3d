package daemon

import (
	"testing"
	"time"
)

func TestHandoverHold(t *testing.T) {
	for _, tt := range []struct{ interval, want time.Duration }{
		{10 * time.Millisecond, 2 * time.Millisecond},
		{100 * time.Millisecond, 10 * time.Millisecond},
		{200 * time.Millisecond, 20 * time.Millisecond},
		{time.Second, 20 * time.Millisecond},
	} {
		if got := handoverHold(tt.interval); got != tt.want {
			t.Errorf("handoverHold(%v) = %v, want %v", tt.interval, got, tt.want)
		}
	}
}
