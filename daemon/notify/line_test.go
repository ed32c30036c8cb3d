package notify

import (
	"fmt"
	"testing"
)

// TestLine: keepalived 2.2.7's FIFO line (vrrp_notify.c, notify_fifo),
// for instances and groups, every state and event, and priorities.
func TestLine(t *testing.T) {
	states := []State{Master, Backup, Fault, Stop, Deleted, MasterRxLowerPri, MasterPriority, BackupPriority}
	for _, kind := range []Kind{Instance, Group} {
		for _, st := range states {
			for _, prio := range []int{0, 1, 100, 200, 254, 255} {
				c := Change{Kind: kind, Name: "VI_1", State: st, Priority: prio}
				want := fmt.Sprintf("%s \"VI_1\" %s %d\n", kind, st, prio)
				if kind == Group {
					want = fmt.Sprintf("GROUP \"VI_1\" %s 0\n", st)
				}
				if got := c.Line(); got != want {
					t.Errorf("%+v: %q, want %q", c, got, want)
				}
				ev := c.Event(7, testTime)
				if ev.Line+"\n" != want || ev.Type != string(kind) || ev.State != string(st) || ev.Seq != 7 || (kind == Group && ev.Priority != 0) {
					t.Errorf("%+v: event %+v", c, ev)
				}
			}
		}
	}
	for _, tt := range []struct {
		c    Change
		want string
	}{
		{Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 200}, "INSTANCE \"VI_1\" MASTER 200\n"},
		{Change{Kind: Group, Name: "G1", State: Backup, Priority: 100}, "GROUP \"G1\" BACKUP 0\n"},
		{Change{Kind: Instance, Name: "VI_1", State: MasterRxLowerPri, Priority: 150}, "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150\n"},
		{Change{Kind: Instance, Name: "web-v6", State: Deleted, Priority: 90}, "INSTANCE \"web-v6\" DELETED 90\n"},
		{Change{Kind: Instance, Name: "VI_1", State: BackupPriority, Priority: 80}, "INSTANCE \"VI_1\" BACKUP_PRIORITY 80\n"},
	} {
		if got := tt.c.Line(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
}

func TestRunsScripts(t *testing.T) {
	for st, want := range map[State]bool{Master: true, Backup: true, Fault: true, Stop: true, Deleted: true,
		MasterRxLowerPri: true, MasterPriority: false, BackupPriority: false} {
		if st.runsScripts() != want {
			t.Errorf("%s: runsScripts %v", st, !want)
		}
	}
}
