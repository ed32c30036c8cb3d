package track

import "time"

// DefaultProcScan is how often /proc is scanned when the kernel's process
// events are unavailable (in a network namespace other than the initial
// one, where the connector refuses to listen).
const DefaultProcScan = 200 * time.Millisecond

// publishProcesses sets the state of every process tracker from set; at
// start without events.
func (m *Monitor) publishProcesses(set *ProcessSet, initial bool) {
	for i, v := range set.Verdicts() {
		spec := m.procs[i]
		st := State{Status: StatusFailed, Detail: v.Detail(spec)}
		if v.Up {
			st.Status = StatusOK
		}
		k := Key{KindProcess, v.Name}
		if initial {
			m.initState(k, st)
			continue
		}
		if m.set(k, st) {
			m.log.Info("tracked process quorum "+map[bool]string{true: "gained", false: "lost"}[v.Up], "track_process", v.Name, "detail", st.Detail)
		}
	}
	set.Changed()
}

// ProcessMode says how processes are followed: "process events",
// "scanning /proc", or "" when none is tracked.
func (m *Monitor) ProcessMode() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.procMode
}
