package cli

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestTuneRuntimeGivesTableMemoryBack: the daemon runs in the binary that
// prints the tables, so tablewriter's package init has allocated its width
// cache before `hactl daemon` starts. tuneRuntime must drop the cache and
// return its pages to the system, not leave them resident for the life of
// the daemon.
func TestTuneRuntimeGivesTableMemoryBack(t *testing.T) {
	// Keep tuneRuntime from changing this test process's GOMAXPROCS and GOGC.
	t.Setenv("GOMAXPROCS", strconv.Itoa(runtime.GOMAXPROCS(0)))
	t.Setenv("GOGC", "100")
	t.Cleanup(func() { twwidth.SetCacheCapacity(8192) })
	twwidth.SetCacheCapacity(8192) // as the package's init leaves it
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tuneRuntime()
	runtime.ReadMemStats(&after)
	if _, capacity, _ := twwidth.GetCacheStats(); capacity != 0 {
		t.Errorf("width cache capacity %d after tuneRuntime, want 0 (disabled)", capacity)
	}
	// The cache alone is about 650 kB; more may be returned with it.
	if got := int64(after.HeapReleased) - int64(before.HeapReleased); got < 512<<10 {
		t.Errorf("tuneRuntime returned %d kB of heap to the system, want at least 512 kB (the width cache)", got>>10)
	}
	// Tables still render without the cache.
	var b strings.Builder
	tb := newTable(&b, "A", "B")
	_ = tb.Append("x", "yy")
	if err := tb.Render(); err != nil || b.String() != "A   B\nx   yy\n" {
		t.Errorf("table without the width cache: %q %v", b.String(), err)
	}
}

// initLine is one line of GODEBUG=inittrace=1.
var initLine = regexp.MustCompile(`^init (\S+) @.* ([0-9]+) bytes, ([0-9]+) allocs`)

// TestTableLibraryInitCost measures what the table library's package
// initialisation allocates in every hactl process, the daemon's included
// (the linker keeps the init of every package the binary links). It fails
// when a tablewriter upgrade makes it notably larger than the 745 kB of
// tablewriter v1.1.5, so that the daemon's memory is measured again
// before the upgrade lands.
func TestTableLibraryInitCost(t *testing.T) {
	if os.Getenv("HACTL_INITTRACE_CHILD") != "" {
		return // the child only initialises its packages
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTableLibraryInitCost$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "HACTL_INITTRACE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var table, all int64
	for line := range strings.Lines(string(out)) {
		m := initLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		all += n
		for _, p := range []string{"github.com/olekukonko/", "github.com/clipperhouse/", "github.com/mattn/go-runewidth"} {
			if strings.HasPrefix(m[1], p) {
				table += n
			}
		}
	}
	if all == 0 {
		t.Fatalf("no inittrace lines in the child's output:\n%s", out)
	}
	t.Logf("package init: %d kB in all, %d kB of them tablewriter and its dependencies", all>>10, table>>10)
	if table > 1<<20 {
		t.Errorf("tablewriter's package init allocates %d kB (745 kB at v1.1.5): measure the daemon's RSS again (docs/performance.md) before taking this version", table>>10)
	}
}
