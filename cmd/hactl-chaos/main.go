// Command hactl-chaos runs the chaos suite (pkg/chaos) on a 3-node
// network-namespace lab: random SIGKILL, SIGSTOP/SIGCONT, link down/up,
// VRRP dropped by nftables, daemon restarts and promotions, checking
// after every heal that exactly one node owns the VIP within the bound
// and that no VIP outlives its lease. `make chaos` runs it (root).
// -mixed runs keepalived on one node (`make chaos-mixed`), -variant
// vmac or ah puts use_vmac or auth_type AH on every node. -guard guards
// every node's instance with an etcd_guard on 3 etcd members in 3 more
// lab namespaces and adds the guard's faults (VRRP-only partition, master
// cut from etcd, every node cut from etcd, etcd member and leader kill),
// with every node's addresses sampled every 5 ms and any two-owner sample
// a violation (`make chaos-guard`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/chaos"
	"github.com/hactl/hactl/pkg/netlab"
)

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "how long to inject faults")
	count := flag.Int("count", 0, "stop after this many faults (0: no limit)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()%1_000_000), "random seed (printed; replay with it)")
	nodes := flag.Int("nodes", 3, "cluster size")
	interval := flag.Duration("interval", 200*time.Millisecond, "VRRPv3 advert interval")
	bin := flag.String("hactl", "./hactl", "hactl binary to run on the nodes")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	quiet := flag.Bool("q", false, "print only the summary")
	mixed := flag.Bool("mixed", false, "mixed cluster: keepalived on one node, hactl on the others")
	kaBin := flag.String("keepalived", netlab.KeepalivedPath, "keepalived binary of a mixed cluster")
	kaNode := flag.Int("keepalived-node", 0, "the keepalived node of a mixed cluster (1..nodes; 0: the last, of highest priority)")
	variant := flag.String("variant", "plain", "what every node runs: plain (VRRPv3), vmac (VRRPv3 with use_vmac) or ah (VRRPv2 with auth_type AH)")
	guard := flag.Bool("guard", false, "guard every node's instance with an etcd_guard on 3 etcd members (3 more lab namespaces)")
	ttl := flag.Int("ttl", 2, "the guard's ttl in seconds (-guard)")
	flag.Parse()
	v, err := chaos.ParseVariant(*variant)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hactl-chaos:", err)
		os.Exit(2)
	}
	cfg := chaos.Config{Duration: *dur, Count: *count, Seed: *seed, Interval: *interval, Variant: v}
	if *mixed {
		cfg.Keepalived, cfg.KeepalivedNode = *kaBin, *kaNode
	}
	if *guard {
		if *mixed {
			fmt.Fprintln(os.Stderr, "hactl-chaos: -guard and -mixed exclude each other (keepalived knows no etcd_guard)")
			os.Exit(2)
		}
		cfg.Guard = &chaos.GuardConfig{TTL: *ttl}
	}
	if err := run(cfg, *nodes, *bin, *jsonOut, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "hactl-chaos:", err)
		os.Exit(1)
	}
}

func run(cfg chaos.Config, nodes int, bin, jsonOut string, quiet bool) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	seed := cfg.Seed
	cfg.Bin = abs
	name := fmt.Sprintf("chaos%d", seed%100000)
	labNodes := nodes
	if cfg.Guard != nil {
		labNodes += 3
	}
	l, err := netlab.Up(ctx, netlab.Config{Name: name, Nodes: labNodes})
	if err != nil {
		return err
	}
	defer l.Down()
	cfg.Lab = l
	if cfg.Guard != nil {
		dir, err := os.MkdirTemp("", "hactl-chaos-etcd")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		etcd, stopEtcd, err := chaos.StartEtcd(ctx, l.Nodes[nodes:], dir)
		if err != nil {
			return err
		}
		defer stopEtcd()
		cfg.Guard.Etcd = etcd
	}
	if !quiet {
		cfg.Log = os.Stderr
	}
	mode := "hactl on every node"
	if cfg.Keepalived != "" {
		mode = "mixed: keepalived on one node"
	}
	if cfg.Guard != nil {
		mode = fmt.Sprintf("guarded: etcd_guard ttl %d on 3 etcd members", cfg.Guard.TTL)
	}
	fmt.Fprintf(os.Stderr, "chaos: seed %d, %v or %d faults, %d nodes (%s), variant %s, adverts every %v\n",
		seed, cfg.Duration, cfg.Count, nodes, mode, cfg.Variant, cfg.Interval)
	rep, err := chaos.Run(ctx, cfg)
	if rep != nil {
		fmt.Println(rep.String())
		for _, v := range rep.Violations {
			fmt.Println("  violation:", v)
		}
		if jsonOut != "" {
			b, jerr := rep.JSON()
			if jerr == nil {
				jerr = os.WriteFile(jsonOut, b, 0o644)
			}
			if jerr != nil {
				return jerr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%w (replay with -seed %d)", err, seed)
	}
	if len(rep.Violations) > 0 {
		return fmt.Errorf("%d violations (replay with -seed %d)", len(rep.Violations), seed)
	}
	return nil
}
