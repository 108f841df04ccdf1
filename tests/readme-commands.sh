#!/usr/bin/env bash
# The README's two command lines (README.md, "Set-up on a fresh Debian 12 machine") on a
# fresh clone of this repository's HEAD, in both orders; neither may destroy what the
# other made:
#   1. ./bootstrap && ./configure && make -j"$(nproc)" serve
#      run as written, with a quick model (MNIST_TRAIN_FLAGS, which `make model` passes
#      to mnist-train), stopped once /health answers 200;
#   2. tests/run-all.sh, as far as it touches the checkout: --build-only (its
#      dependencies, the copy of a configured checkout's sources, the build in build/ci),
#      not the 25-minute suite itself.
# The sequence 2, 1, 2, 1 has each order once: command 1 trains and serves beside
# command 2's build/ci and leaves it alone; command 2 builds from a copy beside command
# 1's build and model and leaves them alone; command 1 then reuses the model and
# rebuilds no program. Three builds (at -O0: READMETEST_CFLAGS) and a small training:
# about 3 minutes on 2 cores.
# Prints TAP-like lines and "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"

export MNIST_TRAIN_FLAGS='--epochs 1 --limit-train 2000 --limit-test 1000 --no-resume'
# configure takes CFLAGS from the environment: -O0 builds in a fraction of -O3's time
export CFLAGS=${READMETEST_CFLAGS:--O0 -g}
work=$(mktemp -d "${TMPDIR:-/tmp}/readme-commands.XXXXXX")
serve_pid=
cleanup() {
  [ -z "$serve_pid" ] || kill -TERM -- "-$serve_pid" 2>/dev/null || :
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '=== %s (%s)\n' "$*" "$(date +%T)" >&2; }

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# command1 DIR: the README's first command line in DIR, in a process group of its own,
# stopped (SIGTERM to the group: mnist-serve drains) once /health answers 200.
command1() {
  local dir=$1 port i
  port=$(free_port)
  log "command 1 in $dir (port $port)"
  # shellcheck disable=SC2016 # the README's command line, expanded by its own shell
  (cd "$dir" && PORT=$port exec setsid bash -c \
    './bootstrap && ./configure && make -j"$(nproc)" serve') >>"$dir.command1.log" 2>&1 &
  serve_pid=$!
  for ((i = 0; i < 600; i++)); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then
      kill -TERM -- "-$serve_pid" 2>/dev/null || :
      wait "$serve_pid" || :
      serve_pid=
      return 0
    fi
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 1
  done
  kill -TERM -- "-$serve_pid" 2>/dev/null || :
  serve_pid=
  tail -30 "$dir.command1.log" >&2
  return 1
}

command2() { # DIR
  log "command 2 (tests/run-all.sh --build-only) in $1"
  (cd "$1" && tests/run-all.sh --build-only) >>"$1.command2.log" 2>&1 ||
    { tail -30 "$1.command2.log" >&2; return 1; }
}

# fingerprint DIR FILE...: content and identity (inode, mtime) of each file, links followed
fingerprint() {
  local dir=$1 f
  shift
  for f in "$@"; do
    if [ -e "$dir/$f" ]; then
      printf '%s %s %s\n' "$f" "$(stat -L -c '%i %Y' "$dir/$f")" "$(sha256sum <"$dir/$f" | cut -c1-16)"
    else
      printf '%s missing\n' "$f"
    fi
  done
}
model=run/mnist_model.safetensors
programs="mnist-train mnist-fcgi mnist-serve mnist-model"

c=$work/clone
log "git clone $top $c"
git clone -q "$top" "$c"

check "2 then 1: command 2 on the fresh clone builds build/ci from the checkout" command2 "$c"
check "2 then 1: no copy of the sources was needed" test -x "$c/build/ci/mnist-fcgi" -a ! -e "$c/build/ci-src"
# shellcheck disable=SC2086 # a list of file names
ci_before=$(fingerprint "$c/build/ci" $programs)
check "2 then 1: command 1 after command 2 serves a model" command1 "$c"
check "2 then 1: command 1 trained run/mnist_model.safetensors" test -s "$c/$model"
# shellcheck disable=SC2086
check "2 then 1: command 1 left build/ci as it was" test "$ci_before" = "$(fingerprint "$c/build/ci" $programs)"

# shellcheck disable=SC2086
before=$(fingerprint "$c" "$model" $programs)
check "1 then 2: command 2 after command 1" command2 "$c"
check "1 then 2: command 2 built a copy of the sources (build/ci-src) into build/ci" \
  test -x "$c/build/ci/mnist-fcgi" -a -f "$c/build/ci-src/configure" -a ! -e "$c/build/ci/run"
# shellcheck disable=SC2086
check "1 then 2: command 2 left command 1's model and programs as they were" \
  test "$before" = "$(fingerprint "$c" "$model" $programs)"
: >"$c.command1.log"
check "1 then 2: command 1 again serves" command1 "$c"
check "1 then 2: command 1 again reused the model" grep -q "^Reusing $c/$model" "$c.command1.log"
# shellcheck disable=SC2086
check "1 then 2: command 1 again rebuilt no program and kept the model" \
  test "$before" = "$(fingerprint "$c" "$model" $programs)"

finish
