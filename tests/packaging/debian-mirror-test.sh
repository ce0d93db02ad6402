#!/usr/bin/env bash
# Unit test of packaging/debian-mirror.sh on sample apt configurations: one-line and deb822
# sources, options in brackets, comments, other suites (security, updates), `Enabled: no`, the
# HUSK_DEBIAN_MIRROR override, and a loud failure when there is no source.
# Usage: debian-mirror-test.sh PATH/TO/debian-mirror.sh
set -euo pipefail

helper=${1:?usage: debian-mirror-test.sh PATH/TO/debian-mirror.sh}
apt=$(mktemp -d)
trap 'rm -rf "$apt"' EXIT
failures=0 checked=0
expect() { # description, expected output ("FAIL" for a non-zero exit), environment assignments...
  local what=$1 want=$2; shift 2
  local got
  checked=$((checked + 1))
  if got=$(env -u HUSK_DEBIAN_MIRROR HUSK_APT_SOURCES_DIR="$apt" "$@" "$helper" bookworm 2>/dev/null); then :; else got=FAIL; fi
  if [[ $got == "$want" ]]; then echo "ok: $what"; else echo "FAIL: $what: want '$want', got '$got'" >&2; failures=$((failures + 1)); fi
}
reset() { rm -rf "$apt"/*; mkdir -p "$apt/sources.list.d"; }

reset
cat >"$apt/sources.list" <<'LIST'
# deb http://commented.invalid/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://security.invalid/debian-security bookworm-security main
deb-src http://source.invalid/debian bookworm main
deb http://one-line.invalid/debian/ bookworm main contrib   # trailing comment
LIST
expect "one-line sources.list: the bookworm deb line, options and trailing slash handled" http://one-line.invalid/debian

reset
cat >"$apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://security.invalid/debian-security
Suites: bookworm-security
Components: main

# a comment between stanzas
Types: deb-src deb
URIs: http://deb822.invalid/debian http://second.invalid/debian
Suites: bookworm bookworm-updates
Components: main
SOURCES
expect "deb822 .sources: the first URI of the stanza with the suite itself" http://deb822.invalid/debian

reset
printf 'Types: deb\nURIs: http://off.invalid/debian\nSuites: bookworm\nEnabled: no\n' >"$apt/sources.list.d/off.sources"
printf 'deb http://list-d.invalid/debian bookworm main\n' >"$apt/sources.list.d/extra.list"
expect "sources.list.d/*.list read; a disabled .sources stanza skipped" http://list-d.invalid/debian
rm "$apt/sources.list.d/extra.list"
expect "only disabled or other-suite sources: a failure, not a guess" FAIL
expect "HUSK_DEBIAN_MIRROR overrides everything" http://override.invalid/debian HUSK_DEBIAN_MIRROR=http://override.invalid/debian/

echo "$((checked - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
