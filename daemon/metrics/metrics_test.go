package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/hactl/hactl/pkg/api"
)

// fakeSource is a daemon whose status the test sets.
type fakeSource struct {
	mu  sync.Mutex
	st  api.Status
	err error
	// fifoDrops and eventDrops are what NotifyDrops reports.
	fifoDrops  map[string]uint64
	eventDrops uint64
}

func (f *fakeSource) notifyDrops() (map[string]uint64, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fifoDrops, f.eventDrops
}

func (f *fakeSource) status() (api.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.err
}

func (f *fakeSource) set(fn func(st *api.Status)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.st)
}

var t0 = time.Unix(1700000000, 0)

func twoInstances() api.Status {
	return api.Status{
		Daemon: api.Daemon{Name: "hactl", Version: "v1.2.3", Hostname: "node1", StartedAt: t0},
		Instances: []api.Instance{
			{Name: "VI_1", Interface: "eth0", VRID: 51, Family: "inet", State: api.StateMaster, Since: t0.Add(10 * time.Second),
				BasePriority: 100, EffectivePriority: 102, VIPs: []string{"192.0.2.10/24", "192.0.2.11/32"}, Holding: true, LeaseSeconds: 6,
				Trackers: []api.Tracker{{Name: "chk_web", Kind: "script", OK: true, Weight: 2}, {Name: "eth0", Kind: "interface", OK: true}},
				Counters: api.Counters{AdvertsSent: 40, AdvertsReceived: 3, BecameMaster: 1, Dropped: 2}},
			{Name: "VI_6", Interface: "eth0", VRID: 52, Family: "inet6", State: api.StateBackup, Since: t0,
				BasePriority: 90, EffectivePriority: 90, VIPs: []string{"2001:db8::10/64"},
				Trackers: []api.Tracker{{Name: "chk_web", Kind: "script", OK: false, Weight: 0}},
				Counters: api.Counters{AdvertsReceived: 7}},
		},
		Drops:   map[string]uint64{"ttl": 4, "auth": 1, "strange": 1},
		Sockets: []api.Socket{{Interface: "eth0", Family: "inet"}, {Interface: "eth0", Family: "inet6"}},
	}
}

func newFake(t *testing.T, compat bool) (*Metrics, *fakeSource) {
	t.Helper()
	f := &fakeSource{st: twoInstances(), fifoDrops: map[string]uint64{"/run/hactl/notify.fifo": 0}}
	return New(Options{Status: f.status, KeepalivedCompat: compat, NotifyDrops: f.notifyDrops}), f
}

func TestSnapshotMetrics(t *testing.T) {
	m, _ := newFake(t, false)
	m.Transition("VI_1", api.StateInit, api.StateBackup)
	m.Transition("VI_1", api.StateBackup, api.StateMaster)
	m.Transition("VI_6", api.StateInit, api.StateBackup)
	m.LeaseRefresh("VI_1")
	m.LeaseRefresh("VI_1")
	m.Drop("VI_1", "auth")
	m.Drop("", "ttl") // not attributable: ignored here, counted in the status

	want := `
# HELP hactl_up 1 when the daemon answered this scrape's status request; 0 when it did not (then only process, Go and script metrics follow).
# TYPE hactl_up gauge
hactl_up 1
# HELP hactl_build_info Always 1; the daemon's version and host name as labels.
# TYPE hactl_build_info gauge
hactl_build_info{hostname="node1",version="v1.2.3"} 1
# HELP hactl_config_last_reload_successful 1 when the last reload (SIGHUP, POST /v1/reload) succeeded or none was tried; 0 when the last one was refused and the previous config still runs.
# TYPE hactl_config_last_reload_successful gauge
hactl_config_last_reload_successful 1
# HELP hactl_config_last_reload_success_timestamp_seconds When the running config was loaded (start or last successful reload), Unix time.
# TYPE hactl_config_last_reload_success_timestamp_seconds gauge
hactl_config_last_reload_success_timestamp_seconds 1.7e+09
# HELP hactl_vrrp_state 1 for the instance's current VRRP state, 0 for the others (INIT, BACKUP, MASTER, FAULT, STOP).
# TYPE hactl_vrrp_state gauge
hactl_vrrp_state{family="inet",interface="eth0",state="BACKUP",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_state{family="inet",interface="eth0",state="FAULT",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_state{family="inet",interface="eth0",state="INIT",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_state{family="inet",interface="eth0",state="MASTER",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_state{family="inet",interface="eth0",state="STOP",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_state{family="inet6",interface="eth0",state="BACKUP",vrid="52",vrrp_instance="VI_6"} 1
hactl_vrrp_state{family="inet6",interface="eth0",state="FAULT",vrid="52",vrrp_instance="VI_6"} 0
hactl_vrrp_state{family="inet6",interface="eth0",state="INIT",vrid="52",vrrp_instance="VI_6"} 0
hactl_vrrp_state{family="inet6",interface="eth0",state="MASTER",vrid="52",vrrp_instance="VI_6"} 0
hactl_vrrp_state{family="inet6",interface="eth0",state="STOP",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_transitions_total State transitions of the instance, by the state entered.
# TYPE hactl_vrrp_transitions_total counter
hactl_vrrp_transitions_total{family="inet",interface="eth0",state="BACKUP",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_transitions_total{family="inet",interface="eth0",state="FAULT",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_transitions_total{family="inet",interface="eth0",state="INIT",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_transitions_total{family="inet",interface="eth0",state="MASTER",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_transitions_total{family="inet",interface="eth0",state="STOP",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_transitions_total{family="inet6",interface="eth0",state="BACKUP",vrid="52",vrrp_instance="VI_6"} 1
hactl_vrrp_transitions_total{family="inet6",interface="eth0",state="FAULT",vrid="52",vrrp_instance="VI_6"} 0
hactl_vrrp_transitions_total{family="inet6",interface="eth0",state="INIT",vrid="52",vrrp_instance="VI_6"} 0
hactl_vrrp_transitions_total{family="inet6",interface="eth0",state="MASTER",vrid="52",vrrp_instance="VI_6"} 0
hactl_vrrp_transitions_total{family="inet6",interface="eth0",state="STOP",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_base_priority Configured priority of the instance (1-255).
# TYPE hactl_vrrp_base_priority gauge
hactl_vrrp_base_priority{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 100
hactl_vrrp_base_priority{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 90
# HELP hactl_vrrp_effective_priority Priority the instance advertises now: the base priority plus tracker weights (0 when it resigns).
# TYPE hactl_vrrp_effective_priority gauge
hactl_vrrp_effective_priority{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 102
hactl_vrrp_effective_priority{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 90
# HELP hactl_vrrp_adverts_sent_total VRRP advertisements sent (one per destination: group or unicast peer).
# TYPE hactl_vrrp_adverts_sent_total counter
hactl_vrrp_adverts_sent_total{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 40
hactl_vrrp_adverts_sent_total{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_adverts_received_total VRRP advertisements received and accepted for this instance.
# TYPE hactl_vrrp_adverts_received_total counter
hactl_vrrp_adverts_received_total{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 3
hactl_vrrp_adverts_received_total{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 7
# HELP hactl_vrrp_released_master_total Transitions out of MASTER (to BACKUP, FAULT or STOP).
# TYPE hactl_vrrp_released_master_total counter
hactl_vrrp_released_master_total{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_released_master_total{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_last_transition_timestamp_seconds When the instance entered its current state, Unix time.
# TYPE hactl_vrrp_last_transition_timestamp_seconds gauge
hactl_vrrp_last_transition_timestamp_seconds{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 1.70000001e+09
hactl_vrrp_last_transition_timestamp_seconds{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 1.7e+09
# HELP hactl_vrrp_vip_lease_refreshes_total Renewals of the instance's VIP kernel leases while master.
# TYPE hactl_vrrp_vip_lease_refreshes_total counter
hactl_vrrp_vip_lease_refreshes_total{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 2
hactl_vrrp_vip_lease_refreshes_total{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_vip_held 1 when this node has the configured VIP on its interface now (the instance is MASTER), else 0.
# TYPE hactl_vrrp_vip_held gauge
hactl_vrrp_vip_held{address="192.0.2.10",family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_vip_held{address="192.0.2.11",family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_vip_held{address="2001:db8::10",family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_promoted 1 while a sticky promotion (hactl failover --to) holds mastership on this node.
# TYPE hactl_vrrp_promoted gauge
hactl_vrrp_promoted{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_promoted{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_tracker_ok 1 when the tracker (script, interface or file) is OK for the instance, 0 when it fails.
# TYPE hactl_vrrp_tracker_ok gauge
hactl_vrrp_tracker_ok{family="inet",interface="eth0",kind="interface",tracker="eth0",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_tracker_ok{family="inet",interface="eth0",kind="script",tracker="chk_web",vrid="51",vrrp_instance="VI_1"} 1
hactl_vrrp_tracker_ok{family="inet6",interface="eth0",kind="script",tracker="chk_web",vrid="52",vrrp_instance="VI_6"} 0
# HELP hactl_vrrp_tracker_weight Priority the tracker adds to the instance now (negative when it subtracts).
# TYPE hactl_vrrp_tracker_weight gauge
hactl_vrrp_tracker_weight{family="inet",interface="eth0",kind="interface",tracker="eth0",vrid="51",vrrp_instance="VI_1"} 0
hactl_vrrp_tracker_weight{family="inet",interface="eth0",kind="script",tracker="chk_web",vrid="51",vrrp_instance="VI_1"} 2
hactl_vrrp_tracker_weight{family="inet6",interface="eth0",kind="script",tracker="chk_web",vrid="52",vrrp_instance="VI_6"} 0
`
	names := []string{"hactl_up", "hactl_build_info", "hactl_config_last_reload_successful", "hactl_config_last_reload_success_timestamp_seconds",
		"hactl_vrrp_state", "hactl_vrrp_transitions_total", "hactl_vrrp_base_priority", "hactl_vrrp_effective_priority",
		"hactl_vrrp_adverts_sent_total", "hactl_vrrp_adverts_received_total", "hactl_vrrp_released_master_total",
		"hactl_vrrp_last_transition_timestamp_seconds", "hactl_vrrp_vip_lease_refreshes_total", "hactl_vrrp_vip_held",
		"hactl_vrrp_promoted", "hactl_vrrp_tracker_ok", "hactl_vrrp_tracker_weight"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestDropsByReason(t *testing.T) {
	m, _ := newFake(t, false)
	m.Drop("VI_1", "auth")
	m.Drop("VI_1", "auth")
	m.Drop("VI_6", "unknown_peer")
	got := scrape(t, m)
	for _, line := range []string{
		`hactl_vrrp_packets_dropped_total{reason="ttl"} 4`,
		`hactl_vrrp_packets_dropped_total{reason="auth"} 1`,
		`hactl_vrrp_packets_dropped_total{reason="checksum"} 0`, // known reasons from zero
		`hactl_vrrp_packets_dropped_total{reason="malformed"} 0`,
		`hactl_vrrp_packets_dropped_total{reason="strange"} 1`, // reasons the daemon adds later still show
		`hactl_vrrp_instance_packets_dropped_total{family="inet",interface="eth0",reason="auth",vrid="51",vrrp_instance="VI_1"} 2`,
		`hactl_vrrp_instance_packets_dropped_total{family="inet",interface="eth0",reason="interval",vrid="51",vrrp_instance="VI_1"} 0`,
		`hactl_vrrp_instance_packets_dropped_total{family="inet6",interface="eth0",reason="unknown_peer",vrid="52",vrrp_instance="VI_6"} 1`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	for _, r := range []string{"ttl", "version", "type", "checksum", "length", "addr-count", "auth-type", "auth", "interval", "family", "protocol", "unknown_peer", "malformed"} {
		if !strings.Contains(got, `hactl_vrrp_packets_dropped_total{reason="`+r+`"}`) {
			t.Errorf("reason %s not exported from zero", r)
		}
	}
}

// TestCountersMove is the unit-level version of the acceptance test: a
// failover and a forged packet move the counters between two scrapes.
func TestCountersMove(t *testing.T) {
	m, f := newFake(t, true)
	before := scrape(t, m)
	// VI_6 takes over from a dead master; VI_1 gets a forged packet.
	f.set(func(st *api.Status) {
		st.Instances[1].State = api.StateMaster
		st.Instances[1].Holding = true
		st.Instances[1].Counters.AdvertsSent += 3
		st.Drops["auth"]++
	})
	m.Transition("VI_6", api.StateBackup, api.StateMaster)
	m.Drop("VI_1", "auth")
	m.LeaseRefresh("VI_6")
	after := scrape(t, m)
	vi6 := `family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"`
	for _, c := range []struct{ metric, before, after string }{
		{`hactl_vrrp_state{` + `family="inet6",interface="eth0",state="MASTER",vrid="52",vrrp_instance="VI_6"}`, "0", "1"},
		{`hactl_vrrp_transitions_total{family="inet6",interface="eth0",state="MASTER",vrid="52",vrrp_instance="VI_6"}`, "0", "1"},
		{`hactl_vrrp_adverts_sent_total{` + vi6 + `}`, "0", "3"},
		{`hactl_vrrp_vip_held{address="2001:db8::10",` + vi6 + `}`, "0", "1"},
		{`hactl_vrrp_vip_lease_refreshes_total{` + vi6 + `}`, "0", "1"},
		{`hactl_vrrp_packets_dropped_total{reason="auth"}`, "1", "2"},
		{`hactl_vrrp_instance_packets_dropped_total{family="inet",interface="eth0",reason="auth",vrid="51",vrrp_instance="VI_1"}`, "0", "1"},
		{`keepalived_vrrp_state{iname="VI_6",intf="eth0",ip_address="2001:db8::10",vrid="52"}`, "1", "2"},
		{`keepalived_become_master_total{iname="VI_6",intf="eth0",vrid="52"}`, "0", "1"},
		{`keepalived_authentication_failure_total{iname="VI_1",intf="eth0",vrid="51"}`, "0", "1"},
	} {
		if !strings.Contains(before, c.metric+" "+c.before+"\n") {
			t.Errorf("before: want %s %s", c.metric, c.before)
		}
		if !strings.Contains(after, c.metric+" "+c.after+"\n") {
			t.Errorf("after: want %s %s", c.metric, c.after)
		}
	}
}

func TestKeepalivedCompat(t *testing.T) {
	m, _ := newFake(t, true)
	m.Transition("VI_1", api.StateBackup, api.StateMaster)
	m.Transition("VI_1", api.StateMaster, api.StateFault)
	m.Drop("VI_1", "ttl")
	want := `
# HELP keepalived_up Status (hactl: 1 when the daemon answered the scrape).
# TYPE keepalived_up gauge
keepalived_up 1
# HELP keepalived_vrrp_state State of vrrp (keepalived numbering: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP).
# TYPE keepalived_vrrp_state gauge
keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="192.0.2.10",vrid="51"} 2
keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="192.0.2.11",vrid="51"} 2
keepalived_vrrp_state{iname="VI_6",intf="eth0",ip_address="2001:db8::10",vrid="52"} 1
# HELP keepalived_become_master_total Became master
# TYPE keepalived_become_master_total counter
keepalived_become_master_total{iname="VI_1",intf="eth0",vrid="51"} 1
keepalived_become_master_total{iname="VI_6",intf="eth0",vrid="52"} 0
# HELP keepalived_release_master_total Released master
# TYPE keepalived_release_master_total counter
keepalived_release_master_total{iname="VI_1",intf="eth0",vrid="51"} 1
keepalived_release_master_total{iname="VI_6",intf="eth0",vrid="52"} 0
# HELP keepalived_ip_ttl_errors_total TTL errors
# TYPE keepalived_ip_ttl_errors_total counter
keepalived_ip_ttl_errors_total{iname="VI_1",intf="eth0",vrid="51"} 1
keepalived_ip_ttl_errors_total{iname="VI_6",intf="eth0",vrid="52"} 0
# HELP keepalived_advertisements_sent_total Advertisements sent
# TYPE keepalived_advertisements_sent_total counter
keepalived_advertisements_sent_total{iname="VI_1",intf="eth0",vrid="51"} 40
keepalived_advertisements_sent_total{iname="VI_6",intf="eth0",vrid="52"} 0
# HELP keepalived_script_status Tracker Script Status (0 BAD, 1 GOOD)
# TYPE keepalived_script_status gauge
keepalived_script_status{name="chk_web"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "keepalived_up", "keepalived_vrrp_state",
		"keepalived_become_master_total", "keepalived_release_master_total", "keepalived_ip_ttl_errors_total",
		"keepalived_advertisements_sent_total", "keepalived_script_status"); err != nil {
		t.Error(err)
	}
	// Off by default.
	plain, _ := newFake(t, false)
	if strings.Contains(scrape(t, plain), "keepalived_") {
		t.Error("keepalived_* exported without KeepalivedCompat")
	}
}

func TestStatusError(t *testing.T) {
	m, f := newFake(t, true)
	f.err = errors.New("daemon loop did not answer within 10s")
	m.ScriptRun("vrrp_script", "chk_web", true, 20*time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	for _, want := range []string{"hactl_up 0\n", "keepalived_up 0\n", "hactl_script_runs_total{kind=\"vrrp_script\",name=\"chk_web\"} 1\n", "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(body, "hactl_vrrp_state") {
		t.Error("instance series without a status")
	}
}

func TestScripts(t *testing.T) {
	m := New(Options{})
	kind, name := ScriptLabel("vrrp_script chk_web")
	m.ScriptRun(kind, name, true, 30*time.Millisecond)
	m.ScriptRun(kind, name, false, 2*time.Second)
	kind, name = ScriptLabel("notify_master INSTANCE VI_1")
	m.ScriptRun(kind, name, true, time.Millisecond)
	got := scrape(t, m)
	for _, line := range []string{
		`hactl_script_runs_total{kind="vrrp_script",name="chk_web"} 2`,
		`hactl_script_failures_total{kind="vrrp_script",name="chk_web"} 1`,
		`hactl_script_runs_total{kind="notify_master",name="VI_1"} 1`,
		`hactl_script_failures_total{kind="notify_master",name="VI_1"} 0`, // from zero
		`hactl_script_duration_seconds_bucket{kind="vrrp_script",name="chk_web",le="0.05"} 1`,
		`hactl_script_duration_seconds_bucket{kind="vrrp_script",name="chk_web",le="2.5"} 2`,
		`hactl_script_duration_seconds_count{kind="vrrp_script",name="chk_web"} 2`,
		`hactl_script_duration_seconds_sum{kind="vrrp_script",name="chk_web"} 2.03`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	for label, want := range map[string][2]string{
		"vrrp_script chk_web":              {"vrrp_script", "chk_web"},
		"notify GROUP G1":                  {"notify", "G1"},
		"notify_master_dir INSTANCE VI_1":  {"notify_master_dir", "VI_1"},
		"":                                 {"unknown", ""},
		"notify_stop":                      {"notify_stop", ""},
		"  vrrp_script   spaced_out      ": {"vrrp_script", "spaced_out"},
	} {
		if k, n := ScriptLabel(label); k != want[0] || n != want[1] {
			t.Errorf("ScriptLabel(%q) = %q, %q; want %q", label, k, n, want)
		}
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *Metrics
	m.Transition("VI_1", api.StateBackup, api.StateMaster)
	m.LeaseRefresh("VI_1")
	m.Drop("VI_1", "ttl")
	m.ScriptRun("vrrp_script", "x", false, time.Second)
}

// TestLint checks names, units, HELP and TYPE against Prometheus'
// conventions (promlint, as promtool check metrics does).
func TestLint(t *testing.T) {
	m, _ := newFake(t, true)
	m.ScriptRun("vrrp_script", "chk_web", true, time.Millisecond)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "keepalived_") {
			continue // keepalived-exporter's names, kept as they are
		}
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestServe(t *testing.T) {
	m, _ := newFake(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "# TYPE hactl_vrrp_state gauge") {
		t.Errorf("/metrics: %d %.200s", code, body)
	}
	if code, _ := get("/v1/status"); code != http.StatusNotFound {
		t.Errorf("/v1/status over TCP: %d, want 404", code)
	}
	if _, err := m.Serve(ctx, addr.String()); err == nil {
		t.Error("a second listener on a busy port: no error")
	}
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := http.Get("http://" + addr.String() + "/metrics"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("listener still answers after ctx ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestConflictAndSocketMetrics: the conflict table's size and evictions,
// and each socket's other-VRID and kernel-drop counters.
func TestConflictAndSocketMetrics(t *testing.T) {
	m, f := newFake(t, false)
	f.set(func(st *api.Status) {
		st.Instances[0].Conflicts = []api.Conflict{{Source: "192.0.2.99"}, {Source: "192.0.2.98"}}
		st.Instances[0].ConflictSourcesEvicted = 9000
		st.Sockets = []api.Socket{{Interface: "eth0", Family: "inet", OtherVRID: 12, KernelDrops: 3}}
	})
	got := scrape(t, m)
	for _, line := range []string{
		`hactl_vrrp_conflict_sources{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 2`,
		`hactl_vrrp_conflict_sources{family="inet6",interface="eth0",vrid="52",vrrp_instance="VI_6"} 0`,
		`hactl_vrrp_conflict_sources_evicted_total{family="inet",interface="eth0",vrid="51",vrrp_instance="VI_1"} 9000`,
		`hactl_vrrp_socket_other_vrid_packets_total{family="inet",interface="eth0"} 12`,
		`hactl_vrrp_socket_kernel_drops_total{family="inet",interface="eth0"} 3`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("scrape lacks %s", line)
		}
	}
}

// TestNotifyDrops: the FIFO and event-stream drop counters are exported as
// the notifier counts them, a series per FIFO path, and the event
// counter from zero.
func TestNotifyDrops(t *testing.T) {
	m, f := newFake(t, false)
	f.fifoDrops = map[string]uint64{"/run/a.fifo": 3, "/run/b.fifo": 0}
	f.eventDrops = 7
	want := `
# HELP hactl_events_dropped_total Events GET /v1/events readers missed for reading too slowly, all readers together, since the daemon started.
# TYPE hactl_events_dropped_total counter
hactl_events_dropped_total 7
# HELP hactl_notify_fifo_dropped_total Lines a notify FIFO dropped because its pipe was full (nobody reads it, or too slowly), by FIFO path, since the daemon started.
# TYPE hactl_notify_fifo_dropped_total counter
hactl_notify_fifo_dropped_total{fifo="/run/a.fifo"} 3
hactl_notify_fifo_dropped_total{fifo="/run/b.fifo"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hactl_events_dropped_total", "hactl_notify_fifo_dropped_total"); err != nil {
		t.Error(err)
	}
	bare := New(Options{})
	want = `
# HELP hactl_events_dropped_total Events GET /v1/events readers missed for reading too slowly, all readers together, since the daemon started.
# TYPE hactl_events_dropped_total counter
hactl_events_dropped_total 0
`
	if err := testutil.GatherAndCompare(bare.Registry(), strings.NewReader(want), "hactl_events_dropped_total", "hactl_notify_fifo_dropped_total"); err != nil {
		t.Errorf("without NotifyDrops: %v", err)
	}
}

// withGuard guards VI_1 with G (docs/guard.md).
func withGuard(st *api.Status) {
	st.Instances[0].Guard = &api.InstanceGuard{Guard: "G", Key: "/hactl/ipv4/51", Holder: "node1", Held: true, Acquisitions: 2, Losses: 1}
	st.Guards = []api.Guard{{Name: "G", LeaseOK: true, Renewals: 40, RenewalFailures: 3, Grants: 2, Losses: 1}}
}

func TestGuardMetrics(t *testing.T) {
	m, f := newFake(t, false)
	f.set(withGuard)
	want := `
# HELP hactl_guard_key_held 1 when this node holds the instance's etcd guard key now (docs/guard.md); the VIPs are held only with it.
# TYPE hactl_guard_key_held gauge
hactl_guard_key_held{family="inet",guard="G",interface="eth0",vrid="51",vrrp_instance="VI_1"} 1
# HELP hactl_guard_key_losses_total Times the instance lost its guard key while master (deadline passed, lease lost, key taken): each gave up mastership with priority 0.
# TYPE hactl_guard_key_losses_total counter
hactl_guard_key_losses_total{family="inet",guard="G",interface="eth0",vrid="51",vrrp_instance="VI_1"} 1
# HELP hactl_guard_lease_ok 1 when the etcd guard has a lease renewed within its deadline (it reaches etcd); 0: its instances are in FAULT and hold no VIP.
# TYPE hactl_guard_lease_ok gauge
hactl_guard_lease_ok{guard="G"} 1
# HELP hactl_guard_lease_renewals_total Keep-alive rounds of the guard's etcd lease, by result: ok, or failed (etcd unreachable or too slow).
# TYPE hactl_guard_lease_renewals_total counter
hactl_guard_lease_renewals_total{guard="G",result="failed"} 3
hactl_guard_lease_renewals_total{guard="G",result="ok"} 40
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hactl_guard_key_held", "hactl_guard_key_losses_total",
		"hactl_guard_lease_ok", "hactl_guard_lease_renewals_total"); err != nil {
		t.Error(err)
	}
}
