package inventory

import (
	"bytes"
	"strings"
	"testing"
)

func TestControlPort(t *testing.T) {
	inv, err := Parse("inv", strings.NewReader("cluster c control_port=2922\n  a\n  b control_port=none\n  d control_port=922\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := inv.Clusters[0]
	for i, want := range []int{2922, -1, 922} {
		if got := c.Resolved(c.Nodes[i]).ControlPort; got != want {
			t.Errorf("%s: control port %d, want %d", c.Nodes[i].Name, got, want)
		}
	}
	var buf bytes.Buffer
	if err := inv.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Parse("inv", &buf)
	if err != nil || back.Clusters[0].Nodes[1].ControlPort != -1 || back.Clusters[0].Common.ControlPort != 2922 {
		t.Errorf("written and read back: %v\n%s", err, buf.String())
	}
	for _, bad := range []string{"control_port=0", "control_port=70000", "control_port=off"} {
		if _, err := Parse("inv", strings.NewReader("cluster c\n  a "+bad+"\n")); err == nil || !strings.Contains(err.Error(), "want 1-65535 or none") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
