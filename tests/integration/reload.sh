#!/usr/bin/env bash
# The model's life cycle and the responder's, through the real lighttpd + mnist-fcgi:
#   - no model yet: /health 503 (JSON, no_model), /health/live 200, /predict 503;
#   - a model published atomically (temporary file + rename) is served within 2 s;
#   - the model replaced 5 times (by rename, each a different valid file) while
#     requests flow: 0 failed or wrong answers, /health shows the last version;
#   - corrupt replacements (truncated, garbage, empty, a lying header, a NaN weight,
#     a deskewing step mnist-fcgi does not know)
#     are refused: /health stays 200 with the old version and says last_reload_error,
#     predictions stay right; the next good file clears the error;
#   - a model's low-resolution temperature applies to an 8x8 digit, not to a 28x28 one;
#   - a model that asks for deskewing reads a leaning bar upright, one that does not
#     reads it as sent (?preview shows which);
#   - the model file removed: the loaded model keeps serving;
#   - kill -9 of the mnist-fcgi responder: its supervisor starts a new one and /health
#     is 200 again within 1 s (idle, three times, and under load);
#   - SIGTERM to lighttpd stops mnist-fcgi too; serve.sh stop leaves no mnist-fcgi.
# Prints the timings it measures ("# TIMING what ms").
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/integration/common.sh
source "$top_srcdir/tests/integration/common.sh"

model=$(test_model)
mkdir -p "$work/models" "$work/variants" "$work/bad"
target=$work/models/mnist_model.safetensors
for n in 1 2 3 4 5 6; do
  "$py" "$helper" variant "$model" "$work/variants/v$n.safetensors" "$n" >/dev/null
done
mapfile -t bad < <("$py" "$helper" corrupt "$model" "$work/bad")

# --- no model, then one appears ---------------------------------------------------
start_service svc "$target"
echo "# service at $url, model path $target (absent)"
py_checks no-model "$url"
py_checks publish "$model" "$target" "$url"

# --- hot swaps under load, corrupt replacements ------------------------------------
py_checks swap-under-load "$url" "$data" "$target" "$work"/variants/v{1,2,3,4,5}.safetensors
py_checks refuse "$url" "$data" "$target" "${bad[@]}"
py_checks low-res-temperature "$work/variants/v5.safetensors" "$target" "$url" "$data"
py_checks deskew "$work/variants/v5.safetensors" "$target" "$url"
py_checks publish "$work/variants/v6.safetensors" "$target" "$url"

# --- the file removed: the loaded model keeps serving ---------------------------------
version=$("$py" "$helper" version "$work/variants/v6.safetensors")
rm -f "$target"
sleep 1.2 # the watcher looks every 500 ms: give it two looks (nothing to poll for)
health_version() {
  curl -s "$url/health" | "$py" -c 'import json, sys; j = json.load(sys.stdin); print(j["status"], j["model"]["version"])'
}
check "model file removed: /health still 200 with version $version" test "$(health_version)" = "ok $version"
check "model file removed: predictions still answered" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$work/bad/empty.safetensors;type=image/png" "$url/predict")" = 422
py_checks publish "$work/variants/v6.safetensors" "$target" "$url"

# --- kill -9 of the responder ------------------------------------------------------------
lighttpd=$(cat "$work/svc/pid")
for _ in 1 2 3; do
  py_checks kill "$url" "$data" "$lighttpd" idle
  sleep 1.1 # a new second for lighttpd's once-a-second backend bookkeeping between kills
done
py_checks kill "$url" "$data" "$lighttpd" load

# --- shutdown ----------------------------------------------------------------------------
# lighttpd's child (the supervisor) and the responder under it
fcgi_pids() {
  local sup
  for sup in $(pgrep -P "$1" -x mnist-fcgi); do
    echo "$sup"
    pgrep -P "$sup" -x mnist-fcgi || true
  done
}
running() { # PID: alive and not a zombie waiting for its parent (or init) to reap it
  local state
  state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
none_running() { # PID...: none of them alive
  local p
  for p in "$@"; do
    ! running "$p" || return 1
  done
}
wait_until() { # COMMAND...: true within 5 s
  local deadline=$((SECONDS + 5))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.01
  done
}
wait_gone() { # PID...: all of them gone within 5 s
  wait_until none_running "$@"
}
mapfile -t before < <(fcgi_pids "$lighttpd")
check "one mnist-fcgi supervisor and its responder under lighttpd before stopping (${before[*]:-none})" \
  test "${#before[@]}" -eq 2
session=$(cat "$work/svc/launcher.pid")
stop_service svc
check "serve.sh stop: lighttpd gone" wait_gone "$lighttpd"
check "serve.sh stop: no mnist-fcgi left (${before[*]:-none})" wait_gone "${before[@]}"
# zombies do not count: here PID 1 may take a moment to reap the orphans it inherits
session_empty() { # SID: no live process left in the session
  local pids
  mapfile -t pids < <(pgrep -s "$1")
  none_running "${pids[@]}"
}
check "serve.sh stop: nothing left in mnist-serve's session" wait_until session_empty "$session"

# lighttpd alone stops its responder on SIGTERM (what Kubernetes sends), without
# serve.sh's clean-up of the session
start_service term "$target"
lighttpd=$(cat "$work/term/pid")
curl -s -o /dev/null "$url/health"
mapfile -t before < <(fcgi_pids "$lighttpd")
t0=$(date +%s%N)
kill -TERM "$lighttpd"
check "SIGTERM to lighttpd: it exits" wait_gone "$lighttpd"
check "SIGTERM to lighttpd: mnist-fcgi (${before[*]:-none}) exits too" wait_gone "${before[@]}"
echo "# TIMING SIGTERM to lighttpd until lighttpd and mnist-fcgi are gone: $((($(date +%s%N) - t0) / 1000000)) ms"
finish
