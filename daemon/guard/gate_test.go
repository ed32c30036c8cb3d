package guard

import (
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	now := at(100)
	owned := Decision{Own: true, Until: at(1780), Holder: "a"}
	nearEnd := Decision{Own: true, Until: at(1200), Holder: "a"}
	other := Decision{Holder: "b", Why: "key held by b"}
	none := Decision{Why: "not acquired yet"}
	for _, tc := range []struct {
		name string
		in   GateInput
		want GateActions
	}{
		{"master owning, VIPs not yet on: add them for a second",
			GateInput{Master: true, LeaseOK: true, Decision: owned},
			GateActions{AddVIPs: true, Lifetime: time.Second, Recheck: at(1780)}},
		{"master owning, VIPs on: refresh",
			GateInput{Master: true, LeaseOK: true, VIPsHeld: true, Decision: owned},
			GateActions{Lifetime: time.Second, Recheck: at(1780)}},
		{"master owning near the deadline: do not extend, come back at it",
			GateInput{Master: true, LeaseOK: true, VIPsHeld: true, Decision: nearEnd},
			GateActions{Recheck: at(1200)}},
		{"master owning near the deadline without VIPs: do not add for less than a second",
			GateInput{Master: true, LeaseOK: true, Decision: nearEnd},
			GateActions{Recheck: at(1200)}},
		{"master, another node holds the key (VRRP partition): no VIPs, keep asking",
			GateInput{Master: true, LeaseOK: true, Decision: other},
			GateActions{Acquire: true}},
		{"master, key lost while holding VIPs, lease fine: drop them, ask again",
			GateInput{Master: true, LeaseOK: true, VIPsHeld: true, Decision: none},
			GateActions{RemoveVIPs: true, Acquire: true}},
		{"master cut from etcd: fault, VIPs go",
			GateInput{Master: true, VIPsHeld: true, Decision: none},
			GateActions{Fault: true, RemoveVIPs: true}},
		{"backup, no lease (etcd down everywhere): fault",
			GateInput{Decision: none},
			GateActions{Fault: true}},
		{"backup still holding the key (preempted, handover): release it",
			GateInput{LeaseOK: true, Decision: owned},
			GateActions{Release: true}},
		{"backup with VIPs left: remove them",
			GateInput{LeaseOK: true, VIPsHeld: true, Decision: other},
			GateActions{RemoveVIPs: true}},
		{"vip_lease shorter than the deadline wins",
			GateInput{Master: true, LeaseOK: true, VIPsHeld: true, Decision: Decision{Own: true, Until: at(9100)}, Lease: 3 * time.Second},
			GateActions{Lifetime: 3 * time.Second, Recheck: at(9100)}},
	} {
		tc.in.Now = now
		if got := Gate(tc.in); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

// TestGateNeverPastDeadline drives Gate with a State whose renewals stop:
// the VIPs are never on past the deadline, counting the kernel's lag for a
// daemon that dies right after any refresh.
func TestGateNeverPastDeadline(t *testing.T) {
	s := NewState("a", 2*time.Second)
	s.Acquired(1, at(0))
	held := false
	var kernelEnd time.Time
	for ms := 0; ms <= 5000; ms += 10 {
		now := at(ms)
		if ms <= 1000 && ms%500 == 0 {
			s.Renewed(1, now)
		}
		d := s.Decide(now)
		a := Gate(GateInput{Now: now, Master: true, VIPsHeld: held, LeaseOK: d.Own, Decision: d})
		if a.AddVIPs {
			held = true
		}
		if a.RemoveVIPs {
			held = false
		}
		if held && a.Lifetime > 0 {
			kernelEnd = now.Add(a.Lifetime + KernelLag)
		}
		if deadline := s.Deadline(); held && !now.Before(deadline) {
			t.Fatalf("VIPs held at %d ms, deadline %v", ms, deadline.Sub(t0))
		}
		if kernelEnd.After(s.Deadline()) {
			t.Fatalf("at %d ms a refresh lets the kernel keep the VIPs until %v, past the deadline %v", ms, kernelEnd.Sub(t0), s.Deadline().Sub(t0))
		}
	}
	if held {
		t.Fatal("VIPs still held after renewals stopped")
	}
}
