#!/usr/bin/env bash
# Every shell script of the project is shellcheck-clean (warnings and style notes
# included): the scripts are how users set up, run, deploy and test the service.
# The list is every file of the project's own directories whose first line runs bash or sh,
# plus the sourced libraries (*.sh without one), so a new script is covered at once.
set -uo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

if ! command -v shellcheck >/dev/null; then
  echo "# shellcheck is missing (Debian package shellcheck; ./bootstrap --test installs it)"
  exit 77
fi
cd "$top_srcdir" || exit 1
dirs=(bootstrap kube lighttpd trainer fcgi tests)
[ -d .ci ] && dirs+=(.ci) # in the repository, not in the release tarball
scripts=()
while IFS= read -r -d '' f; do
  case $f in
    *.sh) scripts+=("$f") ;;
    *) head -c 64 "$f" | grep -qE '^#!(/usr)?/bin/(env )?(ba)?sh' && scripts+=("$f") ;;
  esac
done < <(find "${dirs[@]}" -name node_modules -prune -o \
  -type f \( -name '*.sh' -o -perm -u+x -o -name '*.in' -o -name run \) -print0 | sort -z)
[ "${#scripts[@]}" -gt 20 ] || fail "found only ${#scripts[@]} scripts: is top_srcdir right?"
for f in "${scripts[@]}"; do
  check "shellcheck ${f#./}" shellcheck -x "$f"
done
finish
