#!/usr/bin/env bash
# The Dockerfile's runtime stage installs `scripts/setup.sh --runtime`; no Docker engine runs
# here, so this checks instead that every shared library the binary loads comes from a
# package on that list (or from libc / libgcc, which every Debian image has).
set -euo pipefail
bin="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mapfile -t allowed < <(bash "$root/scripts/setup.sh" --list-runtime)
allowed+=(libc6 libgcc-s1)
status=0
while read -r lib; do
  pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1 || true)
  if [[ -z "$pkg" ]]; then
    pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1 || true)
  fi
  if [[ -z "$pkg" ]]; then
    echo "FAIL: $lib belongs to no Debian package"; status=1; continue
  fi
  if ! printf '%s\n' "${allowed[@]}" | grep -qx "$pkg"; then
    echo "FAIL: $bin needs $lib from $pkg, missing from setup.sh --runtime"; status=1
  else
    echo "ok: $lib ($pkg)"
  fi
done < <(ldd "$bin" | awk '/=> \//{print $3}')
exit $status
