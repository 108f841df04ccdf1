#!/usr/bin/env bash
# mnist-serve, the launcher of lighttpd + mnist-fcgi: bad settings are refused before
# lighttpd starts, with exit status 64 and a message naming the setting; a STATE_DIR
# exactly as long as the FastCGI socket allows serves. (A state directory in a deep
# build tree once killed lighttpd at start with only "unixsocket is too long".)
set -euo pipefail
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
: "${MNIST_TEST_MODEL:?make check provides the test model}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

serve=$top_srcdir/tests/integration/serve.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-launcher.XXXXXX")
long=
trap '"$serve" stop "$work/svc" 2>/dev/null; rm -rf "$work" ${long:+"$long"}' EXIT

# launch VAR=VALUE...: runs the build tree's mnist-serve with these settings (and a
# harmless rest); leaves its exit status in $rc and its stderr in $work/err
launch() {
  rc=0
  env MNIST_WWW="$top_srcdir/www" MNIST_FCGI="$top_builddir/mnist-fcgi" \
    MNIST_ERRORS="$top_srcdir/lighttpd/errors" MNIST_LIGHTTPD_CONF="$top_srcdir/lighttpd/lighttpd.conf" \
    BIND=127.0.0.1 MODEL_PATH="$MNIST_TEST_MODEL" STATE_DIR="$work/state" "$@" \
    timeout 10 "$top_builddir/mnist-serve" >/dev/null 2>"$work/err" || rc=$?
}

launch PORT=80a
check "PORT=80a: exit 64 (got $rc)" test "$rc" = 64
check "PORT=80a: the message names PORT" grep -q "PORT must be a number" "$work/err"
launch PORT=1 DRAIN_SECONDS=5s
check "DRAIN_SECONDS=5s: exit 64 (got $rc)" test "$rc" = 64
check "DRAIN_SECONDS=5s: the message names DRAIN_SECONDS" grep -q "DRAIN_SECONDS must be a number" "$work/err"

# a directory whose socket path is one byte too long (89 bytes of directory is the most)
long=/tmp/mnist-launcher-$$-
long=$long$(printf 'd%.0s' $(seq $((90 - ${#long}))))
check "the long STATE_DIR is 90 bytes (${#long})" test "${#long}" = 90
launch PORT=1 STATE_DIR="$long"
check "STATE_DIR of 90 bytes: exit 64 (got $rc)" test "$rc" = 64
check "STATE_DIR of 90 bytes: the message names STATE_DIR and the limit" \
  grep -q "STATE_DIR is too long.*at most 105" "$work/err"
check "STATE_DIR of 90 bytes: nothing created" test ! -e "$long"

# one byte shorter fits: the service starts there and answers
fits=${long%d}
mkdir -p "$work/svc"
if SERVE_STATE_DIR=$fits "$serve" start "$work/svc" "$MNIST_TEST_MODEL" >/dev/null 2>&1; then
  url=$(cat "$work/svc/url")
  check "STATE_DIR of 89 bytes: /health answers 200" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$url/health")" = 200
  check "STATE_DIR of 89 bytes: the socket is there" test -S "$fits/mnist-fcgi.sock-0"
else
  fail "STATE_DIR of 89 bytes: the service did not start: $(tail -3 "$work/svc/server.log" 2>/dev/null)"
fi
"$serve" stop "$work/svc"
rm -rf "$fits"

# MNIST_FCGI_ARGS with stray spaces: lighttpd would pass empty arguments on
if "$serve" start "$work/svc" "$MNIST_TEST_MODEL" "  --quiet   --threads 1 " >/dev/null 2>&1; then
  check "MNIST_FCGI_ARGS with extra spaces: /health answers 200" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$(cat "$work/svc/url")/health")" = 200
else
  fail "MNIST_FCGI_ARGS with extra spaces: the service did not start: $(tail -3 "$work/svc/server.log" 2>/dev/null)"
fi
"$serve" stop "$work/svc"

# --- the stop signal ----------------------------------------------------------------------
# run_direct DRAIN: mnist-serve as this shell's own child (its exit status is ours to
# read), on a free port; sets url and pid
run_direct() {
  local port
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port
  env MNIST_WWW="$top_srcdir/www" MNIST_FCGI="$top_builddir/mnist-fcgi" \
    MNIST_ERRORS="$top_srcdir/lighttpd/errors" MNIST_LIGHTTPD_CONF="$top_srcdir/lighttpd/lighttpd.conf" \
    PORT="$port" BIND=127.0.0.1 MODEL_PATH="$MNIST_TEST_MODEL" STATE_DIR="$work/direct" \
    MNIST_FCGI_ARGS=--quiet DRAIN_SECONDS="$1" "$top_builddir/mnist-serve" 2>"$work/direct.log" &
  pid=$!
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health")" = 200 ] && return 0
    sleep 0.05
  done
  fail "mnist-serve did not become ready: $(tail -3 "$work/direct.log")"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

run_direct 2
digit=$work/digit.png
/usr/bin/python3 -c 'import sys; from PIL import Image, ImageDraw
im = Image.new("L", (28, 28)); ImageDraw.Draw(im).line([(14, 4), (14, 24)], fill=255, width=3); im.save(sys.argv[1])' "$digit"
t0=$(date +%s%N)
kill -TERM "$pid"
sleep 0.2
check "SIGTERM: /health answers 503 at once" test "$(code "$url/health")" = 503
check "SIGTERM: /health says draining" grep -q '"status":"draining"' <(curl -s "$url/health")
check "SIGTERM: the 503 says Retry-After: 1" grep -qi '^retry-after: 1' <(curl -s -D - -o /dev/null "$url/health")
check "SIGTERM: /v2/health/ready answers 503" test "$(code "$url/v2/health/ready")" = 503
check "SIGTERM: /health/live still answers 200" test "$(code "$url/health/live")" = 200
check "SIGTERM: /predict still answered 200 in the window" test "$(code -F "file=@$digit" "$url/predict")" = 200
check "SIGTERM: answers say Connection: close" \
  grep -qi '^connection: close' <(curl -s -D - -o /dev/null -F "file=@$digit" "$url/predict")
rc=0
wait "$pid" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# SIGTERM with DRAIN_SECONDS=2: mnist-serve exited $rc after $ms ms"
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "SIGTERM: it served through the 2 s window and stopped within 10 s ($ms ms)" \
  test "$ms" -ge 2000 -a "$ms" -lt 10000
check "SIGTERM: nothing listens afterwards" test "$(code "$url/health")" = 000

run_direct 30
t0=$(date +%s%N)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGINT: no drain window, exit 0 within 3 s (got $rc after $ms ms)" test "$rc" = 0 -a "$ms" -lt 3000

finish
