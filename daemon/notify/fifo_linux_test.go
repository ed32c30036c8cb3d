//go:build linux

package notify

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hactl/hactl/pkg/config"
)

func fifoConfig(fifos ...*config.FIFO) *config.Config {
	c := &config.Config{}
	if len(fifos) > 0 {
		c.Global.Notify.FIFO = fifos[0]
	}
	if len(fifos) > 1 {
		c.Global.Notify.VRRPFIFO = fifos[1]
	}
	return c
}

// readAvailable reads what the FIFO holds now, without waiting.
func readAvailable(t *testing.T, path string) string {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var out bytes.Buffer
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			out.Write(buf[:n])
		}
		if n <= 0 || err != nil {
			return out.String()
		}
	}
}

// TestFIFOCreatedAndWritten: a missing FIFO is created (mode 0644 less
// the umask) and gets keepalived's lines, in the order of the changes,
// priority changes included; notify_fifo and vrrp_notify_fifo naming the
// same path make one FIFO.
func TestFIFOCreatedAndWritten(t *testing.T) {
	f := newFixture(t, Options{})
	path := filepath.Join(f.dir, "notify.fifo")
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: path}, &config.FIFO{Path: path})); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("%s: %v %v, want a FIFO", path, fi, err)
	}
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	if got, want := fi.Mode().Perm(), os.FileMode(0o644&^umask); got != want {
		t.Errorf("mode %v, want %v", got, want)
	}
	for _, c := range []Change{
		{Kind: Instance, Name: "VI_1", State: Backup, Priority: 200},
		{Kind: Instance, Name: "VI_1", State: Master, Priority: 200},
		{Kind: Group, Name: "G1", State: Master, Priority: 200},
		{Kind: Instance, Name: "VI_1", State: MasterPriority, Priority: 150},
		{Kind: Instance, Name: "VI_1", State: MasterRxLowerPri, Priority: 150},
	} {
		f.n.Notify(c)
	}
	want := "INSTANCE \"VI_1\" BACKUP 200\nINSTANCE \"VI_1\" MASTER 200\nGROUP \"G1\" MASTER 0\n" +
		"INSTANCE \"VI_1\" MASTER_PRIORITY 150\nINSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150\n"
	if got := readAvailable(t, path); got != want {
		t.Errorf("FIFO holds %q, want %q (once each)", got, want)
	}
	// A reload with the same FIFO keeps it open.
	before := f.n.fifos[0]
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: path})); err != nil || f.n.fifos[0] != before {
		t.Errorf("a reload reopened an unchanged FIFO (err %v)", err)
	}
	// One that names another path closes (and unlinks) the old one.
	other := filepath.Join(f.dir, "other.fifo")
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: other})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the FIFO the daemon created is still there after a reload dropped it: %v", err)
	}
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Fault, Priority: 200})
	if got := readAvailable(t, other); got != "INSTANCE \"VI_1\" FAULT 200\n" {
		t.Errorf("new FIFO holds %q", got)
	}
}

// TestFIFONobodyReads: with no reader, Notify never waits: the pipe
// fills, further lines are dropped whole and counted, and a reader that
// comes later finds whole lines only.
func TestFIFONobodyReads(t *testing.T) {
	f := newFixture(t, Options{QueueLen: 1})
	path := filepath.Join(f.dir, "notify.fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil { // there already: used, not recreated
		t.Fatal(err)
	}
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: path})); err != nil {
		t.Fatal(err)
	}
	const n = 20000 // about 600 KB of lines, ten pipes' worth
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Backup, Priority: i % 256})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Notify blocked on a FIFO nobody reads")
	}
	drops := f.n.FIFODrops()
	if drops == 0 || drops >= n {
		t.Fatalf("dropped %d of %d lines", drops, n)
	}
	got := readAvailable(t, path)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if uint64(len(lines))+drops != n || !strings.HasSuffix(got, "\n") {
		t.Errorf("read %d lines, dropped %d, want %d in all", len(lines), drops, n)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "INSTANCE \"VI_1\" BACKUP ") {
			t.Fatalf("line %d is %q: not a whole line", i, l)
		}
	}
	if !strings.Contains(f.logs.String(), "notify FIFO: lines dropped") {
		t.Error("the drops are not logged")
	}
	t.Logf("%d lines fitted in the pipe, %d dropped", len(lines), drops)
	// The reader is back: it gets the next line.
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 1})
	if got := readAvailable(t, path); got != "INSTANCE \"VI_1\" MASTER 1\n" {
		t.Errorf("after the reader came back: %q", got)
	}
	// The FIFO was there before the daemon: it stays after Close.
	f.n.mu.Lock()
	fifos := f.n.fifos
	f.n.mu.Unlock()
	for _, ff := range fifos {
		f.n.closeFIFO(ff)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("a FIFO the daemon did not create was removed: %v", err)
	}
}

// TestFIFOScript: notify_fifo_script starts with the FIFO's path as its
// last argument and reads the lines; at Close the FIFO is unlinked and the
// script, which has read everything, ends.
func TestFIFOScript(t *testing.T) {
	f := newFixture(t, Options{})
	path := filepath.Join(f.dir, "notify.fifo")
	out := filepath.Join(f.dir, "read")
	reader := filepath.Join(f.dir, "reader")
	body := "#!/bin/sh\necho \"args $*\" >> " + out + "\nwhile read -r line; do echo \"$line\" >> " + out + "; done < \"$2\"\necho eof >> " + out + "\n"
	if err := os.WriteFile(reader, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: path, Script: &config.Command{Args: []string{reader, "first"}}})); err != nil {
		t.Fatal(err)
	}
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 200})
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Stop, Priority: 200})
	wantRead := []string{"args first " + path, `INSTANCE "VI_1" MASTER 200`, `INSTANCE "VI_1" STOP 200`}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") >= len(wantRead) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.n.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !slices.Equal(got, append(wantRead, "eof")) {
		t.Errorf("the script read %q, want %q then eof", got, wantRead)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FIFO still there after Close: %v", err)
	}
}

// TestFIFONotAFIFO: a path that holds a regular file is refused and left
// alone (keepalived would write its lines into the file).
func TestFIFONotAFIFO(t *testing.T) {
	f := newFixture(t, Options{})
	path := filepath.Join(f.dir, "file")
	if err := os.WriteFile(path, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := f.n.Apply(fifoConfig(&config.FIFO{Path: path}))
	if err == nil || !strings.Contains(err.Error(), "not a FIFO") {
		t.Fatalf("Apply: %v", err)
	}
	f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Master, Priority: 1})
	if b, _ := os.ReadFile(path); string(b) != "keep\n" {
		t.Errorf("the file was written: %q", b)
	}
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: filepath.Join(f.dir, "no", "dir")})); err == nil {
		t.Error("a FIFO in a missing directory was not refused")
	}
}

// TestFIFOScriptsAndEventsSeeTheSameOrder: the FIFO, the event bus and
// the notify script get the same changes in the same order.
func TestFIFOScriptsAndEventsSeeTheSameOrder(t *testing.T) {
	bus := NewBus(nil, 0, 0)
	f := newFixture(t, Options{Bus: bus})
	sub, _ := bus.Subscribe()
	path := filepath.Join(f.dir, "notify.fifo")
	cfg := fifoConfig(&config.FIFO{Path: path})
	cfg.Instances = []*config.Instance{{Name: "VI_1", Notify: config.Notify{Any: f.cmd(t, "any", ""),
		MasterRxLowerPri: f.cmd(t, "lower", ""), Deleted: f.cmd(t, "deleted", "")}}}
	if err := f.n.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	changes := []Change{
		{Kind: Instance, Name: "VI_1", State: Backup, Priority: 100},
		{Kind: Instance, Name: "VI_1", State: BackupPriority, Priority: 90},
		{Kind: Instance, Name: "VI_1", State: Master, Priority: 90},
		{Kind: Instance, Name: "VI_1", State: Master, Priority: 90, Replay: true},
		{Kind: Instance, Name: "VI_1", State: MasterRxLowerPri, Priority: 90},
		{Kind: Instance, Name: "VI_1", State: Fault, Priority: 90},
		{Kind: Instance, Name: "VI_1", State: Deleted, Priority: 90},
	}
	for _, c := range changes {
		f.n.Notify(c)
	}
	f.flush(t)
	var fifoLines, events, scriptLines []string
	sc := bufio.NewScanner(strings.NewReader(readAvailable(t, path)))
	for sc.Scan() {
		fifoLines = append(fifoLines, sc.Text())
	}
	for range changes {
		events = append(events, next(t, sub).Line)
	}
	scriptLines = append(scriptLines, f.calls(t)...)
	var want, wantScripts []string
	for _, c := range changes {
		want = append(want, strings.TrimSuffix(c.Line(), "\n"))
		switch {
		case c.State == MasterRxLowerPri: // its own script, without arguments
			wantScripts = append(wantScripts, "lower")
		case c.State == Deleted:
			wantScripts = append(wantScripts, "deleted", "any "+strings.Join(c.Args(), " "))
		case !c.Replay && c.State.runsScripts():
			wantScripts = append(wantScripts, "any "+strings.Join(c.Args(), " "))
		}
	}
	if !slices.Equal(fifoLines, want) || !slices.Equal(events, want) || !slices.Equal(scriptLines, wantScripts) {
		t.Errorf("FIFO %q\nevents %q\nscripts %q\nwant %q and scripts %q", fifoLines, events, scriptLines, want, wantScripts)
	}
}

// TestFIFODropsSurviveReopen: the drop count of a FIFO path never goes
// down: a reload that closes the FIFO (another path) and one that opens
// it again (back to it) keep what it had dropped, and drops after the
// reopen add to it.
func TestFIFODropsSurviveReopen(t *testing.T) {
	f := newFixture(t, Options{QueueLen: 1})
	path, other := filepath.Join(f.dir, "notify.fifo"), filepath.Join(f.dir, "other.fifo")
	fill := func() {
		for i := range 5000 { // about 150 KB: more than a pipe holds
			f.n.Notify(Change{Kind: Instance, Name: "VI_1", State: Backup, Priority: i % 256})
		}
	}
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: path})); err != nil {
		t.Fatal(err)
	}
	fill()
	first := f.n.FIFODropsByPath()[path]
	if first == 0 || f.n.FIFODrops() != first {
		t.Fatalf("after filling the pipe: %d drops for %s, %d in all", first, path, f.n.FIFODrops())
	}
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: other})); err != nil {
		t.Fatal(err)
	}
	if got := f.n.FIFODropsByPath()[path]; got != first {
		t.Errorf("after the FIFO was closed its count is %d, want %d", got, first)
	}
	if err := f.n.Apply(fifoConfig(&config.FIFO{Path: path})); err != nil { // made again, empty
		t.Fatal(err)
	}
	fill()
	byPath := f.n.FIFODropsByPath()
	if byPath[path] <= first {
		t.Errorf("after reopening and filling again: %d drops, want more than %d", byPath[path], first)
	}
	if f.n.FIFODrops() != byPath[path]+byPath[other] {
		t.Errorf("FIFODrops %d is not the sum of %v", f.n.FIFODrops(), byPath)
	}
}
