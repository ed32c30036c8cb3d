package guard

import "time"

// GateInput is what the daemon knows of one guarded instance at Now.
type GateInput struct {
	Now time.Time
	// Master says the VRRP machine is master (VRRP still elects).
	Master bool
	// VIPsHeld says the VIPs are on the interfaces now.
	VIPsHeld bool
	// LeaseOK says the guard has a lease whose deadline has not passed
	// (it reaches etcd); Decision is the key's State.Decide(Now).
	LeaseOK  bool
	Decision Decision
	// Lease is the instance's own vip_lease (0: none).
	Lease time.Duration
}

// GateActions are what the daemon must do for the instance; the zero
// value is nothing.
type GateActions struct {
	// Fault puts the instance in (or, false, takes it out of) a guard
	// fault, as a tracker does: a master sends priority 0 and drops its
	// VIPs, so a peer that reaches etcd takes over at once.
	Fault bool
	// Acquire asks etcd for the key (a master without it).
	Acquire bool
	// Release deletes the key (a node that is no longer master hands it
	// to the next master at once).
	Release bool
	// AddVIPs and RemoveVIPs change the VIPs; Lifetime is the kernel
	// lifetime to add them with or refresh them to (0 with AddVIPs never
	// happens; 0 otherwise: do not extend).
	AddVIPs, RemoveVIPs bool
	Lifetime            time.Duration
	// Recheck is when to call Gate again at the latest (the deadline).
	Recheck time.Time
}

// Gate says what a guarded instance must do: a master holds VIPs only
// while it owns the key, bounded by the key's deadline; a node without a
// lease is in fault; a node that stops being master releases the key.
func Gate(in GateInput) GateActions {
	var a GateActions
	d := in.Decision
	a.Fault = !in.LeaseOK
	own := in.Master && d.Own
	switch {
	case own:
		a.Lifetime = Lifetime(in.Lease, in.Now, d.Until)
		a.Recheck = d.Until
		// Lifetime 0: too close to the deadline for one more kernel
		// second. VIPs on keep their current lifetime (already within the
		// deadline) and go at Recheck, when Decide says no; VIPs not on
		// are not added for less than a second.
		if !in.VIPsHeld && a.Lifetime > 0 {
			a.AddVIPs = true
		}
	case in.VIPsHeld:
		a.RemoveVIPs = true
	}
	if in.Master && !d.Own && in.LeaseOK {
		a.Acquire = true
	}
	if !in.Master && d.Own {
		a.Release = true
	}
	return a
}
