#!/bin/sh
# Runs every tests/test_*.c binary from the repository root and prints one summary line.
# usage: sh tests/run.sh [BUILD_DIR]
dir=${1:-build}
pass=0; fail=0; failed=""
for t in "$dir"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  echo "== $name"
  if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $name"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
