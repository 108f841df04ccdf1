#!/usr/bin/env bash
# Rolling updates through a real load balancer, under a steady load, with 0 failed
# requests. haproxy stands in for the Kubernetes Service and is configured the way
# kube-proxy behaves: plain TCP (mode tcp), no retries, no redispatch; it learns that a
# replica is unready only from health checks on /health at the readiness probe's
# settings (period 5 s, timeout 3 s, failure threshold 3, success threshold 1). The
# replicas are the build tree's mnist-serve (lighttpd + mnist-fcgi) with the default
# drain window. wrk posts a digit to /predict at ROLLOUT_CONNECTIONS (16) through
# haproxy during each change:
#   a. rolling update: for each of the 2 replicas, start a new one, wait until it is
#      ready and in the balancer, then SIGTERM the old one; the balancer drops it 1 s
#      later (the endpoint removal reaching kube-proxy), as the Deployment controller
#      does with maxSurge 1, maxUnavailable 0;
#   b. the race: SIGTERM alone; the balancer learns only through failing checks;
#   c. scale from 2 to 1.
# Each must end with no socket error and no status but 200. Prints, for each change,
# the requests served during it and how long each stopped replica took to exit.
#
# Environment: top_srcdir, top_builddir (a built tree), MNIST_TEST_MODEL, MNIST_DATA,
# ROLLOUT_CONNECTIONS, ROLLOUT_DRAIN_SECONDS (default: mnist-serve's; 0 shows what fails
# without the drain).
set -euo pipefail
: "${top_srcdir:?}" "${top_builddir:?}" "${MNIST_TEST_MODEL:?}"
# shellcheck source=tests/faults/common.sh
source "$top_srcdir/tests/faults/common.sh"
# shellcheck source=tests/load/lb.sh
source "$top_srcdir/tests/load/lb.sh"

conns=${ROLLOUT_CONNECTIONS:-16}
command -v haproxy >/dev/null || { echo "rollout.sh: haproxy is needed (Debian package haproxy)" >&2; exit 1; }
py=/usr/bin/python3
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# replicas r1..r4 on fixed ports: r1, r2 serve first; r3, r4 replace them
declare -A port
for r in r1 r2 r3 r4; do port[$r]=$(free_port); done
lb_port=$(free_port)
url=http://127.0.0.1:$lb_port
running=() stopped=()

rollout_cleanup() {
  local r
  for r in "${running[@]}"; do "$serve" stop "$work/$r" || true; done # stopped ones: no pid file
  lb_stop
}
trap 'rollout_cleanup; fault_cleanup' EXIT

wait_for() { # SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

start_replica() { # NAME: serve it, with mnist-serve's default drain window
  SERVE_PORT=${port[$1]} DRAIN_SECONDS=${ROLLOUT_DRAIN_SECONDS:-} "$serve" start "$work/$1" "$MNIST_TEST_MODEL" --quiet
  running+=("$1")
}

# the Deployment controller's part: a new replica, ready, then in the balancer
add_replica() {
  start_replica "$1"
  curl -fsS -o /dev/null "http://127.0.0.1:${port[$1]}/health"
  lb "enable server pods/$1" >/dev/null
  wait_for 20 lb_up "$1" || fail "$1 never came up in haproxy (state $(lb_state "$1"))"
}

# stop_replica NAME [remove]: SIGTERM to its mnist-serve, as the kubelet sends it; with
# "remove", the balancer drops it 1 s later. Records the time to exit in $work/NAME.exit
# and when haproxy stopped sending it new connections in $work/NAME.down.
stop_replica() {
  local name=$1 how=${2:-} pid t0
  pid=$(cat "$work/$name/launcher.pid")
  t0=$(now_ms)
  kill -TERM "$pid"
  (
    if [ "$how" = remove ]; then sleep 1; lb "disable server pods/$name" >/dev/null; fi
    local polls=0
    while kill -0 "$pid" 2>/dev/null; do
      if [ $((polls++ % 10)) = 0 ] && [ ! -s "$work/$name.down" ] && ! lb_up "$name"; then
        echo $(($(now_ms) - t0)) >"$work/$name.down" # to within 0.5 s
      fi
      sleep 0.05
    done
    echo $(($(now_ms) - t0)) >"$work/$name.exit"
  ) &
}
wait_stopped() { # NAME...: until each has exited (at most 45 s), then forget them
  local name
  for name in "$@"; do
    wait_for 45 test -s "$work/$name.exit" || fail "$name did not exit within 45 s"
    echo "# $name out of haproxy $(cat "$work/$name.down" 2>/dev/null || echo '?') ms and exited" \
      "$(cat "$work/$name.exit" 2>/dev/null || echo '?') ms after SIGTERM"
    rm -f "$work/$name/launcher.pid" # nothing left for the clean-up to stop
    stopped+=("$name")
  done
}

# change NAME ACTION...: steady load through haproxy, ACTION, then the verdict
change() {
  local name=$1
  shift
  FAULT_BODY=$work/digit.png wrk -t2 -c"$conns" -d600s --timeout 5s \
    -s "$top_srcdir/tests/faults/count.lua" "$url" >"$work/load.out" 2>&1 &
  load_pid=$!
  sleep 2
  local t0
  t0=$(now_ms)
  "$@"
  sleep 1
  kill -INT "$load_pid"
  wait_load
  local served errors other
  served=$(awk '$1 == "FAULT" && $2 == "requests" {print $3}' "$work/load.out")
  errors=$(load_socket_errors)
  other=$(load_count other)
  echo "# $name: $served requests in $((($(now_ms) - t0 + 3000) / 1000)) s through haproxy, $(load_count 200) answered 200"
  load_summary
  check "$name: no socket error (${errors:-none counted})" test "${errors:-1}" = 0
  check "$name: no status but 200 ($other)" test "$other" = 0
  check "$name: requests were served (${served:-0})" test "${served:-0}" -gt 0
  if [ "${errors:-1}" != 0 ] || [ "$other" != 0 ]; then show_logs; fi
}
show_logs() { # what the stopped replicas and haproxy said, for a failed change
  local r
  for r in "${stopped[@]}"; do
    echo "# --- $r's log (mnist-serve, lighttpd, mnist-fcgi), last 15 lines"
    tail -15 "$work/$r/server.log" | sed 's/^/#   /'
  done
  echo "# --- haproxy's log, last 15 lines"
  tail -15 "$work/haproxy.log" | sed 's/^/#   /'
}

rolling_update() {
  add_replica r3
  stop_replica r1 remove
  add_replica r4
  stop_replica r2 remove
  wait_stopped r1 r2
}
race() {
  stop_replica r3
  wait_stopped r3
  check "race: haproxy saw r3 down through its checks (state $(lb_state r3))" test "$(lb_state r3)" = 0
}
scale_down() {
  stop_replica r4 remove
  wait_stopped r4
}

make_digit "$work/digit.png"
start_replica r1
start_replica r2
lb_start "$work" "$lb_port" r1="127.0.0.1:${port[r1]}" r2="127.0.0.1:${port[r2]}" \
  r3="127.0.0.1:${port[r3]}:off" r4="127.0.0.1:${port[r4]}:off"
if ! wait_for 10 lb_up r1 || ! wait_for 10 lb_up r2; then
  fail "haproxy never saw r1 and r2 up"
fi
echo "# haproxy on $url in front of r1 (${port[r1]}), r2 (${port[r2]})"

change "rolling update (r1, r2 -> r3, r4)" rolling_update
change "race (SIGTERM to r3 alone: haproxy learns from /health)" race
# back to two replicas for the scale-down
lb "disable server pods/r1" >/dev/null
add_replica r1
change "scale from 2 to 1 (r4 stops)" scale_down
finish
