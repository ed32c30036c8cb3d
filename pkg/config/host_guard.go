package config

import "io/fs"

// guards checks the files of the etcd guards on this host: the TLS files
// exist, the client's key is readable by its owner alone, and a config
// file that holds a password cannot be read by every user.
func (c *hostCheck) guards(gs []*EtcdGuard) {
	for _, g := range gs {
		for _, f := range []struct{ kw, path string }{{"ca_file", g.CAFile}, {"cert_file", g.CertFile}, {"key_file", g.KeyFile}} {
			if f.path == "" {
				continue
			}
			fi, err := c.host.Stat(f.path)
			if err != nil {
				c.diag.hostWarnf(g.TLSPos, "etcd_guard %s: %s %s: %v: the guard cannot connect, so its instances never become master", g.Name, f.kw, f.path, err)
				continue
			}
			if !fi.Mode().IsRegular() {
				c.diag.hostWarnf(g.TLSPos, "etcd_guard %s: %s %s is not a regular file", g.Name, f.kw, f.path)
			} else if f.kw == "key_file" && fi.Mode().Perm()&0o077 != 0 {
				c.diag.hostWarnf(g.TLSPos, "etcd_guard %s: key_file %s can be read by others (mode %04o): chmod 600 it", g.Name, f.path, fi.Mode().Perm())
			}
		}
		if g.Password != "" && g.PasswordPos.File != "" {
			if fi, err := c.host.Stat(g.PasswordPos.File); err == nil && othersRead(fi) {
				c.diag.hostWarnf(g.PasswordPos, "etcd_guard %s: the password is in %s, which every user can read (mode %04o): chmod o-r it", g.Name, g.PasswordPos.File, fi.Mode().Perm())
			}
		}
	}
}

func othersRead(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o004 != 0 }
