#!/usr/bin/env bash
# Overload: many more clients than the service has threads, straight at lighttpd.
#   1. OVERLOAD_LOW (1,000) connections for OVERLOAD_SECONDS (10): every request
#      answered 200, no socket error; prints requests/s and the p99 latency.
#   2. OVERLOAD_HIGH (4,000) connections: no reset, no connect error, no timeout at the
#      client's 10 s; any answer but 200 is a JSON 503 with Retry-After; /health/live
#      answers 200 within 5 s (the liveness probe's timeout) every half second
#      throughout; the RSS of lighttpd and mnist-fcgi stays under OVERLOAD_RSS_MB (64).
# mnist-serve sizes lighttpd from the open-files limit (fcgi/fd_budget.h): 3
# descriptors a connection. Before that, lighttpd's 1,024 connections in 2,048
# descriptors reset 3,607 of 153,000 requests at 1,000 clients.
#
# Environment: top_srcdir, top_builddir (a built tree), MNIST_TEST_MODEL, MNIST_DATA,
# OVERLOAD_LOW, OVERLOAD_HIGH, OVERLOAD_SECONDS, OVERLOAD_RSS_MB.
set -euo pipefail
: "${top_srcdir:?}" "${top_builddir:?}" "${MNIST_TEST_MODEL:?}"
# shellcheck source=tests/faults/common.sh
source "$top_srcdir/tests/faults/common.sh"

low=${OVERLOAD_LOW:-1000}
high=${OVERLOAD_HIGH:-4000}
seconds=${OVERLOAD_SECONDS:-10}
rss_limit_kb=$((${OVERLOAD_RSS_MB:-64} * 1024))
# wrk holds one descriptor a connection, lighttpd three: both need more than 1,024
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((high * 3 + 200)) ] ||
  { echo "overload.sh: the open-files limit $(ulimit -n) is too small for $high connections" >&2; exit 1; }

make_digit "$work/digit.png"
start_service "$MNIST_TEST_MODEL" --quiet
echo "# $(grep -m1 'mnist-serve: http' "$work/svc/server.log")"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# watch SECONDS: /health/live every 0.5 s, and the peak RSS of lighttpd and of the
# responder, into $work/watch
watch() {
  local end=$((SECONDS + $1)) peak_h=0 peak_f=0 live_bad=0 live_n=0 code r
  while [ $SECONDS -lt $end ]; do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url/health/live" || true)
    live_n=$((live_n + 1))
    [ "$code" = 200 ] || live_bad=$((live_bad + 1))
    r=$(rss_kb "$httpd"); [ "$r" -le "$peak_h" ] || peak_h=$r
    r=$(rss_kb "$(fcgi_pid)"); [ "$r" -le "$peak_f" ] || peak_f=$r
    sleep 0.5
  done
  echo "$live_n $live_bad $peak_h $peak_f" >"$work/watch"
}

# load CONNECTIONS: wrk at CONNECTIONS for $seconds (10 s client timeout), with the watch
load() {
  FAULT_BODY=$work/digit.png wrk -t2 -c"$1" -d"${seconds}s" --timeout 10s \
    -s "$top_srcdir/tests/faults/count.lua" "$url" >"$work/load.out" 2>&1 &
  load_pid=$!
  watch "$seconds"
  wait_load
  load_summary
  local rps live_n live_bad peak_h peak_f
  rps=$(awk '$1 == "FAULT" && $2 == "requests" {printf "%.0f", $3 / $5}' "$work/load.out")
  read -r live_n live_bad peak_h peak_f <"$work/watch"
  p99=$(awk '$1 == "FAULT" && $2 == "latency_ms" {print $6}' "$work/load.out")
  echo "# $1 connections: $rps requests/s, p99 $p99 ms; /health/live $((live_n - live_bad))/$live_n" \
    "answered 200; peak RSS lighttpd $((peak_h / 1024)) MB, mnist-fcgi $((peak_f / 1024)) MB"
  check "$1 connections: /health/live answered 200 within 5 s every time ($live_bad of $live_n not)" \
    test "$live_bad" = 0
  check "$1 connections: lighttpd RSS bounded (peak $peak_h kB <= $rss_limit_kb)" \
    test "$peak_h" -le "$rss_limit_kb"
  check "$1 connections: mnist-fcgi RSS bounded (peak $peak_f kB <= $rss_limit_kb)" \
    test "$peak_f" -le "$rss_limit_kb"
}

socket_error() { # KIND: connect, read, write or timeout
  awk -v k="$1" '$1 == "FAULT" && $2 == "socket_errors" {for (i = 3; i < NF; i += 2) if ($i == k) print $(i + 1)}' "$work/load.out"
}

echo "# phase 1: $low connections, $seconds s"
load "$low"
check "$low connections: no socket error ($(load_socket_errors))" test "$(load_socket_errors)" = 0
check "$low connections: every answer 200 ($(load_count other) not)" test "$(load_count other)" = 0

echo "# phase 2: $high connections, $seconds s"
load "$high"
for kind in connect read write timeout; do
  check "$high connections: no $kind error ($(socket_error "$kind"))" test "$(socket_error "$kind")" = 0
done
other=$(($(load_count other) - $(load_count 503)))
check "$high connections: no answer but 200 and 503 ($other)" test "$other" = 0
bad=$(awk '$1 == "FAULT" && $2 == "bad_503" {print $3}' "$work/load.out")
check "$high connections: every 503 ($(load_count 503)) is JSON with Retry-After ($bad not)" \
  test "$bad" = 0
check "$high connections: requests were served ($(load_count 200))" test "$(load_count 200)" -gt 0
finish
