package scripts

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

type fakeUsers map[string]UserInfo

func (f fakeUsers) LookupUser(name string) (UserInfo, error) {
	if u, ok := f[name]; ok {
		return u, nil
	}
	return UserInfo{}, fmt.Errorf("%w: %s", ErrNoUser, name)
}

func (f fakeUsers) LookupUID(uid uint32) (UserInfo, error) {
	for _, u := range f {
		if u.UID == uid {
			return u, nil
		}
	}
	return UserInfo{}, ErrNoUser
}

func (f fakeUsers) LookupGroup(name string) (uint32, error) {
	if name == "web" {
		return 33, nil
	}
	return 0, ErrNoUser
}

func (f fakeUsers) GroupIDs(u UserInfo) ([]uint32, error) { return []uint32{u.GID, 4, 27}, nil }

func TestCredential(t *testing.T) {
	base := fakeUsers{
		"root":   {Name: "root", UID: 0, GID: 0, Home: "/root"},
		"nobody": {Name: "nobody", UID: 65534, GID: 65534, Home: "/nonexistent"},
	}
	withKS := fakeUsers{DefaultScriptUser: {Name: DefaultScriptUser, UID: 998, GID: 997}}
	for k, v := range base {
		withKS[k] = v
	}
	tests := []struct {
		name        string
		users       fakeUsers
		opts        Options
		user, group string
		want        Cred
		err         string
	}{
		{name: "default is root without keepalived_script", users: base, want: Cred{User: "root", Home: "/root"}},
		{name: "default is keepalived_script when it exists", users: withKS, want: Cred{User: DefaultScriptUser, UID: 998, GID: 997}},
		{name: "script security forbids root default", users: base, opts: Options{ScriptSecurity: true}, err: "must not default to root"},
		{name: "script security with keepalived_script", users: withKS, opts: Options{ScriptSecurity: true}, want: Cred{User: DefaultScriptUser, UID: 998, GID: 997}},
		{name: "script_user", users: withKS, opts: Options{ScriptUser: "nobody"}, want: Cred{User: "nobody", UID: 65534, GID: 65534, Home: "/nonexistent"}},
		{name: "script_user with group", users: base, opts: Options{ScriptUser: "nobody", ScriptGroup: "web"}, want: Cred{User: "nobody", UID: 65534, GID: 33, Home: "/nonexistent"}},
		{name: "command's own user wins", users: withKS, opts: Options{ScriptUser: "root"}, user: "nobody", want: Cred{User: "nobody", UID: 65534, GID: 65534, Home: "/nonexistent"}},
		{name: "colon group adds supplementary groups", users: base, user: "nobody", group: ":web",
			want: Cred{User: "nobody", UID: 65534, GID: 33, Groups: []uint32{65534, 4, 27}, Home: "/nonexistent"}},
		{name: "bare colon keeps the primary group", users: base, user: "nobody", group: ":",
			want: Cred{User: "nobody", UID: 65534, GID: 65534, Groups: []uint32{65534, 4, 27}, Home: "/nonexistent"}},
		{name: "unknown user", users: base, user: "nosuch", err: "script user nosuch"},
		{name: "unknown group", users: base, user: "nobody", group: "nosuch", err: "script group nosuch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Users = tt.users
			r := New(tt.opts)
			r.uid, r.gid = 0, 0
			got, err := r.credential(tt.user, tt.group)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.User != tt.want.User || got.UID != tt.want.UID || got.GID != tt.want.GID || got.Home != tt.want.Home || !slices.Equal(got.Groups, tt.want.Groups) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCredentialNotRoot(t *testing.T) {
	r := New(Options{Users: fakeUsers{"nobody": {Name: "nobody", UID: 65534, GID: 65534}, "app": {Name: "app", UID: 1000, GID: 1000}}})
	r.uid, r.gid = 1000, 1000
	if _, err := r.credential("nobody", ""); err == nil || !strings.Contains(err.Error(), "not root") {
		t.Errorf("switching users without root: err = %v", err)
	}
	if c, err := r.credential("app", ""); err != nil || c.UID != 1000 {
		t.Errorf("own user: %+v, %v", c, err)
	}
}
