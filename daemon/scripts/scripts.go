package scripts

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// DefaultPath is the PATH scripts run with, and where a bare command name
// is looked up. It is fixed rather than inherited from the daemon, so that
// what runs does not depend on how the daemon was started.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultScriptUser is the user keepalived runs scripts as when script_user
// is not set and the user exists.
const DefaultScriptUser = "keepalived_script"

// Defaults of Options.
const (
	DefaultOutputLimit = 4096
	DefaultKillGrace   = 2 * time.Second
)

// ErrUnsupported is returned by Run on systems other than Linux.
var ErrUnsupported = errors.New("running scripts is supported on Linux only")

// Options configure a Runner.
type Options struct {
	// Logger receives refusals and script output; nil discards.
	Logger *slog.Logger
	// ScriptUser and ScriptGroup are global_defs' script_user: the user
	// and group of commands that name none.
	ScriptUser, ScriptGroup string
	// ScriptSecurity is global_defs' enable_script_security. As in
	// keepalived it forbids falling back to root when neither
	// script_user nor the keepalived_script user is there. The
	// writable-path check applies either way (see AllowInsecure).
	ScriptSecurity bool
	// AllowInsecure turns script-security refusals into warnings, as
	// keepalived does without enable_script_security. hactl refuses by
	// default.
	AllowInsecure bool
	// Env is added to the minimal environment ("NAME=value" entries).
	Env []string
	// OutputLimit bounds the captured output of one run (default
	// DefaultOutputLimit bytes); the rest is counted and dropped.
	OutputLimit int
	// KillGrace is the wait between SIGTERM and SIGKILL for a run that
	// timed out (default DefaultKillGrace).
	KillGrace time.Duration
	// FS and Users default to the host's.
	FS    FS
	Users Users
	// Observe, when set, is told of every finished run (metrics); it
	// must not block.
	Observe func(label string, res Result)
	// AsRoot makes the Runner prepare scripts as a daemon running as root
	// would, whoever runs this process: `hactl config check` judges
	// scripts by the daemon's rules from an operator's account. Such a
	// Runner must not run scripts.
	AsRoot bool
}

// FromGlobal returns Options carrying global_defs' script settings.
func FromGlobal(g config.GlobalDefs, log *slog.Logger) Options {
	return Options{Logger: log, ScriptUser: g.ScriptUser, ScriptGroup: g.ScriptGroup, ScriptSecurity: g.EnableScriptSecurity}
}

// Runner prepares and runs scripts. It is safe for concurrent use.
type Runner struct {
	opts Options
	log  *slog.Logger
	uid  uint32 // the daemon's own uid and gid
	gid  uint32
}

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OutputLimit <= 0 {
		opts.OutputLimit = DefaultOutputLimit
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = DefaultKillGrace
	}
	if opts.FS == nil {
		opts.FS = OSFS{}
	}
	if opts.Users == nil {
		opts.Users = OSUsers{}
	}
	r := &Runner{opts: opts, log: opts.Logger, uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
	if opts.AsRoot {
		r.uid, r.gid = 0, 0
	}
	return r
}

// Script is a command prepared to run: resolved, its user known, checked.
type Script struct {
	// Path is the file executed: Args[0] found in DefaultPath when it is a
	// bare name.
	Path string
	// Args is argv as configured; Args[0] is what the script sees as $0.
	Args []string
	// Cred is who runs it.
	Cred Cred
	// Warning is set when the script breaks the security rule and the
	// Runner allows insecure scripts.
	Warning error
}

// String is the command line, for logs.
func (s *Script) String() string { return strings.Join(s.Args, " ") }

// Prepare resolves cmd into a Script: its user and group, its file, and
// the checks (exists, regular, executable by its user, script security).
// A refusal is logged at Error level, naming the file and the path
// component at fault, and returned.
func (r *Runner) Prepare(cmd config.Command) (*Script, error) {
	s, err := r.prepare(cmd)
	if err != nil {
		r.log.Error("script refused", "cmd", strings.Join(cmd.Args, " "), "pos", cmd.Pos.String(), "err", err)
		return nil, err
	}
	if s.Warning != nil {
		r.log.Warn("insecure script allowed", "cmd", s.String(), "err", s.Warning)
	}
	return s, nil
}

func (r *Runner) prepare(cmd config.Command) (*Script, error) {
	if len(cmd.Args) == 0 || cmd.Args[0] == "" {
		return nil, errors.New("empty command")
	}
	cred, err := r.credential(cmd.User, cmd.Group)
	if err != nil {
		return nil, err
	}
	path, err := r.lookPath(cmd.Args[0])
	if err != nil {
		return nil, err
	}
	fi, err := r.opts.FS.Stat(path)
	switch {
	case err != nil:
		return nil, fmt.Errorf("script %s: %w", path, err)
	case !fi.Mode.IsRegular():
		return nil, fmt.Errorf("script %s is not a regular file", path)
	case !executableBy(fi, cred.UID, cred.GID):
		return nil, fmt.Errorf("script %s is not executable by %s (uid %d, gid %d)", path, cred.User, cred.UID, cred.GID)
	}
	s := &Script{Path: path, Args: append([]string(nil), cmd.Args...), Cred: cred}
	if err := checkSecure(r.opts.FS, path, cred.UID); err != nil {
		if !errors.Is(err, ErrInsecure) || !r.opts.AllowInsecure {
			return nil, err
		}
		s.Warning = err
	}
	return s, nil
}

// lookPath finds a bare name in DefaultPath; other names are made absolute.
func (r *Runner) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		p, err := filepath.Abs(name)
		if err != nil {
			return "", fmt.Errorf("script %s: %w", name, err)
		}
		return p, nil
	}
	for _, dir := range filepath.SplitList(DefaultPath) {
		p := filepath.Join(dir, name)
		if fi, err := r.opts.FS.Stat(p); err == nil && fi.Mode.IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("script %s not found in %s", name, DefaultPath)
}

// env is the minimal environment of a script run by cred.
func (r *Runner) env(cred Cred) []string {
	home := cred.Home
	if home == "" {
		home = "/"
	}
	env := []string{"PATH=" + DefaultPath, "HOME=" + home, "USER=" + cred.User, "LOGNAME=" + cred.User}
	return append(env, r.opts.Env...)
}
