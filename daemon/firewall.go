package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// no_accept: a non-owner master whose VIPs must not accept traffic
// (RFC 5798 Accept_Mode false; keepalived's no_accept, the default under
// vrrp_strict) drops what is addressed to them, while ARP (not IP: no
// inet hook sees it) and ICMPv6 neighbour discovery still answer. As
// keepalived 2.2.7 does it (vrrp_nftables.c), the rules live in a table
// of our own, `inet hactl`: a set of the VIPs per family, a chain at
// input (priority -1) dropping their destination and a chain at output
// dropping their source, ND accepted first in both. No other table or
// chain is ever read or written.
//
// The nft binary, not google/nftables: Debian's nftables package is
// already what the tests use, `nft -f -` applies a whole script as one
// transaction (the table is replaced atomically, never half written),
// and the script is plain text a unit test compares and an operator can
// read in the log or run by hand; google/nftables would be a new
// dependency speaking the netlink encoding that nft already owns. The
// cost, a fork per change, is off the loop (fwWorker) and only at a
// change of mastership.

// fwTable is hactl's own table; fwFamily its family (one table for IPv4
// and IPv6, where keepalived keeps ip and ip6 tables apart).
const (
	fwFamily = "inet"
	fwTable  = "hactl"
)

// ndTypes are the ICMPv6 types that still pass to and from a VIP: the
// neighbour discovery keepalived's set "neighbor-discovery" holds.
var ndTypes = []string{"nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit", "nd-neighbor-advert", "nd-redirect"}

// renderFirewall is the nft script that makes the table hold exactly
// addrs (sorted, unique); with none, the script removes the table. The
// script first creates the table (a no-op if it exists) and deletes it,
// so that it replaces whatever was there, a leftover of a crash
// included, in the one transaction.
func renderFirewall(addrs []netip.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s {}\ndelete table %s %s\n", fwFamily, fwTable, fwFamily, fwTable)
	if len(addrs) == 0 {
		return b.String()
	}
	var v4, v6 []string
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	fmt.Fprintf(&b, "table %s %s {\n", fwFamily, fwTable)
	writeSet(&b, "vips4", "ipv4_addr", v4)
	writeSet(&b, "vips6", "ipv6_addr", v6)
	writeSet(&b, "neighbor-discovery", "icmpv6_type", ndTypes)
	for _, c := range []struct{ name, hook, dir string }{{"in", "input", "daddr"}, {"out", "output", "saddr"}} {
		fmt.Fprintf(&b, "\tchain %s {\n\t\ttype filter hook %s priority -1; policy accept;\n", c.name, c.hook)
		fmt.Fprintf(&b, "\t\tip %s @vips4 drop\n", c.dir)
		b.WriteString("\t\ticmpv6 type @neighbor-discovery accept\n")
		fmt.Fprintf(&b, "\t\tip6 %s @vips6 drop\n\t}\n", c.dir)
	}
	b.WriteString("}\n")
	return b.String()
}

func writeSet(b *strings.Builder, name, typ string, elems []string) {
	fmt.Fprintf(b, "\tset %s {\n\t\ttype %s;\n", name, typ)
	if len(elems) > 0 {
		fmt.Fprintf(b, "\t\telements = { %s }\n", strings.Join(elems, ", "))
	}
	b.WriteString("\t}\n")
}

// fwState is the loop's side: which instances drop traffic to their
// VIPs now, and the script last handed to the worker.
type fwState struct {
	drop map[string][]netip.Addr // by instance name
	last string
	w    *fwWorker // nil: no firewall (the loop tests, or no nft)
}

// firewallAdd records that in is master with its VIPs; unless they
// accept traffic (accept mode, or the owner), they join the drop set.
func (r *runtime) firewallAdd(in *instance, accept bool) {
	if accept {
		return
	}
	addrs := make([]netip.Addr, 0, len(in.vips))
	for _, v := range in.vips {
		addrs = append(addrs, v.Prefix.Addr())
	}
	if r.fw.drop == nil {
		r.fw.drop = map[string][]netip.Addr{}
	}
	r.fw.drop[in.c.Name] = addrs
	r.firewallSync()
}

// firewallRemove takes in's VIPs out of the drop set: it left mastership.
func (r *runtime) firewallRemove(in *instance) {
	if _, ok := r.fw.drop[in.c.Name]; !ok {
		return
	}
	delete(r.fw.drop, in.c.Name)
	r.firewallSync()
}

// firewallAddrs is the drop set: every dropping instance's VIPs, sorted
// and unique (two instances may share one).
func (r *runtime) firewallAddrs() []netip.Addr {
	var out []netip.Addr
	for _, name := range slices.Sorted(maps.Keys(r.fw.drop)) {
		out = append(out, r.fw.drop[name]...)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// firewallSync hands the worker the script for the current drop set
// when it changed; the loop never waits for nft.
func (r *runtime) firewallSync() {
	script := renderFirewall(r.firewallAddrs())
	if script == r.fw.last {
		return
	}
	r.fw.last = script
	if r.fw.w != nil {
		r.fw.w.push(script)
	}
}

// fwWorker applies scripts off the loop, the latest only: a script
// superseded before it ran is dropped (each one is the whole table).
type fwWorker struct {
	ch   chan string
	done chan struct{}
	log  *slog.Logger
	run  func(ctx context.Context, script string) error
}

// nftTimeout bounds one nft run.
const nftTimeout = 5 * time.Second

// startFirewall starts the worker on nft, or returns nil (and says why
// if an instance needs it) when nft is not installed. Its first job
// removes a table that a crashed run left behind.
func startFirewall(log *slog.Logger, needed bool) *fwWorker {
	nft, err := exec.LookPath("nft")
	if err != nil {
		if needed {
			log.Error("no_accept: nft not found; the VIPs of non-owner masters will accept traffic", "err", err)
		}
		return nil
	}
	w := &fwWorker{ch: make(chan string, 1), done: make(chan struct{}), log: log,
		run: func(ctx context.Context, script string) error { return runNFT(ctx, nft, script) }}
	go w.serve()
	w.push(renderFirewall(nil))
	return w
}

// push replaces any script not yet applied with script.
func (w *fwWorker) push(script string) {
	select {
	case w.ch <- script:
		return
	default:
	}
	select {
	case <-w.ch:
	default:
	}
	w.ch <- script
}

// close applies what is pending and waits for the worker.
func (w *fwWorker) close() {
	close(w.ch)
	<-w.done
}

func (w *fwWorker) serve() {
	defer close(w.done)
	for script := range w.ch {
		ctx, cancel := context.WithTimeout(context.Background(), nftTimeout)
		start := time.Now()
		err := w.run(ctx, script)
		cancel()
		if err != nil {
			w.log.Error("no_accept firewall not applied", "table", fwFamily+" "+fwTable, "err", err)
			continue
		}
		w.log.Debug("no_accept firewall applied", "table", fwFamily+" "+fwTable, "took", time.Since(start))
	}
}

// runNFT applies script in one transaction. A removal (the script
// installs nothing) first asks whether the table exists, so that a host
// with no hactl table never sees nftables touched.
func runNFT(ctx context.Context, nft, script string) error {
	if script == renderFirewall(nil) {
		if exec.CommandContext(ctx, nft, "list", "table", fwFamily, fwTable).Run() != nil {
			return nil // no table: nothing to remove
		}
	}
	cmd := exec.CommandContext(ctx, nft, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft -f -: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// needsFirewall reports whether an instance would drop traffic to its
// VIPs as master: neither accept mode nor the owner.
func needsFirewall(insts []*instance) bool {
	for _, in := range insts {
		if !in.c.Accept && in.c.Priority != 255 {
			return true
		}
	}
	return false
}
