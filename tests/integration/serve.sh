#!/usr/bin/env bash
# Starts and stops the build tree's service (lighttpd + mnist-fcgi) on a free loopback
# port, for the integration and browser tests.
#
#   serve.sh start WORKDIR MODEL_PATH [MNIST_FCGI_ARGS]
#       starts in the background; writes WORKDIR/url (e.g. http://127.0.0.1:40123),
#       WORKDIR/pid (lighttpd), WORKDIR/launcher.pid (mnist-serve, lighttpd's parent
#       and the leader of their session) and WORKDIR/server.log; waits until
#       /health/live answers. The state directory (socket, spool) is WORKDIR/state, or
#       $SERVE_STATE_DIR. The port is $SERVE_PORT, or a free one. The drain window is
#       $DRAIN_SECONDS, 0 when unset (empty: mnist-serve's default).
#   serve.sh stop WORKDIR
#       stops the service (SIGTERM to mnist-serve) and makes sure nothing is left
# Needs top_srcdir and top_builddir (make check sets them).
set -euo pipefail
: "${top_srcdir:?}" "${top_builddir:?}"

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local work=$1 model=$2 args=${3:---quiet}
  mkdir -p "$work"
  local port=${SERVE_PORT:-}
  [ -n "$port" ] || port=$(free_port)
  local state=${SERVE_STATE_DIR:-$work/state}
  MNIST_WWW="$top_srcdir/www" MNIST_FCGI="$top_builddir/mnist-fcgi" \
  MNIST_ERRORS="$top_srcdir/lighttpd/errors" \
  MNIST_LIGHTTPD_CONF="$top_srcdir/lighttpd/lighttpd.conf" \
  PORT=$port BIND=127.0.0.1 MODEL_PATH=$model STATE_DIR="$state" MNIST_FCGI_ARGS="$args" \
    DRAIN_SECONDS=${DRAIN_SECONDS-0} setsid "$top_builddir/mnist-serve" >"$work/server.log" 2>&1 &
  echo $! >"$work/launcher.pid"
  local url="http://127.0.0.1:$port"
  for _ in $(seq 200); do
    if curl -fsS -o /dev/null "$url/health/live" 2>/dev/null; then
      echo "$url" >"$work/url"
      cp "$state/lighttpd.pid" "$work/pid"
      return 0
    fi
    kill -0 "$(cat "$work/launcher.pid")" 2>/dev/null || break
    sleep 0.05
  done
  echo "serve.sh: the service did not start; its log:" >&2
  cat "$work/server.log" >&2
  stop "$work"
  return 1
}

stop() {
  local work=$1 pid
  [ -f "$work/launcher.pid" ] || return 0
  pid=$(cat "$work/launcher.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  # mnist-serve ran in its own session (setsid): anything left in it is an orphan
  pkill -KILL -s "$pid" 2>/dev/null || true
  rm -f "$work/pid" "$work/launcher.pid"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: serve.sh start WORKDIR MODEL [ARGS] | serve.sh stop WORKDIR" >&2; exit 64 ;;
esac
