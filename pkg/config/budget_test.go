//go:build unix

package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const budgetInstance = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.10/24
    }
}
`

// loadSoon runs Load and fails the test if it does not return within
// limit: the attacks below used to block or run for minutes.
func loadSoon(t *testing.T, path string, opts LoadOptions, limit time.Duration) (*Config, Diagnostics, error) {
	t.Helper()
	type res struct {
		cfg   *Config
		diags Diagnostics
		err   error
	}
	ch := make(chan res, 1)
	go func() { c, d, err := Load(path, opts); ch <- res{c, d, err} }()
	select {
	case r := <-ch:
		return r.cfg, r.diags, r.err
	case <-time.After(limit):
		t.Fatalf("Load(%s) still running after %v", path, limit)
		return nil, nil, nil
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// oneError checks that diags hold exactly one error, at file:line, that
// contains every part of want.
func oneError(t *testing.T, diags Diagnostics, file string, line int, want ...string) {
	t.Helper()
	errs := diags.Errors()
	if len(errs) != 1 {
		t.Fatalf("want one error, got %d:\n%s", len(errs), diags)
	}
	d := errs[0]
	if d.Pos.File != file || d.Pos.Line != line {
		t.Errorf("error at %s, want %s:%d", d.Pos, file, line)
	}
	for _, w := range want {
		if !strings.Contains(d.Message, w) {
			t.Errorf("error %q does not say %q", d.Message, w)
		}
	}
}

func TestIncludeRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// A symbolic link to a regular file keeps working, as in keepalived.
	write(t, filepath.Join(dir, "real.conf"), budgetInstance)
	if err := os.Symlink(filepath.Join(dir, "real.conf"), filepath.Join(dir, "link.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo, filepath.Join(dir, "fifolink.conf")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, include, kind string
	}{
		{"fifo", fifo, "a FIFO"},
		{"symlink to a fifo", filepath.Join(dir, "fifolink.conf"), "a FIFO"},
		{"dev zero", "/dev/zero", "a character device"},
		{"dev null", "/dev/null", "a character device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			main := filepath.Join(dir, "main.conf")
			write(t, main, budgetInstance+"include "+tc.include+"\n")
			_, diags, err := loadSoon(t, main, LoadOptions{}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			oneError(t, diags, main, 9, "not a regular file", tc.kind, tc.include)
		})
	}
	t.Run("symlink to a regular file", func(t *testing.T) {
		main := filepath.Join(dir, "main.conf")
		write(t, main, "include link.conf\n")
		cfg, diags, err := loadSoon(t, main, LoadOptions{}, 5*time.Second)
		if err != nil || diags.HasErrors() || len(cfg.Instances) != 1 {
			t.Fatalf("err %v, diags %s, cfg %+v", err, diags, cfg)
		}
	})
	t.Run("main file is a fifo", func(t *testing.T) {
		_, _, err := loadSoon(t, fifo, LoadOptions{}, 5*time.Second)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a FIFO") {
			t.Fatalf("err %v, want a FIFO refused", err)
		}
	})
}

// TestIncludeBomb: files that each include the next twice make 2^depth
// reads; the read budget refuses the bomb after DefaultMaxFiles reads.
func TestIncludeBomb(t *testing.T) {
	dir := t.TempDir()
	const depth = 30 // a billion reads without the budget
	pad := "# " + strings.Repeat("x", 2000) + "\n"
	for i := range depth {
		text := pad
		if i+1 < depth {
			next := fmt.Sprintf("f%02d.conf", i+1)
			text += "include " + next + "\ninclude " + next + "\n"
		}
		write(t, filepath.Join(dir, fmt.Sprintf("f%02d.conf", i)), text)
	}
	main := filepath.Join(dir, "f00.conf")
	start := time.Now()
	_, diags, err := loadSoon(t, main, LoadOptions{}, 10*time.Second)
	t.Logf("include bomb refused in %v", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	errs := diags.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "more than 1000 file reads") || errs[0].Pos.Line < 2 {
		t.Fatalf("want one error naming the read limit, got:\n%s", diags)
	}
}

func TestIncludeByteBudget(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.conf")
	write(t, big, "# "+strings.Repeat("y", 4096)+"\n")
	main := filepath.Join(dir, "main.conf")
	write(t, main, budgetInstance+"include big.conf\n")
	_, diags, err := Load(main, LoadOptions{MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	oneError(t, diags, main, 9, "big.conf", "4099 bytes", "more than 4.0 KiB of configuration")

	// The main file alone over the budget cannot be read at all.
	if _, _, err := Load(big, LoadOptions{MaxBytes: 1024}); !errors.Is(err, ErrBudget) {
		t.Errorf("main file over budget: err %v", err)
	}
	// The same files fit the default budget.
	if _, diags, err := Load(main, LoadOptions{}); err != nil || diags.HasErrors() {
		t.Errorf("default budget: err %v, diags %s", err, diags)
	}
}

// TestMultiMegabyteConfigLoads: a large real config stays well within the
// default budget.
func TestMultiMegabyteConfigLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(budgetInstance)
	for i := 0; b.Len() < 8<<20; i++ {
		fmt.Fprintf(&b, "vrrp_script chk_%d {\n    script \"/bin/true\"\n    interval 2\n}\n", i)
	}
	main := filepath.Join(dir, "main.conf")
	write(t, main, b.String())
	cfg, diags, err := Load(main, LoadOptions{})
	if err != nil || diags.HasErrors() || len(cfg.Scripts) < 100000 {
		t.Fatalf("err %v, %d scripts, diags %.500s", err, len(cfg.Scripts), diags)
	}
}

func TestLoadCanceled(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.conf")
	var b strings.Builder
	b.WriteString(budgetInstance)
	for i := range 200 {
		fmt.Fprintf(&b, "include part%d.conf\n", i)
		write(t, filepath.Join(dir, fmt.Sprintf("part%d.conf", i)), "# part\n")
	}
	write(t, main, b.String())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Load(main, LoadOptions{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before: err %v", err)
	}

	// Canceled while reading: the load stops at the next file.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	reads := 0
	opts := LoadOptions{Context: ctx, ReadFile: func(name string) ([]byte, error) {
		if reads++; reads == 5 {
			cancel()
		}
		return os.ReadFile(name)
	}}
	if _, _, err := Load(main, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled while reading: err %v", err)
	}
	if reads != 5 {
		t.Errorf("%d files read, want the load to stop after the 5th", reads)
	}

	// Canceled in the middle of one long file: the lexer checks too.
	lines := strings.Repeat("# comment\n", 100*checkpointLines)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, diags := Parse("long.conf", []byte(lines), LoadOptions{Context: ctx})
	if !diags.HasErrors() || !strings.Contains(diags.Errors()[0].Message, "context canceled") {
		t.Errorf("Parse canceled: %s", diags)
	}
}
