//go:build !linux

package sdnotify

// monotonicUsec has no systemd to agree with off Linux.
func monotonicUsec() int64 { return 0 }
