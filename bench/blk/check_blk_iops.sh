#!/usr/bin/env bash
# ctest blk_iops_tool: husk-blk-iops on the host, no KVM. A short count against a temp file gives
# one well-formed line per queue depth; bad arguments exit 2 with one stderr line; a missing or
# too-small device exits 1 with one line. Reads go through the page cache (--no-direct): the temp
# directory may be a tmpfs that refuses O_DIRECT.
# Usage: check_blk_iops.sh <husk-blk-iops>
set -euo pipefail
tool=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
check() { # description, then a condition that must hold
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}

head -c $((4 << 20)) /dev/urandom >"$dir/image"
status=0
"$tool" --no-direct --count 300 --qd 1 --qd 8 --seed 7 "$dir/image" >"$dir/out" 2>"$dir/err" || status=$?
check "reads exit 0" test "$status" -eq 0
check "two result lines" test "$(wc -l <"$dir/out")" -eq 2
check "qd=1 line" grep -Eq '^iops qd=1 ops=300 seconds=[0-9]+\.[0-9]{3} iops=[0-9]+$' "$dir/out"
check "qd=8 line" grep -Eq '^iops qd=8 ops=300 seconds=[0-9]+\.[0-9]{3} iops=[0-9]+$' "$dir/out"
check "nothing on stderr" test ! -s "$dir/err"

status=0
"$tool" --no-direct --seconds 0.2 --qd 32 "$dir/image" >"$dir/out" 2>"$dir/err" || status=$?
check "timed run exit 0" test "$status" -eq 0
check "timed run line" grep -Eq '^iops qd=32 ops=[1-9][0-9]* seconds=0\.[0-9]{3} iops=[0-9]+$' "$dir/out"

expect_error() { # expected exit code, description, arguments...
  local code=$1 what=$2 status=0
  shift 2
  "$tool" "$@" >"$dir/out" 2>"$dir/err" || status=$?
  check "$what: exit $code" test "$status" -eq "$code"
  check "$what: one stderr line" test "$(wc -l <"$dir/err")" -eq 1
  check "$what: names the tool" grep -q '^husk-blk-iops: ' "$dir/err"
  check "$what: no stdout" test ! -s "$dir/out"
}
expect_error 2 "queue depth 0" --qd 0 "$dir/image"
expect_error 2 "unknown flag" --fast "$dir/image"
expect_error 2 "no device"
expect_error 2 "count and seconds" --count 5 --seconds 1 "$dir/image"
expect_error 1 "missing device" --no-direct "$dir/does-not-exist"
head -c 100 /dev/zero >"$dir/tiny"
expect_error 1 "device below one block" --no-direct "$dir/tiny"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
