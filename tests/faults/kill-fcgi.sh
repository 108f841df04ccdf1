#!/usr/bin/env bash
# Fault: the mnist-fcgi responder killed with SIGKILL every 5 s under load. Its
# supervisor (fcgi/supervise.c) keeps the listening socket and starts a new responder
# at once: /health must answer 200 again within FAULT_RECOVERY_MS (1000) each time;
# requests that fail are counted and reported (only those in flight in the killed
# process should: 500), and the service ends healthy, with the same lighttpd.
#
# Then the supervisor itself is killed (it holds no model and only waits, so this is
# the rare case): its orphaned responder must stop, and within 3 s either lighttpd
# has started a new supervisor and /health is 200, or /health/live fails so that the
# liveness probe restarts the container. The second happens: lighttpd 1.4.69 loses a
# backend it reaped when a request fails to connect in that same second (it marks it
# overloaded, re-enables it every second and never spawns it again).
#
# Environment: top_srcdir, top_builddir, MNIST_TEST_MODEL; FAULT_ROUNDS (6),
# FAULT_INTERVAL (5 s), FAULT_RECOVERY_MS (1000).
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
: "${MNIST_TEST_MODEL:?}"
rounds=${FAULT_ROUNDS:-6}
interval=${FAULT_INTERVAL:-5}
limit=${FAULT_RECOVERY_MS:-1000}

start_service "$MNIST_TEST_MODEL"
# each round kills the responder and waits for the supervisor to replace it
nprocs() { [ -n "$(fcgi_pid)" ] && echo 1 || echo 0; }
procs=1
sup=$(supervisor_pid)
echo "# lighttpd $httpd runs the supervisor $sup, which runs the responder $(fcgi_pid)"
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
echo "# $ok_requests requests answered 200, $failed_requests failed ($(load_count 500) status 500: in flight in a killed process; $(load_count 503) status 503: no process to take them), $(load_socket_errors) socket errors; worst /health recovery $worst ms"
check "lighttpd survived every kill" kill -0 "$httpd"
check "the same supervisor throughout ($sup)" test "$(supervisor_pid)" = "$sup"
check "the service still predicts" test "$(curl -s -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: image/png' --data-binary @"$work/digit.png" "$url/predict")" = 200
check "requests were answered throughout ($ok_requests)" test "$ok_requests" -gt 0
check "only requests in flight in a killed responder failed (no 503: the socket stayed open)" \
  test "$(load_count 503)" -eq 0

# the supervisor itself: lighttpd replaces it, and its orphaned responder stops
orphan=$(fcgi_pid)
kill -KILL "$sup"
t0=$(now_ms)
back=''
while [ $(($(now_ms) - t0)) -lt 3000 ]; do
  if [ "$(http_code /health)" = 200 ] && [ -n "$(supervisor_pid)" ] && [ "$(supervisor_pid)" != "$sup" ]; then
    back=$(($(now_ms) - t0))
    break
  fi
  sleep 0.01
done
if [ -n "$back" ]; then
  pass "supervisor killed: lighttpd started a new one, /health 200 after $back ms"
else
  live=$(http_code /health/live)
  echo "# supervisor killed: lighttpd did not start a new one within 3 s; /health/live $live"
  check "supervisor killed and not restarted: /health/live fails ($live), so the liveness probe restarts the container" \
    test "$live" != 200
fi
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
wait_gone() { local d=$(($(now_ms) + 5000)); until gone "$1"; do [ "$(now_ms)" -lt "$d" ] || return 1; sleep 0.01; done; }
check "supervisor killed: its orphaned responder $orphan stopped too" wait_gone "$orphan"

finish
