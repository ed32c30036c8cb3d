//go:build linux

package cli_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api/apitest"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// sessionRequest is what sshd logs when a client asks for a remote
// process: the channel request (debug) and the session start (verbose).
var sessionRequest = regexp.MustCompile(`request (exec|shell|subsystem)|Starting session:`)

// TestE2ESocketOnlyNodes is issue 18's acceptance for point 1: on a node
// whose hactl daemon answers, who-owns and status run no remote process
// (the node's sshd, at LogLevel DEBUG3, logs no exec, shell or subsystem
// request, and does log the streamlocal channel to the control socket);
// on a keepalived node the probe script still runs and answers, and so it
// does for an older daemon whose status has no interfaces (node4, a fake).
func TestE2ESocketOnlyNodes(t *testing.T) {
	labtest.Require(t, "keepalived")
	bin := buildHactl(t)
	debug := "Match all\n    LogLevel DEBUG3\n"
	l := labtest.Up(t, netlab.Config{Nodes: 4, SSH: true, SSHDExtra: map[string]string{"node1": debug, "node2": debug, "node3": debug, "node4": debug}})
	e := &e2eOp{t: t, l: l, bin: bin}

	var stops []func()
	t.Cleanup(func() {
		for _, s := range stops {
			s()
		}
	})
	start := func(h *netlab.Host, name string, argv ...string) {
		p, err := h.Start(name, argv...)
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, func() { p.Stop(3 * time.Second) })
	}
	for i, prio := range []int{100, 110} {
		h := l.Node(i + 1)
		conf := filepath.Join(h.Dir, "hactl.conf")
		if err := os.WriteFile(conf, []byte(vrrpConf(prio)), 0o644); err != nil {
			t.Fatal(err)
		}
		start(h, "daemon", bin, "daemon", "-f", conf, "--state-file", filepath.Join(h.Dir, "state"),
			"--socket", h.Socket(), "--pid-file", filepath.Join(h.Dir, "hactl.pid"))
	}
	kn := l.Node(3)
	kconf := filepath.Join(kn.Dir, "keepalived.conf")
	if err := os.WriteFile(kconf, []byte(vrrpConf(200)), 0o644); err != nil {
		t.Fatal(err)
	}
	start(kn, "keepalived", netlab.KeepalivedArgv(kn, kconf)...)

	// node4: a daemon from before GET /v1/status had interfaces.
	old := `{"daemon":{"name":"hactl","version":"0.9-old","pid":1,"hostname":"node4"},"instances":[],"drops":{},"sockets":[]}`
	apitest.Serve(t, l.Node(4).Socket(), true, func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(old), old)
	})
	if _, err := l.Node(4).Run(context.Background(), "ip", "addr", "add", "10.77.0.200/32", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}

	want := "node1=hactl:BACKUP node2=hactl:BACKUP node3=keepalived:MASTER node4=hactl"
	deadline := time.Now().Add(15 * time.Second)
	for got := e.states(); got != want; got = e.states() {
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not converge in 15s: %s, want %s", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// sshdLog is what node i's sshd logged since mark.
	logOf := func(i int) string {
		b, err := os.ReadFile(filepath.Join(l.Node(i).Dir, "sshd.log"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		args []string
		out  []string
	}{
		{"WhoOwns", []string{"who-owns", "10.77.0.100"}, []string{"owner: node3 (VI_1 MASTER)"}},
		{"Status", []string{"status"}, []string{"keepalived 2.2.7   VI_1       MASTER   200    200   10.77.0.100"}},
		{"StatusJSON", []string{"status", "-o", "json"}, []string{`"state_source": "control_socket"`, `"state_source": "keepalived_json"`}},
		{"WhoOwnsARP", []string{"who-owns", "10.77.0.100", "--arp"}, []string{"owner: node3 (VI_1 MASTER)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			marks := []int{0, len(logOf(1)), len(logOf(2)), len(logOf(3)), len(logOf(4))}
			e.hactl(tc.args...).want(t, 0, tc.out, nil)
			for i := 1; i <= 4; i++ {
				// sshd logs a closed session after the client has gone:
				// wait (bounded) for the connection's close line.
				var got string
				for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					got = logOf(i)[marks[i]:]
					if strings.Contains(got, "Close session") || strings.Contains(got, "Disconnected from") || time.Now().After(end) {
						break
					}
				}
				reqs := sessionRequest.FindAllString(got, -1)
				switch i {
				case 1, 2:
					if len(reqs) != 0 {
						t.Errorf("node%d: sshd started a remote process for a daemon node: %q\n%s", i, reqs, tail(got, 40))
					}
					if !strings.Contains(got, "direct-streamlocal") {
						t.Errorf("node%d: sshd log shows no streamlocal channel to the control socket:\n%s", i, tail(got, 40))
					}
				case 3, 4:
					if len(reqs) == 0 {
						t.Errorf("node%d (keepalived, old daemon): sshd log shows no probe command:\n%s", i, tail(got, 40))
					}
				}
			}
		})
	}

	// The old daemon's addresses come from the probe: node4 holds .200.
	t.Run("OldDaemonAddresses", func(t *testing.T) {
		e.t = t
		r := e.hactl("who-owns", "10.77.0.200")
		if row := lineOf(r.out, "node4"); !strings.Contains(row, "yes") || !strings.Contains(row, "10.77.0.200/32 on eth0") {
			t.Errorf("node4 row: %q", row)
		}
	})
}
