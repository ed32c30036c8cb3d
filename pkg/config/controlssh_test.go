package config

import (
	"strings"
	"testing"
)

func TestControlSSHKeywords(t *testing.T) {
	cfg, diags := Parse("h.conf", []byte(`global_defs {
    control_ssh [::]:922
    control_ssh_authorized_keys /etc/hactl/keys
    control_ssh_host_key /etc/ssh/a
    control_ssh_host_key /etc/ssh/b
}
`), LoadOptions{})
	for _, d := range diags {
		if d.Severity == SeverityError {
			t.Fatalf("diagnostic: %v", d)
		}
	}
	cs := cfg.Global.ControlSSH
	if cs.Addr != "[::]:922" || cs.AuthorizedKeys != "/etc/hactl/keys" || strings.Join(cs.HostKeys, ",") != "/etc/ssh/a,/etc/ssh/b" ||
		cs.Pos.Line != 2 || len(cs.HostKeyPos) != 2 || cs.HostKeyPos[1].Line != 5 {
		t.Errorf("ControlSSH = %+v", cs)
	}
	for _, bad := range []string{"922", "0.0.0.0:0", "node1:922", "0.0.0.0:ssh"} {
		_, diags := Parse("h.conf", []byte("global_defs {\n    control_ssh "+bad+"\n}\n"), LoadOptions{})
		found := false
		for _, d := range diags {
			if d.Severity == SeverityError && d.Pos.Line == 2 && strings.Contains(d.Message, "control_ssh") {
				found = true
			}
		}
		if !found {
			t.Errorf("control_ssh %s: no error at line 2: %v", bad, diags)
		}
	}
}
