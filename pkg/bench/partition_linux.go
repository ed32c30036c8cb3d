//go:build linux

package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/probe"
)

// PartitionSpec describes the two-owner benchmark of issue 19: a VRRP-only
// partition (IP protocol 112 dropped both ways on both nodes, by nftables
// in their namespaces) while the clients' path stays up.
type PartitionSpec struct {
	Version  int
	Interval time.Duration
	// Partition is how long VRRP is cut (issue 19: 5 s).
	Partition time.Duration
	// Sample is the netlink sampling period of both nodes' addresses.
	Sample time.Duration
	Trials int
	Log    io.Writer
}

// Partition measures, per daemon, how long both nodes held the VIP at
// once during spec.Partition of VRRP-only partition: the longest run of
// samples with two owners (a sample every spec.Sample). Without a guard
// both become master after Master_Down_Interval and stay so until the
// partition heals: the figure the etcd guard (docs/guard.md) is to bring
// to zero. The lab needs two nodes.
func Partition(ctx context.Context, l *netlab.Lab, daemons []Daemon, spec PartitionSpec) (*Row, error) {
	row := &Row{Name: fmt.Sprintf("two-owner time, %v VRRP partition, v%d, advert %v", spec.Partition, spec.Version, spec.Interval),
		Unit: "ms", Trials: map[string][]float64{}}
	fs := FailoverSpec{Version: spec.Version, Interval: spec.Interval}
	m1, err := manager(l.Node(1))
	if err != nil {
		return nil, err
	}
	defer m1.Close()
	m2, err := manager(l.Node(2))
	if err != nil {
		return nil, err
	}
	defer m2.Close()
	v := vip.VIP{Prefix: benchVIP, Dev: "eth0"}
	holds := func(m *vip.Manager) bool { ok, _, err := m.Present(v); return err == nil && ok }
	nodes := []*netlab.Host{l.Node(1), l.Node(2)}
	heal := func() {
		for _, h := range nodes {
			_, _ = h.Run(context.Background(), "nft", "delete", "table", "inet", "benchpart")
		}
	}
	defer heal()
	limit := 3*fs.masterDown(backupPrio) + 3*time.Second
	for _, d := range daemons {
		_ = m1.Remove(v)
		_ = m2.Remove(v)
		backup, err := d.Start(l.Node(2), fs.conf(backupPrio))
		if err != nil {
			return nil, err
		}
		master, err := d.Start(l.Node(1), fs.conf(masterPrio))
		if err != nil {
			backup.Signal(syscall.SIGKILL)
			return nil, err
		}
		stopBoth := func() {
			master.Signal(syscall.SIGTERM)
			backup.Signal(syscall.SIGTERM)
			_ = master.Wait(5 * time.Second)
			_ = backup.Wait(5 * time.Second)
		}
		for trial := 0; trial < spec.Trials && ctx.Err() == nil; trial++ {
			if err := waitFor(ctx, limit, func() bool { return holds(m1) && !holds(m2) }); err != nil {
				stopBoth()
				return nil, fmt.Errorf("%s: node1 never became the only master: %w", d.Name(), err)
			}
			time.Sleep(5 * spec.Interval)
			s, err := probe.StartSampler(nodes, benchVIP.Addr(), spec.Sample)
			if err != nil {
				stopBoth()
				return nil, err
			}
			for _, h := range nodes {
				if err := cutVRRP(ctx, h); err != nil {
					s.Stop()
					stopBoth()
					return nil, err
				}
			}
			time.Sleep(spec.Partition)
			heal()
			// The election after the heal: the higher priority keeps it.
			healed := waitFor(ctx, limit, func() bool { return holds(m1) && !holds(m2) })
			time.Sleep(20 * spec.Sample) // the sampler sees the end of the run
			st := s.Stop()
			if healed != nil {
				stopBoth()
				return nil, fmt.Errorf("%s: still two owners after the partition healed: %w", d.Name(), healed)
			}
			row.Trials[d.Name()] = append(row.Trials[d.Name()], ms(st.LongestDual))
			if spec.Log != nil {
				fmt.Fprintf(spec.Log, "  %-10s %s trial %d: two owners for %v (%d of %d samples), owners %v\n",
					d.Name(), row.Name, trial+1, st.LongestDual.Round(time.Millisecond), st.DualSamples, st.Samples, st.Owners)
			}
		}
		stopBoth()
		_ = m1.Remove(v)
		_ = m2.Remove(v)
	}
	row.finish()
	return row, ctx.Err()
}

// cutVRRP drops VRRP (IP protocol 112) in and out of host h.
func cutVRRP(ctx context.Context, h *netlab.Host) error {
	script := "table inet benchpart {\n" +
		"  chain in { type filter hook input priority -5; meta l4proto 112 drop; }\n" +
		"  chain out { type filter hook output priority -5; meta l4proto 112 drop; }\n}\n"
	cmd := h.Command(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: nft: %w: %s", h.Name, err, out)
	}
	return nil
}
