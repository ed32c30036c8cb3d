package config

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HostChecker answers the questions about the host that host-dependent
// checks ask. OSHost answers them for the machine hactl runs on; tests
// inject their own.
type HostChecker interface {
	// InterfaceExists reports whether a network interface exists.
	InterfaceExists(name string) bool
	// Stat describes a file, following symbolic links (os.Stat).
	Stat(path string) (fs.FileInfo, error)
	// LookPath finds a command name without '/' in PATH, like
	// exec.LookPath.
	LookPath(name string) (string, error)
}

// OSHost is the HostChecker of the running host.
type OSHost struct{}

// InterfaceExists asks the kernel.
func (OSHost) InterfaceExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// Stat calls os.Stat.
func (OSHost) Stat(path string) (fs.FileInfo, error) { return os.Stat(path) }

// LookPath calls exec.LookPath.
func (OSHost) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Check runs the host-dependent checks: interfaces named by instances,
// trackers and addresses exist; scripts exist, are executable and cannot be
// written by others (nor their directories). Every finding is a warning with
// HostDependent set; Diagnostics.Strict turns them into errors.
func Check(cfg *Config, host HostChecker) Diagnostics {
	if cfg == nil {
		return nil
	}
	c := &hostCheck{host: host, seenIf: map[string]bool{}, seenCmd: map[string]bool{}, exists: map[string]bool{}}
	for _, in := range cfg.Instances {
		if in.Interface != "" {
			p := in.InterfacePos
			if !p.IsValid() {
				p = in.Pos
			}
			c.iface(p, in.Name, in.Interface, "interface")
		}
		for _, t := range in.TrackInterfaces {
			c.iface(t.Pos, in.Name, t.Name, "track_interface")
		}
		for _, v := range append(append([]VIP(nil), in.VIPs...), in.ExcludedVIPs...) {
			if v.Dev != "" {
				c.iface(v.Pos, in.Name, v.Dev, "address "+v.Prefix.String()+" dev")
			}
		}
		c.notify(in.Notify)
		if in.NotifyMasterDir != "" {
			c.dir(in.Pos, in.NotifyMasterDir)
		}
	}
	for _, g := range cfg.SyncGroups {
		for _, t := range g.TrackInterfaces {
			c.iface(t.Pos, g.Name, t.Name, "track_interface")
		}
		c.notify(g.Notify)
	}
	for _, s := range cfg.Scripts {
		c.command(&s.Command)
	}
	if d := cfg.Global.NotifyMasterDir; d != "" {
		c.dir(Pos{File: firstFile(cfg)}, d)
	}
	return orderDiagnostics(c.diag.list, cfg.Files)
}

func firstFile(cfg *Config) string {
	if len(cfg.Files) > 0 {
		return cfg.Files[0]
	}
	return ""
}

type hostCheck struct {
	host    HostChecker
	diag    diagSink
	seenIf  map[string]bool
	seenCmd map[string]bool
	// exists remembers each interface's answer: a hundred instances on
	// eth0 ask once, not a hundred times (each a full interface dump).
	exists map[string]bool
}

func (c *hostCheck) iface(p Pos, owner, name, what string) {
	key := p.String() + "\x00" + name
	if c.seenIf[key] {
		return
	}
	c.seenIf[key] = true
	ok, asked := c.exists[name]
	if !asked {
		ok = c.host.InterfaceExists(name)
		c.exists[name] = ok
	}
	if !ok {
		c.diag.hostWarnf(p, "(%s) %s %s does not exist on this host", owner, what, name)
	}
}

func (c *hostCheck) notify(n Notify) {
	for _, cmd := range []*Command{n.Master, n.Backup, n.Fault, n.Stop, n.Any} {
		if cmd != nil {
			c.command(cmd)
		}
	}
}

// command checks a script's executable.
func (c *hostCheck) command(cmd *Command) {
	if len(cmd.Args) == 0 {
		return
	}
	name := cmd.Args[0]
	if c.seenCmd[name] {
		return
	}
	c.seenCmd[name] = true
	path := name
	if !strings.Contains(name, "/") {
		p, err := c.host.LookPath(name)
		if err != nil {
			c.diag.hostWarnf(cmd.Pos, "script %s is not found in PATH", name)
			return
		}
		path = p
	}
	st, err := c.host.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.diag.hostWarnf(cmd.Pos, "script %s does not exist", path)
		return
	case err != nil:
		c.diag.hostWarnf(cmd.Pos, "script %s: %v", path, err)
		return
	case st.IsDir():
		c.diag.hostWarnf(cmd.Pos, "script %s is a directory", path)
		return
	case st.Mode().Perm()&0o111 == 0:
		c.diag.hostWarnf(cmd.Pos, "script %s is not executable", path)
	}
	c.writable(cmd.Pos, path, "script")
}

// writable warns when others can write a file or any directory above it.
func (c *hostCheck) writable(p Pos, path, what string) {
	if st, err := c.host.Stat(path); err == nil && st.Mode().Perm()&0o002 != 0 {
		c.diag.hostWarnf(p, "%s %s is writable by others", what, path)
		return
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := c.host.Stat(dir)
		// A sticky world-writable directory (/tmp) still lets others
		// replace only their own files.
		if err == nil && st.Mode().Perm()&0o002 != 0 && st.Mode()&fs.ModeSticky == 0 {
			c.diag.hostWarnf(p, "%s %s is in directory %s, which is writable by others", what, path, dir)
			return
		}
		if dir == "/" || dir == "." {
			return
		}
	}
}

func (c *hostCheck) dir(p Pos, dir string) {
	st, err := c.host.Stat(dir)
	switch {
	case err != nil:
		c.diag.hostWarnf(p, "notify_master_dir %s: %v", dir, err)
	case !st.IsDir():
		c.diag.hostWarnf(p, "notify_master_dir %s is not a directory", dir)
	default:
		c.writable(p, dir, "notify_master_dir")
	}
}
