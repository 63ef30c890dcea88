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
# fuzz regression inputs: tests/fuzz/crashes/<target>-* through $dir/replay_<target>
for r in "$dir"/replay_*; do
  [ -x "$r" ] || continue
  target=${r##*/replay_}
  set -- tests/fuzz/crashes/"$target"-*
  [ -e "$1" ] || continue
  echo "== replay_$target ($# inputs)"
  if "$r" "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed replay_$target"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
