package scripts

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// Cred is the user and groups a script runs as.
type Cred struct {
	User string
	UID  uint32
	GID  uint32
	// Groups are the supplementary groups; empty unless the group was
	// given with keepalived's ':' prefix.
	Groups []uint32
	Home   string
}

// UserInfo is a user account.
type UserInfo struct {
	Name string
	UID  uint32
	GID  uint32
	Home string
}

// Users looks up accounts. OSUsers reads the host's; tests inject their own.
type Users interface {
	// LookupUser finds a user by name (or by number).
	LookupUser(name string) (UserInfo, error)
	// LookupUID finds a user by uid.
	LookupUID(uid uint32) (UserInfo, error)
	// LookupGroup finds a group's gid by name (or by number).
	LookupGroup(name string) (uint32, error)
	// GroupIDs lists the groups a user belongs to.
	GroupIDs(u UserInfo) ([]uint32, error)
}

// ErrNoUser is wrapped when a user or group does not exist.
var ErrNoUser = errors.New("no such user or group")

// Credential is the user and group a command naming userName and
// groupName runs as (credential's rules); the notify FIFOs are given to
// them.
func (r *Runner) Credential(userName, groupName string) (Cred, error) {
	return r.credential(userName, groupName)
}

// credential resolves who runs a command naming userName and groupName
// (both may be empty), with keepalived's defaults: the global script_user,
// else keepalived_script if it exists, else the daemon's own user, which
// enable_script_security forbids.
func (r *Runner) credential(userName, groupName string) (Cred, error) {
	users := r.opts.Users
	if userName == "" {
		userName, groupName = r.opts.ScriptUser, r.opts.ScriptGroup
	}
	var u UserInfo
	var err error
	switch {
	case userName != "":
		u, err = users.LookupUser(userName)
		if err != nil {
			return Cred{}, fmt.Errorf("script user %s: %w", userName, err)
		}
	default:
		u, err = users.LookupUser(DefaultScriptUser)
		if err != nil {
			if r.opts.ScriptSecurity {
				return Cred{}, fmt.Errorf("enable_script_security is set but neither script_user nor a %s user is there, and scripts must not default to root: %w", DefaultScriptUser, err)
			}
			u, err = users.LookupUID(r.uid)
			if err != nil {
				u = UserInfo{Name: strconv.FormatUint(uint64(r.uid), 10), UID: r.uid, GID: r.gid, Home: "/"}
			}
		}
	}
	c := Cred{User: u.Name, UID: u.UID, GID: u.GID, Home: u.Home}
	supplementary := strings.HasPrefix(groupName, ":")
	groupName = strings.TrimPrefix(groupName, ":")
	if groupName != "" {
		gid, err := users.LookupGroup(groupName)
		if err != nil {
			return Cred{}, fmt.Errorf("script group %s: %w", groupName, err)
		}
		c.GID = gid
	}
	if supplementary {
		gs, err := users.GroupIDs(u)
		if err != nil {
			return Cred{}, fmt.Errorf("groups of %s: %w", u.Name, err)
		}
		c.Groups = gs
	}
	if r.uid != 0 && (c.UID != r.uid || c.GID != r.gid) {
		return Cred{}, fmt.Errorf("cannot run scripts as %s (uid %d, gid %d): the daemon runs as uid %d, gid %d, not root", c.User, c.UID, c.GID, r.uid, r.gid)
	}
	return c, nil
}

// OSUsers looks accounts up in the host's user database (os/user).
type OSUsers struct{}

// LookupUser finds a user by name, or by uid when name is a number.
func (OSUsers) LookupUser(name string) (UserInfo, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.ParseUint(name, 10, 32); nerr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return UserInfo{}, fmt.Errorf("%w: %v", ErrNoUser, err)
	}
	return userInfo(u)
}

// LookupUID finds a user by uid.
func (OSUsers) LookupUID(uid uint32) (UserInfo, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return UserInfo{}, fmt.Errorf("%w: %v", ErrNoUser, err)
	}
	return userInfo(u)
}

// LookupGroup finds a group by name, or takes a number as the gid.
func (OSUsers) LookupGroup(name string) (uint32, error) {
	if g, err := user.LookupGroup(name); err == nil {
		return parseID(g.Gid)
	}
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	return 0, fmt.Errorf("%w: group %s", ErrNoUser, name)
}

// GroupIDs lists the groups the user is a member of.
func (OSUsers) GroupIDs(u UserInfo) ([]uint32, error) {
	uu, err := user.LookupId(strconv.FormatUint(uint64(u.UID), 10))
	if err != nil {
		return nil, err
	}
	ids, err := uu.GroupIds()
	if err != nil {
		return nil, err
	}
	var out []uint32
	for _, s := range ids {
		id, err := parseID(s)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

func userInfo(u *user.User) (UserInfo, error) {
	uid, err := parseID(u.Uid)
	if err != nil {
		return UserInfo{}, err
	}
	gid, err := parseID(u.Gid)
	if err != nil {
		return UserInfo{}, err
	}
	return UserInfo{Name: u.Username, UID: uid, GID: gid, Home: u.HomeDir}, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("id %q: %w", s, err)
	}
	return uint32(n), nil
}
