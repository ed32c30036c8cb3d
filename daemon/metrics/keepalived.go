package metrics

import (
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hactl/hactl/pkg/api"
)

// keepalived-exporter's names (github.com/mehdy/keepalived-exporter), with
// its labels and meanings, for Options.KeepalivedCompat. Only the metrics
// hactl has an equivalent for are exported; docs/metrics.md lists the rest.

// KeepalivedState is keepalived's number for a state (vrrp.h:
// VRRP_STATE_INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98), which
// keepalived_vrrp_state reports.
func KeepalivedState(s api.State) float64 {
	switch s {
	case api.StateBackup:
		return 1
	case api.StateMaster:
		return 2
	case api.StateFault:
		return 3
	case api.StateStop:
		return 98
	}
	return 0
}

var kaLabels = []string{"iname", "intf", "vrid"}

func kaDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, kaLabels, nil)
}

var (
	descKAUp    = prometheus.NewDesc("keepalived_up", "Status (hactl: 1 when the daemon answered the scrape).", nil, nil)
	descKAState = prometheus.NewDesc("keepalived_vrrp_state",
		"State of vrrp (keepalived numbering: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP).",
		[]string{"iname", "intf", "vrid", "ip_address"}, nil)
	descKARcvd     = kaDesc("keepalived_advertisements_received_total", "Advertisements received")
	descKASent     = kaDesc("keepalived_advertisements_sent_total", "Advertisements sent")
	descKABecome   = kaDesc("keepalived_become_master_total", "Became master")
	descKARelease  = kaDesc("keepalived_release_master_total", "Released master")
	descKAScript   = prometheus.NewDesc("keepalived_script_status", "Tracker Script Status (0 BAD, 1 GOOD)", []string{"name"}, nil)
	kaDropCounters = []struct {
		desc   *prometheus.Desc
		reason string
	}{
		{kaDesc("keepalived_packet_length_errors_total", "Packet length errors"), "length"},
		{kaDesc("keepalived_advertisements_interval_errors_total", "Advertisement interval errors"), "interval"},
		{kaDesc("keepalived_ip_ttl_errors_total", "TTL errors"), "ttl"},
		{kaDesc("keepalived_invalid_type_received_total", "Invalid type errors"), "type"},
		{kaDesc("keepalived_authentication_mismatch_total", "Authentication mismatch"), "auth-type"},
		{kaDesc("keepalived_authentication_failure_total", "Authentication failure"), "auth"},
	}
)

func describeKeepalived(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descKAUp, descKAState, descKARcvd, descKASent, descKABecome, descKARelease, descKAScript} {
		ch <- d
	}
	for _, c := range kaDropCounters {
		ch <- c.desc
	}
}

func collectKeepalived(ch chan<- prometheus.Metric, st api.Status, p pushedCopy) {
	ch <- gauge(descKAUp, 1)
	var scripts []string
	scriptOK := map[string]bool{}
	for _, in := range st.Instances {
		id := []string{in.Name, in.Interface, strconv.Itoa(in.VRID)}
		state := KeepalivedState(in.State)
		addrs := vipAddrs(in.VIPs)
		if len(addrs) == 0 {
			addrs = []string{""} // as keepalived-exporter does without VIPs
		}
		for _, a := range addrs {
			ch <- gauge(descKAState, state, append(slices.Clone(id), a)...)
		}
		pi := p[in.Name]
		ch <- counter(descKARcvd, float64(in.Counters.AdvertsReceived), id...)
		ch <- counter(descKASent, float64(in.Counters.AdvertsSent), id...)
		ch <- counter(descKABecome, float64(pi.transitions[api.StateMaster]), id...)
		ch <- counter(descKARelease, float64(pi.released), id...)
		for _, c := range kaDropCounters {
			ch <- counter(c.desc, float64(pi.drops[c.reason]), id...)
		}
		// keepalived reports a vrrp_script once, not per instance: a
		// script is GOOD unless it fails for some instance.
		for _, t := range in.Trackers {
			if t.Kind != "script" {
				continue
			}
			if _, seen := scriptOK[t.Name]; !seen {
				scripts = append(scripts, t.Name)
				scriptOK[t.Name] = true
			}
			scriptOK[t.Name] = scriptOK[t.Name] && t.OK
		}
	}
	slices.Sort(scripts)
	for _, s := range scripts {
		ch <- gauge(descKAScript, boolf(scriptOK[s]), s)
	}
}
