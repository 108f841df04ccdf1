#!/usr/bin/env bash
# Accuracy on handwriting that is not MNIST, through HTTP: the real lighttpd +
# mnist-fcgi and the shared test model (3 epochs, seed 1), on the first OOD_CI_COUNT
# (200) images of each out-of-distribution set of tests/ood/generate.py (the same images
# as the full sets' first ones; generated once into the cache), OOD_CI_NONDIGIT (100)
# pictures without a digit and the 200 photographs of things, which have none either.
# Prints the per-set table of tests/ood/evaluate.py. First tests/ood/selftest.py checks
# the tools: ECE on answers worked out by hand, the generator's images are the same for
# a seed and differ for another, and mnist_classic.py makes the classic 8x8 format.
#
# The floors sit a few points under what the shared test model scored on these images
# when they were set (see README.md, "Accuracy on other handwriting"), so that a change
# to preprocessing or the network that loses real-world accuracy fails here while run
# to run noise (none: the sets and the model are deterministic) cannot. Raise them when
# the model gets better; never lower them to let a change in.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/integration/common.sh
source "$top_srcdir/tests/integration/common.sh"

# the shared test model (version c957ba570569, trained with scanner's copies of 10 % of
# the images) on these images, with the preprocessing of 2026-12-03 (8x8 digits read as
# such, the polarity of a digit filling its canvas from its corners): fonts 97.0,
# strokes 97.5, photos 90.5, lowres 96.5, lowres8 91.0 % right; nondigit 79 % caught
# (one image is 0.5 %, a nondigit 1 %). Floors 3.5-5 points under. things (2026-12-05,
# model ba815b4c5014): 85 % caught, floor 80. smooth8 (2026-12-05, late, with the test
# model that deskews, the next change): 98.0 %, floor 94. photo8 (2026-12-06, the same
# model): 91.5 %, floor 87. nondigit and things again (2026-12-06, later, the test model
# trained with pictures without a digit, --shapes 3): 92.0 and 89.5 % caught, floors 87
# and 86 (the same test model trained with --shapes 0: 75.0 and 83.5 %, which fail).
floors=(--floor fonts=92 --floor strokes=94 --floor photos=86 --floor lowres=92 --floor lowres8=87
  --floor smooth8=94 --floor photo8=87 --floor nondigit=87 --floor things=86)

# without the fonts of ./bootstrap --test there are no sets to measure: skipped (77)
if ! "$py" -c 'import sys; sys.path.insert(0, sys.argv[1]); import ood_fonts as F
sys.exit(0 if F.font_files(F.HANDWRITING) else 1)' "$top_srcdir/tests/ood"; then
  echo "# SKIP: the handwriting fonts of ./bootstrap --test are not installed"
  exit 77
fi
model=$(test_model)
sets=$("$py" "$top_srcdir/tests/ood/generate.py" --count "${OOD_CI_COUNT:-200}" --nondigit "${OOD_CI_NONDIGIT:-100}")
start_service svc "$model" --quiet
echo "# service at $url, model $model, sets in $sets"

# checks ARGS...: runs ARGS; its "ok<TAB>WHAT" / "not ok<TAB>WHAT" lines become checks,
# the rest (evaluate.py's table) is printed as comments
checks() {
  local line tab=$'\t'
  while IFS= read -r line; do
    case $line in
      "ok$tab"*) pass "${line#ok"$tab"}" ;;
      "not ok$tab"*) fail "${line#not ok"$tab"}" ;;
      "#"*) printf '%s\n' "$line" ;;
      *) printf '# %s\n' "$line" ;;
    esac
  done < <("$@" 2>&1 || echo "exit status $?")
}

# the tools themselves: calibration arithmetic, the same images for the same seed
checks "$py" "$top_srcdir/tests/ood/selftest.py" "$work/selftest"
before=$((passed + failed))
checks "$py" "$top_srcdir/tests/ood/evaluate.py" "$url" "${floors[@]}" \
  "$sets/fonts" "$sets/strokes" "$sets/photos" "$sets/lowres" "$sets/lowres8" "$sets/smooth8" \
  "$sets/photo8" "$sets/nondigit" "$sets/things"
check "evaluate.py judged every set" test "$((passed + failed - before))" -eq 9
finish
