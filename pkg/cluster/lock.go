package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/remote"
)

// LockName is the lock directory's name, beside the node's control socket
// (/run/hactl/restart-safe.lock by default).
const LockName = "restart-safe.lock"

// LockInfo says who holds the cluster-wide lock; it is the one line of the
// lock directory's owner file.
type LockInfo struct {
	Owner   string    `json:"owner"` // user@host
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires"`
	Token   string    `json:"-"`
}

func (l LockInfo) line() string {
	return fmt.Sprintf("owner=%s pid=%d started=%s expires=%s token=%s", l.Owner, l.PID,
		l.Started.UTC().Format(time.RFC3339), l.Expires.UTC().Format(time.RFC3339), l.Token)
}

func parseLockLine(s string) (LockInfo, bool) {
	var l LockInfo
	ok := false
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "owner":
			l.Owner, ok = v, true
		case "pid":
			l.PID, _ = strconv.Atoi(v)
		case "started":
			l.Started, _ = time.Parse(time.RFC3339, v)
		case "expires":
			l.Expires, _ = time.Parse(time.RFC3339, v)
		case "token":
			l.Token = v
		}
	}
	return l, ok
}

// LockHeldError is a refusal: another operator holds the lock.
type LockHeldError struct {
	Node   string
	Dir    string
	Holder LockInfo
	Raw    string
}

func (e *LockHeldError) Error() string {
	if e.Holder.Owner == "" {
		return fmt.Sprintf("%s: the restart-safe lock %s is held, owner unknown (%q); if no restart-safe runs, remove it: rmdir or rm -r %s", e.Node, e.Dir, strings.TrimSpace(e.Raw), e.Dir)
	}
	return fmt.Sprintf("%s: restart-safe is already running: the lock %s is held by %s (pid %d), since %s, expires %s",
		e.Node, e.Dir, e.Holder.Owner, e.Holder.PID, e.Holder.Started.Local().Format(time.RFC3339), e.Holder.Expires.Local().Format(time.RFC3339))
}

// Lock is the cluster-wide lock of restart-safe: a directory created with
// mkdir (atomic) on every node, in the members' order, with an owner file.
// No central server is needed; two operators contend on the first node and
// the loser backs off, releasing what it took.
type Lock struct {
	info    LockInfo
	members []Member
	dirs    []string
	taken   []int
}

// LockDir is where m's lock lives: beside its control socket.
func LockDir(m Member) string {
	if s, ok := m.(interface{ Socket() string }); ok && s.Socket() != "" {
		return path.Join(path.Dir(s.Socket()), LockName)
	}
	return path.Join(path.Dir(remote.DefaultSocket), LockName)
}

// NewLockInfo describes this process as the holder for ttl.
func NewLockInfo(owner string, pid int, ttl time.Duration) LockInfo {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	now := time.Now()
	return LockInfo{Owner: owner, PID: pid, Started: now, Expires: now.Add(ttl), Token: hex.EncodeToString(b)}
}

// AcquireLock takes the lock on every member in order. A lock held by
// someone else is refused with a *LockHeldError naming the holder; an
// expired one is removed and taken. On any failure the locks already taken
// are released.
func AcquireLock(ctx context.Context, members []Member, info LockInfo) (*Lock, error) {
	l := &Lock{info: info, members: members}
	for _, m := range members {
		l.dirs = append(l.dirs, LockDir(m))
	}
	for i, m := range members {
		if err := l.take(ctx, i, m); err != nil {
			_ = l.Release(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return l, nil
}

func (l *Lock) take(ctx context.Context, i int, m Member) error {
	d := remote.ShellQuote(l.dirs[i])
	script := fmt.Sprintf(`d=%s; mkdir -p "$(dirname "$d")"; if mkdir "$d" 2>/dev/null; then printf '%%s\n' %s > "$d/owner" && echo @@taken; else echo @@held; cat "$d/owner" 2>/dev/null; fi`, d, remote.ShellQuote(l.info.line()))
	for attempt := 0; attempt < 2; attempt++ {
		out, err := m.Run(ctx, script, 0)
		if err != nil {
			return nodeErr(m.Name(), fmt.Errorf("taking the lock %s: %w", l.dirs[i], err))
		}
		if strings.Contains(out, "@@taken") {
			l.taken = append(l.taken, i)
			return nil
		}
		raw := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "@@held"))
		holder, ok := parseLockLine(raw)
		if !ok || holder.Expires.IsZero() || time.Now().Before(holder.Expires) || attempt > 0 {
			return &LockHeldError{Node: m.Name(), Dir: l.dirs[i], Holder: holder, Raw: raw}
		}
		// Stale: remove it only if it is still the same holder's.
		rm := fmt.Sprintf(`d=%s; [ "$(cat "$d/owner" 2>/dev/null)" = %s ] && rm -rf "$d"; true`, d, remote.ShellQuote(raw))
		if _, err := m.Run(ctx, rm, 0); err != nil {
			return nodeErr(m.Name(), fmt.Errorf("removing the expired lock %s: %w", l.dirs[i], err))
		}
	}
	return nil
}

// Release removes the locks this process took (only where the owner file
// is still its own).
func (l *Lock) Release(ctx context.Context) error {
	var errs []string
	for _, i := range l.taken {
		script := fmt.Sprintf(`d=%s; [ "$(cat "$d/owner" 2>/dev/null)" = %s ] && rm -rf "$d"; true`, remote.ShellQuote(l.dirs[i]), remote.ShellQuote(l.info.line()))
		if _, err := l.members[i].Run(ctx, script, 0); err != nil {
			errs = append(errs, err.Error())
		}
	}
	l.taken = nil
	if len(errs) > 0 {
		return fmt.Errorf("releasing the restart-safe lock: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Info is the lock's owner line.
func (l *Lock) Info() LockInfo { return l.info }
