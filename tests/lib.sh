# shellcheck shell=bash
# Shared helpers for the shell tests: check/pass/fail, require and a summary line.
passed=0
failed=0
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
