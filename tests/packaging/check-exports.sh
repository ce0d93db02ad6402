#!/usr/bin/env bash
# Checks libhusk.so's dynamic symbol table: SONAME libhusk.so.<N>, every function of the C ABI
# (husk.h) and the C++ API's entry points exported, and nothing else: no husk::detail, protocol
# or runtime internals (sdk/libhusk.map says what is exported).
# Usage: check-exports.sh LIBRARY HUSK_H SOVERSION
set -euo pipefail

[[ $# -eq 3 ]] || { echo "usage: check-exports.sh LIBRARY HUSK_H SOVERSION" >&2; exit 2; }
library=$1 header=$2 soversion=$3
failures=0 checked=0
check() { # description, then a command that succeeds when the check holds
  local what=$1; shift
  checked=$((checked + 1))
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}

soname=$(readelf -d "$library" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
check "SONAME is libhusk.so.$soversion (found '$soname')" test "$soname" = "libhusk.so.$soversion"

symbols=$(nm -D --defined-only "$library" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | c++filt)
[[ -n $symbols ]] || { echo "FAIL: no exported symbols in $library" >&2; exit 1; }

exported() { grep -qxF -- "$1" <<<"$symbols"; }
exported_prefix() { grep -q "^$1" <<<"$symbols"; }
for function in $(grep -o '\bhusk_[a-z_]*(' "$header" | tr -d '(' | sort -u); do
  check "C ABI $function exported" exported "$function"
done
for entry in 'husk::Sandbox::create(' 'husk::Sandbox::run(' 'husk::Sandbox::~Sandbox()' 'husk::Process::wait(' \
  'husk::Sandbox::restore(' 'husk::Pool::create(' 'husk::Pool::take(' \
  'husk::units::parse_size(' 'husk::version()' 'husk::error_kind_name(' 'husk::docker_exit_status('; do
  check "C++ $entry exported" exported_prefix "$(sed 's/[][\.*^$]/\\&/g' <<<"$entry")"
done
unexpected=$(grep -Ev '^(husk_[a-z_]+|husk::(Sandbox|Process|Pool)::.*|husk::units::.*|husk::version\(\)|husk::protocol_version\(\)|husk::docker_exit_status\(.*\)|husk::error_kind_name\(.*\))$' <<<"$symbols" || true)
check "nothing else exported ($(wc -l <<<"$symbols") symbols)" test -z "$unexpected"
[[ -z $unexpected ]] || { echo "unexpected exports:" >&2; head -20 <<<"$unexpected" >&2; }

echo "$((checked - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
