#!/usr/bin/env bash
# Installs the Debian packages hactl's end-to-end tests and demo need, when
# they are missing. As root on Debian it installs them (apt-get update first
# when the package lists are empty or stale); otherwise it names what is
# missing and how to install it, and exits 1.
set -euo pipefail

# package:program pairs; the program proves the package is there.
need=(
  iproute2:ip
  openssh-server:sshd
  openssh-client:ssh
  keepalived:keepalived
  nftables:nft
  tcpdump:tcpdump
  dnsmasq:dnsmasq
  iputils-ping:ping
  systemd:systemd-analyze
  dpkg:dpkg-deb
  etcd-server:etcd
  etcd-client:etcdctl
)

missing=()
for pair in "${need[@]}"; do
  pkg=${pair%%:*} prog=${pair##*:}
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$prog" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages for the end-to-end tests: ${missing[*]}" >&2
  echo "install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "installing ${missing[*]} (Debian packages the end-to-end tests use)..." >&2
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' services from starting on this host: tests start every
# daemon they need themselves, inside their own namespaces.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

if ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
  apt-get update -qq
fi
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/hactl-deps.log 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/hactl-deps.log 2>&1 || {
    echo "apt-get install ${missing[*]} failed; see /tmp/hactl-deps.log" >&2
    tail -5 /tmp/hactl-deps.log >&2
    exit 1
  }
fi
echo "installed: ${missing[*]}" >&2
