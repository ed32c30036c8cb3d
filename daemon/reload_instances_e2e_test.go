//go:build linux

package daemon_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// instancesConf is a config with a notify FIFO in dir read by fifoConf's
// reader script and the instances named (VI_1, VI_2, VI_3), VRID base+i
// and VIP 10.77.0.(vipBase+i)/24 each, at prio. VI_2 has notify_deleted
// with writeNotifyScripts' deleted.sh, and its notify.sh; VI_1 and VI_3
// have neither.
func instancesConf(dir string, base, vipBase, prio int, names ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n    script_user root\n    notify_fifo %s\n    notify_fifo_script %s\n}\n",
		filepath.Join(dir, "notify.fifo"), filepath.Join(dir, "reader.sh"))
	for _, name := range names {
		i := int(name[len(name)-1] - '0')
		extra := ""
		if i == 2 {
			extra = fmt.Sprintf("    notify_deleted %s\n    notify %s\n", filepath.Join(dir, "deleted.sh"), filepath.Join(dir, "notify.sh"))
		}
		fmt.Fprintf(&b, `vrrp_instance %s {
    state BACKUP
    interface eth0
    virtual_router_id %d
    version 3
    priority %d
    advert_int 0.2
%s    virtual_ipaddress {
        10.77.0.%d/24
    }
}
`, name, base+i, prio, extra, vipBase+i)
	}
	return b.String()
}

// writeNotifyScripts puts instancesConf's deleted.sh (appends "deleted
// $@" to dir/deleted.out) and notify.sh (appends its arguments to
// dir/notify.out) in dir.
func writeNotifyScripts(t *testing.T, dir string) {
	t.Helper()
	write(t, filepath.Join(dir, "deleted.sh"), "#!/bin/sh\necho deleted \"$@\" >> "+filepath.Join(dir, "deleted.out")+"\n", 0o755)
	write(t, filepath.Join(dir, "notify.sh"), "#!/bin/sh\necho \"$@\" >> "+filepath.Join(dir, "notify.out")+"\n", 0o755)
}

func vipOf(vipBase, i int) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("10.77.0.%d/24", vipBase+i))
}

// TestE2EReloadRemovesAndAddsInstances: node1 (priority 200) is master of
// VI_1 and VI_2, node2 (100) their backup. A reload on node1 that removes
// VI_2 and adds VI_3: node1 sends VI_2's priority-0 advert and drops its
// VIP, node2 takes VI_2 over at once, node1's FIFO reader sees
// INSTANCE "VI_2" DELETED 200 (notify_deleted), and VI_3 starts and wins
// against node2's VI_3. A second reload removes VI_1 (no notify_deleted):
// INSTANCE "VI_1" FAULT 200, as keepalived writes it. keepalived 2.2.7 on
// node3 runs the same configs and reloads (its own VRIDs and VIPs, alone):
// its reader sees the same lines after each reload.
func TestE2EReloadRemovesAndAddsInstances(t *testing.T) {
	labtest.Require(t, "keepalived")
	l := labtest.Up(t, netlab.Config{Nodes: 3})
	n1, n2, kn := l.Node(1), l.Node(2), l.Node(3)
	const base, vipBase, kbase, kvipBase = 90, 110, 95, 120
	hout, kout := writeReader(t, n1.Dir), writeReader(t, kn.Dir)
	writeReader(t, n2.Dir)
	for _, n := range l.Nodes {
		writeNotifyScripts(t, n.Dir)
	}

	kp := startKeepalived(t, kn, instancesConf(kn.Dir, kbase, kvipBase, 200, "VI_1", "VI_2"))
	d1 := startDaemon(t, n1, instancesConf(n1.Dir, base, vipBase, 200, "VI_1", "VI_2"))
	startDaemon(t, n2, instancesConf(n2.Dir, base, vipBase, 100, "VI_1", "VI_2", "VI_3"))
	nodes := []*netlab.Host{n1, n2}
	h1, h2, h3 := newHolders(t, nodes, vipOf(vipBase, 1)), newHolders(t, nodes, vipOf(vipBase, 2)), newHolders(t, nodes, vipOf(vipBase, 3))
	for _, h := range []*holders{h1, h2} {
		if _, err := h.waitOwner("node1", 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h3.waitOwner("node2", 5*time.Second); err != nil {
		t.Fatalf("VI_3 on node2 alone: %v", err)
	}
	startLines := []string{`INSTANCE "VI_1" BACKUP 200`, `INSTANCE "VI_1" MASTER 200`, `INSTANCE "VI_2" BACKUP 200`, `INSTANCE "VI_2" MASTER 200`}
	got := waitLines(t, hout, 4, 3*time.Second)
	kgot := waitLines(t, kout, 4, 10*time.Second)
	if !sameLines(got, startLines) || !sameLines(kgot, startLines) {
		t.Fatalf("at start hactl's reader read %q, keepalived's %q; want %q in some order", got, kgot, startLines)
	}

	// Reload 1: VI_2 removed, VI_3 added.
	sent := time.Now()
	write(t, d1.conf, instancesConf(n1.Dir, base, vipBase, 200, "VI_1", "VI_3"), 0o644)
	write(t, filepath.Join(kn.Dir, "keepalived.conf"), instancesConf(kn.Dir, kbase, kvipBase, 200, "VI_1", "VI_3"), 0o644)
	if err := d1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := kp.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	took, err := h2.waitOwner("node2", 3*time.Second)
	if err != nil {
		t.Fatalf("VI_2 removed on node1: %v", err)
	}
	t.Logf("VI_2 removed by reload: node2 holds its VIP alone %v after the SIGHUP", took)
	if _, err := h3.waitOwner("node1", 5*time.Second); err != nil {
		t.Fatalf("VI_3 added on node1 (200) against node2 (100): %v", err)
	}
	t.Logf("VI_3 added by reload: node1 holds its VIP alone %v after the SIGHUP", time.Since(sent).Round(time.Millisecond))
	if owners := h1.owners(); !slices.Equal(owners, []string{"node1"}) {
		t.Errorf("VI_1, untouched by the reload, is held by %v", owners)
	}
	st := status(t, n1)
	var names []string
	for _, in := range st.Instances {
		names = append(names, in.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"VI_1", "VI_3"}) || st.Daemon.LastReloadError != "" {
		t.Errorf("after the reload node1 runs %v (reload error %q), want VI_1 and VI_3", names, st.Daemon.LastReloadError)
	}
	afterReload1 := []string{`INSTANCE "VI_2" DELETED 200`, `INSTANCE "VI_3" BACKUP 200`, `INSTANCE "VI_3" MASTER 200`}
	got = waitLines(t, hout, 7, 3*time.Second)
	kgot = waitLines(t, kout, 7, 10*time.Second)
	if len(got) < 4 || !sameLines(got[4:], afterReload1) {
		t.Errorf("after reload 1 hactl's reader read %q, want %q in some order", got, afterReload1)
	}
	if len(kgot) < 4 || !sameLines(kgot[4:], afterReload1) {
		t.Errorf("after reload 1 keepalived's reader read %q, want %q in some order", kgot, afterReload1)
	}
	// The notify_deleted script ran without arguments, notify with
	// DELETED, on both daemons.
	for _, n := range []*netlab.Host{n1, kn} {
		del := waitLines(t, filepath.Join(n.Dir, "deleted.out"), 1, 3*time.Second)
		all := waitLines(t, filepath.Join(n.Dir, "notify.out"), 3, 3*time.Second)
		if !slices.Equal(del, []string{"deleted"}) || len(all) != 3 || all[2] != "INSTANCE VI_2 DELETED 200" {
			t.Errorf("%s: notify_deleted script wrote %q, notify script %q; want [deleted] and INSTANCE VI_2 DELETED 200 last", n.Name, del, all)
		}
	}
	if len(got) > 4 && got[4] != afterReload1[0] {
		t.Errorf("hactl's first line after the reload is %q, want the deletion %q", got[4], afterReload1[0])
	}

	// Reload 2: VI_1 (master, no notify_deleted) removed: FAULT.
	write(t, d1.conf, instancesConf(n1.Dir, base, vipBase, 200, "VI_3"), 0o644)
	write(t, filepath.Join(kn.Dir, "keepalived.conf"), instancesConf(kn.Dir, kbase, kvipBase, 200, "VI_3"), 0o644)
	if err := d1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := kp.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if _, err := h1.waitOwner("node2", 3*time.Second); err != nil {
		t.Fatalf("VI_1 removed on node1: %v", err)
	}
	want := `INSTANCE "VI_1" FAULT 200`
	got = waitLines(t, hout, 8, 3*time.Second)
	kgot = waitLines(t, kout, 8, 10*time.Second)
	if len(got) != 8 || got[7] != want {
		t.Errorf("after reload 2 hactl's reader read %q, want %q last", got, want)
	}
	if len(kgot) != 8 || kgot[7] != want {
		t.Errorf("after reload 2 keepalived's reader read %q, want %q last", kgot, want)
	}
	if owners := h3.owners(); !slices.Equal(owners, []string{"node1"}) {
		t.Errorf("VI_3, untouched by reload 2, is held by %v", owners)
	}
	t.Logf("hactl's FIFO reader read %q\nkeepalived's read %q", got, kgot)
}

// sameLines: a and b hold the same lines, in any order.
func sameLines(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
