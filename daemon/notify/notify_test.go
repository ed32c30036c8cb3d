package notify

import (
	"slices"
	"testing"

	"github.com/hactl/hactl/pkg/config"
)

func TestChangeArgs(t *testing.T) {
	tests := []struct {
		c    Change
		want []string
	}{
		{Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 100}, []string{"INSTANCE", "VI_1", "MASTER", "100"}},
		{Change{Kind: Group, Name: "G", State: Fault, Priority: 100}, []string{"GROUP", "G", "FAULT", "0"}},
		{Change{Kind: Instance, Name: "a b", State: Stop}, []string{"INSTANCE", "a b", "STOP", "0"}},
	}
	for _, tt := range tests {
		if got := tt.c.Args(); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestTargets(t *testing.T) {
	m := &config.Command{Args: []string{"/x"}}
	cfg := &config.Config{
		Instances:  []*config.Instance{{Name: "VI_1", NotifyMasterDir: "/etc/hactl/master.d", Notify: config.Notify{Master: m}}},
		SyncGroups: []*config.SyncGroup{{Name: "G", Notify: config.Notify{Any: m}}},
	}
	got := Targets(cfg)
	if len(got) != 2 || got[0].Kind != Instance || got[0].MasterDir != "/etc/hactl/master.d" || got[0].Scripts.Master != m ||
		got[1].Kind != Group || got[1].Name != "G" || got[1].Scripts.Any != m {
		t.Errorf("%+v", got)
	}
}

func TestRunPartsNames(t *testing.T) {
	for name, want := range map[string]bool{"10-a": true, "B_c": true, "a.sh": false, ".x": false, "x~": false, "x.dpkg-old": false, "": false, "a b": false} {
		if runPartsName.MatchString(name) != want {
			t.Errorf("%q: want %v", name, want)
		}
	}
}
