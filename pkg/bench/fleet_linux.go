//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
)

// Fleet shapes: what runs on the lab's nodes.
const (
	// ShapeDaemon: every node runs a hactl daemon with the VIP's instance
	// (node1 is master and holds the VIP).
	ShapeDaemon = "daemon"
	// ShapePlain: no daemon anywhere; the VIP is added by hand on node1
	// (`ip addr add`), like a plain server.
	ShapePlain = "plain"
)

// Issue 18's speedup targets (rival median / hactl median) and the least
// it must reach, per shape.
var fleetTargets = map[string][2]float64{ShapeDaemon: {10, 6}, ShapePlain: {4, 2.5}}

// FleetKex is the key exchange both sides use: what hactl
// (golang.org/x/crypto/ssh) and the lab's OpenSSH 9.2 sshd agree on, so
// OpenSSH's client is held to it too rather than to its default
// sntrup761x25519 (dearer, and not what hactl pays).
const FleetKex = "curve25519-sha256"

// KexDefault names, in FleetSpec.Rivals, the rival that leaves the key
// exchange to OpenSSH.
const KexDefault = "default"

// FleetSpec describes a who-owns fleet benchmark.
type FleetSpec struct {
	// Bin is the hactl binary.
	Bin string
	// Shape is ShapeDaemon or ShapePlain.
	Shape string
	// Runs is the number of timed runs of each side (interleaved), after
	// one untimed warm-up run of each.
	Runs int
	// Rivals are the rival's key exchanges, each a row: KexDefault
	// (OpenSSH's own choice, sntrup761x25519 against this sshd: what an
	// unmodified `ssh` in a runbook pays) and FleetKex (held to hactl's,
	// like for like). Empty: both, KexDefault first. The targets
	// are set on the KexDefault row, the comparison with what an SRE
	// runs; the FleetKex row shows what is left when the rival is given
	// hactl's cheaper key exchange.
	Rivals []string
	// Log receives one line per run; nil discards.
	Log io.Writer
}

// fleetConf is node i's hactl config for ShapeDaemon: node1 wins.
func fleetConf(i int) string {
	prio := backupPrio
	if i == 1 {
		prio = masterPrio
	}
	return fmt.Sprintf(`vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority %d
    advert_int 1
    virtual_ipaddress {
        %s
    }
}
`, prio, benchVIP)
}

// WhoOwnsFleet times `hactl who-owns VIP` over every node of an SSH lab
// (built with CheapShell) against what an SRE types instead: the runbook's
// `ssh NODE 'ip a | grep VIP'` for all nodes at once with
// `xargs -P NODES`, through the lab's ssh_config, known_hosts and key (the
// same files hactl reads), once per key exchange in spec.Rivals. The sides
// take turns going first; each row's Speedup is its rival's median over
// hactl's, from this one run (hactl's trials are shared by the rows).
func WhoOwnsFleet(ctx context.Context, l *netlab.Lab, spec FleetSpec) ([]*Row, error) {
	n := len(l.Nodes)
	target, ok := fleetTargets[spec.Shape]
	if !ok {
		return nil, fmt.Errorf("fleet shape %q: want %s or %s", spec.Shape, ShapeDaemon, ShapePlain)
	}
	kexes := spec.Rivals
	if len(kexes) == 0 {
		kexes = []string{KexDefault, FleetKex}
	}
	stop, err := setUpFleet(ctx, l, spec)
	if err != nil {
		return nil, err
	}
	defer stop()

	var names strings.Builder
	for _, h := range l.Nodes {
		names.WriteString(h.Name + "\n")
	}
	vip := benchVIP.Addr().String()
	// sides[0] is hactl, then one rival per key exchange (rows[k] is
	// sides[k+1]'s).
	sides := []func() (time.Duration, error){func() (time.Duration, error) {
		d, out, err := timeCmd(ctx, l.Operator, "", 0, spec.Bin, "who-owns", vip, "--inventory", l.Inventory, "--timeout", "20s")
		if err == nil && !strings.Contains(out, "owner: node1") {
			err = fmt.Errorf("hactl who-owns %s did not find node1 the owner:\n%s", vip, out)
		}
		return d, err
	}}
	var rows []*Row
	for _, kex := range kexes {
		rival := fmt.Sprintf("xargs -P %d ssh", n)
		var opts []string
		label := "rival"
		switch kex {
		case KexDefault:
			rival += " (default kex)"
			label = "rival, OpenSSH's default kex"
		case "":
			return nil, fmt.Errorf("fleet rival: empty key exchange")
		default:
			rival += " (" + kex + ")"
			label = "rival held to " + kex
			opts = []string{"-o", "KexAlgorithms=" + kex}
		}
		rows = append(rows, &Row{Name: fmt.Sprintf("who-owns, %d %s nodes (%s: xargs -P %d ssh NODE 'ip a | grep VIP')", n, spec.Shape, label, n),
			Unit: "ms", Trials: map[string][]float64{}, Rival: rival})
		sides = append(sides, func() (time.Duration, error) {
			// xargs exits 123 when some command failed with 1-125: grep
			// found nothing on every node but the owner. ssh's own failure
			// is 255, on which xargs stops with 124.
			argv := append([]string{"xargs", "-P", fmt.Sprint(n), "-I{}", "ssh", "-F", l.SSHConfig}, opts...)
			d, out, err := timeCmd(ctx, l.Operator, names.String(), 123, append(argv, "-o", "BatchMode=yes", "{}", "ip a | grep "+vip)...)
			if err == nil && strings.Count(out, "inet "+vip+"/") != 1 {
				err = fmt.Errorf("%s 'ip a | grep %s' did not find the VIP on one node:\n%s", rival, vip, out)
			}
			return d, err
		})
	}
	for i := -1; i < spec.Runs && ctx.Err() == nil; i++ {
		// Run i starts with side i mod len(sides) and goes round, so every
		// side goes first (and last) as often as the others.
		took := make([]time.Duration, len(sides))
		for k := range sides {
			j := (k + max(i, 0)) % len(sides)
			d, err := sides[j]()
			if err != nil {
				return nil, err
			}
			took[j] = d
		}
		if i < 0 {
			continue // warm-up: page cache, sshd's first fork
		}
		line := fmt.Sprintf("  who-owns over %d %s nodes, run %d: hactl %v", n, spec.Shape, i+1, took[0].Round(time.Millisecond))
		for k, row := range rows {
			s := took[k+1]
			row.Trials["hactl"] = append(row.Trials["hactl"], ms(took[0]))
			row.Trials[row.Rival] = append(row.Trials[row.Rival], ms(s))
			line += fmt.Sprintf(", %s %v (%.1fx)", row.Rival, s.Round(time.Millisecond), float64(s)/float64(took[0]))
		}
		if spec.Log != nil {
			fmt.Fprintln(spec.Log, line)
		}
	}
	for k, row := range rows {
		row.finish()
		if kexes[k] == KexDefault {
			row.setSpeedup(target[0], target[1])
		} else {
			row.setSpeedup(0, 0)
		}
	}
	return rows, ctx.Err()
}

// setUpFleet starts the shape's daemons, or adds the VIP by hand, and
// waits until `hactl who-owns` sees node1 as the one owner. stop undoes it.
func setUpFleet(ctx context.Context, l *netlab.Lab, spec FleetSpec) (stop func(), err error) {
	var running []Running
	stop = func() {
		for _, r := range running {
			r.Signal(syscall.SIGTERM)
		}
		for _, r := range running {
			_ = r.Wait(5 * time.Second)
		}
		if spec.Shape == ShapePlain {
			_, _ = l.Node(1).Run(context.Background(), "ip", "addr", "del", benchVIP.String(), "dev", "eth0")
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	switch spec.Shape {
	case ShapeDaemon:
		d := Hactl{Bin: spec.Bin}
		for i, h := range l.Nodes {
			// control_ssh: the daemon answers who-owns itself, no sshd.
			r, err := d.Start(h, l.ControlSSHGlobals(h)+fleetConf(i+1))
			if err != nil {
				return stop, err
			}
			running = append(running, r)
		}
	case ShapePlain:
		if _, err := l.Node(1).Run(ctx, "ip", "addr", "add", benchVIP.String(), "dev", "eth0"); err != nil {
			return stop, err
		}
	}
	// Settle: node1 the one owner, as hactl sees it (exit 0), within 30 s.
	var out []byte
	for range 60 {
		cmd := l.Operator.Command(ctx, spec.Bin, "who-owns", benchVIP.Addr().String(), "--inventory", l.Inventory, "--timeout", "20s")
		out, err = cmd.CombinedOutput()
		if err == nil && strings.Contains(string(out), "owner: node1") {
			return stop, nil
		}
		if ctx.Err() != nil {
			return stop, ctx.Err()
		}
		time.Sleep(500 * time.Millisecond)
	}
	return stop, fmt.Errorf("%s fleet of %d: node1 never became the one owner: %v\n%s", spec.Shape, len(l.Nodes), err, out)
}

// timeCmd runs argv in host with stdin, and returns how long it took and
// its output. An exit code other than 0 or okCode (when not 0) is an error.
func timeCmd(ctx context.Context, h *netlab.Host, stdin string, okCode int, argv ...string) (time.Duration, string, error) {
	cmd := h.Command(ctx, argv...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	var xe *exec.ExitError
	if err != nil && !(okCode != 0 && errors.As(err, &xe) && xe.ExitCode() == okCode) {
		return d, string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
	}
	return d, string(out), nil
}
