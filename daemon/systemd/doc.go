// Package systemd holds hactl.service, the hardened systemd unit the
// Debian package installs, and the tests that check it: its hardening
// settings, and `systemd-analyze verify` and `systemd-analyze security`
// where systemd-analyze is installed. It has no Go code of its own.
package systemd
