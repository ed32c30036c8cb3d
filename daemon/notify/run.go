package notify

import (
	"os"
	"path/filepath"
	"regexp"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
)

// runPartsName is the names run-parts runs without --lsbsysinit: letters,
// digits, '_' and '-' only, so no dot files, no "x.dpkg-old", no "x~".
var runPartsName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// run notifies one change: the state's script, then notify, then on
// MASTER notify_master_dir. keepalived forks the first two without waiting
// (they may overlap); hactl waits for each, so a script can rely on the
// previous one having finished.
func (n *Notifier) run(c Change, t *prepared) {
	label := string(c.Kind) + " " + c.Name
	if s := t.byState[c.State]; s != nil {
		n.opts.Runner.Run(n.ctx, s, scripts.Exec{Timeout: n.opts.Timeout, Label: "notify_" + lower(c.State) + " " + label})
	}
	if c.State == MasterRxLowerPri { // its own script only (vrrp_notify.c, send_event_notify)
		return
	}
	if t.any != nil {
		n.opts.Runner.Run(n.ctx, t.any, scripts.Exec{Timeout: n.opts.Timeout, Args: c.Args(), Label: "notify " + label})
	}
	if c.State == Master && c.Kind == Instance && t.masterDir != "" {
		n.runParts(c, t.masterDir)
	}
}

// runParts runs the executables of dir like run-parts: in name order (byte
// order, run-parts' order in the C locale), names of [A-Za-z0-9_-] only,
// regular files (after symbolic links) that are executable; the rest is
// skipped. The directory is read at each notification, so files can be
// added without a reload. Every file is checked as a script (user,
// security) before it runs, as the default script user, with the four
// notify arguments.
func (n *Notifier) runParts(c Change, dir string) {
	entries, err := os.ReadDir(dir) // sorted by name, bytewise
	if err != nil {
		n.log.Error("notify_master_dir unreadable", "dir", dir, "name", c.Name, "err", err)
		return
	}
	for _, e := range entries {
		if n.ctx.Err() != nil {
			return
		}
		name := e.Name()
		if !runPartsName.MatchString(name) {
			n.log.Debug("notify_master_dir: skipping name run-parts would skip", "dir", dir, "file", name)
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			n.log.Debug("notify_master_dir: skipping non-executable or non-regular file", "file", path)
			continue
		}
		s, err := n.opts.Runner.Prepare(config.Command{Args: []string{path}})
		if err != nil {
			continue // Prepare logged why
		}
		n.opts.Runner.Run(n.ctx, s, scripts.Exec{Timeout: n.opts.Timeout, Args: c.Args(), Label: "notify_master_dir " + string(c.Kind) + " " + c.Name})
	}
}
