# shellcheck shell=bash
# Shared by the fault tests: the service (tests/integration/serve.sh), a background
# load (wrk with count.lua), the model checker, timing. Source it after `set -euo
# pipefail`; needs top_srcdir and top_builddir (a built tree) and, for the service,
# MNIST_TEST_MODEL. Everything it starts is stopped on exit.
: "${top_srcdir:?}" "${top_builddir:?}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

serve=$top_srcdir/tests/integration/serve.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-fault.XXXXXX")
load_pid=
service_up=no

fault_cleanup() {
  [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null || true
  [ "$service_up" = no ] || "$serve" stop "$work/svc" || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $work" >&2; else rm -rf "$work"; fi
}
trap fault_cleanup EXIT

now_ms() { date +%s%3N; }

# start_service MODEL [MNIST_FCGI_ARGS]: sets url and httpd (lighttpd's pid)
start_service() {
  "$serve" start "$work/svc" "$1" "${2:---quiet}"
  service_up=yes
  url=$(cat "$work/svc/url")
  httpd=$(cat "$work/svc/pid")
}

# The mnist-fcgi lighttpd spawned is a supervisor (fcgi/supervise.c); the responder
# is its child. Both empty while there is none.
supervisor_pid() { pgrep -P "$httpd" -x mnist-fcgi | head -1 || true; }
fcgi_pid() {
  local sup
  sup=$(supervisor_pid)
  [ -z "$sup" ] || pgrep -P "$sup" -x mnist-fcgi | head -1 || true
}

http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$url$1" || true; }

# A digit to post: a real MNIST test image as PNG.
make_digit() {
  /usr/bin/python3 - "$1" "${MNIST_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/mnist}" <<'PY'
import gzip, os, struct, sys, zlib
out, d = sys.argv[1], sys.argv[2]
p = os.path.join(d, "t10k-images-idx3-ubyte")
raw = open(p, "rb").read() if os.path.exists(p) else gzip.decompress(open(p + ".gz", "rb").read())
px = raw[16:16 + 784]
def chunk(k, b): return struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b))
rows = b"".join(b"\0" + px[y * 28:(y + 1) * 28] for y in range(28))
open(out, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                      + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}

# start_load SECONDS CONNECTIONS: POSTs a digit to /predict in the background
start_load() {
  command -v wrk >/dev/null || { echo "wrk is needed (Debian package wrk)" >&2; exit 1; }
  [ -s "$work/digit.png" ] || make_digit "$work/digit.png"
  FAULT_BODY=$work/digit.png wrk -t1 -c"$2" -d"$1"s --timeout 5s \
    -s "$top_srcdir/tests/faults/count.lua" "$url" >"$work/load.out" 2>&1 &
  load_pid=$!
}
wait_load() {
  wait "$load_pid" || true
  load_pid=
}
# After wait_load: responses with status CODE; "other" counts every status but 200.
load_count() {
  if [ "$1" = other ]; then
    awk '$1 == "FAULT" && $2 == "status" && $3 != 200 {n += $4} END {print n + 0}' "$work/load.out"
  else
    awk -v c="$1" '$1 == "FAULT" && $2 == "status" && $3 == c {n += $4} END {print n + 0}' "$work/load.out"
  fi
}
load_socket_errors() {
  awk '$1 == "FAULT" && $2 == "socket_errors" {print $4 + $6 + $8 + $10}' "$work/load.out"
}
load_summary() { sed -n 's/^FAULT /# load: /p' "$work/load.out"; }

# The model checker (tests/faults/model-check.c), built by make check with the core library.
model_check() {
  local prog=$top_builddir/tests/faults/model-check
  [ -x "$prog" ] || make -s -C "$top_builddir" tests/faults/model-check >&2 ||
    { echo "cannot build $prog" >&2; return 1; }
  "$prog" "$@"
}
