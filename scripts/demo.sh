#!/usr/bin/env bash
# The demo: a 3-node cluster in network namespaces running hactl daemon,
# an election, who-owns, status, failover, restart-safe, a crash of the
# master and the takeover, then teardown (also
# on failure or Ctrl-C).
set -euo pipefail
hactl=${HACTL:-./hactl}
name=${DEMO_LAB:-demo}
dir=/run/hactl-lab/$name
vip=10.77.0.100
if [ "$(id -u)" != 0 ]; then
  echo "make demo needs root: it builds network namespaces (try: sudo make demo)" >&2
  exit 1
fi
step() { printf '\n$ %s\n' "$*"; }
"$hactl" lab down --name "$name" >/dev/null 2>&1 || true
trap '"$hactl" lab down --name "$name" >/dev/null 2>&1 || true' EXIT

# owner prints the nodes that hold the VIP.
owner() {
  local out=""
  for n in node1 node2 node3; do
    if "$hactl" lab exec --name "$name" "$n" -- ip -o addr show dev eth0 | grep -q " $vip/"; then out="$out $n"; fi
  done
  echo "${out# }"
}

step hactl lab up --nodes 3 --name "$name"
"$hactl" lab up --nodes 3 --name "$name"

echo
echo "Waiting for the election (a backup waits 3 adverts + skew before it claims the VIP)..."
for _ in $(seq 1 100); do [ -n "$(owner)" ] && break; sleep 0.1; done
step hactl lab status --name "$name"
"$hactl" lab status --name "$name"

step cat "$dir/node3/state"
cat "$dir/node3/state"

step hactl lab exec --name "$name" op -- ssh -F "$dir/ssh_config" node3 ip -br addr show eth0
"$hactl" lab exec --name "$name" op -- ssh -F "$dir/ssh_config" node3 ip -br addr show eth0

inv="$dir/inventory"
op() { "$hactl" lab exec --name "$name" op -- "$(readlink -f "$hactl")" "$@" --inventory "$inv"; }

step hactl who-owns $vip
op who-owns "$vip" || true

step hactl status
op status || true

step hactl failover --to node1
op failover --to node1 || true
step hactl who-owns $vip
op who-owns "$vip" || true

step hactl failover --clear
op failover --clear || true

step hactl restart-safe --restart-command "$dir/restart-daemon"
op restart-safe --restart-command "$dir/restart-daemon" --settle 1s || true

master=$(owner)
step "kill -9 \$(cat $dir/$master/hactl.pid)    # crash the master"
kill -9 "$(cat "$dir/$master/hactl.pid")"
start=$(date +%s%N)
new=""
for _ in $(seq 1 200); do
  new=$(owner | tr ' ' '\n' | grep -v "^$master$" || true)
  [ -n "$new" ] && break
  sleep 0.02
done
echo "$new took over the VIP $(( ($(date +%s%N) - start) / 1000000 )) ms after the crash"
echo "(the killed daemon's VIP carries a kernel lease, so it vanishes by itself; its supervisor starts it again)"
for _ in $(seq 1 100); do owner | grep -qw "$master" || break; sleep 0.1; done
echo "$master's VIP gone $(( ($(date +%s%N) - start) / 1000000 )) ms after the crash; owners now: $(owner)"

step hactl lab down --name "$name"
