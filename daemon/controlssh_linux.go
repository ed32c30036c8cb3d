//go:build linux

package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/daemon/controlssh"
	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/pkg/config"
)

// sshListener is the running control_ssh listener, or nil when it is off.
type sshListener struct {
	srv  *controlssh.Server
	once sync.Once
}

// serveControlSSH starts the daemon's SSH listener for the control API
// when global_defs control_ssh (or --control-ssh) names an address: off
// by default, no listener unless asked. Its settings are read at start:
// a change needs a restart (a reload logs nothing about them); the
// authorized_keys file is read again whenever it changes.
func (r *runtime) serveControlSSH(cfg *config.Config, sock *control.Server) (*sshListener, error) {
	cs := cfg.Global.ControlSSH
	addr := firstOf(r.opts.ControlSSH, cs.Addr)
	if addr == "" || addr == "none" {
		return nil, nil
	}
	where := "--control-ssh"
	if r.opts.ControlSSH == "" && cs.Pos.IsValid() {
		where = cs.Pos.String() + ": control_ssh"
	}
	keys, err := controlssh.LoadHostKeys(cs.HostKeys)
	if err != nil {
		if len(cs.HostKeyPos) > 0 {
			// Name the line of the file that failed, if it is one of ours.
			for i, f := range cs.HostKeys {
				if _, ferr := controlssh.LoadHostKeys([]string{f}); ferr != nil {
					return nil, fmt.Errorf("%s: control_ssh_host_key: %w", cs.HostKeyPos[i], ferr)
				}
			}
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	srv, err := controlssh.Listen(controlssh.Config{
		Addr: addr, HostKeys: keys, AuthorizedKeys: cs.AuthorizedKeys, SocketPath: sock.Path(),
		Handler: r.ctlHandler, Limits: controlssh.DefaultLimits(sock.Limits), Log: r.log,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	l := &sshListener{srv: srv}
	r.sshSrv.Store(srv)
	lim := srv.Limits()
	r.log.Info("control_ssh listening", "addr", srv.Addr().String(), "host_keys", len(keys),
		"authorized_keys", firstOf(cs.AuthorizedKeys, controlssh.DefaultAuthorizedKeys),
		"max_conns", lim.MaxConns, "max_handshakes", lim.MaxHandshakes, "idle_timeout", lim.IdleTimeout)
	go func() {
		if err := srv.Serve(); err != nil {
			r.log.Error("control_ssh", "err", err)
		}
	}()
	return l, nil
}

// controlSSHStats are the listener's counters for the metrics (zeros
// while it is off).
func (r *runtime) controlSSHStats() metrics.ControlSSHStats {
	st := r.sshSrv.Load().Stats() // nil-safe
	return metrics.ControlSSHStats{Open: st.Open, RefusedLimit: st.RefusedLimit, AuthFailed: st.AuthFailed,
		HandshakeFailed: st.HandshakeFailed, ChansRejected: st.ChannelsRejected}
}

// close stops the listener and its connections (at most 2 s).
func (l *sshListener) close() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = l.srv.Close(ctx)
	})
}
