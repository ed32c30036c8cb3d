package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/cluster"
)

// TestProgressLine drives the line with channels of the test's own: no
// clock, no sleeps. Nothing shows before the delay; then the line names
// the nodes still waited for; Stop erases it.
func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	names := []string{"node01", "node02", "node03", "node04", "node05", "node06"}
	p := newProgress(&buf, "who-owns", names)
	delay, tick := make(chan time.Time), make(chan time.Time)
	released := make(chan struct{})
	p.run(delay, tick, func() { close(released) })
	p.Done("node02")
	if buf.Len() != 0 {
		t.Fatalf("drawn before the delay: %q", buf.String())
	}
	delay <- time.Time{} // the first draw follows
	tick <- time.Time{}  // taken once the first draw is done; a second follows
	p.Done("node01")
	tick <- time.Time{} // the second draw is done; the third sees node01 answered
	p.Stop()
	<-released
	out := buf.String()
	first := "\r\033[Kwho-owns: 1/6 nodes answered, waiting for node01, node03, node04, node05 and 1 more"
	second := "\r\033[Kwho-owns: 2/6 nodes answered, waiting for node03, node04, node05, node06"
	if !strings.HasPrefix(out, first) || !strings.HasSuffix(out, second+"\r\033[K") || strings.Count(out, "\r\033[K") != 4 {
		t.Errorf("progress output %q\nwant three draws from %q to %q, then the erase", out, first, second)
	}
}

// TestProgressStopBeforeDelay: a fan-out that ends within the delay draws
// nothing at all.
func TestProgressStopBeforeDelay(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "status", []string{"a", "b"})
	p.run(make(chan time.Time), make(chan time.Time), func() {})
	p.Done("a")
	p.Stop()
	if buf.Len() != 0 {
		t.Errorf("drawn: %q", buf.String())
	}
}

// TestProgressOnlyOnTerminal: on a pipe, or with -o json on a terminal,
// startProgress never starts its line.
func TestProgressOnlyOnTerminal(t *testing.T) {
	nodes := []cluster.Node{&fakeNode{name: "a"}}
	for _, c := range []struct {
		name string
		tty  bool
		g    *GlobalOptions
	}{
		{"pipe", false, &GlobalOptions{Output: "table"}},
		{"json on a terminal", true, &GlobalOptions{Output: "json"}},
	} {
		ios, _, errOut := TestStreams()
		ios.errTTY = c.tty
		p := startProgress(ios, c.g, "who-owns", nodes)
		// No drawing goroutine was started, so nothing can be drawn
		// however long the fan-out takes.
		if p.running {
			t.Errorf("%s: the progress line was started", c.name)
		}
		p.Stop()
		if errOut.Len() != 0 {
			t.Errorf("%s: stderr %q", c.name, errOut.String())
		}
	}
}
