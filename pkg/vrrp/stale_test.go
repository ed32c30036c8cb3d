package vrrp

import (
	"testing"
	"time"
)

// TestRFC5798_6_4_2_StalePriorityZeroIgnored: a resignation from a router
// other than the master we follow (it arrived after the successor spoke)
// does not shorten our timer to Skew_Time.
func TestRFC5798_6_4_2_StalePriorityZeroIgnored(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second)  // old master
	h.advert(2*time.Second, addrLow, 150, time.Second) // successor took over
	deadline := h.in.Status().MasterDownAt
	h.advert(2*time.Second, addrHigh, 0, time.Second) // late duplicate resignation
	if len(h.acts) != 0 || h.in.Status().MasterDownAt != deadline {
		t.Fatalf("stale priority 0 acted: %v", h.acts)
	}
	h.advert(3*time.Second, addrLow, 0, time.Second) // the followed master resigns
	if at := h.armedAt(MasterDownTimer); at != 3*time.Second+h.in.skew() {
		t.Fatalf("timer at %v", at)
	}
}
