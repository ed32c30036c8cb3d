// Command hactl-docs writes hactl's generated files: shell completion
// scripts (completions/), man pages (docs/man/) and the markdown command
// reference (docs/cli/). `make completions docs` runs it; a test fails when
// the committed files differ from what it writes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hactl/hactl/pkg/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manDate is the date printed in the man pages. It is fixed, not today's,
// so the pages are reproducible; bump it when the commands change notably.
var manDate = time.Date(2026, time.November, 25, 0, 0, 0, 0, time.UTC)

func main() {
	completions := flag.String("completions", "", "write completion scripts into this directory")
	man := flag.String("man", "", "write man pages into this directory")
	md := flag.String("markdown", "", "write the markdown reference into this directory")
	flag.Parse()
	if err := run(*completions, *man, *md); err != nil {
		fmt.Fprintln(os.Stderr, "hactl-docs:", err)
		os.Exit(1)
	}
}

func run(completions, man, md string) error {
	if completions != "" {
		if err := writeCompletions(completions); err != nil {
			return err
		}
	}
	if man != "" {
		if err := writeMan(man); err != nil {
			return err
		}
	}
	if md != "" {
		return writeMarkdown(md)
	}
	return nil
}

// rootCmd builds the tree with an empty environment, so that no HACTL_*
// variable of the person running make leaks into the defaults shown.
func rootCmd() *cobra.Command {
	io, _, _ := cli.TestStreams()
	root := cli.NewRootCmd(cli.NewFactory(io, func(string) string { return "" }))
	disableAutoGenTag(root)
	return root
}

// disableAutoGenTag drops cobra's "Auto generated ... on DATE" footer from
// every page: it would make the files differ each day.
func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

func writeCompletions(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := rootCmd()
	gens := []struct {
		file string
		gen  func(*bytes.Buffer) error
	}{
		{"hactl.bash", func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) }},
		{"_hactl", func(b *bytes.Buffer) error { return root.GenZshCompletion(b) }},
		{"hactl.fish", func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) }},
		{"hactl.ps1", func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) }},
	}
	for _, g := range gens {
		var b bytes.Buffer
		if err := g.gen(&b); err != nil {
			return fmt.Errorf("%s: %w", g.file, err)
		}
		if err := os.WriteFile(filepath.Join(dir, g.file), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeMan(dir string) error {
	if err := cleanDir(dir, ".1"); err != nil {
		return err
	}
	hdr := &doc.GenManHeader{Title: "HACTL", Section: "1", Source: "hactl", Manual: "hactl manual", Date: &manDate}
	return doc.GenManTree(rootCmd(), hdr, dir)
}

func writeMarkdown(dir string) error {
	if err := cleanDir(dir, ".md"); err != nil {
		return err
	}
	return doc.GenMarkdownTree(rootCmd(), dir)
}

// cleanDir creates dir and removes its generated files (by extension), so
// that a removed command leaves no stale page behind.
func cleanDir(dir, ext string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return nil
}
