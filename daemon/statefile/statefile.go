// Package statefile writes the daemon's state file: one line per instance,
// `NAME STATE PRIORITY EFFECTIVE SINCE`, and a JSON twin beside it
// (PATH.json, the same document as GET /v1/status). Both are replaced
// atomically (write to a fresh temporary file in the same directory,
// fsync, rename; see daemon/runfile), so a reader never sees half a file
// and nothing planted at those names is followed. keepalived writes no
// such file; the runbook's "cat /var/run/keepalived/state" finds one here.
package statefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hactl/hactl/daemon/runfile"
	"github.com/hactl/hactl/pkg/api"
)

// Render returns the text state file for st: a comment header, then one
// line per instance sorted by name. SINCE is RFC 3339 in UTC. A name that
// would not read back as one field is quoted (Name).
func Render(st api.Status) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# hactl state, pid %d; NAME STATE PRIORITY EFFECTIVE SINCE\n", st.Daemon.PID)
	ins := append([]api.Instance(nil), st.Instances...)
	sort.Slice(ins, func(i, j int) bool { return ins[i].Name < ins[j].Name })
	for _, in := range ins {
		fmt.Fprintf(&b, "%s %s %d %d %s\n", Name(in.Name), in.State, in.BasePriority, in.EffectivePriority, in.Since.UTC().Format(time.RFC3339))
	}
	return b.Bytes()
}

// Name is how the state file writes an instance name: as it is when it is
// one plain token, else in double quotes with Go's escapes (strconv.Quote:
// `"VI 1"`, `"a\"b"`, `"tab\there"`). A plain token is non-empty, starts
// with neither '"' nor '#', and holds no white space, no backslash and no
// non-printable character; keepalived's names always are.
func Name(s string) string {
	if s == "" || s[0] == '"' || s[0] == '#' || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\\' || !unicode.IsPrint(r)
	}) {
		return strconv.Quote(s)
	}
	return s
}

// Modes of the two files. The text file stays world-readable, as
// keepalived users `cat` it; the JSON twin carries what GET /v1/status
// does, so it is readable by whom the socket is (Write's gid).
const (
	TextMode      os.FileMode = 0o644
	JSONModeGroup os.FileMode = 0o640
	JSONModeRoot  os.FileMode = 0o600
)

// Write replaces path with the text state and path.json with the JSON one.
// gid >= 0 is the control socket's group, which may read path.json (mode
// 0640); -1 keeps it to root (0600).
func Write(path string, st api.Status, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	mode := JSONModeRoot
	if gid >= 0 {
		mode = JSONModeGroup
	}
	if err := runfile.Write(path+".json", append(js, '\n'), mode, gid); err != nil {
		return fmt.Errorf("state file %s.json: %w", path, err)
	}
	if err := runfile.Write(path, Render(st), TextMode, -1); err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	return nil
}

// Remove deletes both files (at shutdown, so no stale state lingers; and
// after a failed write, since unlinking needs no free space).
func Remove(path string) {
	os.Remove(path + ".json")
	os.Remove(path)
}
