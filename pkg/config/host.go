package config

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
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

// UserChecker is implemented by a HostChecker that can tell whether users
// and groups exist (OSHost does). Check then checks script users, as
// keepalived resolves them when it reads the configuration.
type UserChecker interface {
	UserExists(name string) bool
	GroupExists(name string) bool
}

// OSHost is the HostChecker of the running host.
type OSHost struct{}

// UserExists looks the user up in the user database.
func (OSHost) UserExists(name string) bool {
	_, err := user.Lookup(name)
	return err == nil
}

// GroupExists looks the group up in the group database.
func (OSHost) GroupExists(name string) bool {
	_, err := user.LookupGroup(name)
	return err == nil
}

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
// written by others (nor their directories); with a host that is a
// UserChecker, the users and groups scripts run as exist. Every finding is a warning with
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
			c.iface(p, in.Name, in.Interface, "interface", ": keepalived's daemon exits (Unknown interface); hactl's starts, with this warning")
		}
		for _, t := range in.TrackInterfaces {
			c.iface(t.Pos, in.Name, t.Name, "track_interface", trackIfMissing)
		}
		for _, v := range append(append([]VIP(nil), in.VIPs...), in.ExcludedVIPs...) {
			if v.Dev != "" {
				then := ": keepalived reports it and skips the address; hactl keeps it and fails to add it while the interface is missing"
				if !v.NoTrack {
					then += ", and tracks the interface: the instance stays in FAULT until it appears (no_track on the address says not to)"
				}
				c.iface(v.Pos, in.Name, v.Dev, "address "+v.Prefix.String()+" dev", then)
			}
		}
		c.notify(in.Notify)
		if in.NotifyMasterDir != "" {
			c.dir(in.Pos, in.NotifyMasterDir)
		}
	}
	for _, g := range cfg.SyncGroups {
		for _, t := range g.TrackInterfaces {
			c.iface(t.Pos, g.Name, t.Name, "track_interface", trackIfMissing)
		}
		c.notify(g.Notify)
	}
	for _, d := range cfg.IfDelays {
		c.iface(d.Pos, "interface_up_down_delays", d.Interface, "interface", ": keepalived reports it (unknown interface specified for up/down delay; keepalived -t exits 4) and its daemon ignores the line; hactl keeps the delay for the interface, should it appear")
	}
	for _, s := range cfg.Scripts {
		c.command(&s.Command, "the vrrp_script")
		c.user(&s.Command, "vrrp_script "+s.Name, "reports it and drops the vrrp_script (the instances tracking it run without it), and so does hactl's daemon")
	}
	for _, in := range cfg.Instances {
		c.notifyUsers(in.Notify, "instance "+in.Name)
	}
	for _, g := range cfg.SyncGroups {
		c.notifyUsers(g.Notify, "sync group "+g.Name)
	}
	if u := cfg.Global.ScriptUser; u != "" {
		c.user(&Command{User: u, Group: cfg.Global.ScriptGroup, Pos: Pos{File: firstFile(cfg)}}, "global_defs script_user",
			"reports it (Error setting global script uid/gid) and runs scripts without a user of their own as its default user; hactl's daemon drops them instead (config check names each)")
	}
	if d := cfg.Global.NotifyMasterDir; d != "" {
		c.dir(Pos{File: firstFile(cfg)}, d)
	}
	c.guards(cfg.EtcdGuards)
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

// trackIfMissing is what keepalived (alloc_track_if) and hactl do with a
// track_interface that does not exist.
const trackIfMissing = ": keepalived reports it and does not track it; hactl tracks it as down (its weight applies, or FAULT when unweighted) until it appears"

func (c *hostCheck) iface(p Pos, owner, name, what, then string) {
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
		c.diag.hostWarnf(p, "(%s) %s %s does not exist on this host%s", owner, what, name, then)
	}
}

// user checks that the user and group a script runs as exist, as
// keepalived's set_script_uid_gid does when it reads the line; what says
// what keepalived and hactl then do.
func (c *hostCheck) user(cmd *Command, owner, what string) {
	uc, ok := c.host.(UserChecker)
	if !ok || cmd.User == "" {
		return
	}
	if !uc.UserExists(cmd.User) {
		c.diag.hostWarnf(cmd.Pos, "script user %s of %s does not exist on this host: keepalived %s", cmd.User, owner, what)
		return
	}
	if cmd.Group != "" && !uc.GroupExists(cmd.Group) {
		c.diag.hostWarnf(cmd.Pos, "script group %s of %s does not exist on this host: keepalived %s", cmd.Group, owner, what)
	}
}

func (c *hostCheck) notifyUsers(n Notify, owner string) {
	for _, x := range []struct {
		kw  string
		cmd *Command
	}{{"notify_master", n.Master}, {"notify_backup", n.Backup}, {"notify_fault", n.Fault}, {"notify_stop", n.Stop}, {"notify", n.Any}} {
		if x.cmd != nil {
			c.user(x.cmd, x.kw+" of "+owner, "ignores the notify script (Invalid user/group), and so does hactl's daemon")
		}
	}
}

func (c *hostCheck) notify(n Notify) {
	for _, cmd := range []*Command{n.Master, n.Backup, n.Fault, n.Stop, n.Any} {
		if cmd != nil {
			c.command(cmd, "the notify script")
		}
	}
}

// command checks a script's executable; what names what keepalived
// disables when it cannot run it (check_track_script_secure,
// check_notify_script_secure), as hactl's daemon does.
func (c *hostCheck) command(cmd *Command, what string) {
	drop := ": keepalived disables " + what + ", and so does hactl's daemon"
	if what == "the vrrp_script" {
		drop += " (the instances tracking it run without it)"
	}
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
			c.diag.hostWarnf(cmd.Pos, "script %s is not found in PATH%s", name, drop)
			return
		}
		path = p
	}
	st, err := c.host.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.diag.hostWarnf(cmd.Pos, "script %s does not exist%s", path, drop)
		return
	case err != nil:
		c.diag.hostWarnf(cmd.Pos, "script %s: %v%s", path, err, drop)
		return
	case st.IsDir():
		c.diag.hostWarnf(cmd.Pos, "script %s is a directory%s", path, drop)
		return
	case st.Mode().Perm()&0o111 == 0:
		c.diag.hostWarnf(cmd.Pos, "script %s is not executable%s", path, drop)
	}
	c.writable(cmd.Pos, path, "script", ": keepalived disables "+what+" with enable_script_security and runs it without; hactl's daemon refuses it either way")
}

// writable warns when others can write a file or any directory above it.
func (c *hostCheck) writable(p Pos, path, what, then string) {
	if st, err := c.host.Stat(path); err == nil && st.Mode().Perm()&0o002 != 0 {
		c.diag.hostWarnf(p, "%s %s is writable by others%s", what, path, then)
		return
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := c.host.Stat(dir)
		// A sticky world-writable directory (/tmp) still lets others
		// replace only their own files.
		if err == nil && st.Mode().Perm()&0o002 != 0 && st.Mode()&fs.ModeSticky == 0 {
			c.diag.hostWarnf(p, "%s %s is in directory %s, which is writable by others%s", what, path, dir, then)
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
		c.writable(p, dir, "notify_master_dir", "")
	}
}
