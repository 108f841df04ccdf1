# shellcheck shell=bash
# haproxy as the stand-in for a Kubernetes Service, configured the way kube-proxy
# behaves: plain TCP (mode tcp), no retries, no redispatch, and a replica taken out
# only when health checks on /health fail at the readiness probe's settings (period
# 5 s, timeout 3 s, failure threshold 3, success threshold 1). Sourced by
# tests/load/rollout.sh and tests/container/run.sh.
#
#   lb_start DIR PORT NAME=HOSTPORT[:off]...   haproxy on 127.0.0.1:PORT in front of
#                              the replicas (":off" ones start disabled, like pods not
#                              yet ready); its socket and log go to DIR; sets lb_pid
#   lb COMMAND                 haproxy's runtime API ("enable server pods/NAME", ...):
#                              what kube-proxy's endpoint updates stand for
#   lb_state NAME              haproxy's operational state of a replica: 2 is up, 0 down
#   lb_up NAME                 whether it is up
#   lb_stop
lb_dir=
lb_pid=

lb_start() {
  lb_dir=$1
  local port=$2 spec name addr
  shift 2
  {
    cat <<CFG
global
  stats socket $lb_dir/haproxy.sock mode 600 level admin
  maxconn 4096
defaults
  mode tcp
  retries 0
  no option redispatch
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout check 3s
  # the readiness probe: periodSeconds 5, failureThreshold 3, successThreshold 1
  default-server inter 5s fall 3 rise 1
frontend service
  bind 127.0.0.1:$port
  default_backend pods
backend pods
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
CFG
    for spec in "$@"; do
      name=${spec%%=*}
      addr=${spec#*=}
      case $addr in
        *:off) echo "  server $name ${addr%:off} check disabled" ;;
        *) echo "  server $name $addr check" ;;
      esac
    done
  } >"$lb_dir/haproxy.cfg"
  haproxy -f "$lb_dir/haproxy.cfg" -db >"$lb_dir/haproxy.log" 2>&1 &
  lb_pid=$!
  local _
  for _ in $(seq 100); do
    [ -S "$lb_dir/haproxy.sock" ] && return 0
    sleep 0.1
  done
  echo "lb.sh: haproxy did not start: $(tail -3 "$lb_dir/haproxy.log")" >&2
  return 1
}

lb() {
  /usr/bin/python3 - "$lb_dir/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
sys.stdout.write(s.makefile("rb").read().decode())  # haproxy closes after one command
PY
}
lb_state() { lb "show servers state pods" | awk -v r="$1" '$4 == r {print $6}'; }
lb_up() { [ "$(lb_state "$1")" = 2 ]; }
lb_stop() {
  [ -z "$lb_pid" ] || kill "$lb_pid" 2>/dev/null || true
  lb_pid=
}
