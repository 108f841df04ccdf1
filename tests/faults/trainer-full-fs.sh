#!/usr/bin/env bash
# Fault: the trainer publishing onto a full filesystem. Where a tmpfs can be mounted
# (root), the model's directory is a tmpfs just larger than the old model, so the new
# file cannot be written; in any case, the same with a file size limit (ulimit -f, with
# SIGXFSZ ignored so that write() fails with EFBIG as on a quota). Each time: exit
# status 74, a message that names the file and the reason, the old model intact (the
# same bytes) and no temporary file left behind.
#
# Environment: top_srcdir, top_builddir; MNIST_DATA.
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
data=$("$top_srcdir/trainer/fetch-mnist.sh" ${MNIST_DATA:+"$MNIST_DATA"} | tail -1)
train=$top_builddir/mnist-train
run=(--data "$data" --limit-train 3000 --limit-test 1000 --epochs 1 --threads 2 --no-resume)
mounted=
unmount() { [ -z "$mounted" ] || umount "$mounted" 2>/dev/null || true; }
trap 'unmount; fault_cleanup' EXIT

"$train" "${run[@]}" --seed 5 --out "$work/old.safetensors" 2>"$work/old.log"
old_sum=$(sha256sum <"$work/old.safetensors")
# (-L: the model path is a link to the version file the trainer wrote)
size_kb=$(( $(stat -L -c %s "$work/old.safetensors") / 1024 ))

# verdicts DIR LOG RC HOW
verdicts() {
  local dir=$1 log=$2 rc=$3 how=$4
  check "$how: exit status 74 (got $rc)" test "$rc" -eq 74
  local msg
  msg=$(grep -m1 'model not saved' "$log" || true)
  check "$how: a clear message: ${msg:-none}" \
    grep -qE "model not saved: .*mnist_model\.safetensors.*: (No space left on device|File too large)" "$log"
  check "$how: the old model is intact" test "$(sha256sum <"$dir/mnist_model.safetensors")" = "$old_sum"
  check "$how: no temporary file left" test -z "$(find "$dir" -name '*.tmp.*')"
}

# --- a full filesystem (tmpfs), when this user may mount one
mkdir -p "$work/fs"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=$((size_kb + 256))k mnist-fault "$work/fs" 2>/dev/null; then
  mounted=$work/fs
  cp "$work/old.safetensors" "$work/fs/mnist_model.safetensors"
  echo "# tmpfs of $((size_kb + 256)) KiB: $(df -k --output=avail "$work/fs" | tail -1 | tr -d ' ') KiB free beside the old model"
  rc=0
  "$train" "${run[@]}" --seed 6 --out "$work/fs/mnist_model.safetensors" 2>"$work/fs.log" || rc=$?
  grep -E 'not saved|warning|error' "$work/fs.log" | sed 's/^/# /'
  verdicts "$work/fs" "$work/fs.log" "$rc" "full tmpfs"
  unmount
  mounted=
else
  echo "# cannot mount a tmpfs here (not root, or not allowed): the file size limit only"
fi

# --- a file size limit below the model's size
mkdir -p "$work/ulimit"
cp "$work/old.safetensors" "$work/ulimit/mnist_model.safetensors"
rc=0
(
  trap '' XFSZ
  ulimit -f $((size_kb / 2))
  exec "$train" "${run[@]}" --seed 6 --out "$work/ulimit/mnist_model.safetensors"
) 2>"$work/ulimit.log" || rc=$?
grep -E 'not saved|warning|error' "$work/ulimit.log" | sed 's/^/# /'
verdicts "$work/ulimit" "$work/ulimit.log" "$rc" "file size limit"
finish
