package controlssh

import "github.com/prometheus/client_golang/prometheus"

var (
	connsDesc = prometheus.NewDesc("hactl_control_ssh_connections",
		"SSH connections open on the control_ssh listener.", nil, nil)
	refusedDesc = prometheus.NewDesc("hactl_control_ssh_refused_total",
		"control_ssh connections refused, by reason: limit (over a cap), auth (not root with a usable authorized key), handshake (key exchange failed or timed out).", []string{"reason"}, nil)
	rejectedDesc = prometheus.NewDesc("hactl_control_ssh_channels_rejected_total",
		"control_ssh channels and global requests refused (another type, another socket path, over the per-connection cap).", nil, nil)
)

// Collector exports the counters of the server stats returns (nil while
// control_ssh is off: then nothing is exported).
func Collector(stats func() *Server) prometheus.Collector { return collector{stats} }

type collector struct{ srv func() *Server }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connsDesc
	ch <- refusedDesc
	ch <- rejectedDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.srv()
	if s == nil {
		return
	}
	st := s.Stats()
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(st.Open))
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(st.RefusedLimit), "limit")
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(st.AuthFailed), "auth")
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(st.HandshakeFailed), "handshake")
	ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(st.ChannelsRejected))
}
