package remote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func names(n int) []Node {
	var out []Node
	for i := range n {
		out = append(out, Node{Name: fmt.Sprintf("n%d", i)})
	}
	return out
}

func TestFanOutOrderAndLimit(t *testing.T) {
	var inFlight, peak atomic.Int32
	outs := FanOut(context.Background(), names(8), FanOutOptions{Limit: 3}, func(ctx context.Context, n Node) (string, error) {
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
		}
		// Later nodes finish first, so order must come from the index.
		time.Sleep(time.Duration(8-len(n.Name)) * time.Millisecond)
		if n.Name == "n5" {
			return "", errors.New("boom")
		}
		return strings.ToUpper(n.Name), nil
	})
	for i, o := range outs {
		if o.Node.Name != fmt.Sprintf("n%d", i) {
			t.Errorf("outcome %d is %s", i, o.Node.Name)
		}
		if i == 5 {
			if o.Err == nil || o.Err.Error() != "n5: boom" {
				t.Errorf("n5: err %v", o.Err)
			}
		} else if o.Err != nil || o.Value != fmt.Sprintf("N%d", i) {
			t.Errorf("n%d: %q %v", i, o.Value, o.Err)
		}
	}
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak concurrency %d, limit 3", p)
	}
	if err := Errors(outs); err == nil || err.Error() != "n5: boom" {
		t.Errorf("Errors = %v", err)
	}
}

func TestFanOutTimeout(t *testing.T) {
	start := time.Now()
	outs := FanOut(context.Background(), names(3), FanOutOptions{Timeout: 50 * time.Millisecond}, func(ctx context.Context, n Node) (int, error) {
		if n.Name == "n1" {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return 1, nil
	})
	if time.Since(start) > time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	err := outs[1].Err
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "n1: timed out after 50ms") {
		t.Errorf("n1: %v", err)
	}
	if outs[0].Err != nil || outs[2].Err != nil {
		t.Errorf("others: %v %v", outs[0].Err, outs[2].Err)
	}
}

func TestFanOutCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	outs := FanOut(ctx, names(4), FanOutOptions{Limit: 1}, func(ctx context.Context, n Node) (int, error) {
		calls.Add(1)
		cancel()
		return 0, nil
	})
	if calls.Load() != 1 {
		t.Errorf("%d calls after cancel, want 1", calls.Load())
	}
	for _, o := range outs[1:] {
		if !errors.Is(o.Err, context.Canceled) || !strings.HasPrefix(o.Err.Error(), o.Node.Name+": ") {
			t.Errorf("%s: %v", o.Node.Name, o.Err)
		}
	}
}

func TestBounded(t *testing.T) {
	var running, most atomic.Int32
	var calls atomic.Int32
	Bounded(context.Background(), 20, 3, func(ctx context.Context, i int) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		calls.Add(1)
	}, nil)
	if calls.Load() != 20 || most.Load() > 3 {
		t.Errorf("%d calls, at most %d at once; want 20, at most 3", calls.Load(), most.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var skipped []int
	Bounded(ctx, 3, 0, func(context.Context, int) { t.Error("called after the end") }, func(i int, err error) {
		if errors.Is(err, context.Canceled) {
			skipped = append(skipped, i)
		}
	})
	if len(skipped) != 3 {
		t.Errorf("skipped %v", skipped)
	}
}
