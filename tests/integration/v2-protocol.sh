#!/usr/bin/env bash
# The Open Inference Protocol (v2) routes and /metrics through the real lighttpd and
# mnist-fcgi: statuses and bodies as the protocol says; a batch of 64 test images
# gives the probabilities of 64 single /predict calls (preprocess off) to 1e-5;
# malformed requests get their 4xx; promtool parses /metrics and its counters move by
# exactly the requests sent.
set -euo pipefail
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
: "${MNIST_TEST_MODEL:?make check provides the test model}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

data=$("$top_srcdir/trainer/fetch-mnist.sh" | tail -1)
work=$(mktemp -d)
trap '"$top_srcdir/tests/integration/serve.sh" stop "$work/empty"; "$top_srcdir/tests/integration/serve.sh" stop "$work/svc"; rm -rf "$work"' EXIT

# --- without a model: readiness says no, liveness yes ---------------------------
"$top_srcdir/tests/integration/serve.sh" start "$work/empty" "$work/none.safetensors"
url=$(cat "$work/empty/url")
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "v2 live without a model: 200" test "$(status "$url/v2/health/live")" = 200
check "v2 ready without a model: 503" test "$(status "$url/v2/health/ready")" = 503
check "model ready without a model: 503" test "$(status "$url/v2/models/mnist/ready")" = 503
check "infer without a model: 503" test "$(status -H 'Content-Type: application/json' -d '{}' "$url/v2/models/mnist/infer")" = 503
"$top_srcdir/tests/integration/serve.sh" stop "$work/empty"

# --- with the model ---------------------------------------------------------------
"$top_srcdir/tests/integration/serve.sh" start "$work/svc" "$MNIST_TEST_MODEL"
url=$(cat "$work/svc/url")

check "v2 routes, batch = single /predict to 1e-5, accuracy, malformed requests" \
  /usr/bin/python3 - "$url" "$data" <<'PY'
import json, struct, sys, urllib.error, urllib.request, zlib

url, data = sys.argv[1], sys.argv[2]
images = open(f"{data}/t10k-images-idx3-ubyte", "rb").read()[16:]
labels = open(f"{data}/t10k-labels-idx1-ubyte", "rb").read()[8:]
failures = []

def expect(cond, what):
    if not cond:
        failures.append(what)
        print("  failed:", what)

def call(path, body=None, ctype="application/json", method=None, headers={}):
    req = urllib.request.Request(url + path, data=body, method=method, headers=headers)
    if body is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

def png(pixels):
    rows = b"".join(b"\0" + pixels[r * 28:(r + 1) * 28] for r in range(28))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

# metadata and health
st, _, body = call("/v2")
meta = json.loads(body)
expect(st == 200 and isinstance(meta.get("name"), str) and isinstance(meta.get("version"), str)
       and isinstance(meta.get("extensions"), list), "server metadata")
expect("binary_tensor_data" in meta["extensions"], "the binary tensor data extension is announced")
for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/mnist/ready"):
    expect(call(path)[0] == 200, f"{path} is 200")
st, _, body = call("/v2/models/mnist")
m = json.loads(body)
expect(st == 200 and m["name"] == "mnist" and m["platform"] and len(m["versions"]) == 1, "model metadata")
expect(m["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 28, 28]}], "input metadata")
expect(m["outputs"] == [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]}], "output metadata")
version = m["versions"][0]
expect(call(f"/v2/models/mnist/versions/{version}")[0] == 200, "metadata by version")
expect(call(f"/v2/models/mnist/versions/{version}/ready")[0] == 200, "ready by version")

# a batch of 64 against 64 single /predict calls with preprocessing off
n = 64
norm = lambda v: (v / 255.0 - 0.1307) / 0.3081
flat = [norm(v) for v in images[:n * 784]]
nested = [[[[flat[i * 784 + r * 28 + c] for c in range(28)] for r in range(28)]] for i in range(n)]
request = {"id": "batch-64", "inputs": [{"name": "input", "datatype": "FP32", "shape": [n, 1, 28, 28],
                                         "data": nested}], "outputs": [{"name": "probabilities"}]}
st, _, body = call(f"/v2/models/mnist/versions/{version}/infer", json.dumps(request).encode())
resp = json.loads(body)
expect(st == 200 and resp["model_name"] == "mnist" and resp["model_version"] == version
       and resp["id"] == "batch-64", "infer answer header")
out = resp["outputs"][0]
expect(out["name"] == "probabilities" and out["datatype"] == "FP32" and out["shape"] == [n, 10], "infer output")
batch = out["data"]
worst, correct = 0.0, 0
for i in range(n):
    st, _, body = call("/predict?preprocess=0", png(images[i * 784:(i + 1) * 784]), "image/png")
    single = json.loads(body)["probabilities"]
    worst = max(worst, max(abs(a - b) for a, b in zip(single, batch[i * 10:(i + 1) * 10])))
    correct += max(range(10), key=lambda j: batch[i * 10 + j]) == labels[i]
print(f"  batch of {n} vs single /predict: max |difference| {worst:.2e}; {correct}/{n} correct")
expect(worst <= 1e-5, "batch probabilities equal single ones to 1e-5")
expect(correct >= 0.99 * n, "at least 99 % of the batch correct")

# flat [N,784] gives the same
flat_req = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [n, 784], "data": flat}]}
st, _, body = call("/v2/models/mnist/infer", json.dumps(flat_req).encode())
flat_out = json.loads(body)["outputs"][0]["data"]
expect(st == 200 and max(abs(a - b) for a, b in zip(flat_out, batch)) <= 1e-6, "flat data = nested data")
expect("id" not in json.loads(body), "no id when none was sent")

# the binary tensor data extension, as tritonclient sends it: the JSON header, then
# the tensor's little-endian FP32 bytes; the same floats give the same answer
def binary_request(header, tensor_bytes, header_len=None):
    head = json.dumps(header).encode()
    length = str(len(head) if header_len is None else header_len)
    return call("/v2/models/mnist/infer", head + tensor_bytes, "application/octet-stream",
                headers={"Inference-Header-Content-Length": length})
packed = struct.pack(f"<{n * 784}f", *flat)
bin_input = {"name": "input", "datatype": "FP32", "shape": [n, 784],
             "parameters": {"binary_data_size": len(packed)}}
st, headers, body = binary_request({"inputs": [bin_input]}, packed)
expect(st == 200 and json.loads(body)["outputs"][0]["data"] == flat_out,
       "binary input gives the JSON input's probabilities exactly")
for outputs_part in ({"parameters": {"binary_data_output": True}},
                     {"outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}],
                      "parameters": {"binary_data_output": False}}):
    st, headers, body = binary_request(dict({"inputs": [bin_input]}, **outputs_part), packed)
    hlen = int(headers.get("Inference-Header-Content-Length", "-1"))
    expect(st == 200 and headers.get_content_type() == "application/octet-stream" and 0 < hlen < len(body),
           f"binary output ({outputs_part}): status, Content-Type and header length")
    out = json.loads(body[:hlen])["outputs"][0]
    size = out.get("parameters", {}).get("binary_data_size")
    expect(size == n * 40 and "data" not in out and len(body) == hlen + size, "binary output: its size")
    got = list(struct.unpack(f"<{n * 10}f", body[hlen:hlen + n * 40]))
    expect(got == [struct.unpack("<f", struct.pack("<f", v))[0] for v in flat_out],
           "binary output: the JSON output's floats")
one_bin = struct.pack("<784f", *([0.0] * 784))
one_input = {"name": "input", "datatype": "FP32", "shape": [1, 784],
             "parameters": {"binary_data_size": 784 * 4}}
binary_cases = {
    "binary_data_size without the header": (lambda: call(
        "/v2/models/mnist/infer", json.dumps({"inputs": [one_input]}).encode())),
    "header longer than the body": (lambda: binary_request({"inputs": [one_input]}, one_bin, 10**6)),
    "header not a number": (lambda: binary_request({"inputs": [one_input]}, one_bin, "12x")),
    "fewer bytes than binary_data_size": (lambda: binary_request({"inputs": [one_input]}, one_bin[:-4])),
    "bytes left after the tensor": (lambda: binary_request({"inputs": [one_input]}, one_bin + b"\0" * 4)),
    "binary_data_size not the shape's": (lambda: binary_request(
        {"inputs": [dict(one_input, parameters={"binary_data_size": 100})]}, one_bin[:100])),
    "both data and binary_data_size": (lambda: binary_request(
        {"inputs": [dict(one_input, data=[0.0] * 784)]}, one_bin)),
    "binary bytes but a JSON input": (lambda: binary_request(
        {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 784], "data": [0.0] * 784}]}, one_bin)),
    "a NaN in the binary tensor": (lambda: binary_request(
        {"inputs": [one_input]}, struct.pack("<f", float("nan")) + one_bin[4:])),
    "binary_data not a boolean": (lambda: binary_request(
        {"inputs": [one_input], "outputs": [{"name": "probabilities", "parameters": {"binary_data": 1}}]},
        one_bin)),
}
for what, send in binary_cases.items():
    st, _, answer = send()
    try:
        ok_json = isinstance(json.loads(answer).get("error"), str)
    except ValueError:
        ok_json = False
    expect(st == 400 and ok_json, f"{what}: {st}, want 400 with a JSON error")

# malformed requests and their statuses
def infer_status(obj_or_bytes, path="/v2/models/mnist/infer"):
    body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    st, headers, answer = call(path, body)
    try:
        ok_json = isinstance(json.loads(answer).get("error"), str)
    except ValueError:
        ok_json = False
    return st, ok_json

one = [0.0] * 784
good_input = {"name": "input", "datatype": "FP32", "shape": [1, 784], "data": one}
cases = {
    "wrong shape": ({"inputs": [dict(good_input, shape=[1, 3, 28, 28])]}, 400),
    "wrong datatype": ({"inputs": [dict(good_input, datatype="INT32")]}, 400),
    "wrong input name": ({"inputs": [dict(good_input, name="image")]}, 400),
    "too few values": ({"inputs": [dict(good_input, data=one[:-1])]}, 400),
    "too many values": ({"inputs": [dict(good_input, data=one + [0.0])]}, 400),
    "non-numbers": ({"inputs": [dict(good_input, data=["x"] * 784)]}, 400),
    "beyond FP32's range": ({"inputs": [dict(good_input, data=[1e39] + one[1:])]}, 400),
    "unknown output": ({"inputs": [good_input], "outputs": [{"name": "logits"}]}, 400),
    "two inputs": ({"inputs": [good_input, good_input]}, 400),
    "no inputs": ({"id": "x"}, 400),
    "batch above the limit": ({"inputs": [dict(good_input, shape=[257, 784], data=one * 257)]}, 400),
    "malformed JSON": (b'{"inputs": [', 400),
    "not an object": (b'[1, 2, 3]', 400),
}
for what, (req, want) in cases.items():
    st, ok_json = infer_status(req)
    expect(st == want and ok_json, f"{what}: {st}, want {want} with a JSON error")
st, ok_json = infer_status({"inputs": [good_input]}, "/v2/models/other/infer")
expect(st == 404 and ok_json, "unknown model: 404")
st, ok_json = infer_status({"inputs": [good_input]}, "/v2/models/mnist/versions/000000000000/infer")
expect(st == 404 and ok_json, "unknown version: 404")
expect(call("/v2/models/mnist/infer")[0] == 405, "GET on infer: 405")
expect(call("/v2/nowhere")[0] == 404, "unknown v2 route: 404")
sys.exit(1 if failures else 0)
PY

# --- /metrics: promtool parses it; counters move by exactly the requests sent ----
metric() { # NAME{LABELS} value from a scrape
  curl -s "$url/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
promtool=$(command -v promtool || true)
if [ -n "$promtool" ]; then
  curl -s "$url/metrics" >"$work/metrics.txt"
  check "promtool check metrics accepts /metrics" \
    bash -c "'$promtool' check metrics < '$work/metrics.txt' 2>&1 | tee '$work/promtool.txt'; ! grep -qi error '$work/promtool.txt'"
else
  fail "promtool not installed (Debian package prometheus)"
fi
ok0=$(metric 'mnist_requests_total{route="/predict",code="200"}')
bad0=$(metric 'mnist_requests_total{route="/predict",code="422"}'); bad0=${bad0:-0}
inf0=$(metric mnist_inferences_total)
exe0=$(metric mnist_inference_executions_total)
head -c 1000 /dev/urandom >"$work/random.bin"
for _ in $(seq 7); do
  curl -s -o /dev/null -H 'Content-Type: image/png' --data-binary @"$top_srcdir/tests/integration/../../www/favicon.svg" "$url/predict" || true
done
/usr/bin/python3 - "$url" "$data" <<'PY'
import json, struct, sys, urllib.request, zlib
url, data = sys.argv[1], sys.argv[2]
images = open(f"{data}/t10k-images-idx3-ubyte", "rb").read()[16:]
rows = lambda i: b"".join(b"\0" + images[i * 784 + r * 28:i * 784 + (r + 1) * 28] for r in range(28))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
for i in range(5):
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows(i))) + chunk(b"IEND", b""))
    urllib.request.urlopen(urllib.request.Request(url + "/predict", data=png,
                                                  headers={"Content-Type": "image/png"})).read()
body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [3, 784], "data": [0.0] * 2352}]})
for _ in range(2):
    urllib.request.urlopen(urllib.request.Request(url + "/v2/models/mnist/infer", data=body.encode(),
                                                  headers={"Content-Type": "application/json"})).read()
PY
check "5 good /predict requests counted" test "$(metric 'mnist_requests_total{route="/predict",code="200"}')" = $((ok0 + 5))
check "7 rejected /predict requests counted" test "$(metric 'mnist_requests_total{route="/predict",code="422"}')" = $((bad0 + 7))
check "inferences count images: 5 + 2 x 3" test "$(metric mnist_inferences_total)" = $((inf0 + 11))
check "executions count forward passes: 5 + 2" test "$(metric mnist_inference_executions_total)" = $((exe0 + 7))
check "model info carries the version" \
  bash -c "curl -s '$url/metrics' | grep -q '^mnist_model_info{version=\"[0-9a-f]\{12\}\",created=\"'"
check "model loads counted" test "$(metric mnist_model_loads_total)" = 1
check "metrics are text/plain 0.0.4" \
  bash -c "curl -s -D - -o /dev/null '$url/metrics' | grep -qi '^content-type: text/plain; version=0.0.4'"
check "training report served" bash -c "curl -s '$url/model/report' | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); assert len(r[\"epochs\"]) >= 1 and len(r[\"test\"][\"confusion_matrix\"]) == 10'"
finish
