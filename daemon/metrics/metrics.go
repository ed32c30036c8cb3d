package metrics

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hactl/hactl/pkg/api"
)

// StatusFunc returns the daemon's status, as GET /v1/status answers it
// (the daemon leaves out the host's interfaces, which no metric reads).
// It is called once per scrape, from the scrape's goroutine; the daemon
// runs it on its loop and bounds the wait.
type StatusFunc func() (api.Status, error)

// Options configure New.
type Options struct {
	// Status is asked for a snapshot at every scrape. Nil exports only the
	// pushed script metrics and the Go and process collectors.
	Status StatusFunc
	// KeepalivedCompat also exports keepalived-exporter's metric names
	// (keepalived_vrrp_state, keepalived_advertisements_sent_total, ...),
	// computed from the same snapshot, so that dashboards and alerts
	// written for keepalived-exporter work on an hactl node unchanged,
	// which matters in a mixed cluster during a migration.
	KeepalivedCompat bool
	// Log receives scrape errors; nil discards.
	Log *slog.Logger
	// ControlConns reports the control socket's open connections and the
	// connections it refused over its limits; nil reports zeros.
	ControlConns func() (open int, refused uint64)
	// NotifyDrops reports the lines each notify FIFO dropped (a full
	// pipe), by path, and the events GET /v1/events readers missed, both
	// since the daemon started; nil reports none.
	NotifyDrops func() (fifo map[string]uint64, events uint64)
	// ControlSSH reports the control_ssh listener's counters; nil
	// reports zeros (controlssh.go).
	ControlSSH func() ControlSSHStats
}

// Metrics is the daemon's metrics registry and the counters it pushes.
// A nil *Metrics is valid: every method does nothing.
type Metrics struct {
	opts Options
	log  *slog.Logger
	reg  *prometheus.Registry

	mu    sync.Mutex
	insts map[string]*pushed

	scriptRuns     *prometheus.CounterVec
	scriptFailures *prometheus.CounterVec
	scriptDuration *prometheus.HistogramVec
}

// pushed are the counters the daemon pushes for one instance.
type pushed struct {
	// transitions counts entries into each state (api.State* words).
	transitions map[api.State]uint64
	// released counts transitions out of MASTER.
	released uint64
	// leaseRefreshes counts renewals of the instance's VIP leases.
	leaseRefreshes uint64
	// drops counts dropped packets by reason.
	drops map[string]uint64
}

// New returns a Metrics with its own registry holding hactl's collector,
// the script metrics and the Go and process collectors.
func New(opts Options) *Metrics {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{opts: opts, log: log, reg: prometheus.NewRegistry(), insts: map[string]*pushed{}}
	scriptLabels := []string{"kind", "name"}
	m.scriptRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hactl_script_runs_total",
		Help: "Script runs that ended (tracker, notify and notify_master_dir scripts), by kind and name.",
	}, scriptLabels)
	m.scriptFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hactl_script_failures_total",
		Help: "Script runs that failed: non-zero exit, killed, timed out, or could not start.",
	}, scriptLabels)
	m.scriptDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hactl_script_duration_seconds",
		Help:    "Wall-clock duration of script runs.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, scriptLabels)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.scriptRuns, m.scriptFailures, m.scriptDuration,
		&snapshotCollector{m: m},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hactl_control_connections",
			Help: "Connections open on the control socket.",
		}, func() float64 { open, _ := m.controlConns(); return float64(open) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hactl_control_connections_refused_total",
			Help: "Control socket connections closed at once for being over the total or per-uid limit.",
		}, func() float64 { _, refused := m.controlConns(); return float64(refused) }),
		notifyDropsCollector{m},
		controlSSHCollector{m},
	)
	return m
}

var (
	fifoDroppedDesc = prometheus.NewDesc("hactl_notify_fifo_dropped_total",
		"Lines a notify FIFO dropped because its pipe was full (nobody reads it, or too slowly), by FIFO path, since the daemon started.",
		[]string{"fifo"}, nil)
	eventsDroppedDesc = prometheus.NewDesc("hactl_events_dropped_total",
		"Events GET /v1/events readers missed for reading too slowly, all readers together, since the daemon started.",
		nil, nil)
)

// notifyDropsCollector exports Options.NotifyDrops: the FIFO counter has
// a series per path, which only the notifier knows.
type notifyDropsCollector struct{ m *Metrics }

func (c notifyDropsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- fifoDroppedDesc
	ch <- eventsDroppedDesc
}

func (c notifyDropsCollector) Collect(ch chan<- prometheus.Metric) {
	var fifo map[string]uint64
	var events uint64
	if c.m.opts.NotifyDrops != nil {
		fifo, events = c.m.opts.NotifyDrops()
	}
	for path, n := range fifo {
		ch <- prometheus.MustNewConstMetric(fifoDroppedDesc, prometheus.CounterValue, float64(n), path)
	}
	ch <- prometheus.MustNewConstMetric(eventsDroppedDesc, prometheus.CounterValue, float64(events))
}

func (m *Metrics) controlConns() (int, uint64) {
	if m.opts.ControlConns == nil {
		return 0, 0
	}
	return m.opts.ControlConns()
}

// Registry is the registry behind Handler, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the text exposition format. Give it to
// control.Handler for the socket's GET /metrics; Serve uses it too. A
// scrape whose status call fails still answers 200, with hactl_up 0.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
}

func (m *Metrics) inst(name string) *pushed {
	p := m.insts[name]
	if p == nil {
		p = &pushed{transitions: map[api.State]uint64{}, drops: map[string]uint64{}}
		m.insts[name] = p
	}
	return p
}

// Transition counts a state change of an instance. from and to are the
// API's state words (api.StateMaster, ...). Call it once per change, where
// the daemon logs "state change".
func (m *Metrics) Transition(instance string, from, to api.State) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.inst(instance)
	p.transitions[to]++
	if from == api.StateMaster && to != api.StateMaster {
		p.released++
	}
}

// LeaseRefresh counts one renewal of an instance's VIP leases (all its
// VIPs at once).
func (m *Metrics) LeaseRefresh(instance string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inst(instance).leaseRefreshes++
}

// Drop counts a received packet dropped for reason (the names of
// vrrp.Reason.Name, "unknown_peer", "malformed") that could be attributed
// to an instance. Drops that cannot be (a packet too broken to name its
// VRID) are counted only in the status' Drops, which
// hactl_vrrp_packets_dropped_total exports.
func (m *Metrics) Drop(instance, reason string) {
	if m == nil || instance == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inst(instance).drops[reason]++
}

// ScriptRun records one finished script run. kind is what ran it
// (vrrp_script, notify, notify_master, ..., notify_master_dir) and name the
// vrrp_script, instance or group it ran for; ScriptLabel splits the
// daemon's run labels into the two.
func (m *Metrics) ScriptRun(kind, name string, ok bool, d time.Duration) {
	if m == nil {
		return
	}
	runs := m.scriptRuns.WithLabelValues(kind, name)
	fails := m.scriptFailures.WithLabelValues(kind, name) // exported from 0
	runs.Inc()
	if !ok {
		fails.Inc()
	}
	m.scriptDuration.WithLabelValues(kind, name).Observe(d.Seconds())
}

// ScriptLabel splits a scripts.Exec label into a kind and a name:
// "vrrp_script chk_web" is (vrrp_script, chk_web), "notify_master
// INSTANCE VI_1" is (notify_master, VI_1): the first word and the last.
func ScriptLabel(label string) (kind, name string) {
	f := strings.Fields(label)
	switch len(f) {
	case 0:
		return "unknown", ""
	case 1:
		return f[0], ""
	}
	return f[0], f[len(f)-1]
}
