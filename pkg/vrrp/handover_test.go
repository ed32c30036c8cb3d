package vrrp

import (
	"testing"
	"time"
)

// Handover hold (Config.Handover): hactl's addition to RFC 5798 §6.4 so
// that a planned handover has no instant with two VIP owners.

func withHold(c *Config) { c.Handover = 10 * time.Millisecond }

func TestHandover_PromotedBackupWaitsForRelease(t *testing.T) {
	h := newHarness(t, withHold)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second)
	h.step(2*time.Second, Promote())
	h.wantState(Master)
	h.wantActs("stop Master_Down_Timer|send-advert prio=255|arm Hold_Timer at=2.01s gen=3|arm Adver_Timer at=3s gen=4|state BACKUP->MASTER")
	if !h.in.Status().Pending {
		t.Fatal("not pending while waiting for the release")
	}
	// A priority 0 from some other router does not release the hold.
	h.advert(2*time.Second+time.Millisecond, addrLow, 0, time.Second)
	if h.has(ActionAddVIPs) {
		t.Fatalf("took the VIPs on a stranger's priority 0: %v", h.acts)
	}
	// The displaced master's release: take the VIPs, answer at once.
	h.advert(2*time.Second+2*time.Millisecond, addrHigh, 0, time.Second)
	h.wantActs("stop Hold_Timer|add-vips accept=false|announce|send-advert prio=255|arm Adver_Timer at=3.002s gen=6")
	if h.in.Status().Pending {
		t.Fatal("still pending after the release")
	}
}

func TestHandover_HoldTimerTakesVIPsWithoutRelease(t *testing.T) {
	h := newHarness(t, withHold)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second)
	h.step(2*time.Second, Promote())
	h.fire(HoldTimer)
	h.wantActs("add-vips accept=false|announce")
	h.wantState(Master)
	// The release arriving late changes nothing but the answer.
	h.advert(2*time.Second+20*time.Millisecond, addrHigh, 0, time.Second)
	if h.has(ActionAddVIPs) {
		t.Fatalf("VIPs added twice: %v", h.acts)
	}
}

func TestHandover_YieldingMasterReleasesAfterRemovingVIPs(t *testing.T) {
	h := newHarness(t, withHold)
	h.step(0, Startup())
	h.fire(MasterDownTimer)
	h.advert(5*time.Second, addrLow, 255, time.Second)
	h.wantState(Backup)
	h.wantActs("stop Adver_Timer|remove-vips|send-advert prio=0 dst=192.0.2.1|arm Master_Down_Timer at=8.609375s gen=3|state MASTER->BACKUP")
}

func TestHandover_PreemptionOfALiveMasterHolds(t *testing.T) {
	h := newHarness(t, withHold)
	h.step(0, Startup())
	h.advert(time.Second, addrLow, 50, time.Second) // lower master, still heard
	h.fire(MasterDownTimer)
	h.wantState(Master)
	if h.has(ActionAddVIPs) || !h.in.Status().Pending {
		t.Fatalf("preempting a live master took the VIPs at once: %v", h.acts)
	}
}

func TestHandover_CrashTakeoverDoesNotWait(t *testing.T) {
	h := newHarness(t, withHold)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second) // then silence
	h.fire(MasterDownTimer)
	h.wantState(Master)
	if !h.has(ActionAddVIPs) || h.in.Status().Pending {
		t.Fatalf("crash takeover waited: %v", h.acts)
	}
}

func TestHandover_LeavingMasterWhilePendingCancelsHold(t *testing.T) {
	h := newHarness(t, withHold)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second)
	h.step(2*time.Second, Promote())
	h.step(2*time.Second+time.Millisecond, Shutdown())
	h.wantState(Stopped)
	h.wantActs("stop Adver_Timer|stop Hold_Timer|send-advert prio=0|remove-vips|state MASTER->STOPPED")
	if h.in.Status().Pending {
		t.Fatal("pending after shutdown")
	}
}

func TestHandover_OffByDefault(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.fire(MasterDownTimer)
	h.advert(5*time.Second, addrLow, 255, time.Second)
	if n := len(h.acts); h.acts[n-2].Kind != ActionArmTimer || h.has(ActionSendAdvert) {
		t.Fatalf("a yielding master without a hold sent something: %v", h.acts)
	}
	if err := (&Config{VRID: 1, Version: Version3, Priority: 100, Interval: time.Second, Primary: addrLow, Handover: -1}).Validate(); err == nil {
		t.Fatal("negative hold accepted")
	}
}
