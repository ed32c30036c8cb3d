// Package scripts runs the daemon's external commands: vrrp_script checks,
// notify scripts and the executables of notify_master_dir.
//
// A Runner turns a config.Command into a Script once, at configuration load
// (Prepare): it resolves the user and group to run as (the command's own,
// else script_user, else keepalived's keepalived_script user when it
// exists, else root), finds a bare command name in the fixed PATH, checks
// the file is executable by that user and applies the script-security rule:
// the file, every directory on its path and, for a symbolic link, its
// target's path must not be writable by a user other than root and the
// runner. A script that breaks the rule is refused with a log line naming
// the file and the offending path component.
//
// Run then starts the script as that user in its own process group, with a
// minimal environment (PATH, HOME, USER, LOGNAME, plus Options.Env),
// stdin from /dev/null, the working directory "/", its combined stdout and
// stderr captured up to Options.OutputLimit bytes. A run that outlives its
// timeout gets SIGTERM on its whole process group, SIGKILL after
// Options.KillGrace, and counts as failed.
//
// Process handling is Linux only; elsewhere Run reports ErrUnsupported so
// that the operator CLI still builds.
package scripts
