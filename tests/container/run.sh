#!/usr/bin/env bash
# Builds both container images and runs them, on a machine without a Docker engine:
# buildah builds trainer/Dockerfile and fcgi/Dockerfile unchanged (chroot isolation,
# overlay storage) from Debian base images made here with debootstrap and tagged
# debian:bookworm; podman (with runc) runs them as Kubernetes
# would under the restricted Pod Security Standard: read-only root filesystem, all
# capabilities dropped, no privilege escalation, the image's non-root user, writable
# paths only on volumes (host directories made like kubelet's emptyDirs).
#
#   1. the training image trains a small model into a host directory mounted at
#      /mnt/model-storage; SIGTERM leaves a checkpoint (exit 143) and a rerun resumes;
#      its mnist-model lists the published version
#   2. the inference image, with that directory mounted read-only, answers /health 200,
#      /health/live, the web UI, and /predict correctly on port 5000; its processes,
#      read from the host (the image has no shell), run as UID 10001, and neither the
#      root nor the model volume can be written; the files it holds are listed; started
#      as kube/kserve's ServingRuntime starts it (its env from the YAML, the model at
#      /mnt/models), /v2/health/ready answers 200 and /v2/models/mnist/infer is right
#   3. podman stop of that container under load, with a second replica behind haproxy
#      (tests/load/lb.sh): exit 0 and no failed request, the time to exit printed
#   4. image sizes and build times are printed; the images (FROM scratch) must stay
#      within MAX_INFERENCE_MB (25) and MAX_TRAINING_MB (64) megabytes uncompressed
#
# Slow: the first run takes several minutes (debootstrap, two builds, training).
# Installs what it needs (buildah podman runc debootstrap) with apt-get when root.
#
# Environment:
#   MNIST_CONTAINER_CACHE  where the debootstrap root filesystems are kept
#                          (default /var/cache/mnist-container-test as root, else
#                          ${XDG_CACHE_HOME:-~/.cache}/mnist-service/container)
#   DEBIAN_MIRROR          debootstrap's mirror (default http://deb.debian.org/debian)
#   MAX_INFERENCE_MB       the inference image's size limit (default 25)
#   MAX_TRAINING_MB        the training image's (default 64: OpenBLAS is 37 MB of it)
#   TEST_PORT              the host port mapped to the container's 5000 (default 15000)
#   KEEP=1                 leave the containers and the work directory for inspection
# Options:
#   --rebuild-base         debootstrap the base images again
#   --no-cache             build the images without buildah's layer cache
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/digits.sh
source "$top_srcdir/tests/digits.sh"

say() { printf 'container/run.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
stage() { printf '\n=== %s (%s) ===\n' "$*" "$(date +%T)" >&2; }

rebuild_base=0
layers=--layers
for a in "$@"; do
  case $a in
    --rebuild-base) rebuild_base=1 ;;
    --no-cache) layers=--no-cache ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$a' (see --help)" ;;
  esac
done

as_root() { [ "$(id -u)" -eq 0 ]; }
if as_root; then
  cache=${MNIST_CONTAINER_CACHE:-/var/cache/mnist-container-test}
else
  cache=${MNIST_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/container}
fi
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
max_mb=${MAX_INFERENCE_MB:-25}
max_train_mb=${MAX_TRAINING_MB:-64}
port=${TEST_PORT:-15000}
tag=test-$$
train_image=localhost/mnist-train:$tag
infer_image=localhost/mnist-inference:$tag
uid=10001

# ---------------------------------------------------------------- tools
stage "tools"
apt_install() {
  as_root || return 1
  say "installing Debian packages: $*"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -qq >&2 || return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; }
}
need=()
for pair in buildah:buildah podman:podman runc:runc debootstrap:debootstrap curl:curl \
  iptables:iptables haproxy:haproxy wrk:wrk; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || need+=("${pair#*:}")
done
# podman's network stack (bookworm's podman uses netavark when it is installed)
for p in netavark aardvark-dns; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}" ||
    die "missing tools: ${need[*]} (as root: apt-get install -y ${need[*]})"
fi
as_root || die "buildah bud --isolation chroot and podman with runc need root here"
export PATH=$PATH:/usr/sbin:/sbin
storage=(--storage-driver overlay)
# overlay needs a filesystem that supports it under /var/lib/containers; else fuse
if ! grep -qw overlay /proc/filesystems; then
  command -v fuse-overlayfs >/dev/null || apt_install fuse-overlayfs ||
    die "the kernel has no overlay filesystem and fuse-overlayfs is missing"
  storage=(--storage-driver overlay --storage-opt overlay.mount_program=/usr/bin/fuse-overlayfs)
fi
# crun fails on this kind of machine; runc works. Explicit limits: podman's default
# (the host's hard limit) can be more than runc may set.
run_opts=(--runtime runc --ulimit nofile=8192:8192 --ulimit nproc=4096:4096)
# the restricted Pod Security Standard, as the manifests in kube/ set it
restricted=(--read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges)
# emptydir NAME: a directory like the one kubelet makes for an emptyDir volume (0777)
emptydir() { mkdir -p "$work/emptydir/$1" && chmod 0777 "$work/emptydir/$1" && echo "$work/emptydir/$1"; }
say "buildah $(buildah --version | awk '{print $3}'), podman $(podman --version | awk '{print $3}'), $(runc --version | head -1)"

work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-container.XXXXXX") || die "cannot create a work directory"
containers=()
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    say "KEEP=1: containers ${containers[*]:-none}, images $train_image $infer_image, files in $work"
    return
  fi
  local c
  for c in "${containers[@]}"; do
    podman "${storage[@]}" rm -f -t 5 "$c" >/dev/null 2>&1
  done
  podman "${storage[@]}" rmi -f "$train_image" "$infer_image" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- base images
# debian:bookworm, the build stages' base, is debootstrap's minbase with the official
# image's apt settings and sources (with security updates), and this machine's own CA
# certificates in /usr/local/share/ca-certificates
# (as a company's base image would), so that the data stage's TLS download works behind
# an intercepting proxy. Images made by an older recipe are made again.
recipe=2
stage "base images (debootstrap --variant=minbase bookworm)"
have_image() { # have_image NAME: exists, made by this recipe
  [ "$(podman "${storage[@]}" image inspect --format '{{index .Config.Labels "mnist.test.base"}}' "$1" 2>/dev/null)" = "$recipe" ]
}
make_rootfs() { # make_rootfs DIR
  local dir=$1
  rm -rf -- "$dir"
  cp -a "$cache/minbase" "$dir" || return 1
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Acquire::GzipIndexes "true";\n' >"$dir/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'APT::AutoRemove::SuggestsImportant "false";\n' >"$dir/etc/apt/apt.conf.d/docker-autoremove-suggests"
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$dir/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  fi
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/var/log/* "$dir"/tmp/*
}
import_rootfs() { # import_rootfs DIR NAME
  tar --numeric-owner -C "$1" -c . |
    podman "${storage[@]}" import --quiet \
      --change "LABEL mnist.test.base=$recipe" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$2" >/dev/null
}
if [ $rebuild_base = 1 ] || ! have_image docker.io/library/debian:bookworm; then
  mkdir -p "$cache" || die "cannot create $cache"
  if [ $rebuild_base = 1 ] || [ ! -x "$cache/minbase/usr/bin/apt-get" ]; then
    say "debootstrap into $cache/minbase (about a minute)"
    rm -rf "$cache/minbase"
    debootstrap --variant=minbase bookworm "$cache/minbase" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
      { tail -20 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
  fi
  make_rootfs "$work/full" || die "cannot make the root filesystem of debian:bookworm"
  import_rootfs "$work/full" docker.io/library/debian:bookworm || die "cannot import debian:bookworm"
  rm -rf "$work/full"
fi
podman "${storage[@]}" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
  grep '/debian:' >&2
require "base image debian:bookworm exists" have_image docker.io/library/debian:bookworm

# ---------------------------------------------------------------- builds
build() { # build NAME DOCKERFILE IMAGE
  local start=$SECONDS
  say "building $3 from $2"
  if buildah bud "${storage[@]}" --isolation chroot --pull=never $layers \
    -f "$top_srcdir/$2" -t "$3" "$top_srcdir" >"$work/build-$1.log" 2>&1; then
    printf '%s %d\n' "$1" $((SECONDS - start)) >>"$work/build-times"
    return 0
  fi
  tail -40 "$work/build-$1.log" >&2
  return 1
}
stage "build the training image (trainer/Dockerfile)"
require "trainer/Dockerfile builds" build train trainer/Dockerfile "$train_image"
stage "build the inference image (fcgi/Dockerfile)"
require "fcgi/Dockerfile builds" build inference fcgi/Dockerfile "$infer_image"

inspect() { podman "${storage[@]}" image inspect --format "$2" "$1"; }
check "training image runs as UID $uid" test "$(inspect "$train_image" '{{.Config.User}}')" = "$uid:$uid"
check "inference image runs as UID $uid" test "$(inspect "$infer_image" '{{.Config.User}}')" = "$uid:$uid"
check "inference image exposes 5000" bash -c "[[ '$(inspect "$infer_image" '{{json .Config.ExposedPorts}}')' == *5000/tcp* ]]"

# the IDX files in the training image are the ones fetch-mnist.sh verifies
sums=$(sed -n "/^readonly sums='/,/'\$/p" "$top_srcdir/trainer/fetch-mnist.sh" | sed "s/^readonly sums='//; s/'\$//")
data_dir=/usr/local/share/mnist-service/mnist
c=$(podman "${storage[@]}" create "${run_opts[@]}" "$train_image") && containers+=("$c")
mkdir -p "$work/data"
podman "${storage[@]}" cp "$c:$data_dir/." "$work/data/" >/dev/null 2>&1
check "training image carries the four MNIST files, gzipped" \
  test "$(find "$work/data" -name '*-ubyte.gz' | wc -l)" -eq 4
gunzip -f "$work/data"/*.gz 2>/dev/null
check "... with the fetch script's SHA-256 sums" \
  bash -c "cd '$work/data' && printf '%s\n' '$sums' | sha256sum --check --strict --quiet -"

# ---------------------------------------------------------------- training
stage "run the training image"
models=$work/models
# the PVC as the Job sees it with fsGroup 10001: group-owned, setgid, group-writable
mkdir -p "$models" && chown "0:$uid" "$models" && chmod 2770 "$models"
train_tmp=$(emptydir train-tmp)
small=(--limit-train 6000 --limit-test 2000 --epochs 2 --threads 2 --seed 5)
# SIGTERM after the first epoch's checkpoint: exit 143, the checkpoint stays
podman "${storage[@]}" run --name "mnist-train-$tag-1" "${run_opts[@]}" "${restricted[@]}" \
  --network none -v "$train_tmp:/tmp" -v "$models:/mnt/model-storage" "$train_image" "${small[@]}" \
  >"$work/train-1.log" 2>&1 &
trainer=$!
containers+=("mnist-train-$tag-1")
for _ in $(seq 600); do
  [ -s "$models/mnist_model.safetensors.ckpt" ] && break
  kill -0 "$trainer" 2>/dev/null || break
  sleep 0.1
done
podman "${storage[@]}" kill --signal TERM "mnist-train-$tag-1" >/dev/null 2>&1
status=0
wait "$trainer" || status=$?
check "SIGTERM stops the trainer with exit 143" test "$status" -eq 143 ||
  tail -20 "$work/train-1.log" >&2
check "the stopped trainer left a checkpoint on the volume" test -s "$models/mnist_model.safetensors.ckpt"
start=$SECONDS
status=0
podman "${storage[@]}" run --name "mnist-train-$tag-2" "${run_opts[@]}" "${restricted[@]}" \
  --network none -v "$train_tmp:/tmp" -v "$models:/mnt/model-storage" "$train_image" "${small[@]}" \
  >"$work/train-2.log" 2>&1 || status=$?
containers+=("mnist-train-$tag-2")
train_seconds=$((SECONDS - start))
check "the restarted trainer exits 0" test "$status" -eq 0 || tail -20 "$work/train-2.log" >&2
check "the restarted trainer resumed from the checkpoint" grep -q '^Resuming from ' "$work/train-2.log"
check "the model is published at /mnt/model-storage/mnist_model.safetensors" \
  test -s "$models/mnist_model.safetensors"
check "the model file belongs to UID $uid" test "$(stat -L -c %u "$models/mnist_model.safetensors")" = "$uid"
check "the checkpoint is gone once the model is published" test ! -e "$models/mnist_model.safetensors.ckpt"
grep -E '^Test - ' "$work/train-2.log" | tail -1 >&2
# mnist-model in the training image, as kube/deploy.sh --rollback runs it
status=0
podman "${storage[@]}" run --rm "${run_opts[@]}" "${restricted[@]}" --network none \
  -v "$models:/mnt/model-storage" --entrypoint /usr/local/bin/mnist-model "$train_image" list \
  >"$work/model-list.log" 2>&1 || status=$?
check "the training image's mnist-model lists the published version as current" \
  bash -c "[ $status -eq 0 ] && grep -qE '^[0-9a-f]{12} .* current' '$work/model-list.log'"
# a missing data directory exits 65, as Kubernetes would report it
status=0
podman "${storage[@]}" run --rm "${run_opts[@]}" "${restricted[@]}" --network none \
  -e DATA_DIR=/nowhere "$train_image" >"$work/train-3.log" 2>&1 || status=$?
check "no data: the trainer exits 65" test "$status" -eq 65

# ---------------------------------------------------------------- inference
stage "run the inference image"
infer=mnist-inference-$tag
net=(-p "127.0.0.1:$port:5000")
if ! podman "${storage[@]}" run -d --name "$infer" "${run_opts[@]}" "${restricted[@]}" \
  -v "$(emptydir inference-tmp):/tmp" \
  "${net[@]}" -v "$models:/mnt/model-storage:ro" "$infer_image" >"$work/infer-id" 2>"$work/infer-run.log"; then
  cat "$work/infer-run.log" >&2
  die "podman run of the inference image failed"
fi
containers+=("$infer")
url=http://127.0.0.1:$port
code=000
for _ in $(seq 100); do
  code=$(curl -s -o "$work/health.json" -w '%{http_code}' --max-time 3 "$url/health") || code=000
  [ "$code" = 200 ] && break
  sleep 0.3
done
check "GET /health answers 200 once the model is loaded" test "$code" = 200 || {
  podman "${storage[@]}" logs "$infer" 2>&1 | tail -30 >&2
}
cat "$work/health.json" >&2 && echo >&2
check "GET /health/live answers 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url/health/live")" = 200
check "GET / serves the web UI" bash -c "curl -sf --max-time 3 '$url/' | grep -qi '<html'"
write_digits "$work/data" "$work" || fail "cannot make the test digits"
right=$(digits_right "$work" "$url")
say "POST /predict: $right of 10 test digits right"
check "POST /predict recognises at least 9 of 10 test digits" test "$right" -ge 9
# The image has no shell and no tools: what runs in it is read from the host's /proc
# (podman top hpid: the container's processes as the host numbers them).
mapfile -t hpids < <(podman "${storage[@]}" top "$infer" hpid 2>/dev/null | tail -n +2 | tr -d ' ')
proc_field() { # FIELD: the field's first value in each container process's status
  local p
  for p in "${hpids[@]}"; do awk -v f="$1:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null; done
}
say "processes in the inference container (host pids): ${hpids[*]:-none}"
# memory after those requests: mnist-serve, lighttpd, mnist-fcgi (kube/base sets 256Mi)
rss_kb=$(proc_field VmRSS | awk '{ kb += $1 } END { print kb + 0 }')
check "the service uses less than 128 MB of memory (RSS $((rss_kb / 1024)) MB)" \
  test "$rss_kb" -gt 0 -a "$rss_kb" -lt $((128 * 1024))
check "the service's ${#hpids[@]} processes run as UID $uid, not root" \
  test "$(proc_field Uid | sort -u | tr '\n' ' ')" = "$uid "
check "the service runs 4 processes: mnist-serve, lighttpd, the mnist-fcgi supervisor and responder" \
  test "${#hpids[@]}" -eq 4
# writes: mnist-serve creating its state directory must fail with the root read-only,
# and on the read-only model volume (exit 71, "cannot create ...")
no_write() { # DIR: mnist-serve in a fresh container cannot create DIR/state
  local rc=0
  podman "${storage[@]}" run --rm "${run_opts[@]}" "${restricted[@]}" --network none \
    -v "$models:/mnt/model-storage:ro" -e STATE_DIR="$1/state" "$infer_image" \
    >/dev/null 2>"$work/no-write.log" || rc=$?
  [ "$rc" = 71 ] && grep -q "cannot create" "$work/no-write.log"
}
check "the root filesystem is read-only (mnist-serve cannot create /usr/local/state)" no_write /usr/local
check "the model volume is read-only (nor /mnt/model-storage/state)" no_write /mnt/model-storage
# what the image holds: no shell, no package manager, only the runtime's files
podman "${storage[@]}" export "$infer" | tar -tvf - >"$work/infer-files" 2>/dev/null
awk '$1 !~ /^d/ { printf "  %9d %s\n", $3, $6 }' "$work/infer-files" | sort -k2 >&2
check "the inference image has no shell" bash -c "! grep -qE ' (bin|usr/bin)/(ba|da)?sh\$' '$work/infer-files'"
holds() { # PATH...: each is in the image's file list
  local f
  for f in "$@"; do grep -q " $f\$" "$work/infer-files" || return 1; done
}
check "the inference image holds mnist-serve, mnist-fcgi, lighttpd, the UI" \
  holds usr/local/bin/mnist-serve usr/local/bin/mnist-fcgi usr/sbin/lighttpd \
  usr/local/share/mnist-service/www/index.html

# ---------------------------------------------------------------- as KServe runs it
# The image started as kube/kserve's ServingRuntime starts it: the kserve-container's
# env from the YAML (parsed here), the PVC mounted read-only at /mnt/models, an emptyDir
# at /tmp, the container port the runtime declares. tests/integration/kserve-runtime.sh
# does the same with the build tree's programs and checks more.
stage "the inference image as KServe's runtime starts it"
kserve_env=()
mapfile -t kserve_env < <(/usr/bin/python3 - "$top_srcdir/kube/kserve/servingruntime.yaml" <<'PY'
import sys, yaml
c = next(c for c in yaml.safe_load(open(sys.argv[1]))["spec"]["containers"] if c["name"] == "kserve-container")
for e in c.get("env", []):
    print(f"--env={e['name']}={e['value']}")
print(f"--publish=127.0.0.1:{{port}}:{c['ports'][0]['containerPort']}")
PY
)
kport=$((port + 3))
kserve_env=("${kserve_env[@]/\{port\}/$kport}")
kinfer=$infer-kserve
podman "${storage[@]}" run -d --name "$kinfer" "${run_opts[@]}" "${restricted[@]}" \
  -v "$(emptydir kserve-tmp):/tmp" -v "$models:/mnt/models:ro" "${kserve_env[@]}" \
  "$infer_image" >/dev/null 2>"$work/kserve-run.log" && containers+=("$kinfer")
kurl=http://127.0.0.1:$kport
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$kurl/v2/health/ready")" = 200 ] && break
  sleep 0.3
done
check "KServe's way (${kserve_env[*]}): /v2/health/ready answers 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$kurl/v2/health/ready")" = 200
/usr/bin/python3 - "$work/digit-0.json" "$work/v2-0.json" <<'PY'
import json, sys
pixels = json.load(open(sys.argv[1]))["pixels"]
data = [round((p / 255 - 0.1307) / 0.3081, 6) for p in pixels]
json.dump({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 784], "data": data}]},
          open(sys.argv[2], "w"))
PY
kpred=$(curl -s --max-time 5 -H 'Content-Type: application/json' --data-binary "@$work/v2-0.json" \
  "$kurl/v2/models/mnist/infer" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["outputs"][0]["data"]
print(max(range(10), key=lambda i: d[i]))' 2>/dev/null) || kpred=none
check "KServe's way: /v2/models/mnist/infer reads the test digit ($kpred, label $(cat "$work/digit-0.label"))" \
  test "$kpred" = "$(cat "$work/digit-0.label")"
podman "${storage[@]}" stop -t 1 "$kinfer" >/dev/null 2>&1

# ---------------------------------------------------------------- stop under load
# podman stop sends SIGTERM and runs no preStop hook: the drain alone must carry it.
# A second replica and haproxy (tests/load/lb.sh, as kube-proxy behaves) stand in for
# the Deployment and its Service; the stopped one leaves through its failing readiness.
stage "podman stop under load, behind haproxy"
# shellcheck source=tests/load/lb.sh
source "$top_srcdir/tests/load/lb.sh"
infer2=$infer-2
podman "${storage[@]}" run -d --name "$infer2" "${run_opts[@]}" "${restricted[@]}" \
  -v "$(emptydir inference-tmp-2):/tmp" -p "127.0.0.1:$((port + 1)):5000" \
  -v "$models:/mnt/model-storage:ro" "$infer_image" >/dev/null 2>"$work/infer-run-2.log" &&
  containers+=("$infer2")
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$((port + 1))/health")" = 200 ] && break
  sleep 0.3
done
lb_start "$work" $((port + 2)) a="127.0.0.1:$port" b="127.0.0.1:$((port + 1))"
for _ in $(seq 100); do lb_up a && lb_up b && break; sleep 0.1; done
check "haproxy sees both replicas up" bash -c "[ '$(lb_state a)$(lb_state b)' = 22 ]"
FAULT_BODY=$work/digit-0.json FAULT_TYPE=application/json wrk -t2 -c16 -d600s --timeout 5s \
  -s "$top_srcdir/tests/faults/count.lua" "http://127.0.0.1:$((port + 2))" >"$work/load.out" 2>&1 &
load=$!
sleep 2
start_ms=$(date +%s%3N)
podman "${storage[@]}" stop -t 60 "$infer" >/dev/null
stop_ms=$(($(date +%s%3N) - start_ms))
sleep 1
kill -INT "$load"
wait "$load"
lb_stop
sed -n 's/^FAULT /load through haproxy: /p' "$work/load.out" >&2
say "podman stop took $stop_ms ms (the 20 s drain window, then the requests in flight)"
errors=$(awk '$1 == "FAULT" && $2 == "socket_errors" {print $4 + $6 + $8 + $10}' "$work/load.out")
other=$(awk '$1 == "FAULT" && $2 == "status" && $3 != 200 {n += $4} END {print n + 0}' "$work/load.out")
check "podman stop under load: the container exits 0" \
  test "$(podman "${storage[@]}" inspect --format '{{.State.ExitCode}}' "$infer")" = 0
check "podman stop under load: no socket error (${errors:-none counted})" test "${errors:-1}" = 0
check "podman stop under load: no answer but 200 ($other)" test "$other" = 0
check "podman stop under load: within the 45 s grace period ($stop_ms ms)" test "$stop_ms" -lt 45000

# ---------------------------------------------------------------- figures
stage "figures"
size_of() { podman "${storage[@]}" image inspect --format '{{.Size}}' "$1"; }
train_bytes=$(size_of "$train_image")
infer_bytes=$(size_of "$infer_image")

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
printf 'image sizes (uncompressed): mnist-train %s MB, mnist-inference %s MB (both FROM scratch)\n' \
  "$(mb "$train_bytes")" "$(mb "$infer_bytes")"
printf 'build times (%s): %s\n' "${layers#--}" "$(tr '\n' ' ' <"$work/build-times")"
printf 'training in the container (2 epochs of 6000 images, resumed after epoch 1): %d s\n' "$train_seconds"
printf 'inference container memory after 10 predictions (RSS, all processes): %d MB\n' $((rss_kb / 1024))
printf 'podman stop under load: %d ms to exit\n' "$stop_ms"
check "the inference image is at most $max_mb MB ($(mb "$infer_bytes") MB)" test "$infer_bytes" -le $((max_mb * 1000000))
check "the training image is at most $max_train_mb MB ($(mb "$train_bytes") MB)" \
  test "$train_bytes" -le $((max_train_mb * 1000000))

finish
