#!/usr/bin/env bash
# Fault: slow clients. FAULT_SLOW_SOCKETS (200) connections on loopback each send one
# byte of a request header per second for FAULT_SLOW_SECONDS (20) while /health is
# requested every 0.25 s (tests/faults/slowloris.py). Passes when every /health is
# answered 200 and none takes longer than FAULT_SLOW_LIMIT_MS (500; Kubernetes' probe
# allows 3 s). Reports the latencies and how many slow connections lighttpd dropped.
#
# Environment: top_srcdir, top_builddir, MNIST_TEST_MODEL.
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
: "${MNIST_TEST_MODEL:?}"
sockets=${FAULT_SLOW_SOCKETS:-200}
seconds=${FAULT_SLOW_SECONDS:-20}
limit=${FAULT_SLOW_LIMIT_MS:-500}

start_service "$MNIST_TEST_MODEL"
port=${url##*:}
fds_before=$(find "/proc/$httpd/fd" -mindepth 1 -maxdepth 1 | wc -l)
/usr/bin/python3 "$top_srcdir/tests/faults/slowloris.py" 127.0.0.1 "$port" "$sockets" "$seconds" \
  >"$work/slow.out"
sed 's/^SLOW /# /' "$work/slow.out"
val() { awk -v k="$1" '$1 == "SLOW" && $2 == k {print $3}' "$work/slow.out"; }
max=$(val health_max_ms)
check "/health answered 200 every time ($(val health_requests) requests, $(val health_failures) failed)" \
  test "$(val health_failures)" -eq 0 -a "$(val health_requests)" -gt 0
check "/health latency under $sockets slow clients: p50 $(val health_p50_ms) ms, p99 $(val health_p99_ms) ms, max $max ms (limit $limit)" \
  awk -v m="$max" -v l="$limit" 'BEGIN {exit !(m >= 0 && m <= l)}'
sleep 1
fds_after=$(find "/proc/$httpd/fd" -mindepth 1 -maxdepth 1 | wc -l)
check "lighttpd closed the slow connections afterwards ($fds_before fds before, $fds_after after)" \
  test "$fds_after" -le $((fds_before + 2))
finish
