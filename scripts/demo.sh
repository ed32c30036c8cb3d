#!/usr/bin/env bash
# The demo: a 3-node lab in network namespaces, its status, a look from the
# operator namespace over SSH, and teardown (also on failure or Ctrl-C).
set -euo pipefail
hactl=${HACTL:-./hactl}
name=${DEMO_LAB:-demo}
if [ "$(id -u)" != 0 ]; then
  echo "make demo needs root: it builds network namespaces (try: sudo make demo)" >&2
  exit 1
fi
step() { printf '\n\033[1m$ %s\033[0m\n' "$*" | sed 's/\x1b\[[0-9;]*m//g'; }
"$hactl" lab down --name "$name" >/dev/null 2>&1 || true
trap '"$hactl" lab down --name "$name"' EXIT

step hactl lab up --nodes 3 --name "$name"
"$hactl" lab up --nodes 3 --name "$name"

step hactl lab status --name "$name"
"$hactl" lab status --name "$name"

ssh_config=/run/hactl-lab/$name/ssh_config
for node in node1 node2 node3; do
  step hactl lab exec --name "$name" op -- ssh -F "$ssh_config" "$node" ip -br addr show eth0
  "$hactl" lab exec --name "$name" op -- ssh -F "$ssh_config" "$node" ip -br addr show eth0
done

step hactl lab exec --name "$name" node1 -- ping -c 2 -i 0.2 fd77::13
"$hactl" lab exec --name "$name" node1 -- ping -c 2 -i 0.2 fd77::13

step hactl lab down --name "$name"
