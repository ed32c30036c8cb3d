//go:build linux

package netlab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

const netnsDir = "/run/netns"

// Down removes the lab: it kills every process inside its namespaces,
// deletes the namespaces (their veth pairs go with them) and removes its
// directory. It is idempotent and works on a half-built lab.
func (l *Lab) Down() error {
	l.log.Info("tearing down lab", "name", l.Name)
	err := removeNamespaces(Prefix + l.Name + "-")
	if rerr := os.RemoveAll(l.Dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// Destroy removes the lab called name under root whether or not its
// lab.json survives.
func Destroy(root, name string) error {
	if root == "" {
		root = DefaultRoot
	}
	if !validName.MatchString(name) {
		return fmt.Errorf("lab name %q is not valid", name)
	}
	err := removeNamespaces(Prefix + name + "-")
	return errors.Join(err, os.RemoveAll(filepath.Join(root, name)))
}

// Stale lists the labs under root whose namespaces exist but whose owner
// process is gone, or whose lab.json is missing: leftovers of a crashed run.
// Persistent labs (hactl lab up) are never stale.
func Stale(root string) []string {
	if root == "" {
		root = DefaultRoot
	}
	var stale []string
	for _, name := range LabNames() {
		l, err := Load(root, name)
		if err != nil || (l.OwnerPID != 0 && !processAlive(l.OwnerPID)) {
			stale = append(stale, name)
		}
	}
	return stale
}

// InUse reports whether the lab belongs to a process that is still
// running (a test, a benchmark, a chaos run), as opposed to a lab made by
// hactl lab up or one left by a crashed run.
func (l *Lab) InUse() bool { return l.OwnerPID != 0 && processAlive(l.OwnerPID) }

// Cleanup removes every stale lab under root and reports what it removed.
func Cleanup(root string) ([]string, error) {
	var err error
	stale := Stale(root)
	for _, name := range stale {
		err = errors.Join(err, Destroy(root, name))
	}
	return stale, err
}

// LabNames lists the labs that have namespaces on this host, sorted.
func LabNames() []string {
	seen := map[string]bool{}
	for _, ns := range namespacesWithPrefix(Prefix) {
		rest := strings.TrimPrefix(ns, Prefix)
		if i := strings.LastIndexByte(rest, '-'); i > 0 {
			seen[rest[:i]] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func namespacesWithPrefix(prefix string) []string {
	entries, _ := os.ReadDir(netnsDir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// removeNamespaces kills the processes in every namespace named with prefix
// and deletes the namespaces.
func removeNamespaces(prefix string) error {
	names := namespacesWithPrefix(prefix)
	ids := map[nsID]string{}
	for _, n := range names {
		if id, err := nsIDOf(filepath.Join(netnsDir, n)); err == nil {
			ids[id] = n
		}
	}
	killInNamespaces(ids)
	var err error
	for _, n := range names {
		if derr := netns.DeleteNamed(n); derr != nil && !errors.Is(derr, os.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("delete namespace %s: %w", n, derr))
		}
	}
	return err
}

type nsID struct{ dev, ino uint64 }

func nsIDOf(path string) (nsID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nsID{}, err
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

// killInNamespaces sends SIGTERM to every process whose network namespace
// is one of ids, waits up to 2 s for them to go, then SIGKILLs the rest.
func killInNamespaces(ids map[nsID]string) {
	if len(ids) == 0 {
		return
	}
	pids := pidsIn(ids)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	for range 40 {
		if len(pidsIn(ids)) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, pid := range pidsIn(ids) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for range 40 {
		if len(pidsIn(ids)) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pidsIn lists live processes in any of the namespaces; zombies are left
// to their parents and not counted.
func pidsIn(ids map[nsID]string) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		id, err := nsIDOf(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil {
			continue
		}
		if _, ok := ids[id]; ok && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !isZombie(pid)
}
