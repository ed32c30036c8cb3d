package remote

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultLimit is the most nodes worked on at once when no limit is given:
// by FanOut, and by pkg/cluster's looks at a cluster (who-owns, status,
// failover, restart-safe). One bound for the project.
const DefaultLimit = 32

// Bounded calls fn(ctx, i) for every i in [0, n), at most limit at once
// (DefaultLimit when limit <= 0), and returns when every call has
// returned. Calls not yet started when ctx ends are not made: skipped(i,
// ctx.Err()) is called instead, when set. The one bounded fan-out of
// hactl: FanOut and pkg/cluster build on it.
func Bounded(ctx context.Context, n, limit int, fn func(ctx context.Context, i int), skipped func(i int, err error)) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		err := ctx.Err()
		if err == nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err != nil {
			if skipped != nil {
				skipped(i, err)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, i)
		}()
	}
	wg.Wait()
}

// Outcome is one node's result of FanOut.
type Outcome[T any] struct {
	// Node is the node, as passed in.
	Node Node
	// Value is fn's result (the zero value when Err is set and fn
	// returned nothing).
	Value T
	// Err is fn's error, a *NodeError naming the node.
	Err error
	// Elapsed is how long the node took.
	Elapsed time.Duration
}

// FanOutOptions bound a FanOut.
type FanOutOptions struct {
	// Limit is the most nodes worked on at once (default DefaultLimit).
	Limit int
	// Timeout, when set, is a deadline for each node's whole function,
	// on top of the pool's per-connect and per-call limits.
	Timeout time.Duration
	// Progress, when set, is called as each node finishes, one call at a
	// time, with the node's index in the input.
	Progress func(index int, node Node, err error)
}

// FanOut calls fn for every node, at most opt.Limit at once, and returns
// the outcomes in input order. fn must honour its context: it is the
// caller's, with the node's deadline when opt.Timeout is set. Nodes not yet
// started when ctx ends get ctx's error without fn being called.
func FanOut[T any](ctx context.Context, nodes []Node, opt FanOutOptions, fn func(ctx context.Context, n Node) (T, error)) []Outcome[T] {
	out := make([]Outcome[T], len(nodes))
	for i, n := range nodes {
		out[i].Node = n
	}
	var progressMu sync.Mutex
	Bounded(ctx, len(nodes), opt.Limit, func(ctx context.Context, i int) {
		n := nodes[i]
		nctx, cancel := ctx, context.CancelFunc(func() {})
		if opt.Timeout > 0 {
			nctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		}
		defer cancel()
		start := time.Now()
		v, err := fn(nctx, n)
		if err != nil && opt.Timeout > 0 && errors.Is(nctx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
			err = &timeoutError{limit: opt.Timeout.String(), cause: err}
		}
		out[i].Value, out[i].Err, out[i].Elapsed = v, nodeErr(n.Name, err), time.Since(start)
		if opt.Progress != nil {
			progressMu.Lock()
			opt.Progress(i, n, out[i].Err)
			progressMu.Unlock()
		}
	}, func(i int, err error) { out[i].Err = nodeErr(nodes[i].Name, err) })
	return out
}

// OnEach is FanOut over the pool's clients: fn gets each node's Client, so
// every call it makes reuses the node's one connection.
func OnEach[T any](ctx context.Context, p *Pool, nodes []Node, opt FanOutOptions, fn func(ctx context.Context, c *Client) (T, error)) []Outcome[T] {
	return FanOut(ctx, nodes, opt, func(ctx context.Context, n Node) (T, error) {
		return fn(ctx, p.Client(n))
	})
}

// Errors returns the outcomes' errors joined (nil when every node
// succeeded), for callers that only need to know whether all went well.
func Errors[T any](outs []Outcome[T]) error {
	var errs []error
	for _, o := range outs {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return errors.Join(errs...)
}
