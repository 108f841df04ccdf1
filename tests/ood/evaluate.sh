#!/usr/bin/env bash
# Per-set accuracy and calibration of a model file on the out-of-distribution sets,
# through a real service (lighttpd + mnist-fcgi of a build tree, on loopback).
#
#   tests/ood/evaluate.sh MODEL [SET...]
#
# SETs are directories with labels.csv, or names of the generated sets (fonts, strokes,
# photos, lowres, lowres8, smooth8, photo8, nondigit, things; default: all nine), or mnist-test, mnist-raw, mnist-user,
# mnist-8x8, mnist-marker, mnist-turned, mnist-uploads (the MNIST test set, see evaluate.py). The generated sets come from
# tests/ood/generate.py's cache ($OOD_SETS overrides: a directory of set directories,
# e.g. /work/ood-sets).
# Environment: top_srcdir (default: this tree), top_builddir (default: this tree when
# the build is there, else its build/ directory),
# MNIST_DATA (default ~/.cache/mnist-service/mnist), OOD_THREADS (4), OOD_LIMIT (images
# per set, 0: all), OOD_SEED (1), OOD_ARGS (more options for evaluate.py, e.g. --floor).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
if [ -z "${top_builddir:-}" ]; then
  top_builddir=$top_srcdir
  [ -x "$top_srcdir/mnist-fcgi" ] || top_builddir=$top_srcdir/build
fi
export top_srcdir top_builddir
py=/usr/bin/python3 # Debian's: it sees python3-pil

model=${1:?usage: evaluate.sh MODEL [SET...]}
shift
[ -s "$model" ] || { echo "evaluate.sh: $model is not a model file" >&2; exit 1; }
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
[ -x "$top_builddir/mnist-fcgi" ] || { echo "evaluate.sh: no $top_builddir/mnist-fcgi (build first, or set top_builddir)" >&2; exit 1; }
[ $# -gt 0 ] || set -- fonts strokes photos lowres lowres8 smooth8 photo8 nondigit things

sets_dir=${OOD_SETS:-}
specs=()
for s in "$@"; do
  case $s in
    mnist-*|*/*) specs+=("$s") ;;
    *)
      [ -n "$sets_dir" ] || sets_dir=$("$py" "$here/generate.py" --seed "${OOD_SEED:-1}")
      specs+=("$sets_dir/$s") ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-ood.XXXXXX")
# shellcheck disable=SC2317 # run by the trap
cleanup() { "$top_srcdir/tests/integration/serve.sh" stop "$work" || true; rm -rf -- "$work"; }
trap cleanup EXIT
"$top_srcdir/tests/integration/serve.sh" start "$work" "$model" --quiet
echo "# model $model ($("$py" "$top_srcdir/tests/integration/mnist_http.py" version "$model")), sets in ${sets_dir:-(none)}"
# shellcheck disable=SC2086 # OOD_ARGS is a list of options
"$py" "$here/evaluate.py" "$(cat "$work/url")" --threads "${OOD_THREADS:-4}" --limit "${OOD_LIMIT:-0}" \
  --mnist "${MNIST_DATA:-$HOME/.cache/mnist-service/mnist}" ${OOD_ARGS:-} "${specs[@]}"
