// Package control serves the daemon's control API (pkg/api) as HTTP/JSON
// on a unix socket. Every connection's peer credentials (SO_PEERCRED) are
// checked: changes need root; reads need root or membership of the
// configured group. Requests are decoded strictly: unknown fields, bodies
// over 64 KiB, wrong methods and unknown paths get a 4xx with a JSON error
// body and change nothing. Connections are capped in all and per uid, with
// a share kept for root, so that no local user can take the descriptors
// the daemon's scripts and sockets need (Limits); the socket file is
// created with its final mode and group before anyone can reach it.
package control
