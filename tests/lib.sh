# shellcheck shell=bash
# Shared helpers for the shell tests: check/pass/fail, require and a summary line.
passed=0
failed=0
# OpenBLAS's x86 cores without AVX2 kernels, as src/mn_gemm.c lists them: what it falls
# back to on a CPU it does not know (an alternation for grep -E)
# shellcheck disable=SC2034 # used by the tests that source this file
openblas_pre_avx2='Unknown|Katmai|Coppermine|Northwood|Prescott|Banias|Core2|Penryn|Dunnington|Nehalem|Atom|Sandybridge|Athlon|Opteron|Opteron_SSE3|Barcelona|Bobcat|Bulldozer|Piledriver|Steamroller|Nano'
pass() { passed=$((passed + 1)); printf 'ok %d - %s\n' $((passed + failed)) "$1"; }
fail() { failed=$((failed + 1)); printf 'not ok %d - %s\n' $((passed + failed)) "$1"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}
# require DESCRIPTION COMMAND...: like check, but the test cannot go on without it:
# a failure prints the summary and exits 1.
require() {
  local what=$1
  shift
  if "$@"; then
    pass "$what"
  else
    fail "$what"
    finish
    exit 1
  fi
}
