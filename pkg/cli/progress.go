package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/pkg/cluster"
)

// progressDelay is how long a fan-out runs before its progress line shows:
// a command that answers within a second never draws it.
const progressDelay = time.Second

// progressEvery is how often the line is redrawn after that.
const progressEvery = 200 * time.Millisecond

// progress shows on stderr, when it is a terminal and the output is not
// JSON, which nodes a fan-out still waits for: one line, redrawn, erased at
// the end ("who-owns: 20/32 nodes answered, waiting for node07, node19").
type progress struct {
	w       io.Writer
	what    string
	mu      sync.Mutex
	pending []string
	total   int
	drawn   bool
	running bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// startProgress starts the line for a fan-out over nodes. On a pipe, or
// with -o json, it draws nothing: Done and Stop still work.
func startProgress(ios *IOStreams, g *GlobalOptions, what string, nodes []cluster.Node) *progress {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name())
	}
	p := newProgress(ios.ErrOut, what, names)
	if !ios.IsStderrTTY() || (g != nil && g.JSON()) {
		return p
	}
	delay := time.NewTimer(progressDelay)
	tick := time.NewTicker(progressEvery)
	p.run(delay.C, tick.C, func() { delay.Stop(); tick.Stop() })
	return p
}

// newProgress is a progress line over w that draws only when run.
func newProgress(w io.Writer, what string, names []string) *progress {
	return &progress{w: w, what: what, pending: slices.Clone(names), total: len(names), stop: make(chan struct{})}
}

// run draws the line once delay fires, then at every tick, until Stop;
// release frees the timers. Tests pass channels of their own.
func (p *progress) run(delay, tick <-chan time.Time, release func()) {
	p.running = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer release()
		select {
		case <-p.stop:
			return
		case <-delay:
		}
		for {
			p.draw()
			select {
			case <-p.stop:
				return
			case <-tick:
			}
		}
	}()
}

// Done marks a node as answered.
func (p *progress) Done(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.pending, node); i >= 0 {
		p.pending = slices.Delete(p.pending, i, i+1)
	}
}

// line is the progress line's text (without the terminal's controls).
func (p *progress) line() string {
	names := p.pending
	more := ""
	if len(names) > 4 {
		names, more = names[:4], fmt.Sprintf(" and %d more", len(p.pending)-4)
	}
	return fmt.Sprintf("%s: %d/%d nodes answered, waiting for %s%s", p.what, p.total-len(p.pending), p.total, strings.Join(names, ", "), more)
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) == 0 {
		return
	}
	fmt.Fprint(p.w, "\r\033[K"+p.line())
	p.drawn = true
}

// Stop erases the line.
func (p *progress) Stop() {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
