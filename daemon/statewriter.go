//go:build linux

package daemon

import (
	"github.com/hactl/hactl/daemon/statefile"
	"github.com/hactl/hactl/pkg/api"
)

// writeState marks the state file stale; the loop writes it once per
// event (flushState), however many transitions the event caused (a start
// with 100 instances is one write, not 200).
func (r *runtime) writeState() { r.stateDirty = true }

// flushState hands a snapshot to the state writer, replacing one not yet
// written. Rendering and file I/O happen off the loop, so an advert that
// arrives meanwhile (a handover release, say) is not kept waiting.
func (r *runtime) flushState() {
	if !r.stateDirty {
		return
	}
	r.stateDirty = false
	st := r.status()
	select {
	case r.stateCh <- st:
		return
	default:
	}
	select {
	case <-r.stateCh: // superseded
	default:
	}
	r.stateCh <- st
}

// startStateWriter runs the state file writer until stopStateWriter.
func (r *runtime) startStateWriter() {
	r.stateCh, r.stateDone = make(chan api.Status, 1), make(chan struct{})
	go func() {
		defer close(r.stateDone)
		statefile.Serve(r.stateCh, r.stateFile, statefile.Options{Group: r.opts.SocketGID, Log: r.log, Prepare: sortStatus})
	}()
}

// stopStateWriter writes what is pending and waits for the writer.
func (r *runtime) stopStateWriter() {
	r.flushState()
	close(r.stateCh)
	<-r.stateDone
}
