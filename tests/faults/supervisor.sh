#!/usr/bin/env bash
# mnist-fcgi's supervisor (fcgi/supervise.c), standalone on a Unix socket: a responder
# killed by a signal is replaced by a new one that answers; five deaths in a row are
# survived, the sixth within 10 s makes the supervisor give up (exit 70, "giving up"
# in its log) rather than restart a crashing responder for ever; SIGTERM stops it
# (status 0) with no responder left behind.
#
# Environment: top_srcdir, top_builddir, MNIST_TEST_MODEL.
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
: "${MNIST_TEST_MODEL:?}"

sock=$work/fcgi.sock
sup=
# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() {
  [ -z "$sup" ] || kill -KILL "$sup" 2>/dev/null || true
  pkill -KILL -f "mnist-fcgi --listen $sock" 2>/dev/null || true
  fault_cleanup
}
trap stop_all EXIT

start() {
  rm -f "$sock"
  "$top_builddir/mnist-fcgi" --listen "$sock" --model "$MNIST_TEST_MODEL" --quiet 2>>"$work/fcgi.log" &
  sup=$!
}
# responder_of SUP: the responder's pid once there is one (up to 5 s), else nothing
responder_of() {
  local r
  for _ in $(seq 100); do
    r=$(pgrep -P "$1" -x mnist-fcgi | head -1 || true)
    [ -n "$r" ] && { echo "$r"; return 0; }
    sleep 0.05
  done
}
# answers: the responder behind the socket answers /health/live over FastCGI
answers() {
  /usr/bin/python3 - "$sock" <<'PY'
import socket, struct, sys
def rec(t, body, rid=1):
    return struct.pack(">BBHHBx", 1, t, rid, len(body), 0) + body
def nv(k, v):
    return bytes([len(k), len(v)]) + k + v
params = b"".join(nv(k, v) for k, v in [(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b""),
                                        (b"PATH_INFO", b"/health/live"), (b"REQUEST_URI", b"/health/live")])
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
for _ in range(100):
    try:
        s.connect(sys.argv[1])
        break
    except OSError:
        import time; time.sleep(0.05)
s.sendall(rec(1, struct.pack(">HB5x", 1, 0)) + rec(4, params) + rec(4, b"") + rec(5, b""))
data = s.makefile("rb").read()  # to the end: without FCGI_KEEP_CONN the responder closes
sys.exit(0 if b"Status: 200" in data or b"200 OK" in data else 1)
PY
}

start
first=$(responder_of "$sup")
check "a responder runs under the supervisor" test -n "$first"
check "it answers /health/live" answers

previous=$first
survived=0
for i in 1 2 3 4 5; do
  kill -KILL "$previous"
  new=
  for _ in $(seq 100); do
    new=$(pgrep -P "$sup" -x mnist-fcgi | head -1 || true)
    [ -n "$new" ] && [ "$new" != "$previous" ] && break
    sleep 0.05
  done
  if [ -n "$new" ] && [ "$new" != "$previous" ] && answers; then
    survived=$((survived + 1))
  else
    echo "# kill $i: no new responder that answers (was $previous, now '${new:-none}')"
  fi
  previous=$new
done
check "5 kills -9 in a row: each time a new responder answers ($survived of 5)" test "$survived" = 5

kill -KILL "$previous"
status=0
for _ in $(seq 100); do
  kill -0 "$sup" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$sup" 2>/dev/null; then
  fail "a 6th death within 10 s: the supervisor is still running"
else
  wait "$sup" || status=$?
  check "a 6th death within 10 s: the supervisor gives up with status 70 (got $status)" test "$status" = 70
fi
sup=
check "its log says why" grep -q "died 6 times in 10 s; giving up" "$work/fcgi.log"

start
responder=$(responder_of "$sup")
check "started again: it answers" answers
kill -TERM "$sup"
status=0
wait "$sup" || status=$?
sup=
check "SIGTERM: the supervisor exits with status 0 (got $status)" test "$status" = 0
check "SIGTERM: no responder left behind" bash -c "! kill -0 $responder 2>/dev/null"

finish
