#!/usr/bin/env bash
# Hardening stages (see SECURITY.md): fuzzing, sanitizers, valgrind, load and fault
# tests. tests/run-all.sh calls them after the fast tests; each can run alone:
#
#   tests/hardening.sh fuzz [--long]    build the libFuzzer targets (configure CC=clang
#                                       --enable-fuzzing in FUZZ_DIR, make fuzz-targets),
#                                       replay the seeds and regressions, then fuzz each
#                                       target FUZZ_SECONDS (60); --long: FUZZ_RUNS
#                                       (10 million) executions each, one at a time
#   tests/hardening.sh fuzz-replay      build, replay seeds and tests/fuzz/regressions only
#   tests/hardening.sh sanitizers       configure --enable-sanitizers in build/asan and run
#                                       make check there, every test that runs our programs
#   tests/hardening.sh valgrind         every unit test binary once under valgrind
#   tests/hardening.sh load [--long]    wrk against /predict through lighttpd: 10 s (--long:
#                                       LOAD_SECONDS, 60) at 64 connections; statuses by
#                                       request type, RSS and fds of mnist-fcgi and lighttpd
#   tests/hardening.sh faults [--long]  the fault scripts in tests/faults/ (--long: more rounds)
#   tests/hardening.sh operations       rolling updates through haproxy with 0 failed
#                                       requests, and 1,000 and 4,000 connections
#   tests/hardening.sh systemd          make install into a Debian root booted with podman:
#                                       the systemd units driven with systemctl, a stop
#                                       under load (tests/systemd/run.sh; root, minutes)
#   tests/hardening.sh all [--long]     all of the above but systemd, in that order
#
# Environment:
#   top_builddir      a configured and built tree (default: build/ci if it exists, else
#                     the source tree if it is configured in place) for the load and
#                     fault stages; mnist-fcgi, mnist-train and
#                     mnist-serve are taken from there
#   MNIST_TEST_MODEL  the model to serve (default: the build's tests/artifacts model, or
#                     one trained quickly into build/hardening)
#   MNIST_DATA        the MNIST directory (default ~/.cache/mnist-service/mnist)
#   FUZZ_DIR (build/fuzz: the fuzzing build tree, its corpora and logs), FUZZ_SECONDS, FUZZ_RUNS, FUZZ_JOBS (parallel targets, default: online CPUs; 1 with
#   --long), FUZZ_TARGETS (default: all), LOAD_SECONDS, LOAD_CONNECTIONS
# Each stage ends with a line "N passed, N failed" and fails when anything failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top
stage=${1:-}
long=no
[ "${2:-}" = --long ] && long=yes

log() { printf '=== %s (%s)\n' "$*" "$(date +%T)" >&2; }
die() { echo "hardening.sh: $*" >&2; exit 1; }

# need_pkg PACKAGE...: installs the Debian packages that are missing (as root), or fails.
need_pkg() {
  local missing=
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages:$missing (sudo apt-get install$missing)"
  log "installing$missing"
  apt-get update -qq
  # shellcheck disable=SC2086 # word splitting is the point
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
}

# The configured build tree the service stages use.
find_builddir() {
  if [ -n "${top_builddir:-}" ]; then
    top_builddir=$(cd "$top_builddir" && pwd)
  elif [ -x "$top/build/ci/mnist-fcgi" ]; then
    top_builddir=$top/build/ci
  elif [ -x "$top/mnist-fcgi" ] && [ -f "$top/config.h" ]; then
    top_builddir=$top
  else
    die "no built tree: set top_builddir (tests/run-all.sh builds build/ci)"
  fi
  export top_builddir
}

# A trained model for the service stages: MNIST_TEST_MODEL, the build's test model,
# or a small one trained here (about 15 s).
find_model() {
  if [ -n "${MNIST_TEST_MODEL:-}" ] && [ -s "$MNIST_TEST_MODEL" ]; then
    return 0
  fi
  if [ -s "$top_builddir/tests/artifacts/test-model.safetensors" ]; then
    MNIST_TEST_MODEL=$top_builddir/tests/artifacts/test-model.safetensors
  else
    mkdir -p "$top/build/hardening"
    MNIST_TEST_MODEL=$top/build/hardening/model.safetensors
    if [ ! -s "$MNIST_TEST_MODEL" ]; then
      local data
      data=$("$top/trainer/fetch-mnist.sh" "${MNIST_DATA:-}" | tail -1)
      log "training a small model for the service stages"
      "$top_builddir/mnist-train" --data "$data" --limit-train 10000 --epochs 1 --no-resume \
        --out "$MNIST_TEST_MODEL" >"$top/build/hardening/train.log" 2>&1 ||
        { cat "$top/build/hardening/train.log"; die "training failed"; }
    fi
  fi
  export MNIST_TEST_MODEL
}

# ---------------------------------------------------------------- fuzzing
FUZZ_ALL="multipart v2_infer predict_json base64 image safetensors idx"
fuzz_dir=${FUZZ_DIR:-$top/build/fuzz}

# per target: dictionary (tests/fuzz/dict/NAME.dict, "-" for none) and -max_len
fuzz_dict() {
  case $1 in
    multipart) echo multipart ;;
    v2_infer | predict_json) echo json ;;
    image) echo image ;;
    safetensors) echo safetensors ;;
    idx) echo idx ;;
    *) echo - ;;
  esac
}
fuzz_max_len() {
  case $1 in
    base64) echo 4096 ;;
    multipart | idx | predict_json) echo 16384 ;;
    *) echo 65536 ;;
  esac
}

# fuzz_dir is a build tree of its own, configured with clang and --enable-fuzzing
# (everything under ASan, UBSan and libFuzzer's coverage); `make fuzz-targets` builds the
# targets there. A FUZZ_DIR already configured so is reused as it is.
fuzz_configure() {
  if [ -f "$fuzz_dir/config.status" ] && grep -q -e '--enable-fuzzing' "$fuzz_dir/config.status"; then
    return 0
  fi
  local src=$top
  [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >&2)
  if [ -f "$top/config.status" ]; then
    src=$top/build/fuzz-src
    log "the source tree is configured in place; copying its sources to $src"
    "$top/tests/copy-sources.sh" "$src" || die "cannot copy the sources"
  fi
  log "configure CC=clang --enable-fuzzing in $fuzz_dir"
  mkdir -p "$fuzz_dir"
  (cd "$fuzz_dir" && "$src/configure" CC=clang CFLAGS='-g -O1' --enable-fuzzing \
    --disable-openmp -q >&2) || die "configure for fuzzing failed (see $fuzz_dir/config.log)"
}

fuzz_build() {
  need_pkg clang libclang-rt-14-dev python3-pil libjson-c-dev libstb-dev zlib1g-dev \
    pkg-config make
  fuzz_configure
  log "building the fuzz targets in $fuzz_dir"
  make -s -C "$fuzz_dir" -j"$(nproc)" fuzz-targets >&2
  "$top/tests/fuzz/make-corpus.sh" "$fuzz_dir" "$fuzz_dir/tests/fuzz/seed_model" >&2
}

fuzz_targets() { echo "${FUZZ_TARGETS:-$FUZZ_ALL}"; }

# Runs every committed regression input and every seed once through its target.
fuzz_replay() {
  local t d files n pass=0 fail=0
  for t in $(fuzz_targets); do
    files=$(for d in "$top/tests/fuzz/regressions/$t" "$fuzz_dir/seeds/$t" "$fuzz_dir/extra/$t"; do
      [ ! -d "$d" ] || find "$d" -type f
    done | sort)
    n=$(printf '%s' "$files" | grep -c . || true)
    if [ "$n" -eq 0 ]; then
      continue
    fi
    # shellcheck disable=SC2086 # one argument per file; the names have no spaces
    if ASAN_OPTIONS=detect_leaks=1 "$fuzz_dir/tests/fuzz/fuzz_$t" -rss_limit_mb=2048 $files \
        >"$fuzz_dir/replay-$t.log" 2>&1; then
      printf 'ok - replay %s: %d inputs\n' "$t" "$n"
      pass=$((pass + 1))
    else
      printf 'not ok - replay %s: see %s\n' "$t" "$fuzz_dir/replay-$t.log"
      tail -30 "$fuzz_dir/replay-$t.log"
      fail=$((fail + 1))
    fi
  done
  replay_passed=$pass
  replay_failed=$fail
}

# fuzz_one TARGET: fuzzes for FUZZ_SECONDS (or FUZZ_RUNS executions with --long);
# the corpus grows in build/fuzz/corpus/TARGET; crashes go to build/fuzz/artifacts/.
fuzz_one() {
  local t=$1 dict limit
  dict=$(fuzz_dict "$t")
  mkdir -p "$fuzz_dir/corpus/$t" "$fuzz_dir/artifacts/$t"
  if [ "$long" = yes ]; then
    limit=-runs=${FUZZ_RUNS:-10000000}
  else
    limit=-max_total_time=${FUZZ_SECONDS:-60}
  fi
  local args=("$limit" -timeout=10 -rss_limit_mb=2048 -max_len="$(fuzz_max_len "$t")"
    -print_final_stats=1 -artifact_prefix="$fuzz_dir/artifacts/$t/")
  [ "$dict" = - ] || args+=(-dict="$top/tests/fuzz/dict/$dict.dict")
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    "$fuzz_dir/tests/fuzz/fuzz_$t" "${args[@]}" "$fuzz_dir/corpus/$t" "$fuzz_dir/seeds/$t" \
    >"$fuzz_dir/fuzz-$t.log" 2>&1
}

fuzz_summary_line() {
  local t=$1 rc=$2 execs rate secs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzz_dir/fuzz-$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$fuzz_dir/fuzz-$t.log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$fuzz_dir/fuzz-$t.log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    printf 'ok - fuzz %s: %s executions in %s s (%s exec/s), corpus %s\n' "$t" "${execs:-?}" \
      "${secs:-?}" "${rate:-?}" "$(find "$fuzz_dir/corpus/$t" -type f | wc -l)"
  else
    printf 'not ok - fuzz %s (exit %s): see %s\n' "$t" "$rc" "$fuzz_dir/fuzz-$t.log"
    grep -E 'ERROR|runtime error|invariant failed|Test unit written' "$fuzz_dir/fuzz-$t.log" | head -5
    grep -A25 '^==[0-9]*==ERROR' "$fuzz_dir/fuzz-$t.log" | head -30 || true
  fi
}

stage_fuzz() {
  local replay_only=${1:-no}
  fuzz_build
  replay_passed=0 replay_failed=0
  fuzz_replay
  local passed=$replay_passed failed=$replay_failed
  if [ "$replay_only" = no ]; then
    local jobs=${FUZZ_JOBS:-$(nproc)} t rc
    [ "$long" = yes ] && jobs=${FUZZ_JOBS:-1}
    log "fuzzing $(fuzz_targets | wc -w) targets, $jobs at a time, $([ "$long" = yes ] &&
      echo "${FUZZ_RUNS:-10000000} executions" || echo "${FUZZ_SECONDS:-60} s") each"
    local -a running=()
    for t in $(fuzz_targets); do
      (fuzz_one "$t" && echo 0 >"$fuzz_dir/rc-$t") || echo $? >"$fuzz_dir/rc-$t" &
      running+=($!)
      if [ "${#running[@]}" -ge "$jobs" ]; then
        wait "${running[0]}"
        running=("${running[@]:1}")
      fi
    done
    wait
    for t in $(fuzz_targets); do
      rc=$(cat "$fuzz_dir/rc-$t")
      fuzz_summary_line "$t" "$rc"
      if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
  fi
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- sanitizers
# The whole make check again, built with ASan + UBSan (configure --enable-sanitizers)
# out of tree in build/asan. Every sanitizer report of any process (the tests, and
# mnist-fcgi under lighttpd, whose stderr no test reads) goes to a file in
# build/asan/sanitizer-logs; any such file fails the stage.
stage_sanitizers() {
  local src=$top passed=0 failed=0
  if [ -f "$top/config.status" ]; then
    src=$top/build/asan-src
    log "the source tree is configured in place; copying its sources to $src"
    "$top/tests/copy-sources.sh" "$src" || die "cannot copy the sources"
  fi
  local b=$top/build/asan
  rm -rf "$b" && mkdir -p "$b/sanitizer-logs"
  log "configure --enable-sanitizers --enable-werror in $b"
  (cd "$b" && "$src/configure" --enable-sanitizers --enable-werror -q) || die "configure failed"
  log "build"
  make -s -C "$b" -j"$(nproc)" >"$b/build.log" 2>&1 || { tail -50 "$b/build.log"; die "build failed"; }
  # The shared test model, when the plain build has one: training it again at ASan's
  # speed (about 450 images/s) would take minutes and test nothing the trainer's own
  # end-to-end test does not (it trains, resumes and publishes under the sanitizers).
  local model=${top_builddir:-$top/build/ci}/tests/artifacts/test-model.safetensors reuse=()
  if [ -s "$model" ]; then
    reuse=("TEST_MODEL_FROM=$model")
    log "reusing the test model $model"
  fi
  log "make check (ASan + UBSan)"
  local rc=0
  # shellcheck disable=SC2016 # $(PROGRAM_TESTS) is for make to expand
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:log_path=$b/sanitizer-logs/asan \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$b/sanitizer-logs/ubsan \
    make -C "$b" -j"$(nproc)" check 'TESTS=$(PROGRAM_TESTS)' "${reuse[@]}" >"$b/check.log" 2>&1 || rc=$?
  local p f
  p=$(sed -n 's/^# PASS: *//p' "$b/test-suite.log" 2>/dev/null || true)
  f=$(sed -n 's/^# FAIL: *//p' "$b/test-suite.log" 2>/dev/null || true)
  grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$b/check.log" || true
  if [ "$rc" -eq 0 ]; then
    printf 'ok - make check with sanitizers: %s tests passed\n' "${p:-?}"
    passed=$((passed + 1))
  else
    printf 'not ok - make check with sanitizers (%s failed); see %s/test-suite.log\n' "${f:-?}" "$b"
    [ -f "$b/test-suite.log" ] && tail -80 "$b/test-suite.log"
    failed=$((failed + 1))
  fi
  if compgen -G "$b/sanitizer-logs/*" >/dev/null; then
    printf 'not ok - sanitizer reports:\n'
    for f in "$b"/sanitizer-logs/*; do
      echo "--- $f"
      head -40 "$f"
    done
    failed=$((failed + 1))
  else
    printf 'ok - no sanitizer report from any process (tests, mnist-fcgi, mnist-train)\n'
    passed=$((passed + 1))
  fi
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- valgrind
# Each unit test binary of the build tree once under valgrind's memcheck: any error, or
# a definite leak, fails it. OpenMP's and OpenBLAS's thread pools only leave "possibly
# lost" or "still reachable" blocks, which do not count; tests/valgrind.supp (if any
# report needs it) suppresses precisely what is named there.
stage_valgrind() {
  need_pkg valgrind
  find_builddir
  local progs t passed=0 failed=0
  # brings the build (and its Makefile, which may regenerate) up to date first
  make -s -C "$top_builddir" -j"$(nproc)" >/dev/null || die "the build in $top_builddir failed"
  # shellcheck disable=SC2016 # make expands it
  progs=$(make -s -C "$top_builddir" -f Makefile -f - print-check-programs \
    <<<'print-check-programs: ; @echo $(UNIT_TESTS)')
  # shellcheck disable=SC2086 # a list of targets
  make -s -C "$top_builddir" -j"$(nproc)" $progs >/dev/null
  local vdir=$top_builddir/tests/valgrind
  rm -rf "$vdir" && mkdir -p "$vdir"
  local supp=
  [ -f "$top/tests/valgrind.supp" ] && supp=--suppressions=$top/tests/valgrind.supp
  export top_srcdir top_builddir vdir supp
  # one valgrind per core: memcheck runs a program's threads one at a time
  # shellcheck disable=SC2016,SC2086 # expanded by the inner shell; a list of programs
  printf '%s\n' $progs | xargs -P"$(nproc)" -I{} sh -c '
    name=$(basename "{}"); start=$(date +%s)
    cd "$top_builddir" &&
    valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --track-origins=yes $supp --log-file="$vdir/$name.log" \
      "./{}" >"$vdir/$name.out" 2>&1
    echo "$? $(( $(date +%s) - start ))" >"$vdir/$name.rc"' || true
  for t in $progs; do
    local name rc secs
    name=$(basename "$t")
    read -r rc secs <"$vdir/$name.rc" || { rc=1; secs='?'; }
    if [ "$rc" -eq 0 ]; then
      printf 'ok - valgrind %s (%s s)\n' "$t" "$secs"
      passed=$((passed + 1))
    else
      printf 'not ok - valgrind %s (exit %s): see %s\n' "$t" "$rc" "$vdir/$name.log"
      head -40 "$vdir/$name.log"
      tail -5 "$vdir/$name.out"
      failed=$((failed + 1))
    fi
  done
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- load and faults
stage_load() {
  need_pkg wrk curl python3-pil lighttpd
  find_builddir
  find_model
  local secs=${LOAD_SECONDS:-10}
  [ "$long" = yes ] && secs=${LOAD_SECONDS:-60}
  log "load test: ${secs} s at ${LOAD_CONNECTIONS:-64} connections"
  LOAD_SECONDS=$secs "$top/tests/load/predict-load.sh"
}

stage_faults() {
  need_pkg wrk curl python3-pil lighttpd
  find_builddir
  find_model
  if [ "$long" = yes ]; then
    export FAULT_ROUNDS=${FAULT_ROUNDS:-12} FAULT_SWAPS=${FAULT_SWAPS:-40}
    export FAULT_KILLS=${FAULT_KILLS:-20} FAULT_SLOW_SECONDS=${FAULT_SLOW_SECONDS:-60}
  fi
  local t passed=0 failed=0 start
  for t in edge kill-fcgi model-swap trainer-kill trainer-full-fs slowloris; do
    log "fault test $t"
    start=$SECONDS
    if "$top/tests/faults/$t.sh"; then
      printf 'ok - fault test %s (%d s)\n' "$t" $((SECONDS - start))
      passed=$((passed + 1))
    else
      printf 'not ok - fault test %s (%d s)\n' "$t" $((SECONDS - start))
      failed=$((failed + 1))
    fi
  done
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# Rolling updates through haproxy and overload at 1,000 and 4,000 connections
# (tests/load/rollout.sh, tests/load/overload.sh): every check of both counts.
stage_operations() {
  need_pkg wrk curl python3-pil lighttpd haproxy
  find_builddir
  find_model
  local t passed=0 failed=0 line
  for t in rollout overload; do
    log "operations test $t"
    "$top/tests/load/$t.sh" 2>&1 | tee "$top_builddir/operations-$t.log" || true
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$top_builddir/operations-$t.log" | tail -1)
    if [ -z "$line" ]; then
      echo "not ok - $t.sh ended without its summary line"
      failed=$((failed + 1))
      continue
    fi
    passed=$((passed + ${line%% passed*}))
    line=${line#* passed, }
    failed=$((failed + ${line%% failed*}))
  done
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

# The systemd units, installed and booted (tests/systemd/run.sh; root; it debootstraps
# its root once, then takes about 3 minutes). systemd brings systemd.pc, with which
# configure finds the unit directory.
stage_systemd() {
  need_pkg podman runc debootstrap wrk curl python3 util-linux pkg-config systemd
  "$top/tests/systemd/run.sh"
}

stage_all() {
  local s rc=0
  for s in fuzz sanitizers valgrind load faults operations; do
    log "stage $s"
    "$0" "$s" ${2:+"$2"} || rc=1
  done
  return "$rc"
}

# ---------------------------------------------------------------- dispatch
case "$stage" in
  fuzz) stage_fuzz no ;;
  fuzz-replay) stage_fuzz yes ;;
  sanitizers) stage_sanitizers ;;
  valgrind) stage_valgrind ;;
  load) stage_load ;;
  faults) stage_faults ;;
  operations) stage_operations ;;
  systemd) stage_systemd ;;
  all) stage_all "$@" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac
