#!/usr/bin/env bash
# Copies the generated out-of-distribution sets to a shared directory (default
# /work/ood-sets) with a README on how to evaluate a model on them.
#
#   tests/ood/publish.sh [DEST]
#
# Each set is copied beside and then renamed into place, so that a reader never sees
# half a set; DEST/VERSION names the generator hash the sets came from.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-/work/ood-sets}
src=$(/usr/bin/python3 "$here/generate.py" --seed "${OOD_SEED:-1}")
mkdir -p "$dest"
for set in fonts strokes photos lowres lowres8 nondigit things; do
  rm -rf -- "$dest/.$set.new" "$dest/.$set.old"
  cp -r "$src/$set" "$dest/.$set.new"
  [ ! -d "$dest/$set" ] || mv "$dest/$set" "$dest/.$set.old"
  mv "$dest/.$set.new" "$dest/$set"
  rm -rf -- "$dest/.$set.old"
done
cp "$here/SETS-README" "$dest/README"
basename "$src" >"$dest/VERSION"
echo "publish.sh: $(basename "$src") in $dest"
