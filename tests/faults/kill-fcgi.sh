#!/usr/bin/env bash
# Fault: mnist-fcgi killed with SIGKILL every 5 s under load. lighttpd must respawn it
# and /health must answer 200 again quickly each time; requests that fail while it is
# down are counted and reported (lighttpd answers them 500 or 503), and the service
# ends healthy, with the same lighttpd.
#
# The limit: lighttpd 1.4.69 respawns a dead backend at once when it reaps it, unless
# requests failed to connect to it in that same second; then it waits for its
# once-a-second checks (the first reaps it and marks the second it died, the next
# respawns it). Under load recovery is usually 30-100 ms, at worst two seconds plus
# the start: every round must recover within FAULT_RECOVERY_MS (3000), and the rounds
# within FAULT_TARGET_MS (1000) are counted and reported.
#
# Environment: top_srcdir, top_builddir, MNIST_TEST_MODEL; FAULT_ROUNDS (6),
# FAULT_INTERVAL (5 s), FAULT_RECOVERY_MS (3000), FAULT_TARGET_MS (1000).
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
: "${MNIST_TEST_MODEL:?}"
rounds=${FAULT_ROUNDS:-6}
interval=${FAULT_INTERVAL:-5}
limit=${FAULT_RECOVERY_MS:-3000}
target=${FAULT_TARGET_MS:-1000}
within=0

start_service "$MNIST_TEST_MODEL"
# lighttpd may run several mnist-fcgi (its max-procs): each round kills one and waits
# for lighttpd to bring the count back
nprocs() { pgrep -P "$httpd" -x mnist-fcgi | wc -l; }
procs=$(nprocs)
echo "# lighttpd $httpd runs $procs mnist-fcgi process(es)"
start_load $((rounds * interval + 3)) 16
worst=0
for i in $(seq "$rounds"); do
  sleep "$interval"
  old=$(fcgi_pid)
  if [ -z "$old" ]; then
    fail "round $i: no mnist-fcgi to kill"
    continue
  fi
  kill -KILL "$old"
  t0=$(now_ms)
  health_ms=''
  respawn_ms=''
  while [ $(($(now_ms) - t0)) -lt $((limit * 5)) ]; do
    if [ -z "$health_ms" ] && [ "$(http_code /health)" = 200 ]; then
      health_ms=$(($(now_ms) - t0))
    fi
    if [ -z "$respawn_ms" ] && [ "$(nprocs)" -ge "$procs" ] && ! kill -0 "$old" 2>/dev/null; then
      respawn_ms=$(($(now_ms) - t0))
    fi
    [ -n "$health_ms" ] && [ -n "$respawn_ms" ] && break
    sleep 0.01
  done
  [ "${health_ms:-99999}" -gt "$worst" ] && worst=${health_ms:-99999}
  [ "${health_ms:-99999}" -le "$target" ] && within=$((within + 1))
  what="round $i: killed mnist-fcgi $old; /health 200 after ${health_ms:-(never)} ms, respawned after ${respawn_ms:-(never)} ms"
  if [ -n "$health_ms" ] && [ "$health_ms" -le "$limit" ] && [ -n "$respawn_ms" ]; then
    pass "$what"
  else
    fail "$what (limit $limit ms)"
  fi
done
wait_load
load_summary
failed_requests=$(load_count other)
ok_requests=$(load_count 200)
echo "# $ok_requests requests answered 200, $failed_requests failed ($(load_count 500) status 500: in flight in a killed process; $(load_count 503) status 503: no process to take them), $(load_socket_errors) socket errors; worst /health recovery $worst ms; $within of $rounds rounds within $target ms"
check "lighttpd survived every kill" kill -0 "$httpd"
check "the service still predicts" test "$(curl -s -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: image/png' --data-binary @"$work/digit.png" "$url/predict")" = 200
check "requests were answered throughout ($ok_requests)" test "$ok_requests" -gt 0
finish
