package daemon

import (
	"fmt"
	"net/netip"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// ahState is the IPsec-AH side of an instance with auth_type AH, as
// keepalived 2.2.7 keeps it (vrrp.c): the keyed HMAC, the sequence counter
// shared by sending and receiving, and the IPv4 identification. It lives on
// the loop, like the instance. A reload keeps it (the instance is kept);
// a restart starts again from 0, as keepalived does.
type ahState struct {
	auth *vrrp.AHAuth
	ctr  vrrp.AHCounter
	// unicast: the instance has unicast peers, so the TTL is left out of
	// the ICV (keepalived's rule).
	unicast bool
	// id and seq are the current advert round's (round); every
	// destination of a round carries the same, as with keepalived.
	id  uint16
	seq uint32
	out []byte
}

// isAH reports whether an instance authenticates with IPsec AH.
func isAH(c *config.Instance) bool { return c.Auth != nil && c.Auth.Type == "AH" }

func newAHState(c *config.Instance) (*ahState, error) {
	key, err := vrrp.AHKey(c.Auth.Password)
	if err != nil {
		return nil, fmt.Errorf("%s: authentication: %w", c.Name, err)
	}
	return &ahState{auth: vrrp.NewAHAuth(key), unicast: c.Unicast}, nil
}

// listenConn opens the socket of key: the AH socket for AH instances
// (protocol 51), else the VRRP one.
func listenConn(ifname string, key sockKey) (*vrrpsock.Conn, error) {
	if key.ah {
		return vrrpsock.ListenAH(ifname)
	}
	return vrrpsock.Listen(ifname, key.family)
}

// round starts an advert round: the next IPv4 identification and sequence
// number (vrrp_update_pkt).
func (a *ahState) round() {
	a.id, a.seq = a.ctr.NextID(), a.ctr.Next()
}

// seal wraps the VRRP message msg for dst into the whole IPv4 packet the
// AH socket sends. The result is valid until the next seal.
func (a *ahState) seal(msg []byte, src, dst netip.Addr) ([]byte, error) {
	b, err := a.auth.Append(a.out[:0], msg, vrrp.AHPacket{Src: src, Dst: dst, ID: a.id, TTL: vrrp.TTL, Seq: a.seq, Unicast: a.unicast})
	if err != nil {
		return nil, err
	}
	a.out = b
	return b, nil
}

// verify checks a received packet's AH (next header, ICV, SPI) and then the
// sequence number against the counter, in keepalived's order
// (vrrp_in_chk_ipsecah); an advert that passes has moved the counter.
func (a *ahState) verify(p vrrpsock.Packet) (uint32, error) {
	info, err := a.auth.Verify(p.Header, p.Payload, a.unicast)
	if err != nil {
		return 0, err
	}
	return info.Seq, a.ctr.Accept(info.Seq)
}

// heard is called for an accepted advert before the state machine sees
// it: a master that hears a lower priority (or an equal one from a lower
// address) sets its counter one above that advert's number before it
// answers, as keepalived does (vrrp_state_master_rx), so that the other
// side accepts the answer.
func (a *ahState) heard(in *instance, src netip.Addr, adv *vrrp.Advertisement, seq uint32) {
	st := in.m.Status()
	if st.State != vrrp.Master || adv.Priority == vrrp.PriorityStop {
		return
	}
	if adv.Priority < st.EffectivePriority || adv.Priority == st.EffectivePriority && src.Compare(in.src) < 0 {
		a.ctr.SyncLower(seq)
	}
}

// stepped is called with the actions of each step before they are
// performed: on becoming master a cycled counter restarts from 0 before
// the first advert (vrrp_state_goto_master).
func (a *ahState) stepped(acts []vrrp.Action) {
	for _, act := range acts {
		if act.Kind == vrrp.ActionStateChange && act.To == vrrp.Master {
			a.ctr.BecomeMaster()
		}
	}
}
