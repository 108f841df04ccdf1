#!/usr/bin/env bash
# Accuracy benchmark: prints figures, passes no judgement (exit status 0 unless it
# could not measure). Every image goes through POST /predict of the build tree's
# lighttpd + mnist-fcgi on loopback (4 keep-alive clients), and per set it prints
# accuracy, expected calibration error (15 equal-width confidence bins), mean
# confidence when right and when wrong, and how often the web UI would say "not sure":
#   mnist-test   the 10,000 MNIST test digits, 28x28 PNG, multipart (preprocessing on)
#   mnist-user   2,000 of them as a user sends them (x10, off-centre on a page, 1/3 JPEG;
#                the user-like set of tests/integration/accuracy.sh)
#   mnist-8x8    2,000 of them in the classic 8x8 format of 17 levels, sent five ways
#                (tests/ood/mnist_classic.py): what the resolution alone costs
#   mnist-marker 2,000 of them redrawn with strokes about twice as broad, half x4, half
#                in the 8x8 format (tests/ood/mnist_marker.py): what a marker costs
#   mnist-turned 2,000 of them on a note photographed askew, turned by 10 to 25 degrees
#                either way (tests/ood/mnist_turned.py): what a turn costs
#   mnist-uploads 3,400 of them in seventeen awkward forms (tests/ood/mnist_uploads.py:
#                faint, 16-bit, in a box, circled, underlined, on a clear layer, on a
#                sheet on a desk, turned, in a shadow, under a thumb, with print round it ...):
#                what decoding and preprocessing cost
#   fonts, strokes, photos, lowres, lowres8, smooth8, photo8, nondigit, things
#                the out-of-distribution sets of tests/ood/generate.py (1,000 each,
#                nondigit 300 drawings and things 200 photographs without a digit; no
#                MNIST in them), see tests/ood/SETS-README
# then how candidate "not sure" thresholds split right, wrong and non-digit answers.
# The table is Markdown, as README.md quotes it.
#
# Usage: tests/bench/accuracy.sh [MODEL]   (build first)
#   MODEL defaults to $MNIST_TEST_MODEL, then run/mnist_model.safetensors (make model)
#   of the build tree (this tree, or its build/ directory when the build is there).
#   OOD_SETS=/work/ood-sets measures exactly the published files.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${top_builddir:-}" ]; then
  top_builddir=$top
  [ -x "$top/mnist-fcgi" ] || top_builddir=$top/build
fi
export top_srcdir=${top_srcdir:-$top} top_builddir
model=${1:-${MNIST_TEST_MODEL:-$top_builddir/run/mnist_model.safetensors}}
[ -s "$model" ] || { echo "accuracy.sh: no model $model (make model, or pass one)" >&2; exit 1; }

echo "# accuracy.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
OOD_ARGS="--scan ${OOD_ARGS:-}" "$top_srcdir/tests/ood/evaluate.sh" "$model" \
  mnist-test mnist-user mnist-8x8 mnist-marker mnist-turned mnist-uploads fonts strokes photos lowres lowres8 smooth8 photo8 \
  nondigit things
