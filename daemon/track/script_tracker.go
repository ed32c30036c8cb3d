package track

import (
	"context"
	"time"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
)

// startScript sets a vrrp_script's initial state and starts its goroutine.
// A script the Runner refuses (missing, not executable, unsafe, its user
// unknown) is dropped, as keepalived drops it (check_vrrp_script_security
// removes an insecure or missing script from its instances, and a script
// whose user does not exist is removed as it is read): the instances that
// track it run without it, neither failing nor faulted.
func (m *Monitor) startScript(ctx context.Context, s *config.Script) {
	key := Key{KindScript, s.Name}
	state := NewScriptState(s.Rise, s.Fall, s.InitFail)
	if prev, ok := m.opts.Previous[key]; ok {
		state = ResumeScriptState(s.Rise, s.Fall, prev.Status)
	}
	probe, err := m.probe(s)
	if err != nil {
		m.drop(key, err.Error())
		m.log.Error("vrrp_script refused: dropped from the instances that track it, which run without it, as keepalived does", "script", s.Name, "err", err)
		return
	}
	m.initState(key, State{Status: state.Status(), Detail: "not run yet"})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.runScript(ctx, s, key, state, probe)
	}()
}

// probe returns the function that runs s once.
func (m *Monitor) probe(s *config.Script) (Probe, error) {
	if m.opts.Probe != nil {
		return func(ctx context.Context) (bool, string) { return m.opts.Probe(ctx, s) }, nil
	}
	sc, err := m.opts.Runner.Prepare(s.Command)
	if err != nil {
		return nil, err
	}
	ex := scripts.Exec{Timeout: scriptTimeout(s), Label: "vrrp_script " + s.Name, Quiet: true}
	return func(ctx context.Context) (bool, string) {
		res := m.opts.Runner.Run(ctx, sc, ex)
		d := res.Describe()
		if len(res.Output) > 0 {
			d += ": " + string(res.Output)
		}
		return res.OK(), d
	}, nil
}

func scriptTimeout(s *config.Script) time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return scriptInterval(s)
}

func scriptInterval(s *config.Script) time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return time.Second
}

// runScript runs a script now and then every interval, counted from the
// start of each run as keepalived does. Runs never overlap: a tick that
// falls while the script still runs is skipped (and logged), as keepalived
// skips a script that is not idle. Status changes become events; a
// changed result (a different exit status) is logged once.
func (m *Monitor) runScript(ctx context.Context, s *config.Script, key Key, state *ScriptState, probe Probe) {
	interval := scriptInterval(s)
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	lastDetail := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		ok, detail := probe(ctx)
		if ctx.Err() != nil {
			return // a run cut short by shutdown says nothing
		}
		st, changed := state.Observe(ok)
		if changed {
			lvl := m.log.Info
			if st == StatusFailed {
				lvl = m.log.Warn
			}
			lvl("vrrp_script status changed", "script", s.Name, "status", st.String(), "result", detail)
		} else if detail != lastDetail {
			m.log.Info("vrrp_script result changed", "script", s.Name, "status", st.String(), "result", detail)
		}
		lastDetail = detail
		m.set(key, State{Status: st, Detail: detail})

		next = next.Add(interval)
		if now := time.Now(); now.After(next) {
			missed := now.Sub(next)/interval + 1
			m.log.Info("vrrp_script ran past its interval; skipping runs", "script", s.Name, "skipped", int(missed))
			next = next.Add(missed * interval)
		}
		timer.Reset(time.Until(next))
	}
}
