#!/usr/bin/env bash
# Prints the Debian mirror URL this host's apt uses for a suite, for debootstrap (root filesystem
# images in packaging/rootfs/, the clean root of the package install test). HUSK_DEBIAN_MIRROR
# overrides it. Reads one-line sources (/etc/apt/sources.list, sources.list.d/*.list) and deb822
# sources (sources.list.d/*.sources, without `Enabled: no`), and takes the first `deb` source
# whose suites include the suite itself (bookworm, not bookworm-security or bookworm-updates).
# Usage: packaging/debian-mirror.sh [suite]   (default bookworm). Exits 1, saying why, if none.
# HUSK_APT_SOURCES_DIR (default /etc/apt) lets the unit test point it at sample files.
set -euo pipefail

suite=${1:-bookworm}
if [[ -n ${HUSK_DEBIAN_MIRROR:-} ]]; then
  echo "${HUSK_DEBIAN_MIRROR%/}"
  exit 0
fi
apt_dir=${HUSK_APT_SOURCES_DIR:-/etc/apt}

one_line_sources() {
  # deb [option=value ...] URI SUITE COMPONENT...
  awk -v suite="$suite" '
    { sub(/#.*/, "") }
    $1 != "deb" { next }
    {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
    }' "$@"
}

deb822_sources() {
  # Stanzas separated by blank lines; fields Types, URIs, Suites, Enabled.
  awk -v suite="$suite" '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ") && uris != "") {
        split(uris, list, " "); print list[1]; found = 1; exit
      }
      types = ""; uris = ""; suites = ""; enabled = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    {
      line = $0; field = tolower(line); sub(/:.*/, "", field)
      value = line; sub(/^[^:]*:[ \t]*/, "", value); gsub(/[ \t]+/, " ", value); sub(/ $/, "", value)
      if (field == "types") types = value
      else if (field == "uris") uris = value
      else if (field == "suites") suites = value
      else if (field == "enabled") enabled = tolower(value)
    }
    END { if (!found) flush() }' "$@"
}

mirror=
files=()
[[ -f $apt_dir/sources.list ]] && files+=("$apt_dir/sources.list")
for file in "$apt_dir"/sources.list.d/*.list; do [[ -f $file ]] && files+=("$file"); done
for file in "${files[@]}"; do
  mirror=$(one_line_sources "$file")
  [[ -n $mirror ]] && break
done
if [[ -z $mirror ]]; then
  for file in "$apt_dir"/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    mirror=$(deb822_sources "$file")
    [[ -n $mirror ]] && break
  done
fi
if [[ -z $mirror ]]; then
  echo "debian-mirror.sh: no 'deb' source for suite $suite in $apt_dir/sources.list or $apt_dir/sources.list.d/;" \
    "set HUSK_DEBIAN_MIRROR to a Debian mirror URL" >&2
  exit 1
fi
echo "${mirror%/}"
