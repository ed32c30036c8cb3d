#!/usr/bin/env bash
# `scripts/netns-guard.sh before FILE` records the network namespaces that
# exist; `scripts/netns-guard.sh after FILE` fails if the tests left any new
# one behind, naming them.
set -euo pipefail
list() { ls -1 /run/netns 2>/dev/null | sort || true; }
case "${1:-}" in
  before) list > "$2" ;;
  after)
    left=$(comm -13 "$2" <(list))
    rm -f "$2"
    if [ -n "$left" ]; then
      echo "the tests left network namespaces behind: $left" >&2
      echo "remove them with: hactl lab down --all (or ip netns delete NAME)" >&2
      exit 1
    fi ;;
  *) echo "usage: $0 before|after FILE" >&2; exit 2 ;;
esac
