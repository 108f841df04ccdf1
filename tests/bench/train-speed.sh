#!/usr/bin/env bash
# Training speed and memory benchmark: a full default run (5 epochs, 60k/10k) of the
# built mnist-train, printing per-epoch seconds and images/s, the total wall time,
# the final test accuracy and the peak RSS. It runs twice: with the environment as
# it is, and with OPENBLAS_CORETYPE unset for that one command (this machine sets it
# to Haswell, which picks a slower OpenBLAS kernel on newer CPUs).
#
# Usage: tests/bench/train-speed.sh [BUILD_DIR]   (default: the source tree)
#   MNIST_TRAIN_FLAGS adds mnist-train options, as for make model (e.g. '--augment none
#   --no-calibrate' for the original recipe; an older build may not know them).
#   ONLY=configured runs the first configuration alone.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top}
train=$build/mnist-train
[ -x "$train" ] || { echo "train-speed.sh: build first: no $train" >&2; exit 1; }
data=$("$top/trainer/fetch-mnist.sh" | tail -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # LABEL ENV-PREFIX...
  local label=$1
  shift
  echo "== $label"
  # shellcheck disable=SC2086 # MNIST_TRAIN_FLAGS is a list of options
  /usr/bin/python3 - "$@" "$train" --data "$data" --out "$work/model.safetensors" --no-resume \
    ${MNIST_TRAIN_FLAGS:-} <<'PY'
import resource, subprocess, sys, time, re
cmd = sys.argv[1:]
start = time.monotonic()
proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
wall = time.monotonic() - start
log = proc.stderr
if proc.returncode:
    sys.exit(log + "\nmnist-train failed")
for m in re.finditer(r"Epoch time: ([0-9.]+) s training \(([0-9]+) images/s\)", log):
    print(f"  epoch: {m.group(1)} s, {m.group(2)} images/s")
ips = [int(m.group(1)) for m in re.finditer(r"\(([0-9]+) images/s\)", log)]
acc = re.search(r"Final evaluation.*\n.*Acc: ([0-9.]+)%", log)
print(f"  mean training speed: {sum(ips) / len(ips):.0f} images/s")
print(f"  total wall time (load, 5 epochs, 6 evaluations, publish): {wall:.1f} s")
print(f"  final test accuracy: {acc.group(1)} %")
print(f"  peak RSS: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
print("  " + log.splitlines()[0])
PY
}

run "as configured (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})" env
[ "${ONLY:-}" = configured ] ||
  run "OPENBLAS_CORETYPE unset" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
