package daemon

import (
	"github.com/hactl/hactl/daemon/statefile"
	"github.com/hactl/hactl/pkg/api"
)

// stateWriter hands status snapshots to the state file's writer.
type stateWriter struct {
	dirty bool            // the state file needs writing
	ch    chan api.Status // feeds the writer
	done  chan struct{}   // closed when the writer has ended
}

// writeState marks the state file stale; the loop writes it once per
// event (flushState), however many transitions the event caused (a start
// with 100 instances is one write, not 200).
func (r *runtime) writeState() { r.state.dirty = true }

// flushState hands a snapshot to the state writer, replacing one not yet
// written. Rendering and file I/O happen off the loop, so an advert that
// arrives meanwhile (a handover release, say) is not kept waiting.
func (r *runtime) flushState() {
	if !r.state.dirty {
		return
	}
	r.state.dirty = false
	st := r.status()
	select {
	case r.state.ch <- st:
		return
	default:
	}
	select {
	case <-r.state.ch: // superseded
	default:
	}
	r.state.ch <- st
}

// startStateWriter runs the state file writer until stopStateWriter.
func (r *runtime) startStateWriter() {
	r.state.ch, r.state.done = make(chan api.Status, 1), make(chan struct{})
	go func() {
		defer close(r.state.done)
		statefile.Serve(r.state.ch, r.stateFile, statefile.Options{Group: r.opts.SocketGID, Log: r.log, Prepare: sortStatus})
	}()
}

// stopStateWriter writes what is pending and waits for the writer.
func (r *runtime) stopStateWriter() {
	r.flushState()
	close(r.state.ch)
	<-r.state.done
}
