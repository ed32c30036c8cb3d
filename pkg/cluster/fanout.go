package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/pkg/remote"
)

// Options bound the work over nodes and report progress.
type Options struct {
	// Limit is the most nodes asked at once (default remote.DefaultLimit).
	Limit int
	// Timeout, when set, bounds each node's whole answer.
	Timeout time.Duration
	// Done, when set, is called as each node answers (or fails), one call
	// at a time; the CLI shows what it still waits for.
	Done func(node string)
}

// NodeError is an error about one node; its message starts with the
// node's name. It is pkg/remote's: errors.As finds one *NodeError type
// whichever layer wrapped the error.
type NodeError = remote.NodeError

// nodeErr wraps err so its message starts with the node's name once.
func nodeErr(name string, err error) error {
	if err == nil {
		return nil
	}
	var ne *NodeError
	if errors.As(err, &ne) && ne.Node == name {
		return err
	}
	if strings.HasPrefix(err.Error(), name+": ") {
		return &NodeError{Node: name, Err: trimmed{err, name}}
	}
	return &NodeError{Node: name, Err: err}
}

// withoutName drops a leading "NAME: " from err's message.
func withoutName(name string, err error) error {
	if strings.HasPrefix(err.Error(), name+": ") {
		return trimmed{err, name}
	}
	return err
}

// trimmed drops a leading "NAME: " from an error that already has one.
type trimmed struct {
	err  error
	name string
}

func (t trimmed) Error() string { return strings.TrimPrefix(t.err.Error(), t.name+": ") }
func (t trimmed) Unwrap() error { return t.err }

// probe is what one node said: its addresses and its daemon.
type probe struct {
	ifs    []Interface
	daemon *Daemon
	err    error
}

// askAll asks every node for its addresses and daemon, both at once,
// at most opt.Limit nodes at a time, and returns the answers in order.
func askAll(ctx context.Context, nodes []Node, opt Options) []probe {
	out := make([]probe, len(nodes))
	var doneMu sync.Mutex
	remote.Bounded(ctx, len(nodes), opt.Limit, func(ctx context.Context, i int) {
		n := nodes[i]
		nctx, cancel := ctx, context.CancelFunc(func() {})
		if opt.Timeout > 0 {
			nctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		}
		defer cancel()
		out[i] = ask(nctx, n)
		if opt.Done != nil {
			doneMu.Lock()
			opt.Done(n.Name())
			doneMu.Unlock()
		}
	}, func(i int, err error) { out[i].err = nodeErr(nodes[i].Name(), err) })
	return out
}

func ask(ctx context.Context, n Node) probe {
	var p probe
	var derr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.daemon, derr = n.Daemon(ctx)
	}()
	p.ifs, p.err = n.Addresses(ctx)
	wg.Wait()
	switch {
	case p.err == nil:
		p.err = derr
	case derr != nil && derr.Error() != p.err.Error():
		// Say both: the daemon's fault may be why the node ran out of
		// time for its addresses, or the other way round.
		p.err = bothErr{withoutName(n.Name(), p.err), withoutName(n.Name(), derr)}
	}
	if p.err != nil {
		p.err = nodeErr(n.Name(), p.err)
		p.ifs, p.daemon = nil, nil
	}
	return p
}

// bothErr is the two errors of one node's answer: its addresses' and its
// daemon's.
type bothErr [2]error

func (e bothErr) Error() string   { return e[0].Error() + "; and " + e[1].Error() }
func (e bothErr) Unwrap() []error { return e[:] }
