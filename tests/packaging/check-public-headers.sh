#!/usr/bin/env bash
# Checks that libhusk's public headers stand alone: each one compiles by itself with nothing but
# the SDK's include directory on the include path (as an application sees them once installed),
# strict C++20 with warnings as errors, and leaks none of husk's internal macros (TRY,
# TRY_CONTEXT). The C ABI header compiles as C99 and as C++ the same way.
# Usage: check-public-headers.sh CXX CC SDK_INCLUDE_DIR C_HEADER_DIR
set -euo pipefail

[[ $# -eq 4 ]] || { echo "usage: check-public-headers.sh CXX CC SDK_INCLUDE_DIR C_HEADER_DIR" >&2; exit 2; }
cxx=$1 cc=$2 include=$(cd "$3" && pwd) c_include=$(cd "$4" && pwd)
# An empty directory as the working directory and nothing else on the path: no repository file can
# be reached by accident.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"

failures=0 checked=0
compile() { # what, language flags..., -- source text
  local what=$1; shift
  local flags=()
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  checked=$((checked + 1))
  if ! output=$(printf '%s\n' "$1" | "${flags[@]}" -fsyntax-only -Wall -Wextra -Wpedantic -Werror - 2>&1); then
    echo "FAIL: $what does not compile alone:" >&2
    echo "$output" | head -20 >&2
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}

headers=("$include"/husk/*.hpp)
[[ -e ${headers[0]} ]] || { echo "FAIL: no headers in $include/husk" >&2; exit 1; }
for header in "${headers[@]}"; do
  name=husk/$(basename "$header")
  compile "$name (C++20, -I sdk/include only)" "$cxx" -std=c++20 -I "$include" -x c++ -- \
    "#include \"$name\"
#include \"$name\"
int main() { return 0; }"
done
compile "husk/husk.hpp leaks no TRY or TRY_CONTEXT macro" "$cxx" -std=c++20 -I "$include" -x c++ -- \
  '#include "husk/husk.hpp"
#if defined(TRY) || defined(TRY_CONTEXT)
#error an internal husk macro leaked into the public headers
#endif
int main() { return 0; }'
compile "husk.h (C99, its own directory only)" "$cc" -std=c99 -I "$c_include" -x c -- \
  '#include "husk.h"
int main(void) { return husk_version() == 0; }'
compile "husk.h (C++20, its own directory only)" "$cxx" -std=c++20 -I "$c_include" -x c++ -- \
  '#include "husk.h"
int main() { return husk_version() == nullptr; }'

echo "$((checked - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
