#!/usr/bin/env bash
# Batching benchmark: images/s through HTTP for single /predict requests (a 28x28 PNG
# as multipart) and for v2 infer requests of N = 1, 16, 64 and 256 normalised images,
# each driven by wrk with 16 connections for a few seconds. Prints a table; the
# issue's bar is that N = 64 reaches at least 3x the images/s of single /predict.
#
# Usage: tests/bench/infer-batch.sh [MODEL] [SECONDS]   (build first; run from the tree)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export top_srcdir=$top top_builddir=${top_builddir:-$top}
model=${1:-${MNIST_TEST_MODEL:-$top_builddir/run/mnist_model.safetensors}}
seconds=${2:-8}
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
PY

lua() { # BODY-FILE CONTENT-TYPE -> a wrk script that POSTs the file
  cat <<LUA
local f = io.open("$1", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "$2"
function done(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %d\n", summary.requests / (summary.duration / 1e6),
           latency:percentile(99) / 1000, summary.errors.status))
end
LUA
}
run() { # LABEL PATH BODY-FILE CONTENT-TYPE IMAGES-PER-REQUEST
  lua "$3" "$4" >"$work/s.lua"
  read -r _ rps p99 errors < <(wrk -t2 -c16 -d"${seconds}s" -s "$work/s.lua" "$url$2" | grep '^RESULT')
  /usr/bin/python3 -c "import sys; r=float(sys.argv[2]); print(f'{sys.argv[1]:<28} {r:9.0f} req/s {r*int(sys.argv[3]):10.0f} images/s   p99 {float(sys.argv[4]):6.2f} ms   non-2xx {sys.argv[5]}')" \
    "$1" "$rps" "$5" "$p99" "$errors"
}
echo "wrk, 16 connections, ${seconds} s each; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run "/predict (28x28 PNG)" /predict "$work/predict.body" "multipart/form-data; boundary=wrkBoundary7MA4YWxk" 1
for n in 1 16 64 256; do
  run "v2 infer, N = $n" /v2/models/mnist/infer "$work/infer$n.body" application/json "$n"
done
