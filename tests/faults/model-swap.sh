#!/usr/bin/env bash
# Fault: the model file replaced FAULT_SWAPS (20) times under load, good and corrupt
# files alternating, each published atomically (written beside it, renamed over it, as
# the trainer and a copy to the volume do). Passes when:
#   - every good file is loaded (/health shows its version: the first 12 hex digits of
#     its SHA-256) and every corrupt one is refused (mnist_model_load_failures_total
#     grows by one, /health keeps answering 200 with the previous version and reports
#     the refusal), each within FAULT_SWAP_WAIT_MS (5000);
#   - the load saw no failed request at all: every response 200, no socket error.
# Corrupt files, in turn: truncated, invalid JSON header, a NaN weight, a transposed
# shape, an empty file.
#
# Environment: top_srcdir, top_builddir, MNIST_TEST_MODEL; FAULT_SWAPS (20),
# FAULT_SWAP_PAUSE (0.5 s between swaps).
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
: "${MNIST_TEST_MODEL:?}"
swaps=${FAULT_SWAPS:-20}
pause=${FAULT_SWAP_PAUSE:-0.5}
wait_ms=${FAULT_SWAP_WAIT_MS:-5000}

mkdir -p "$work/models"
live=$work/models/mnist_model.safetensors
model_check --copy "$MNIST_TEST_MODEL" "$live" start

# corrupt KIND OUT: a damaged copy of the test model
corrupt() {
  /usr/bin/python3 - "$1" "$MNIST_TEST_MODEL" "$2" <<'PY'
import json, struct, sys
kind, src, out = sys.argv[1:]
raw = bytearray(open(src, "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
if kind == "truncated":
    raw = raw[:len(raw) // 2]
elif kind == "bad-json":
    raw[8 + 1] = ord("}")
elif kind == "nan":
    begin = header["fc1.weight"]["data_offsets"][0]
    raw[8 + n + begin + 400:8 + n + begin + 404] = struct.pack("<I", 0x7FC00000)
elif kind == "transposed":
    text = raw[8:8 + n].decode()
    assert "[128,3136]" in text
    raw[8:8 + n] = text.replace("[128,3136]", "[3136,128]").encode()
elif kind == "empty":
    raw = b""
open(out, "wb").write(raw)
PY
}

health() { curl -s -m 5 "$url/health"; }
health_field() { # FIELD: model.version, model_refusals, last_reload_error.message
  health | /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1"
}
failures() { curl -s -m 5 "$url/metrics" | awk '$1 == "mnist_model_load_failures_total" {print $2}'; }
version_of() { sha256sum "$1" | cut -c1-12; }

start_service "$live"
check "the first model is served" test "$(health_field model.version)" = "$(version_of "$live")"
start_load 600 16
kinds=(truncated bad-json nan transposed empty)
for i in $(seq "$swaps"); do
  sleep "$pause"
  if [ $((i % 2)) -eq 1 ]; then
    model_check --copy "$MNIST_TEST_MODEL" "$live" "swap $i"
    want=$(version_of "$live")
    t0=$(now_ms)
    until [ "$(health_field model.version)" = "$want" ] || [ $(($(now_ms) - t0)) -gt "$wait_ms" ]; do
      sleep 0.05
    done
    ms=$(($(now_ms) - t0))
    check "swap $i: good file, version $want served after $ms ms" \
      test "$(health_field model.version)" = "$want"
  else
    kind=${kinds[$(((i / 2 - 1) % ${#kinds[@]}))]}
    before=$(failures)
    serving=$(health_field model.version)
    corrupt "$kind" "$work/models/corrupt.tmp"
    mv "$work/models/corrupt.tmp" "$live"
    t0=$(now_ms)
    until [ "$(failures)" -gt "$before" ] || [ $(($(now_ms) - t0)) -gt "$wait_ms" ]; do
      sleep 0.05
    done
    ms=$(($(now_ms) - t0))
    after=$(failures)
    code=$(http_code /health)
    still=$(health_field model.version)
    why=$(health_field last_reload_error.message)
    check "swap $i: $kind file refused after $ms ms (load failures $before -> $after), /health $code still on $still: ${why:0:90}" \
      test "$after" -eq $((before + 1)) -a "$code" = 200 -a "$still" = "$serving"
  fi
done
sleep 1
kill -INT "$load_pid" 2>/dev/null || true
wait_load
load_summary
check "no failed request under load ($(load_count 200) answered 200, $(load_count other) not)" \
  test "$(load_count other)" -eq 0 -a "$(load_count 200)" -gt 0
check "no socket error under load" test "$(load_socket_errors)" -eq 0
check "the last good model still serves predictions" test "$(curl -s -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: image/png' --data-binary @"$work/digit.png" "$url/predict")" = 200
finish
