#!/usr/bin/env bash
# The trainer as a user runs it, on a small subset of the real MNIST data:
# loss falls, accuracy is far above chance, the model and report are published,
# an interrupted run resumes to exactly the model of an uninterrupted one, and
# each kind of failure gets its exit status with the old model left intact.
set -euo pipefail
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

data=$("$top_srcdir/trainer/fetch-mnist.sh" | tail -1)
train=$top_builddir/mnist-train
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
small=(--data "$data" --limit-train 2000 --limit-test 2000 --epochs 2 --threads 2 --seed 7)

# --- a small run: learns, publishes model and report -------------------------
mkdir -p "$work/a"
"$train" "${small[@]}" --out "$work/a/model.safetensors" 2>"$work/a.log"
check "log has the original format" grep -q '^Epoch \[2/2\]$' "$work/a.log"
check "log reports Train and Test lines" grep -qE '^Test - Loss: [0-9.]+, Acc: [0-9.]+%$' "$work/a.log"
check "log says the model was saved" grep -q '^Model saved successfully!$' "$work/a.log"
check "each epoch also trains on scanner's copies of 10 % of the images and 3 % of shapes" \
  grep -q "^Train: 2000 images, 200 scanner's copies and 60 shapes an epoch, Test: 2000 images" "$work/a.log"
check "model file published" test -s "$work/a/model.safetensors"
check "report published" test -s "$work/a/model.report.json"
check "no checkpoint or temp file left" \
  test -z "$(find "$work/a" -name '*ckpt*' -o -name '*.tmp.*')"
# the stable names are links to the version, named by the first 12 hex digits of its SHA-256
v=$(sha256sum <"$work/a/model.safetensors" | cut -c1-12)
check "model.safetensors is a link to versions/model.$v.safetensors" \
  test "$(readlink "$work/a/model.safetensors")" = "versions/model.$v.safetensors"
check "model.report.json is a link to versions/model.$v.report.json" \
  test "$(readlink "$work/a/model.report.json")" = "versions/model.$v.report.json"
check "the log names the version" grep -q "^Version $v: .*/versions/model.$v.safetensors$" "$work/a.log"
check "loss falls, accuracy well above chance, metadata complete" \
  /usr/bin/python3 - "$work/a/model.report.json" "$work/a/model.safetensors" <<'PY'
import json, struct, sys
report = json.load(open(sys.argv[1]))
e = report["epochs"]
assert len(e) == 2, e
assert e[1]["train_loss"] < e[0]["train_loss"], "train loss did not fall"
assert report["test"]["accuracy"] > 80.0, report["test"]["accuracy"]
assert sum(map(sum, report["test"]["confusion_matrix"])) == 2000
raw = open(sys.argv[2], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
for key in ("architecture", "epochs", "test_accuracy", "test_loss", "training_seconds",
            "created", "trainer_version", "dataset_sha256"):
    assert key in meta, key
assert meta["dataset_sha256"] == "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
assert meta["augment"] == "stroke=0.5,flag=0.5,aspect=0.6,rotate=0.6,scan-copies=10%,shapes=3%", meta["augment"]
assert meta["dropout"] == "0.3", meta["dropout"]
assert meta["deskew"] == "moments", meta.get("deskew")
assert sorted(header) == sorted(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                 "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
assert header["fc1.weight"]["shape"] == [128, 3136]
# two temperatures, each fitted on its own images and recorded in report and model
cal = report["calibration"]
assert cal["images"] == 2000 and 0 < cal["low_res_images"] <= 2000, cal
for key in ("temperature", "temperature_low_res"):
    assert 0.05 <= cal[key] <= 20 and meta[key] == "%.4f" % cal[key], (key, cal, meta)
PY

# --- OpenBLAS's kernels: its AVX2 ones on a CPU with AVX2 and FMA it does not know --
if head -1 "$work/a.log" | grep -q 'GEMM OpenBLAS' && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  tiny=(--data "$data" --limit-train 200 --limit-test 100 --epochs 1 --no-resume --out "$work/g.safetensors")
  env -u OPENBLAS_CORETYPE "$train" "${tiny[@]}" 2>"$work/g.log"
  check "OPENBLAS_CORETYPE unset: AVX2 or newer kernels ($(head -1 "$work/g.log" | grep -oE '[A-Za-z0-9_]+ MAX_THREADS'))" \
    bash -c "head -1 '$work/g.log' | grep -q 'GEMM OpenBLAS' && ! head -1 '$work/g.log' | grep -qE ' ($openblas_pre_avx2) MAX_THREADS'"
  OPENBLAS_CORETYPE=Prescott "$train" "${tiny[@]}" 2>"$work/g.log"
  check "OPENBLAS_CORETYPE=Prescott, the user's choice, is kept" \
    bash -c "head -1 '$work/g.log' | grep -q ' Prescott MAX_THREADS'"
fi

# --- the same seed and threads give the same model --------------------------
tensors() { # the data section of a safetensors file (metadata holds timestamps)
  /usr/bin/python3 -c 'import struct,sys; r=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",r[:8])[0]; sys.stdout.buffer.write(r[8+n:])' "$1" | sha256sum
}
mkdir -p "$work/b"
"$train" "${small[@]}" --out "$work/b/model.safetensors" 2>"$work/b.log"
check "same seed, same model" test "$(tensors "$work/a/model.safetensors")" = "$(tensors "$work/b/model.safetensors")"

# --- SIGTERM writes a checkpoint; a rerun resumes to the same model ----------
mkdir -p "$work/c"
"$train" "${small[@]}" --out "$work/c/model.safetensors" 2>"$work/c1.log" &
pid=$!
for _ in $(seq 200); do grep -q '^Epoch \[2/2\]$' "$work/c1.log" && break; sleep 0.05; done
kill -TERM "$pid" || true
status=0; wait "$pid" || status=$?
check "SIGTERM exits with 143" test "$status" -eq 143
check "SIGTERM leaves a checkpoint" test -s "$work/c/model.safetensors.ckpt"
check "no model published yet" test ! -e "$work/c/model.safetensors"
cp -r "$work/c" "$work/d"
cp -r "$work/c" "$work/e"
truncate -s 100000 "$work/e/model.safetensors.ckpt"
"$train" "${small[@]}" --out "$work/e/model.safetensors" 2>"$work/e.log"
check "a damaged checkpoint is reported and training starts afresh" \
  grep -q '^Not resuming: .*model.safetensors.ckpt.*; starting afresh$' "$work/e.log"
check "a fresh run after a damaged checkpoint still publishes" test -s "$work/e/model.safetensors"
"$train" "${small[@]}" --seed 8 --epochs 1 --out "$work/d/model.safetensors" 2>"$work/d.log"
check "checkpoint of other settings ignored" grep -q '^Not resuming: .*different seed' "$work/d.log"
"$train" "${small[@]}" --out "$work/c/model.safetensors" 2>"$work/c2.log"
check "rerun resumes" grep -q '^Resuming from ' "$work/c2.log"
check "resumed run gives the same model" test "$(tensors "$work/a/model.safetensors")" = "$(tensors "$work/c/model.safetensors")"
check "checkpoint removed after publishing" test ! -e "$work/c/model.safetensors.ckpt"

# --- failures: usage, data, write --------------------------------------------
status=0; "$train" --epochs zero 2>"$work/u.log" || status=$?
check "bad option value exits 64" test "$status" -eq 64
check "bad option value says which" grep -q "invalid value 'zero' for --epochs" "$work/u.log"
status=0; "$train" --no-such-option 2>/dev/null || status=$?
check "unknown option exits 64" test "$status" -eq 64
status=0; "$train" --data "$work/nowhere" --out "$work/x.safetensors" 2>"$work/m.log" || status=$?
check "missing data exits 65" test "$status" -eq 65
check "missing data says how to fetch it" grep -q "fetch-mnist.sh" "$work/m.log"
status=0; "$train" "${small[@]}" --epochs 1 --out "$work/no/such/dir/m.safetensors" 2>"$work/w.log" || status=$?
check "unwritable output exits 74" test "$status" -eq 74

# a full disk, simulated by a file-size limit: a clear error, the old model intact
before=$(sha256sum < "$work/a/model.safetensors")
status=0
( trap '' XFSZ; ulimit -f 1024; exec "$train" "${small[@]}" --epochs 1 --no-resume \
    --out "$work/a/model.safetensors" ) 2>"$work/f.log" || status=$?
check "full disk exits 74" test "$status" -eq 74
check "full disk message names the cause" grep -qi "file too large\|no space" "$work/f.log"
check "old model intact after a failed write" test "$(sha256sum < "$work/a/model.safetensors")" = "$before"
check "no temp file left after a failed write" test -z "$(find "$work/a" -name '*.tmp.*')"
check "a failed write lists no new version" test "$(find "$work/a/versions" -name '*.safetensors' | wc -l)" -eq 1

# --- versions: a regular file kept, the same bytes twice, retention ----------------
mkdir -p "$work/k"
cp "$work/b/model.safetensors" "$work/k/model.safetensors" # an older trainer's regular file
kept=$(sha256sum <"$work/k/model.safetensors" | cut -c1-12)
quick=(--data "$data" --limit-train 500 --limit-test 200 --epochs 1 --threads 2 --no-resume)
count() { find "$work/k/versions" -name '*.safetensors' | wc -l; }
"$train" "${quick[@]}" --seed 1 --keep-versions 2 --out "$work/k/model.safetensors" 2>"$work/k.log"
check "the regular file it replaced is kept as version $kept" \
  bash -c "[ -f '$work/k/versions/model.$kept.safetensors' ] && [ $(count) -eq 2 ]"
for seed in 2 3; do
  "$train" "${quick[@]}" --seed "$seed" --keep-versions 2 --out "$work/k/model.safetensors" 2>"$work/k.log"
done
check "--keep-versions 2: the current version and two more" test "$(count)" -eq 3
check "--keep-versions 2: the oldest (the kept regular file) removed, and said so" \
  bash -c "[ ! -e '$work/k/versions/model.$kept.safetensors' ] && grep -q '^Removed 1 old version' '$work/k.log'"
"$train" "${quick[@]}" --seed 4 --keep-versions 0 --out "$work/k/model.safetensors" 2>"$work/k.log"
check "--keep-versions 0: only the current version, said so" \
  bash -c "[ $(count) -eq 1 ] && grep -q '^Removed 3 old versions' '$work/k.log'"
check "--keep-versions 0: the model path still opens the current version" test -s "$work/k/model.safetensors"
status=0; "$train" --keep-versions -1 2>/dev/null || status=$?
check "--keep-versions -1 exits 64" test "$status" -eq 64

# --- copies: as many as asked, none in the original recipe -----------------------
mkdir -p "$work/copies" "$work/none"
"$train" "${quick[@]}" --scan-copies 50 --shapes 20 --out "$work/copies/model.safetensors" 2>"$work/copies.log"
check "--scan-copies 50 --shapes 20 trains on copies of half the images and 100 shapes" \
  grep -q "^Train: 500 images, 250 scanner's copies and 100 shapes an epoch" "$work/copies.log"
check "--shapes 20 is recorded in the model's recipe" \
  grep -q 'scan-copies=50%,shapes=20%"' "$work/copies/model.safetensors"
"$train" "${quick[@]}" --augment none --out "$work/none/model.safetensors" 2>"$work/none.log"
check "--augment none, the original recipe, trains on no copies and no shapes" \
  grep -q "^Train: 500 images, 0 scanner's copies and 0 shapes an epoch" "$work/none.log"
check "--augment none trains with MNISTNet's dropout, 0.5" \
  grep -q '"dropout":"0.5"' "$work/none/model.safetensors"
check "--augment none reads digits as they are: the model does not ask for deskewing" \
  bash -c "! grep -q '\"deskew\"' '$work/none/model.safetensors'"
mkdir -p "$work/quick" "$work/upright"
"$train" "${quick[@]}" --out "$work/quick/model.safetensors" 2>/dev/null
"$train" "${quick[@]}" --no-deskew --out "$work/upright/model.safetensors" 2>/dev/null
check "--no-deskew trains on the digits as they are: other weights, no \"deskew\" in the model" \
  bash -c "[ '$(tensors "$work/quick/model.safetensors")' != '$(tensors "$work/upright/model.safetensors")' ] &&
    grep -q '\"deskew\":\"moments\"' '$work/quick/model.safetensors' &&
    ! grep -q '\"deskew\"' '$work/upright/model.safetensors'"

check "--help lists the options" bash -c "'$train' --help | grep -q -- --limit-train"
version=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
check "--version prints the version" bash -c "'$train' --version | grep -qF '$version'"
finish
