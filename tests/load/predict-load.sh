#!/usr/bin/env bash
# Load test of POST /predict through lighttpd: wrk at LOAD_CONNECTIONS (64) connections
# for LOAD_SECONDS (10; tests/hardening.sh load --long: 60) after a warm-up, cycling
# through valid images sent every way a client can and through each kind of rejected
# request (tests/load/make-bodies.py, tests/load/predict.lua). Passes when:
#   - wrk saw no socket error (connect, read, write, timeout);
#   - every response had the status (and error code) its request type expects, and no
#     type lost more answers than requests can be in flight when wrk stops;
#   - mnist-fcgi neither died nor was respawned;
#   - the RSS of mnist-fcgi and of lighttpd, sampled every second, grew by at most
#     LOAD_RSS_SLACK_KB (1024) over the value after the warm-up;
#   - their open file descriptors came back to the post-warm-up count once idle, and
#     lighttpd's never exceeded it by more than the connections (plus a few).
# Prints the figures (requests/s, latency, RSS and fds) as it goes.
#
# Environment: top_srcdir, top_builddir (a built tree), MNIST_TEST_MODEL, MNIST_DATA,
# LOAD_SECONDS, LOAD_WARMUP (5), LOAD_CONNECTIONS, LOAD_THREADS (2), LOAD_WORKDIR.
set -euo pipefail
: "${top_srcdir:?}" "${top_builddir:?}" "${MNIST_TEST_MODEL:?}"
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

seconds=${LOAD_SECONDS:-10}
warmup=${LOAD_WARMUP:-5}
conns=${LOAD_CONNECTIONS:-64}
threads=${LOAD_THREADS:-2}
slack=${LOAD_RSS_SLACK_KB:-1024}
data=${MNIST_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/mnist}
work=${LOAD_WORKDIR:-$(mktemp -d)}
serve=$top_srcdir/tests/integration/serve.sh
sampler=

cleanup() {
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  "$serve" stop "$work" || true
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "predict-load.sh: wrk is needed (Debian package wrk)" >&2; exit 1; }
/usr/bin/python3 "$top_srcdir/tests/load/make-bodies.py" "$work/bodies" "$data"
"$serve" start "$work" "$MNIST_TEST_MODEL" "--quiet"
url=$(cat "$work/url")
httpd=$(cat "$work/pid")
# the responder: the mnist-fcgi under lighttpd's child, the supervisor
responder() { pgrep -P "$(pgrep -P "$httpd" -x mnist-fcgi | head -1)" -x mnist-fcgi | head -1 || true; }
fcgi=$(responder)
[ -n "$fcgi" ] || { echo "predict-load.sh: no mnist-fcgi responder under lighttpd $httpd" >&2; exit 1; }

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
sample() { printf '%s %s %s %s %s\n' "$1" "$(rss "$fcgi")" "$(fds "$fcgi")" "$(rss "$httpd")" "$(fds "$httpd")"; }

run_wrk() { # DURATION OUTPUT
  LOAD_BODIES=$work/bodies wrk -t"$threads" -c"$conns" -d"$1"s --timeout 5s \
    -s "$top_srcdir/tests/load/predict.lua" "$url" >"$2" 2>&1
}

echo "# warm-up: ${warmup} s at $conns connections ($url)"
run_wrk "$warmup" "$work/warmup.out"
sleep 1
read -r _ rss_f0 fd_f0 rss_h0 fd_h0 < <(sample base)
echo "# after warm-up: mnist-fcgi RSS ${rss_f0} kB, $fd_f0 fds; lighttpd RSS ${rss_h0} kB, $fd_h0 fds"

: >"$work/samples"
(
  i=0
  while sleep 1; do
    i=$((i + 1))
    sample "$i" >>"$work/samples" 2>/dev/null || exit 0
  done
) &
sampler=$!
echo "# load: ${seconds} s at $conns connections, $threads wrk threads"
run_wrk "$seconds" "$work/wrk.out"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=
sleep 1
read -r _ rss_f1 fd_f1 rss_h1 fd_h1 < <(sample idle)
sed -n 's/^LOAD //p' "$work/wrk.out" | sed 's/^/# /'

# ---------------------------------------------------------------- verdicts
read -r _ _ _ c _ r _ w _ t < <(grep '^LOAD socket_errors' "$work/wrk.out" || echo "x x connect -1 read -1 write -1 timeout -1")
check "no socket errors (connect $c, read $r, write $w, timeout $t)" \
  test "$c" -eq 0 -a "$r" -eq 0 -a "$w" -eq 0 -a "$t" -eq 0

unexpected=$(grep -c '^LOAD unexpected' "$work/wrk.out" || true)
check "no unexpected status or error code ($unexpected kinds)" test "$unexpected" -eq 0
grep '^LOAD unexpected' "$work/wrk.out" || true

missing=0 bad_types=
while read -r _ _ name _ _ _ _ sent _ got; do
  if [ "$got" -gt "$sent" ] || [ "$sent" -eq 0 ]; then bad_types="$bad_types $name"; fi
  missing=$((missing + sent - got))
done < <(grep '^LOAD type' "$work/wrk.out")
# in flight when wrk stops: one request per connection, and (seen once at 7,000+
# requests/s: 65 with 64 connections) one more per wrk thread
check "every request type answered as expected (in flight at the end: $missing <= $((conns + threads)))" \
  test -z "$bad_types" -a "$missing" -le $((conns + threads)) -a "$missing" -ge 0

now_fcgi=$(responder)
check "mnist-fcgi still the same process ($fcgi)" test "$now_fcgi" = "$fcgi"

max_rf=$(awk -v b="$rss_f0" 'BEGIN {m = b} $2 > m {m = $2} END {print m}' "$work/samples")
max_rh=$(awk -v b="$rss_h0" 'BEGIN {m = b} $4 > m {m = $4} END {print m}' "$work/samples")
max_ff=$(awk -v b="$fd_f0" 'BEGIN {m = b} $3 > m {m = $3} END {print m}' "$work/samples")
max_fh=$(awk -v b="$fd_h0" 'BEGIN {m = b} $5 > m {m = $5} END {print m}' "$work/samples")
[ "$rss_f1" -gt "$max_rf" ] && max_rf=$rss_f1
[ "$rss_h1" -gt "$max_rh" ] && max_rh=$rss_h1
echo "# RSS samples (s, mnist-fcgi kB, fds, lighttpd kB, fds): $(awk '{printf "[%s %s %s %s %s] ", $1, $2, $3, $4, $5}' "$work/samples")"
check "mnist-fcgi RSS flat: ${rss_f0} kB after warm-up, at most ${max_rf} kB, ${rss_f1} kB at the end (growth $((max_rf - rss_f0)) kB <= $slack)" \
  test $((max_rf - rss_f0)) -le "$slack"
check "lighttpd RSS flat: ${rss_h0} kB after warm-up, at most ${max_rh} kB, ${rss_h1} kB at the end (growth $((max_rh - rss_h0)) kB <= $slack)" \
  test $((max_rh - rss_h0)) -le "$slack"
check "mnist-fcgi fds flat: $fd_f0 after warm-up, at most $max_ff, $fd_f1 at the end" \
  test "$fd_f1" -le "$fd_f0" -a "$max_ff" -le $((fd_f0 + 4))
# under load a connection holds a client and a backend socket; past 1,000 requests
# lighttpd ends a keep-alive connection and lingers on it while wrk opens the next
check "lighttpd fds flat: $fd_h0 after warm-up, at most $max_fh under load, $fd_h1 at the end" \
  test "$fd_h1" -le "$fd_h0" -a "$max_fh" -le $((fd_h0 + 3 * conns + 8))
finish
