// Package remote is hactl's SSH layer: it turns node names into connection
// settings (inventory, flags and OpenSSH's ssh_config), dials each node once
// and reuses that connection for every call of a command, checks host keys
// against known_hosts (strict, or OpenSSH's accept-new), authenticates with
// ssh-agent and identity files, runs remote commands (optionally through
// sudo -n), reaches a node's hactl control socket through the SSH connection
// (direct-streamlocal@openssh.com), and fans a function out over many nodes
// with a concurrency bound and per-node deadlines, returning results in
// input order.
//
// The package never prints: notes meant for the operator (an accepted host
// key) go to Config.Notes, diagnostics to Config.Logger. Every error that
// concerns a node is a *NodeError whose message starts with the node's name.
//
// Tests and the lab inject Config.Dialer, because the lab's nodes are only
// reachable from inside its operator network namespace.
package remote
