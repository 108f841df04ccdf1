#!/usr/bin/env bash
# The edge (lighttpd/lighttpd.conf), probed as an attacker would: only the UI's files
# and the API routes are reachable, and every response carries the security headers.
#   - path traversal (plain, percent-encoded, with NUL), dotfiles, backup files, the
#     configuration, the model, the FastCGI socket and the state directory: 400, 403
#     or 404, and never their content;
#   - the UI's files and the API answer, with the right Content-Type;
#   - Content-Security-Policy, X-Content-Type-Options, X-Frame-Options,
#     Referrer-Policy and Cross-Origin-Opener-Policy on every response: pages, API
#     answers, API errors (405, 404, 415, 503) and lighttpd's own errors (403, 404, 501) --
#     except what lighttpd answers while still reading the request head, before any
#     module runs: 400 for a request it cannot parse, 413 for a Content-Length above
#     server.max-request-size (that one must still be the JSON error body);
#   - the Server header names no version.
#
# Environment: top_srcdir, top_builddir, MNIST_TEST_MODEL.
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
: "${MNIST_TEST_MODEL:?}"

start_service "$MNIST_TEST_MODEL"
headers_re='^(content-security-policy|x-content-type-options|x-frame-options|referrer-policy|cross-origin-opener-policy):'

# probe WANT_CODES PATH [CURL_ARGS...]: the status is one of WANT_CODES (a regex), the
# five headers are there, and the body holds nothing it should not
probe() {
  local want=$1 path=$2
  shift 2
  local code n leak
  code=$(curl -s --path-as-is -o "$work/body" -D "$work/head" -w '%{http_code}' "$@" "$url$path" || true)
  n=$(grep -ciE "$headers_re" "$work/head" || true)
  leak=$(grep -lE 'root:x:0|server\.modules|"data_offsets"|\[core\]' "$work/body" || true)
  if [[ $code =~ ^($want)$ ]] && [ "$n" -eq 5 ] && [ -z "$leak" ]; then
    pass "$path ${*:+($*) }-> $code, 5 security headers"
  else
    fail "$path ${*:+($*) }-> $code (want $want), $n of 5 security headers${leak:+, LEAKS CONTENT}"
  fi
}

# --- what must not be reachable
for p in /../lighttpd/lighttpd.conf /..%2f..%2flighttpd%2flighttpd.conf /%2e%2e/%2e%2e/etc/passwd \
  /..%2f..%2f..%2f..%2fetc%2fpasswd '/%2e%2e%5c%2e%2e%5cetc%5cpasswd' /www/../../etc/passwd \
  /lighttpd.conf /lighttpd/lighttpd.conf /.git/config /.env /.htaccess /index.html~ /app.js.bak \
  /mnist_model.safetensors /model.safetensors /run/mnist_model.safetensors \
  /state/mnist-fcgi.sock /state/lighttpd.pid /uploads/ /errors/status-404.html /mnist-serve \
  '/model/../lighttpd.conf' '/predict/../.git/config'; do
  probe '400|403|404' "$p"
done
# a NUL byte in the path: refused by lighttpd's request parser (400, no module runs)
code=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$url/index.html%00.safetensors" || true)
check "/index.html%00.safetensors -> $code (400 from the request parser)" test "$code" = 400

# --- what must be reachable, with the headers
probe 200 /
probe 200 /index.html
probe 200 /app.js
probe 200 /style.css
probe 200 /favicon.svg
probe 200 /health
probe 200 /health/live
probe 200 /metrics
probe 200 /v2
probe 200 /v2/models/mnist
check "/app.js is served as JavaScript" \
  bash -c "curl -s -D - -o /dev/null '$url/app.js' | grep -qi '^content-type: text/javascript'"
# --- API and lighttpd errors, with the headers
probe 405 /predict
probe 404 /nope
probe 404 /v2/models/other
probe 404 /predict/extra -X POST -H 'Content-Type: image/png' --data-binary x
probe 415 /predict -X POST -H 'Content-Type: text/plain' --data-binary x
head -c $((9 * 1024 * 1024)) /dev/zero >"$work/big"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: image/png' \
  --data-binary @"$work/big" "$url/predict" || true)
check "POST /predict of 9 MiB -> $code from lighttpd, the JSON error body: $(head -c 90 "$work/body")" \
  grep -q '"code":"too_large"' "$work/body"
probe '405|501' / -X TRACE
probe '405|501' /index.html -X DELETE
check "the Server header names no version: $(curl -s -D - -o /dev/null "$url/" | tr -d '\r' | grep -i '^server:')" \
  bash -c "curl -s -D - -o /dev/null '$url/' | tr -d '\\r' | grep -qix 'server: mnist-service'"
check "no directory listing: /errors/ -> $(curl -s -o /dev/null -w '%{http_code}' "$url/errors/")" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$url/errors/")" = 404

# --- without a model: 503 with the headers
"$serve" stop "$work/svc"
start_service "$work/no-such-model.safetensors"
probe 503 /health
probe 503 /predict -X POST -H 'Content-Type: image/png' --data-binary x
finish
