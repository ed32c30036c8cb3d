package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/pkg/netlab"
)

// execFlags runs cmd with args against buffers, for the flag-parsing
// tables: the commands are built with a runF, so nothing but parsing runs.
func execFlags(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	io, _, _ := TestStreams()
	cmd.SetIn(io.In)
	cmd.SetOut(io.Out)
	cmd.SetErr(io.ErrOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	_, err := cmd.ExecuteC()
	return err
}

func TestLabFlags(t *testing.T) {
	def := func(name string) *LabTarget { return &LabTarget{Name: name, Root: netlab.DefaultRoot} }
	for _, tc := range []struct {
		args    []string
		want    any // the options the subcommand's runF got, IO and Global left out
		wantErr string
	}{
		{args: []string{"up"}, want: LabUpOptions{Lab: def("demo"), Nodes: 3}},
		{args: []string{"up", "--nodes", "5", "--name", "big"}, want: LabUpOptions{Lab: def("big"), Nodes: 5}},
		{args: []string{"--name", "big", "up"}, want: LabUpOptions{Lab: def("big"), Nodes: 3}},
		{args: []string{"up", "--lab-root", "/tmp/labs"}, want: LabUpOptions{Lab: &LabTarget{Name: "demo", Root: "/tmp/labs"}, Nodes: 3}},
		{args: []string{"up", "--no-daemon"}, want: LabUpOptions{Lab: def("demo"), Nodes: 3, NoDaemon: true}},
		{args: []string{"up", "--keepalived", "node1,node3"}, want: LabUpOptions{Lab: def("demo"), Nodes: 3, Keepalived: []string{"node1", "node3"}}},
		{args: []string{"up", "--keepalived", "node3", "--keepalived", "node1"}, want: LabUpOptions{Lab: def("demo"), Nodes: 3, Keepalived: []string{"node3", "node1"}}},
		{args: []string{"up", "--keepalived", "node4"}, wantErr: "--keepalived node4: not a node of the lab (node1..node3)"},
		{args: []string{"up", "--keepalived", "op"}, wantErr: "--keepalived op: not a node of the lab"},
		{args: []string{"up", "--no-daemon", "--keepalived", "node1"}, wantErr: "[keepalived no-daemon] were all set"},
		{args: []string{"up", "--nodes", "0"}, wantErr: "0 nodes: want 1 to 200"},
		{args: []string{"up", "--nodes", "201"}, wantErr: "201 nodes: want 1 to 200"},
		{args: []string{"up", "--nodes", "three"}, wantErr: `invalid argument "three" for "--nodes"`},
		{args: []string{"up", "extra"}, wantErr: `unknown command "extra"`},
		{args: []string{"up", "--bogus"}, wantErr: "unknown flag: --bogus"},
		{args: []string{"down"}, want: LabDownOptions{Lab: def("demo")}},
		{args: []string{"down", "--all"}, want: LabDownOptions{Lab: def("demo"), All: true}},
		{args: []string{"down", "--name", "x1"}, want: LabDownOptions{Lab: def("x1")}},
		{args: []string{"down", "--nodes", "3"}, wantErr: "unknown flag: --nodes"},
		{args: []string{"status"}, want: LabStatusOptions{Lab: def("demo")}},
		{args: []string{"status", "--name", "big"}, want: LabStatusOptions{Lab: def("big")}},
		{args: []string{"status", "node1"}, wantErr: `unknown command "node1"`},
		{args: []string{"exec", "node1", "--", "ip", "-br", "addr"}, want: LabExecOptions{Lab: def("demo"), Host: "node1", Argv: []string{"ip", "-br", "addr"}}},
		{args: []string{"exec", "--name", "big", "op", "--", "ping", "-c1", "10.77.0.12"},
			want: LabExecOptions{Lab: def("big"), Host: "op", Argv: []string{"ping", "-c1", "10.77.0.12"}}},
		{args: []string{"exec", "node1", "ip", "addr"}, wantErr: "write the command after --"},
		{args: []string{"exec", "node1", "--"}, wantErr: "requires at least 2 arg(s), only received 1"},
		{args: []string{"exec", "node1"}, wantErr: "requires at least 2 arg(s)"},
		{args: []string{"supervise", "--hold-file", "/h", "--pid-file", "/p", "--", "sleep", "1"},
			want: LabSuperviseOptions{HoldFile: "/h", PIDFile: "/p", Argv: []string{"sleep", "1"}}},
		{args: []string{"supervise", "--", "keepalived", "-n"}, want: LabSuperviseOptions{Argv: []string{"keepalived", "-n"}}},
		{args: []string{"supervise"}, wantErr: "requires at least 1 arg(s)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var got any
			io, _, _ := TestStreams()
			f := NewFactory(io, func(string) string { return "" })
			target := &LabTarget{}
			cmd := newCmdLabParent(target)
			cmd.AddCommand(
				newCmdLabUp(f, target, func(o *LabUpOptions) error { c := *o; c.IO, c.Global = nil, nil; got = c; return nil }),
				newCmdLabDown(f, target, func(o *LabDownOptions) error { c := *o; c.IO = nil; got = c; return nil }),
				newCmdLabStatus(f, target, func(o *LabStatusOptions) error { c := *o; c.IO, c.Global = nil, nil; got = c; return nil }),
				newCmdLabExec(f, target, func(o *LabExecOptions) error { c := *o; c.IO = nil; got = c; return nil }),
				newCmdLabSupervise(func(o *LabSuperviseOptions) error { got = *o; return nil }))
			err := execFlags(t, cmd, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("ran with %+v despite the error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("options\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestLabCommandsAreWired checks that the tree's lab commands run the real
// thing (a nil runF), and share one LabTarget.
func TestLabCommandsAreWired(t *testing.T) {
	io, _, _ := TestStreams()
	lab := newCmdLab(NewFactory(io, func(string) string { return "" }))
	var names []string
	for _, c := range lab.Commands() {
		names = append(names, c.Name())
		if c.RunE == nil {
			t.Errorf("lab %s: no RunE", c.Name())
		}
	}
	if got := strings.Join(names, ","); got != "down,exec,status,supervise,up" {
		t.Errorf("subcommands %s", got)
	}
	if sup, _, _ := lab.Find([]string{"supervise"}); !sup.Hidden {
		t.Error("lab supervise is not hidden")
	}
}

// TestLabFiles: lab up's "Files:" list names what the lab wrote, each
// file only if it exists, and the heading goes when nothing was written.
func TestLabFiles(t *testing.T) {
	dir := t.TempDir()
	touch := func(parts ...string) {
		p := filepath.Join(append([]string{dir}, parts...)...)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &netlab.Lab{Name: "t", Dir: dir,
		Nodes:      []*netlab.Host{{Name: "node1", Dir: filepath.Join(dir, "node1")}, {Name: "node2", Dir: filepath.Join(dir, "node2")}},
		SSHConfig:  filepath.Join(dir, "ssh_config"),
		KnownHosts: filepath.Join(dir, "known_hosts"),
		Identity:   filepath.Join(dir, "id_ed25519"),
		Inventory:  filepath.Join(dir, "inventory"),
	}

	var empty bytes.Buffer
	writeLabFiles(&empty, l)
	if empty.Len() != 0 {
		t.Errorf("nothing written, yet:\n%s", empty.String())
	}

	for _, f := range []string{"ssh_config", "known_hosts", "id_ed25519", "id_ed25519.pub", "inventory", "authorized_keys", "daemonctl",
		"restart-daemon", "lab.json", "node1/hactl.conf", "node1/daemon.log", "node1/hactl.pid", "node1/ssh_host_ed25519_key.pub",
		"node2/keepalived.conf", "node2/state"} {
		touch(strings.Split(f, "/")...)
	}
	var b bytes.Buffer
	writeLabFiles(&b, l)
	want := "Files:\n" +
		"  ssh_config       " + dir + "/ssh_config\n" +
		"  known_hosts      " + dir + "/known_hosts\n" +
		"  identity         " + dir + "/id_ed25519\n" +
		"  public key       " + dir + "/id_ed25519.pub\n" +
		"  inventory        " + dir + "/inventory\n" +
		"  authorized keys  " + dir + "/authorized_keys\n" +
		"  daemonctl        " + dir + "/daemonctl\n" +
		"  restart script   " + dir + "/restart-daemon\n" +
		"  lab state        " + dir + "/lab.json\n" +
		"  each node        " + dir + "/NODE/{daemon.log,hactl.conf,keepalived.conf,state}\n\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
