#!/usr/bin/env bash
# copy-sources.sh DEST: copies this checkout's source files (tracked and new ones, not
# ignored ones, as git lists them) to DEST, made anew, and runs autoreconf there.
# automake builds out of tree (VPATH) only from a source tree that is not configured
# in place; after the README's first command (./configure && make serve in the
# checkout) the suite's out-of-tree builds start from such a copy instead, and leave
# the checkout's own build and model alone.
set -euo pipefail
dest=${1:?usage: copy-sources.sh DEST}
top=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$top/.git" ] || { echo "copy-sources.sh: $top is not a git checkout: run 'make distclean' first" >&2; exit 1; }
rm -rf "$dest" && mkdir -p "$dest"
(cd "$top" && git ls-files -co --exclude-standard | while IFS= read -r f; do
  [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$dest"
(cd "$dest" && autoreconf -fi >/dev/null 2>&1) || { echo "copy-sources.sh: autoreconf failed in $dest" >&2; exit 1; }
