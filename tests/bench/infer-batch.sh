#!/usr/bin/env bash
# Batching benchmark: images/s through HTTP for single /predict requests (a 28x28 PNG
# as multipart) and for v2 infer requests of N = 1, 16, 64 and 256 normalised images,
# the tensor sent as JSON numbers and as binary tensor data (the extension tritonclient
# uses by default), each driven by wrk with 16 connections for a few seconds. ROUNDS
# rounds (default 3) run every row in turn; within a round the rows of N = 64 run
# just before and just after /predict, so that each ratio compares figures taken
# seconds apart on this machine, whose speed drifts. The table gives medians.
# The issue's bar is that N = 64 reaches at least 3x the images/s of single /predict.
#
# Usage: tests/bench/infer-batch.sh [MODEL] [SECONDS]   (build first; run from the tree)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export top_srcdir=$top top_builddir=${top_builddir:-$top}
model=${1:-${MNIST_TEST_MODEL:-$top_builddir/run/mnist_model.safetensors}}
seconds=${2:-5}
rounds=${ROUNDS:-3}
[ -s "$model" ] || { echo "infer-batch.sh: no model at $model (make model, or pass one)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "infer-batch.sh: wrk is needed (apt-get install wrk)" >&2; exit 1; }
data=$("$top/trainer/fetch-mnist.sh" | tail -1)
work=$(mktemp -d)
trap '"$top/tests/integration/serve.sh" stop "$work/svc"; rm -rf "$work"' EXIT
"$top/tests/integration/serve.sh" start "$work/svc" "$model" "--quiet"
url=$(cat "$work/svc/url")

# request bodies, made once from the test set
/usr/bin/python3 - "$data" "$work" <<'PY'
import json, struct, sys, zlib
data, work = sys.argv[1], sys.argv[2]
images = open(f"{data}/t10k-images-idx3-ubyte", "rb").read()[16:]
rows = b"".join(b"\0" + images[r * 28:(r + 1) * 28] for r in range(28))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
b = "wrkBoundary7MA4YWxk"
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.png\"\r\n"
        f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{b}--\r\n".encode()
open(f"{work}/predict.body", "wb").write(body)
for n in (1, 16, 64, 256):
    values = [round((v / 255.0 - 0.1307) / 0.3081, 6) for v in images[:n * 784]]
    req = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [n, 1, 28, 28], "data": values}]}
    open(f"{work}/infer{n}.body", "w").write(json.dumps(req, separators=(",", ":")))
    tensor = struct.pack(f"<{n * 784}f", *values)
    req = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [n, 1, 28, 28],
                       "parameters": {"binary_data_size": len(tensor)}}]}
    head = json.dumps(req, separators=(",", ":")).encode()
    open(f"{work}/bin{n}.body", "wb").write(head + tensor)
    open(f"{work}/bin{n}.hlen", "w").write(str(len(head)))
PY

lua() { # BODY-FILE CONTENT-TYPE [HEADER-LENGTH] -> a wrk script that POSTs the file
  local binary=""
  [ -z "${3:-}" ] || binary="wrk.headers[\"Inference-Header-Content-Length\"] = \"$3\""
  cat <<LUA
local f = io.open("$1", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "$2"
$binary
function done(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %d\n", summary.requests / (summary.duration / 1e6),
           latency:percentile(99) / 1000, summary.errors.status))
end
LUA
}
run() { # LABEL PATH IMAGES-PER-REQUEST BODY-FILE CONTENT-TYPE [HEADER-LENGTH]: a line to results
  lua "$4" "$5" "${6:-}" >"$work/s.lua"
  sleep 1 # the last row's queued requests (N = 256: 16 x 0.3 s) drain first
  read -r _ rps p99 errors < <(wrk -t2 -c16 -d"${seconds}s" -s "$work/s.lua" "$url$2" | grep '^RESULT')
  echo "$round|$1|$3|$rps|$p99|$errors" >>"$work/results"
}
echo "wrk, 16 connections, ${seconds} s a row, $rounds rounds; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
infer() { # N KIND: a v2 row
  if [ "$2" = JSON ]; then
    run "v2 infer, JSON, N = $1" /v2/models/mnist/infer "$1" "$work/infer$1.body" application/json
  else
    run "v2 infer, binary, N = $1" /v2/models/mnist/infer "$1" "$work/bin$1.body" \
      application/octet-stream "$(cat "$work/bin$1.hlen")"
  fi
}
for round in $(seq "$rounds"); do
  # the rows the ratios compare run next to each other, /predict between them
  infer 64 JSON
  run "/predict (28x28 PNG)" /predict 1 "$work/predict.body" "multipart/form-data; boundary=wrkBoundary7MA4YWxk"
  infer 64 binary
  for n in 1 16 256; do
    infer "$n" JSON
    infer "$n" binary
  done
done
/usr/bin/python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    rnd, label, n, rps, p99, errors = line.strip().split("|")
    rows.setdefault(label, []).append((int(rnd), float(rps) * int(n), float(p99), int(errors)))
order = ["/predict (28x28 PNG)"] + [f"v2 infer, {k}, N = {n}" for n in (1, 16, 64, 256)
                                   for k in ("JSON", "binary")]
for label, runs in sorted(rows.items(), key=lambda row: order.index(row[0])):
    per_round = " ".join(f"{r[1]:7.0f}" for r in runs)
    print(f"{label:<26} {statistics.median(r[1] for r in runs):9.0f} images/s (rounds: {per_round})"
          f"   p99 {statistics.median(r[2] for r in runs):6.2f} ms   non-2xx {sum(r[3] for r in runs)}")
single = {r[0]: r[1] for r in rows["/predict (28x28 PNG)"]}
for kind in ("JSON", "binary"):
    ratios = [r[1] / single[r[0]] for r in rows[f"v2 infer, {kind}, N = 64"]]
    print(f"N = 64 ({kind}) / single /predict, same round: median {statistics.median(ratios):.2f}x"
          f" (rounds: {' '.join(f'{x:.2f}' for x in ratios)})")
PY
