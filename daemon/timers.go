package daemon

import (
	"container/heap"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// timer is one protocol timer of an instance. All of them live in one
// heap owned by the loop, which sleeps on a single time.Timer until the
// earliest is due: adverts re-arm a timer every interval, and this costs
// no goroutine, channel send or allocation per advert (time.AfterFunc
// would start a goroutine at every expiry).
type timer struct {
	in    *instance
	kind  vrrp.TimerKind
	at    time.Duration // protocol time it is due
	gen   uint64
	index int // in the heap; -1 when not armed
}

// timerQueue is every instance's armed protocol timers, in one heap, and
// the loop's one wake-up timer, which fires when the earliest is due.
type timerQueue struct {
	heap   timerHeap
	wake   wakeTimer
	firing bool // fireDue is running: arm leaves the wake-up to it
}

// timerHeap orders armed timers by due time.
type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

func (r *runtime) arm(in *instance, k vrrp.TimerKind, at time.Duration, gen uint64) {
	tm := in.timers[k]
	if tm == nil {
		tm = &timer{in: in, kind: k, index: -1}
		in.timers[k] = tm
	}
	tm.at, tm.gen = at, gen
	if tm.index >= 0 {
		heap.Fix(&r.timers.heap, tm.index)
	} else {
		heap.Push(&r.timers.heap, tm)
	}
	r.rearm()
}

func (r *runtime) disarm(tm *timer) {
	if tm != nil && tm.index >= 0 {
		heap.Remove(&r.timers.heap, tm.index)
		r.rearm()
	}
}

// rearm points the loop's wake-up timer at the earliest due timer
// (fireDue does it once at its end, not for every timer it re-arms).
func (r *runtime) rearm() {
	if r.timers.firing {
		return
	}
	if len(r.timers.heap) == 0 {
		r.timers.wake.Stop()
		return
	}
	r.timers.wake.Reset(max(r.timers.heap[0].at-r.now(), 0))
}

// fireDue delivers every timer that is due, and the advert timers due
// within their coalescing slack: sending an advert a moment early is
// harmless (backups wait three intervals), and it lines up the instances'
// advert timers, so that many instances cost one wake-up per interval
// rather than one each. Master_Down and hold timers fire on time: their
// order between backups is the election.
func (r *runtime) fireDue() {
	r.timers.firing = true
	now := r.now()
	for i := 0; len(r.timers.heap) > 0 && i < 10000; i++ {
		tm := r.timers.heap[0]
		if tm.at > now+slack(tm) {
			if now = r.now(); tm.at > now+slack(tm) {
				break
			}
		}
		heap.Pop(&r.timers.heap)
		r.step(tm.in, vrrp.TimerExpired(tm.kind, tm.gen))
	}
	r.timers.firing = false
	r.rearm()
}

// slack is how early timer tm may fire: a fiftieth of the advert interval
// for an Adver_Timer, at most 2 ms; nothing for the others.
func slack(tm *timer) time.Duration {
	if tm.kind != vrrp.AdverTimer {
		return 0
	}
	return min(tm.in.c.AdvertInt/50, 2*time.Millisecond)
}
