#!/usr/bin/env bash
# Writes the fuzz targets' seed corpora: OUTDIR/seeds/<target>/ (fuzzed) and
# OUTDIR/extra/<target>/ (replayed only: the whole 1.7 MB model file, which would slow
# every mutation down if it sat in the fuzzing corpus).
#
#   make-corpus.sh OUTDIR SEED_MODEL
#
# SEED_MODEL is the seed_model program that `make fuzz-targets` builds (it writes
# model and safetensors files with the project's own writers); the other seeds come
# from gen_seeds.py (python3-pil). Deterministic: rerunning gives the same files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-corpus.sh OUTDIR SEED_MODEL}
seed_model=${2:?usage: make-corpus.sh OUTDIR SEED_MODEL}
rm -rf "$out/seeds" "$out/extra"
mkdir -p "$out/seeds/safetensors" "$out/extra/safetensors"
/usr/bin/python3 "$here/gen_seeds.py" "$out/seeds"
"$seed_model" "$out/seeds/safetensors"
mv "$out/seeds/safetensors/model.safetensors" "$out/extra/safetensors/"
for d in "$out"/seeds/*/; do
  printf '%s: %s seeds\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
