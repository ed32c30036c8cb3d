#!/usr/bin/env bash
# Runs every native Go fuzz target in the module for a bounded time each
# (FUZZTIME, default 10s), one after another. Targets are found by name, so
# a new Fuzz function joins `make fuzz` without editing this file.
set -euo pipefail
fuzztime=${FUZZTIME:-10s}
found=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    found=$((found + 1))
    echo "== fuzz ./$dir $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$dir"
  done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | sort)
echo "fuzz: $found targets ran for $fuzztime each"
