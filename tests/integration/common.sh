# shellcheck shell=bash
# Shared by the integration tests (api.sh, reload.sh, accuracy.sh); sourced after
# tests/lib.sh. Gives:
#   $work          a temporary directory, removed on exit with every service started
#   start_service NAME MODEL [MNIST_FCGI_ARGS]   serve.sh start into $work/NAME; sets $url
#   test_model     the path of the shared test model ($MNIST_TEST_MODEL, else trained once
#                  into $top_builddir/tests/artifacts as make check does)
#   py_checks ARGS...   runs mnist_http.py ARGS: its "ok"/"not ok" lines become checks
# (failed comes from tests/lib.sh; url is for the sourcing script)
# shellcheck disable=SC2154,SC2034
: "${top_srcdir:?run through make check (top_srcdir)}" "${top_builddir:?run through make check (top_builddir)}"
export top_srcdir top_builddir

serve=$top_srcdir/tests/integration/serve.sh
helper=$top_srcdir/tests/integration/mnist_http.py
py=/usr/bin/python3 # Debian's: it sees python3-pil (a pyenv shim on PATH would not)
data=$("$top_srcdir/trainer/fetch-mnist.sh" | tail -1)
work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-integration.XXXXXX")
services=()

cleanup() {
  local s
  for s in "${services[@]}"; do
    if [ "$failed" -gt 0 ] && [ -f "$work/$s/server.log" ]; then
      echo "# --- the last lines of $s/server.log"
      tail -n 20 "$work/$s/server.log" | sed 's/^/#   /'
    fi
    "$serve" stop "$work/$s" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_service NAME MODEL [MNIST_FCGI_ARGS]: the build tree's lighttpd + mnist-fcgi
# (per-request log lines on unless ARGS say otherwise: they help when a check fails)
start_service() {
  services+=("$1")
  "$serve" start "$work/$1" "$2" "${3:---reload-interval 500}" || return 1
  url=$(cat "$work/$1/url")
}

stop_service() {
  "$serve" stop "$work/$1"
}

test_model() {
  if [ -n "${MNIST_TEST_MODEL:-}" ]; then
    [ -s "$MNIST_TEST_MODEL" ] || { echo "MNIST_TEST_MODEL=$MNIST_TEST_MODEL is not a model file" >&2; return 1; }
    echo "$MNIST_TEST_MODEL"
    return
  fi
  local model=$top_builddir/tests/artifacts/test-model.safetensors
  mkdir -p "$top_builddir/tests/artifacts"
  (
    flock 9
    if [ ! -s "$model" ] || [ "$top_builddir/mnist-train" -nt "$model" ]; then
      echo "# training the shared test model into $model (as make check does; a minute or two)" >&2
      "$top_builddir/mnist-train" --data "$data" --epochs 3 --seed 1 --no-resume --out "$model" \
        2>"$top_builddir/tests/artifacts/test-model.log" || {
        tail -n 20 "$top_builddir/tests/artifacts/test-model.log" >&2
        exit 1
      }
    fi
  ) 9>"$top_builddir/tests/artifacts/test-model.lock" || return 1
  echo "$model"
}

# py_checks ARGS...: runs mnist_http.py ARGS; its "ok<TAB>WHAT" / "not ok<TAB>WHAT"
# lines count as checks here, other lines are printed as comments. A helper that dies
# without reporting a failure counts as one.
py_checks() {
  local line rc=1 before=$failed tab=$'\t'
  while IFS= read -r line; do
    case $line in
      "ok$tab"*) pass "${line#ok"$tab"}" ;;
      "not ok$tab"*) fail "${line#not ok"$tab"}" ;;
      "__rc "*) rc=${line#__rc } ;;
      "#"*) printf '%s\n' "$line" ;;
      *) printf '# %s\n' "${line//$tab/ }" ;;
    esac
  done < <("$py" "$helper" "$@" 2>&1; echo "__rc $?")
  if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
    fail "mnist_http.py $1 exited with status $rc"
  fi
}

# status URL [CURL ARGS...]: the HTTP status code only
status() {
  local u=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' "$@" "$u"
}
