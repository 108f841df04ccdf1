#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): installs what it needs, fetches
# MNIST into its cache, builds out of the source tree with warnings as errors, runs
# every test, then `make distcheck`, then the README's two commands on a fresh clone
# (tests/readme-commands.sh), then the slow stages: load and fault tests,
# valgrind, the suite under sanitizers, fuzzing (tests/hardening.sh), the container
# images and the systemd units. Ends with a line "N passed, N failed".
#
#   tests/run-all.sh --build-only   the dependencies, the copy of a configured checkout's
#                                   sources and the out-of-tree build, then stop
#                                   (tests/readme-commands.sh checks the README's order)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
jobs=$(nproc)
build_only=no
case "${1:-}" in
  --build-only) build_only=yes ;;
  "") ;;
  *) echo "usage: tests/run-all.sh [--build-only]" >&2; exit 64 ;;
esac

stage() { printf '\n=== %s (%s) ===\n' "$*" "$(date +%T)"; }

stage "dependencies"
./bootstrap --test
export MNIST_DATA=${MNIST_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/mnist}
trainer/fetch-mnist.sh "$MNIST_DATA" >/dev/null

# The suite builds out of tree, in build/ci. After the README's first command
# (./configure && make serve in the checkout) it builds from a copy of the sources,
# and leaves the checkout's own build and model alone (tests/copy-sources.sh).
srcdir=$top
if [ -f config.status ]; then
  srcdir=$top/build/ci-src
  stage "the checkout is configured in place: copying its sources to $srcdir"
  tests/copy-sources.sh "$srcdir"
fi

stage "build (out of tree, -Werror) and make check"
rm -rf build/ci && mkdir -p build/ci && cd build/ci
"$srcdir/configure" --enable-werror -q
make -j"$jobs"
if [ "$build_only" = yes ]; then
  echo "built in $top/build/ci (--build-only)"
  exit 0
fi
if ! make -j"$jobs" check; then
  cat test-suite.log
  exit 1
fi
passed=$(sed -n 's/^# PASS: *//p' test-suite.log)
failed=$(sed -n 's/^# FAIL: *//p' test-suite.log)

# The stages below print "N passed, N failed" last.
count_stage() { # LOG: adds the stage's own summary line to the totals
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  if [ -z "$line" ]; then
    echo "run-all.sh: $1 has no summary line: counted as a failure" >&2
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + ${line%% passed*}))
  line=${line#* passed, }
  failed=$((failed + ${line%% failed*}))
}

stage "make distcheck"
# with the model this make check trained (Makefile.am, TEST_MODEL_FROM)
make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
  TEST_MODEL_FROM="$PWD/tests/artifacts/test-model.safetensors" >distcheck.log 2>&1 || {
  tail -100 distcheck.log
  exit 1
}
tail -4 distcheck.log
passed=$((passed + 1))

stage "the README's two commands on fresh clones, in either order (tests/readme-commands.sh)"
if "$top/tests/readme-commands.sh" >readme-commands.log 2>&1; then tail -3 readme-commands.log; else tail -60 readme-commands.log; fi
count_stage readme-commands.log

# tests/hardening.sh stages against build/ci (see SECURITY.md), then the images
export top_builddir=$top/build/ci
hardening() { # NAME STAGE [ARGS]: runs the stage, keeps its log, counts its summary
  local log=$top/build/ci/hardening-$1.log
  shift
  if "$top/tests/hardening.sh" "$@" >"$log" 2>&1; then tail -3 "$log"; else tail -60 "$log"; fi
  count_stage "$log"
}
stage "load test: wrk on /predict, valid and rejected requests, memory and fds flat"
hardening load load
stage "fault tests: kill -9 under load, model swaps, trainer killed and on a full disk, slow clients, the edge"
hardening faults faults
stage "operations: rolling updates through haproxy with 0 failed requests; 1,000 and 4,000 connections"
hardening operations operations
stage "valgrind: every unit test under memcheck"
hardening valgrind valgrind
stage "sanitizers: make check again, built with ASan + UBSan in build/asan"
hardening sanitizers sanitizers
# 30 s a target in CI's budget (tests/hardening.sh fuzz alone: 60 s; --long: 10 million runs)
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
stage "fuzzing: each libFuzzer target $FUZZ_SECONDS s, after replaying seeds and regressions"
hardening fuzz fuzz

stage "containers: build both images with buildah, run them with podman"
if make container-test >container.log 2>&1; then tail -3 container.log; else tail -60 container.log; fi
count_stage container.log

stage "systemd: make install into a Debian root booted with podman, the units driven with systemctl"
hardening systemd systemd

stage "summary"
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
