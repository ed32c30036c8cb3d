//go:build linux

package track

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// procAckWait is how long the connector has to acknowledge the listen
// request before hactl falls back to scanning /proc.
const procAckWait = time.Second

// startProcesses counts the tracked processes and follows them: through
// the kernel's process-event connector when it answers (the initial
// network namespace, with CONFIG_PROC_EVENTS), else by scanning /proc
// every Options.ProcScan. keepalived has only the connector: in a network
// namespace its listen request is refused (errno 111) and every instance
// that tracks a process stays in FAULT.
func (m *Monitor) startProcesses(ctx context.Context) error {
	r := &procReader{cmdMax: 4096}
	for _, p := range m.procs {
		if p.FullCommand {
			r.cmdline = true
		}
		n := len(p.Process) + 2
		for _, w := range p.Params {
			n += len(w) + 1
		}
		r.cmdMax = max(r.cmdMax, n)
	}
	var conn *procConn
	var err error
	if !m.opts.ProcScanOnly {
		conn, err = openProcConnector(procAckWait)
	}
	set := NewProcessSet(m.procs)
	procs, rerr := r.readAll()
	if rerr != nil {
		if conn != nil {
			conn.close()
		}
		return rerr
	}
	set.Init(procs)
	m.publishProcesses(set, true)
	if conn != nil {
		m.mu.Lock()
		m.procMode = "process events"
		m.mu.Unlock()
		m.log.Info("tracking processes through the kernel's process events", "processes", len(m.procs))
		events := make(chan procEvent, 1024)
		lost := make(chan struct{}, 1)
		m.wg.Add(2)
		go func() {
			defer m.wg.Done()
			defer conn.close()
			m.readProcEvents(ctx, conn, events, lost)
		}()
		go func() {
			defer m.wg.Done()
			m.followProcesses(ctx, set, r, events, lost, 0)
		}()
		return nil
	}
	why := "scan only"
	if err != nil {
		why = err.Error()
	}
	m.mu.Lock()
	m.procMode = "scanning /proc"
	m.mu.Unlock()
	m.log.Warn("process events unavailable; scanning /proc instead", "why", why, "every", m.opts.ProcScan)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.followProcesses(ctx, set, r, nil, nil, m.opts.ProcScan)
	}()
	return nil
}

// scanBudget bounds the scanner's share of a CPU: the pause between two
// scans is at least this many times the last scan's duration (a host with
// thousands of processes is scanned less often rather than more
// expensively), and at most maxScanPause.
const (
	scanBudget   = 20
	maxScanPause = 2 * time.Second
)

// scanPause is the pause after a scan that took took.
func scanPause(every, took time.Duration) time.Duration {
	return min(max(every, scanBudget*took), max(every, maxScanPause))
}

// readProcEvents passes the connector's events on. It never blocks on
// the follower: when its queue is full, or the kernel dropped events
// (ENOBUFS), it signals lost and the follower scans /proc again.
func (m *Monitor) readProcEvents(ctx context.Context, conn *procConn, events chan<- procEvent, lost chan<- struct{}) {
	buf := make([]byte, 4096)
	signalLost := func() {
		select {
		case lost <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		ev, ok, err := conn.recv(buf)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			signalLost()
			continue
		case err != nil:
			m.log.Error("process events: receive failed; scanning /proc", "err", err)
			signalLost()
			return
		case !ok || ev.Kind == procAck:
			continue
		}
		select {
		case events <- ev:
		default:
			signalLost()
		}
	}
}

// followProcesses applies events (or scans /proc every scanEvery, when
// not 0) and the delays, and publishes the verdicts.
func (m *Monitor) followProcesses(ctx context.Context, set *ProcessSet, r *procReader, events <-chan procEvent, lost <-chan struct{}, scanEvery time.Duration) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var tick <-chan time.Time
	var scanTimer *time.Timer
	if scanEvery > 0 {
		scanTimer = time.NewTimer(scanEvery)
		defer scanTimer.Stop()
		tick = scanTimer.C
	}
	scan := func() {
		began := time.Now()
		procs, err := r.readAll()
		if err != nil {
			m.log.Error("reading /proc", "err", err)
		} else {
			set.Scan(procs, time.Now())
		}
		if scanTimer != nil {
			scanTimer.Reset(scanPause(scanEvery, time.Since(began)))
		}
	}
	for {
		if next, ok := set.Next(); ok {
			timer.Reset(max(time.Until(next), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
			scan()
		case <-lost:
			m.log.Warn("process events lost; reading /proc again")
			scan()
		case ev := <-events:
			now := time.Now()
			switch ev.Kind {
			case procFork:
				set.Fork(ev.Parent, ev.PID, now)
			case procExec, procComm:
				if p, ok := r.read(ev.PID); ok {
					set.Exec(p, now)
				}
			case procExit:
				set.Exit(ev.PID, now)
			}
		case <-timer.C:
		}
		set.Expire(time.Now())
		m.publishProcesses(set, false)
	}
}
