package config

import (
	"encoding/json"
	"time"
)

// Durations are time.Duration in Go and milliseconds in JSON, in fields
// whose names end in _ms (fractions of a millisecond are kept as decimals).

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes durations as *_ms numbers.
func (g GARP) MarshalJSON() ([]byte, error) {
	type plain GARP
	return json.Marshal(struct {
		MasterDelayMS    float64 `json:"master_delay_ms"`
		MasterRefreshMS  float64 `json:"master_refresh_ms"`
		LowerPrioDelayMS float64 `json:"lower_prio_delay_ms"`
		ExtraIfMS        float64 `json:"extra_if_ms"`
		plain
	}{ms(g.MasterDelay), ms(g.MasterRefresh), ms(g.LowerPrioDelay), ms(g.ExtraIf), plain(g)})
}

// MarshalJSON encodes durations as *_ms numbers.
func (g GlobalDefs) MarshalJSON() ([]byte, error) {
	type plain GlobalDefs
	return json.Marshal(struct {
		plain
		GARPIntervalMS float64 `json:"vrrp_garp_interval_ms"`
		GNAIntervalMS  float64 `json:"vrrp_gna_interval_ms"`
		StartupDelayMS float64 `json:"vrrp_startup_delay_ms"`
		VIPLeaseMS     float64 `json:"vip_lease_ms"`
	}{plain(g), ms(g.GARPInterval), ms(g.GNAInterval), ms(g.StartupDelay), leaseMS(g.VIPLease)})
}

// MarshalJSON encodes durations as *_ms numbers.
func (s Script) MarshalJSON() ([]byte, error) {
	type plain Script
	return json.Marshal(struct {
		plain
		IntervalMS float64 `json:"interval_ms"`
		TimeoutMS  float64 `json:"timeout_ms"`
	}{plain(s), ms(s.Interval), ms(s.Timeout)})
}

// MarshalJSON encodes durations as *_ms numbers.
func (in Instance) MarshalJSON() ([]byte, error) {
	type plain Instance
	return json.Marshal(struct {
		plain
		AdvertIntMS    float64 `json:"advert_int_ms"`
		PreemptDelayMS float64 `json:"preempt_delay_ms"`
		VIPLeaseMS     float64 `json:"vip_lease_ms"`
	}{plain(in), ms(in.AdvertInt), ms(in.PreemptDelay), ms(in.VIPLease)})
}

// leaseMS shows the automatic lease as -1.
func leaseMS(d time.Duration) float64 {
	if d == VIPLeaseAuto {
		return -1
	}
	return ms(d)
}
