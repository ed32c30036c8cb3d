package metrics

import "github.com/prometheus/client_golang/prometheus"

// ControlSSHStats are the counters of the daemon's control_ssh listener
// (daemon/controlssh), all zero while it is off.
type ControlSSHStats struct {
	Open                                                     int
	RefusedLimit, AuthFailed, HandshakeFailed, ChansRejected uint64
}

var (
	controlSSHConnsDesc = prometheus.NewDesc("hactl_control_ssh_connections",
		"SSH connections open on the control_ssh listener.", nil, nil)
	controlSSHRefusedDesc = prometheus.NewDesc("hactl_control_ssh_refused_total",
		"control_ssh connections refused, by reason: limit (over a cap), auth (not root with a usable authorized key), handshake (key exchange failed or timed out).",
		[]string{"reason"}, nil)
	controlSSHRejectedDesc = prometheus.NewDesc("hactl_control_ssh_channels_rejected_total",
		"control_ssh channels and global requests refused (another type, another socket path, over the per-connection cap).", nil, nil)
)

// controlSSHCollector exports Options.ControlSSH.
type controlSSHCollector struct{ m *Metrics }

func (c controlSSHCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- controlSSHConnsDesc
	ch <- controlSSHRefusedDesc
	ch <- controlSSHRejectedDesc
}

func (c controlSSHCollector) Collect(ch chan<- prometheus.Metric) {
	var st ControlSSHStats
	if c.m.opts.ControlSSH != nil {
		st = c.m.opts.ControlSSH()
	}
	ch <- prometheus.MustNewConstMetric(controlSSHConnsDesc, prometheus.GaugeValue, float64(st.Open))
	ch <- prometheus.MustNewConstMetric(controlSSHRefusedDesc, prometheus.CounterValue, float64(st.RefusedLimit), "limit")
	ch <- prometheus.MustNewConstMetric(controlSSHRefusedDesc, prometheus.CounterValue, float64(st.AuthFailed), "auth")
	ch <- prometheus.MustNewConstMetric(controlSSHRefusedDesc, prometheus.CounterValue, float64(st.HandshakeFailed), "handshake")
	ch <- prometheus.MustNewConstMetric(controlSSHRejectedDesc, prometheus.CounterValue, float64(st.ChansRejected))
}
