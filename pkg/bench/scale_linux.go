//go:build linux

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ScaleSpec describes the who-owns scale benchmark.
type ScaleSpec struct {
	// Bin is the hactl binary.
	Bin string
	// Sizes are the fleet sizes, in order.
	Sizes []int
	// Runs per size, after one untimed warm-up run.
	Runs int
	// Parallel, when set, is passed as `who-owns --parallel`; "" leaves
	// hactl's default.
	Parallel string
	// Plain serves no control API (every node answers only the probe
	// command); the default is nodes with hactl daemons.
	Plain bool
	// Rival, when set, also times the runbook's `ssh NODE 'ip a | grep
	// VIP'` over the same fleet with `xargs -P P` (P: Parallel, else 32,
	// hactl's default), interleaved with hactl's runs: OpenSSH's client
	// against nodes whose server side costs little, which is what the
	// lab's 32 sshd on 2 cores cannot show.
	Rival bool
	// Log receives one line per run; nil discards.
	Log io.Writer
}

// scaleRivalP is xargs -P's default for the rival: hactl's default
// --parallel (remote.DefaultLimit).
const scaleRivalP = "32"

// ScaleRun is one run of hactl who-owns over an in-process fleet.
type ScaleRun struct {
	Took time.Duration
	// MaxRSS is the hactl process's peak resident set (kB, from GNU
	// time's getrusage when /usr/bin/time is there, else the child's
	// own, which also counts this process's peak).
	MaxRSS int64
	// CPU is the hactl process's user+system time; ServerCPU this
	// process's (the fleet's SSH server, mostly) over the same run.
	CPU, ServerCPU time.Duration
	// Execs and Streams are the remote commands and socket channels the
	// fleet was asked for in this run.
	Execs, Streams int64
}

// Scale times `hactl who-owns` over in-process SSH fleets (SSHFleet) of
// each size and records the hactl process's peak RSS: two rows per size.
// The SSH server shares the machine with hactl (and its CPU: on 2 cores
// the server's half of every handshake is part of the time).
func Scale(ctx context.Context, spec ScaleSpec) ([]*Row, error) {
	var rows []*Row
	kind := "daemon"
	if spec.Plain {
		kind = "plain"
	}
	par := "hactl's default --parallel"
	if spec.Parallel != "" {
		par = "--parallel " + spec.Parallel
	}
	for _, n := range spec.Sizes {
		newRow := func(what, unit string) *Row {
			return &Row{Name: fmt.Sprintf("who-owns %s, %d in-process SSH %s nodes (%s)", what, n, kind, par), Unit: unit, Trials: map[string][]float64{}, Rival: "none"}
		}
		took, cpu, rss := newRow("time", "ms"), newRow("CPU", "ms"), newRow("peak RSS", "MB")
		p := spec.Parallel
		if p == "" {
			p = scaleRivalP
		}
		rival := "xargs -P " + p + " ssh"
		if spec.Rival {
			took.Rival, cpu.Rival = rival, rival
		}
		err := func() error {
			dir, err := os.MkdirTemp("", "hactl-bench-fleet-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			f, err := StartSSHFleet(dir, n, !spec.Plain)
			if err != nil {
				return err
			}
			defer f.Close()
			for i := -1; i < spec.Runs && ctx.Err() == nil; i++ {
				var o ScaleRun
				if spec.Rival && i%2 != 0 { // the first side alternates
					if o, err = f.Runbook(ctx, p); err != nil {
						return err
					}
				}
				r, err := f.WhoOwns(ctx, spec.Bin, spec.Parallel)
				if err != nil {
					return err
				}
				if spec.Rival && i%2 == 0 {
					if o, err = f.Runbook(ctx, p); err != nil {
						return err
					}
				}
				if i < 0 {
					continue
				}
				if spec.Rival {
					took.Trials[rival] = append(took.Trials[rival], ms(o.Took))
					cpu.Trials[rival] = append(cpu.Trials[rival], ms(o.CPU))
					if spec.Log != nil {
						fmt.Fprintf(spec.Log, "  %s over %d in-process %s nodes, run %d: %v, client CPU %v, server CPU %v (hactl %.1fx faster)\n",
							rival, n, kind, i+1, o.Took.Round(time.Millisecond), o.CPU.Round(time.Millisecond), o.ServerCPU.Round(time.Millisecond),
							float64(o.Took)/float64(r.Took))
					}
				}
				took.Trials["hactl"] = append(took.Trials["hactl"], ms(r.Took))
				cpu.Trials["hactl"] = append(cpu.Trials["hactl"], ms(r.CPU))
				rss.Trials["hactl"] = append(rss.Trials["hactl"], float64(r.MaxRSS)/1024)
				if spec.Log != nil {
					fmt.Fprintf(spec.Log, "  who-owns over %d in-process %s nodes (%s), run %d: %v, hactl CPU %v, server CPU %v, peak RSS %.1f MB, %d remote commands, %d socket channels, load %s\n",
						n, kind, par, i+1, r.Took.Round(time.Millisecond), r.CPU.Round(time.Millisecond), r.ServerCPU.Round(time.Millisecond),
						float64(r.MaxRSS)/1024, r.Execs, r.Streams, loadAvg())
				}
			}
			return nil
		}()
		if err != nil {
			return nil, fmt.Errorf("scale, %d nodes: %w", n, err)
		}
		took.finish()
		cpu.finish()
		rss.finish()
		rows = append(rows, took, cpu, rss)
	}
	return rows, ctx.Err()
}

// Runbook runs the runbook's `ssh NODE 'ip a | grep VIP'` over every
// node of the fleet with `xargs -P p`, through OpenSSHConfig (the fleet's
// key and known_hosts, FleetKex as for hactl), and checks that exactly one
// node printed the VIP. CPU is xargs' and its ssh processes'.
func (f *SSHFleet) Runbook(ctx context.Context, p string) (ScaleRun, error) {
	vip := benchVIP.Addr().String()
	var names strings.Builder
	for _, nd := range f.nodes {
		names.WriteString(nd.name + "\n")
	}
	cmd := exec.CommandContext(ctx, "xargs", "-P", p, "-I{}", "ssh", "-F", f.OpenSSHConfig(), "{}", "ip a | grep "+vip)
	cmd.Env = []string{"HOME=" + f.Dir, "PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(names.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	self0 := selfCPU()
	start := time.Now()
	err := cmd.Run()
	r := ScaleRun{Took: time.Since(start), ServerCPU: selfCPU() - self0}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss
			r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	// xargs exits 123 when a command failed with 1-125: grep's 1 on every
	// node but node1.
	var xe *exec.ExitError
	if err != nil && !(errors.As(err, &xe) && xe.ExitCode() == 123) {
		return r, fmt.Errorf("xargs -P %s ssh: %v\n%s", p, err, out.String())
	}
	if c := strings.Count(out.String(), "inet "+vip+"/"); c != 1 {
		return r, fmt.Errorf("xargs -P %s ssh 'ip a | grep %s': the VIP on %d nodes, want 1:\n%s", p, vip, c, out.String())
	}
	return r, nil
}

// WhoOwns runs `hactl who-owns VIP` over the fleet once (no ssh-agent, no
// ~/.ssh: the inventory names every file) and checks that it found node1
// as the one owner.
func (f *SSHFleet) WhoOwns(ctx context.Context, bin, parallel string) (ScaleRun, error) {
	args := []string{"who-owns", benchVIP.Addr().String(), "--inventory", f.Inventory, "--timeout", "20s"}
	if parallel != "" {
		args = append(args, "--parallel", parallel)
	}
	// hactl runs under GNU time, which forks it: Go starts a child with
	// vfork and exec, and Linux then counts the parent's (this process's,
	// which serves the whole fleet) peak RSS in the child's ru_maxrss, so
	// the child's own getrusage would report the benchmark's memory, not
	// hactl's. A forked grandchild starts its count afresh.
	rssFile := filepath.Join(f.Dir, "maxrss")
	argv := append([]string{bin}, args...)
	timeBin, terr := exec.LookPath("/usr/bin/time")
	if terr == nil {
		argv = append([]string{timeBin, "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"HOME=" + f.Dir, "PATH=" + os.Getenv("PATH")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	e0, s0 := f.Execs.Load(), f.Streams.Load()
	self0 := selfCPU()
	start := time.Now()
	err := cmd.Run()
	r := ScaleRun{Took: time.Since(start), ServerCPU: selfCPU() - self0, Execs: f.Execs.Load() - e0, Streams: f.Streams.Load() - s0}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss // without GNU time: an upper bound (see above)
			r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil || !strings.Contains(out.String(), "owner: node1") {
		return r, fmt.Errorf("hactl %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	if terr == nil {
		b, err := os.ReadFile(rssFile)
		lines := strings.Fields(string(b))
		if err != nil || len(lines) == 0 {
			return r, fmt.Errorf("GNU time's report %s: %v %q", rssFile, err, b)
		}
		if r.MaxRSS, err = strconv.ParseInt(lines[len(lines)-1], 10, 64); err != nil {
			return r, fmt.Errorf("GNU time's report %s: %q: %v", rssFile, b, err)
		}
	}
	return r, nil
}

// selfCPU is this process's user+system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the machine's 1-minute load average ("?" when unknown): the
// figures stretch when other work shares the CPU.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
