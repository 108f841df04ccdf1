#!/usr/bin/env bash
# The inference program started the way KServe starts kube/kserve's runtime: the build
# tree's mnist-serve with the environment of kube/kserve/servingruntime.yaml's
# kserve-container (parsed from the YAML here, so the two cannot drift) over the image's
# own ENV (fcgi/Dockerfile), and the model where KServe puts it for the InferenceService's
# `storageUri: pvc://model-storage-pvc`: the PVC itself mounted at /mnt/models, with
# the model file where the training Job writes it on the volume.
#
# What differs from the pod, and why: the container's mount points (/mnt/models, and the
# runtime's emptyDir at /tmp) are directories under a temporary ROOT, and the env values
# that name a path on them (MODEL_PATH, STATE_DIR) are rewritten to ROOT/...; PORT
# (8080 in the YAML) becomes a free loopback port and BIND=127.0.0.1 is added, so that
# the test neither collides with another server on this machine nor listens beyond
# loopback; the MNIST_* variables point the program at the build tree's files (the
# image's compiled-in paths). Every other variable is the YAML's, value for value.
#
# Checks what KServe and its probes rely on: /v2/health/ready answers 200 once the model
# is loaded (within the readiness probe's initialDelaySeconds + periodSeconds x
# failureThreshold), /v2/health/live 200, the model "mnist" ready, a real MNIST test
# image (normalised (p/255-0.1307)/0.3081, shape [1,784], FP32) classified correctly by
# /v2/models/mnist/infer, 100 more as a batch; then SIGTERM as the kubelet sends it:
# readiness 503 at once while inference still answers, exit 0 within the
# InferenceService's terminationGracePeriodSeconds.
set -euo pipefail
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
: "${MNIST_TEST_MODEL:?make check provides the test model}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

python=/usr/bin/python3
if ! "$python" -c 'import yaml' 2>/dev/null; then
  echo "# SKIP: $python cannot import yaml (apt-get install python3-yaml)"
  exit 77
fi
data=$("$top_srcdir/trainer/fetch-mnist.sh" | tail -1)
work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-kserve.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    pkill -KILL -s "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# --- the container's environment and mounts, from the manifests ---------------------
# Writes $work/env (NAME=VALUE, NUL-separated: the image's ENV, then the YAML's env),
# $work/facts (shell assignments: the probes, the grace period, where the model goes)
# and creates ROOT's mount points.
"$python" - "$top_srcdir" "$root" "$port" "$work" <<'PY'
import os, posixpath, re, shlex, sys
import yaml

top, root, port, work = sys.argv[1:5]
kserve = os.path.join(top, "kube", "kserve")
sr = yaml.safe_load(open(os.path.join(kserve, "servingruntime.yaml")))
isvc = yaml.safe_load(open(os.path.join(kserve, "inferenceservice.yaml")))
job = yaml.safe_load(open(os.path.join(top, "kube", "base", "training-job.yaml")))
c = [c for c in sr["spec"]["containers"] if c["name"] == "kserve-container"][0]
assert not c.get("command") and not c.get("args"), "the runtime sets command/args: run them here too"

# the image's ENV (last stage of fcgi/Dockerfile), then the pod's env over it
text = re.sub(r"\\\n", " ", open(os.path.join(top, "fcgi", "Dockerfile")).read())
env = {}
for line in text.split("\nFROM ")[-1].splitlines():
    if line.startswith("ENV "):
        env.update(re.findall(r"(\w+)=(\S+)", line[4:]))
for e in c.get("env", []):
    env[e["name"]] = e["value"]

# the mounts: the runtime's volumeMounts, and the PVC that KServe mounts at /mnt/models
# for pvc://NAME/SUBPATH (KServe v0.20.0: the claim itself, subPath SUBPATH, read-only)
uri = isvc["spec"]["predictor"]["model"]["storageUri"]
claim, _, sub = uri[len("pvc://"):].partition("/")
mounts = [m["mountPath"] for m in c.get("volumeMounts", [])] + ["/mnt/models"]
for m in mounts:
    os.makedirs(root + m, exist_ok=True)

def on_root(value):
    for m in mounts:
        if value == m or value.startswith(m.rstrip("/") + "/"):
            return root + value
    return value

for name in ("MODEL_PATH", "STATE_DIR"):
    env[name] = on_root(env[name])
container_port = c["ports"][0]["containerPort"]
assert env["PORT"] == str(container_port), (env["PORT"], container_port)
env["PORT"] = port

# where the training Job writes the model on the volume, relative to the claim's root
jc = job["spec"]["template"]["spec"]["containers"][0]
jpath = [e["value"] for e in jc["env"] if e["name"] == "MODEL_PATH"][0]
jmount = [m for m in jc["volumeMounts"] if jpath.startswith(m["mountPath"].rstrip("/") + "/")][0]
on_volume = posixpath.join(jmount.get("subPath", ""), jpath[len(jmount["mountPath"].rstrip("/")) + 1:])

with open(os.path.join(work, "env"), "w") as f:
    for k, v in env.items():
        f.write(f"{k}={v}\0")
probe = lambda p: c[p]["httpGet"]
r = c["readinessProbe"]
facts = {
    "ready_path": probe("readinessProbe")["path"], "live_path": probe("livenessProbe")["path"],
    "probe_port": str(probe("readinessProbe")["port"]), "container_port": str(container_port),
    "ready_within": str(r.get("initialDelaySeconds", 0) + r.get("periodSeconds", 10) * r.get("failureThreshold", 3)),
    "grace": str(isvc["spec"]["predictor"].get("terminationGracePeriodSeconds", 30)),
    "claim": claim, "pvc_subpath": sub, "model_on_volume": on_volume,
    "model_path": env["MODEL_PATH"], "models_mount": root + "/mnt/models",
}
with open(os.path.join(work, "facts"), "w") as f:
    for k, v in facts.items():
        f.write(f"{k}={shlex.quote(v)}\n")
PY
# shellcheck source=/dev/null
source "$work/facts"
: "${ready_path:?}" "${live_path:?}" "${probe_port:?}" "${container_port:?}" "${ready_within:?}" \
  "${grace:?}" "${claim:?}" "${model_on_volume:?}" "${model_path:?}" "${models_mount:?}"
check "the probes ask the container port ($probe_port = $container_port)" test "$probe_port" = "$container_port"

# --- the volume: the model where the Job writes it; KServe mounts the claim (subPath) ----
pvc=$work/pvc-$claim
mkdir -p "$pvc/$(dirname "$model_on_volume")"
cp "$MNIST_TEST_MODEL" "$pvc/$model_on_volume"
rmdir "$models_mount"
ln -s "$pvc${pvc_subpath:+/$pvc_subpath}" "$models_mount"
check "MODEL_PATH ($model_path) reaches the model on the volume" test -s "$model_path"

# --- start it as the pod would --------------------------------------------------------
mapfile -d '' pod_env <"$work/env"
env -i PATH="$PATH" "${pod_env[@]}" BIND=127.0.0.1 \
  MNIST_WWW="$top_srcdir/www" MNIST_FCGI="$top_builddir/mnist-fcgi" \
  MNIST_ERRORS="$top_srcdir/lighttpd/errors" MNIST_LIGHTTPD_CONF="$top_srcdir/lighttpd/lighttpd.conf" \
  setsid "$top_builddir/mnist-serve" >"$work/server.log" 2>&1 &
pid=$!
url=http://127.0.0.1:$port
status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" || true; }

start=$SECONDS
ready=
while [ $((SECONDS - start)) -le "$ready_within" ] && kill -0 "$pid" 2>/dev/null; do
  if [ "$(status "$url$ready_path")" = 200 ]; then ready=yes; break; fi
  sleep 0.1
done
check "readiness $ready_path answers 200 within ${ready_within} s (the probe's budget)" test -n "$ready"
if [ -z "$ready" ]; then
  sed 's/^/# /' "$work/server.log"
  finish
  exit 1
fi
check "liveness $live_path answers 200" test "$(status "$url$live_path")" = 200
check "/v2/models/mnist/ready answers 200" test "$(status "$url/v2/models/mnist/ready")" = 200
check "the log names the model under /mnt/models" grep -q "model $model_path" "$work/server.log"

check "/v2 metadata and /v2/models/mnist/infer: real test images classified as labelled" \
  "$python" - "$url" "$data" <<'PY'
import json, sys, urllib.request

url, data = sys.argv[1], sys.argv[2]
images = open(f"{data}/t10k-images-idx3-ubyte", "rb").read()[16:]
labels = open(f"{data}/t10k-labels-idx1-ubyte", "rb").read()[8:]
norm = lambda v: (v / 255.0 - 0.1307) / 0.3081

def call(path, body=None):
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())

def infer(first, n):
    pixels = [norm(v) for v in images[first * 784:(first + n) * 784]]
    st, out = call("/v2/models/mnist/infer", {"id": f"kserve-{first}", "inputs": [
        {"name": "input", "datatype": "FP32", "shape": [n, 784], "data": pixels}]})
    assert st == 200, st
    assert out["model_name"] == "mnist" and out["id"] == f"kserve-{first}", out
    o = [x for x in out["outputs"] if x["name"] == "probabilities"][0]
    assert o["datatype"] == "FP32" and o["shape"] == [n, 10], o
    probs = [o["data"][i * 10:(i + 1) * 10] for i in range(n)]
    for p in probs:
        assert abs(sum(p) - 1) < 1e-4, sum(p)
    return [max(range(10), key=p.__getitem__) for p in probs]

st, meta = call("/v2")
assert st == 200 and "name" in meta, meta
st, model = call("/v2/models/mnist")
assert st == 200 and model["name"] == "mnist", model
[guess] = infer(0, 1)
print(f"# test image 0: label {labels[0]}, predicted {guess}")
assert guess == labels[0], (guess, labels[0])
guesses = infer(1, 100)
right = sum(g == labels[1 + i] for i, g in enumerate(guesses))
print(f"# test images 1-100 as one batch: {right}/100 right")
assert right >= 95, right
PY

# --- SIGTERM, as the kubelet sends it: drain, then exit 0 within the grace period ----
t0=$SECONDS
kill -TERM "$pid"
sleep 0.5
check "after SIGTERM: readiness $ready_path answers 503 (KServe's Service stops sending)" \
  test "$(status "$url$ready_path")" = 503
check "after SIGTERM: liveness still 200 (no restart while draining)" test "$(status "$url$live_path")" = 200
"$python" -c 'import json; print(json.dumps({"inputs": [{"name": "input", "datatype": "FP32",
  "shape": [1, 784], "data": [0.0] * 784}]}))' >"$work/blank.json"
check "after SIGTERM: /v2/models/mnist/infer still answers during the drain window" \
  test "$(status -H 'Content-Type: application/json' --data-binary @"$work/blank.json" \
    "$url/v2/models/mnist/infer")" = 200
rc=0
timeout "$grace" tail --pid="$pid" -f /dev/null || rc=$?
[ "$rc" = 0 ] || kill -KILL "$pid" 2>/dev/null || true
exited=0
wait "$pid" || exited=$?
pid=
check "mnist-serve exits within terminationGracePeriodSeconds ($grace s; took $((SECONDS - t0)) s)" test "$rc" = 0
check "mnist-serve exits 0 after the drain (got $exited)" test "$exited" = 0
finish
