#!/bin/sh
# shellcheck disable=SC2086,SC2046 # flag lists and file lists are split into words on purpose
# The v2 infer body parser, old against new, in one binary (tests/bench/json-parse.c):
# bodies of 1, 64 and 256 MNIST test images as tests/bench/infer-batch.sh writes them
# (6 decimals) and as Python's json writes unrounded floats (17 digits). With MODEL,
# also mn_st_parse of that file (tests/bench/st-parse.c) against both commits' src/.
#
#   tests/bench/json-parse.sh [OLD_REV] [MODEL]   run from a configured build directory
#
# OLD_REV (default: the last commit before fcgi/json_scan.c was removed) is the commit
# whose fcgi/v2_request.c (on fcgi/json_scan.c) is the baseline; ROUNDS (7) alternating rounds, the best and mean of each reported.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
old=${1:-$(git -C "$top" rev-list -n 1 HEAD -- fcgi/json_scan.c)^}
model=${2:-}
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && cp "$work/bench" "$work"/v2-*.json "$KEEP"; rm -rf "$work"' EXIT
mkdir -p "$work/old"
for f in fcgi/v2_request.c fcgi/v2_request.h fcgi/json_scan.c fcgi/json_scan.h; do
  git -C "$top" show "$old:$f" >"$work/old/$(basename "$f")"
done
cc=${CC:-gcc}
# both sides from source with the build's CFLAGS, so that neither gets other flags
flags="$(sed -n 's/^CFLAGS = //p' Makefile) -I. -I$top/src -I$top/fcgi"
$cc $flags -I"$work/old" -Dv2_parse_infer=old_v2_parse_infer -c "$work/old/v2_request.c" -o "$work/old_v2.o"
$cc $flags -I"$work/old" -c "$work/old/json_scan.c" -o "$work/old_scan.o"
$cc $flags -o "$work/bench" "$top/tests/bench/json-parse.c" "$top/fcgi/v2_request.c" \
  "$top/src/mn_json.c" "$top/src/mn_json_number.c" \
  "$work/old_v2.o" "$work/old_scan.o" libmnistcore.a \
  $(sed -n 's/^\(JSON_C_LIBS\|ZLIB_LIBS\|STB_LIBS\|OPENBLAS_LIBS\|OPENMP_CFLAGS\) = //p' Makefile) -pthread -lm
data=${MNIST_DATA:-$("$top/trainer/fetch-mnist.sh" | tail -1)}
/usr/bin/python3 - "$data" "$work" <<'PY'
import json, sys
data, work = sys.argv[1], sys.argv[2]
images = open(f"{data}/t10k-images-idx3-ubyte", "rb").read()[16:]
for n in (1, 64, 256):
    raw = [(v / 255.0 - 0.1307) / 0.3081 for v in images[:n * 784]]
    for name, values in (("6dp", [round(x, 6) for x in raw]), ("repr", raw)):
        req = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [n, 1, 28, 28],
                           "data": values}]}
        open(f"{work}/v2-{n:03d}-{name}.json", "w").write(json.dumps(req, separators=(",", ":")))
PY
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); old = $old"
"$work/bench" "$work"/v2-*.json
[ -n "$model" ] || exit 0
# safetensors: the other commit's src/ from git, built the same way
mkdir -p "$work/oldsrc"
git -C "$top" archive "$old" src | tar -x -C "$work/oldsrc"
libs=$(sed -n 's/^\(JSON_C_LIBS\|ZLIB_LIBS\|STB_LIBS\|OPENBLAS_LIBS\|OPENMP_CFLAGS\) = //p' Makefile)
for side in old new; do
  src=$top/src
  [ $side = old ] && src=$work/oldsrc/src
  $cc $(sed -n 's/^CFLAGS = //p' Makefile) -I. -I"$src" -o "$work/st-$side" \
    "$top/tests/bench/st-parse.c" "$src"/mn_safetensors.c "$src"/mn_metadata.c \
    "$src"/mn_error.c "$src"/mn_atomic.c $(ls "$src"/mn_json*.c "$src"/mn_describe.c 2>/dev/null) \
    $libs -pthread -lm
done
for _ in 1 2 3 4 5; do
  printf 'mn_st_parse %s, best of 200 (us): old %s new %s\n' "$(basename "$model")" \
    "$("$work/st-old" "$model")" "$("$work/st-new" "$model")"
done
