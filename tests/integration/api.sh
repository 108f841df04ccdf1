#!/usr/bin/env bash
# The API through the real lighttpd and mnist-fcgi (build tree, loopback port):
#   - /predict reads MNIST test digits right sent every way it accepts (multipart,
#     raw PNG/JPEG/GIF/BMP/octet-stream, JSON base64, data: URL, pixels), with
#     ?preview=1 and ?preprocess=0; answers are complete (prediction = argmax,
#     confidence, 10 probabilities summing to 1, model version and creation time);
#   - /health and /health/live answer 200;
#   - every bad request gets its exact status and a JSON error {"error": {"code",
#     "message"}}, and /health is still 200 after each one (mnist_http.py api);
#   - the same through curl, as users send it (-F, --data-binary, chunked, 9 MB);
#   - security headers on the UI and the API, no directory listing, nothing outside
#     the document root and no config, script, model or dotfile reachable.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/integration/common.sh
source "$top_srcdir/tests/integration/common.sh"

model=$(test_model)
start_service svc "$model"
echo "# service at $url, model $model"

# --- formats, answers and errors (Python, one keep-alive connection) -------------
py_checks api "$url" "$data"

# --- the same as curl sends it ----------------------------------------------------
label=$("$py" "$helper" png "$data" 0 "$work/digit.png")
predict_ok() { # CURL ARGS...: 200 and the digit's label
  local body
  body=$(curl -s -w '\n%{http_code}' "$@" "$url/predict") || return 1
  [ "$(tail -n 1 <<<"$body")" = 200 ] &&
    "$py" -c 'import json, sys; sys.exit(json.loads(sys.argv[1])["prediction"] != int(sys.argv[2]))' \
      "$(head -n 1 <<<"$body")" "$label"
}
check "curl -F file=@digit.png: right" predict_ok -F "file=@$work/digit.png"
check "curl -F file=@digit.png;type=application/octet-stream: right" \
  predict_ok -F "file=@$work/digit.png;type=application/octet-stream"
check "curl --data-binary @digit.png -H Content-Type: image/png: right" \
  predict_ok -H 'Content-Type: image/png' --data-binary "@$work/digit.png"
check "a chunked request body (no Content-Length): right" \
  predict_ok -H 'Content-Type: image/png' -H 'Transfer-Encoding: chunked' --data-binary "@$work/digit.png"
check "curl with a JSON body holding a data: URL: right" \
  predict_ok -H 'Content-Type: application/json' \
  --data-binary "{\"image\": \"data:image/png;base64,$(base64 -w0 "$work/digit.png")\"}"

# error_is STATUS CODE CURL ARGS...: that status, a JSON error with that code (or any
# code when CODE is -), and /health 200 afterwards
error_is() {
  local want=$1 code=$2 out
  shift 2
  out=$(curl -s -D "$work/headers" -o "$work/body" -w '%{http_code}' "$@" "$url/predict") || true
  [ "$out" = "$want" ] || { echo "#   got status $out: $(head -c 300 "$work/body")"; return 1; }
  grep -qi '^content-type: application/json' "$work/headers" || { echo "#   not JSON: $(cat "$work/headers")"; return 1; }
  "$py" - "$work/body" "$code" <<'PY' || return 1
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert isinstance(e["message"], str) and e["message"], e
assert sys.argv[2] == "-" or e["code"] == sys.argv[2], e
PY
  [ "$(status "$url/health")" = 200 ]
}
head -c $((9 * 1000 * 1000)) /dev/zero | tr '\0' 'x' >"$work/9mb.bin"
head -c $((8 * 1024 * 1024 + 1)) /dev/zero >"$work/8mib-plus-1.bin"
check "a 9 MB body: 413 too_large JSON (from lighttpd); /health 200 after" \
  error_is 413 too_large -H 'Content-Type: image/png' --data-binary "@$work/9mb.bin"
check "a 9 MB multipart upload: 413 JSON; /health 200 after" \
  error_is 413 - -F "file=@$work/9mb.bin;type=image/png"
check "8 MiB + 1 byte: 413 JSON; /health 200 after" \
  error_is 413 - -H 'Content-Type: image/png' --data-binary "@$work/8mib-plus-1.bin"
check "an empty body (Content-Length: 0): 400 empty_body; /health 200 after" \
  error_is 400 empty_body -H 'Content-Type: image/png' --data-binary ''
check "random bytes: 422 bad_image; /health 200 after" \
  error_is 422 bad_image -H 'Content-Type: application/octet-stream' --data-binary "@$helper"
check "GET /predict: 405; /health 200 after" error_is 405 method_not_allowed
check "curl -F other=@digit.png (no file part): 400 no_file; /health 200 after" \
  error_is 400 no_file -F "other=@$work/digit.png"
got=$(curl -s -D "$work/headers" -o "$work/body" -w '%{http_code}' -X POST "$url/predict")
check "POST /predict without a body or Content-Length: 411" test "$got" = 411
grep -qi '^content-type: application/json' "$work/headers" ||
  echo "# note: lighttpd's own 411 is $(grep -i '^content-type' "$work/headers" | tr -d '\r'), not JSON"
check "GET /health after all that: 200" test "$(status "$url/health")" = 200

# mnist-fcgi's own limit, below lighttpd's: it answers 413 without reading the body
# (then ends the connection with libfcgi's lingering close; a fully read request is
# closed at once). lighttpd 1.4.69 would deliver the 413 even after a plain close
# while it still writes the body (tried), other front ends may not. Alternated with
# good requests, 20 times each.
main_url=$url
start_service small "$model" "--quiet --max-body 4096"
small=$url
url=$main_url
head -c 4000000 /dev/zero >"$work/4mb.bin"
codes=
for _ in $(seq 20); do
  codes+=" $(curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: image/png' --data-binary "@$work/4mb.bin" "$small/predict")"
  grep -q '"too_large"' "$work/body" || codes+="(not too_large JSON)"
  codes+=" $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: image/png' --data-binary "@$work/digit.png" "$small/predict")"
done
check "--max-body 4096: 20 bodies of 4 MB refused 413 too_large, 20 digits answered 200" \
  test "$codes" = "$(printf ' 413 200%.0s' $(seq 20))"
[ "$codes" = "$(printf ' 413 200%.0s' $(seq 20))" ] || echo "#   statuses:$codes"
stop_service small

# --- security headers ------------------------------------------------------------
# has_security_headers CURL ARGS...: Content-Security-Policy (self only, no framing)
# and X-Content-Type-Options: nosniff on the response
has_security_headers() {
  curl -s -D "$work/headers" -o /dev/null "$@" || return 1
  tr -d '\r' <"$work/headers" >"$work/h"
  if grep -qi "^content-security-policy: .*default-src 'self'" "$work/h" &&
    grep -qi "^content-security-policy: .*frame-ancestors 'none'" "$work/h" &&
    ! grep -qi "^content-security-policy: .*unsafe-eval" "$work/h" &&
    grep -qi '^x-content-type-options: nosniff$' "$work/h"; then
    return 0
  fi
  echo "#   headers of $*:"
  sed 's/^/#     /' "$work/h"
  return 1
}
for path in / /index.html /app.js /style.css /favicon.svg /health /health/live /metrics /no-such-page; do
  check "security headers on GET $path" has_security_headers "$url$path"
done
check "security headers on a /predict answer" \
  has_security_headers -H 'Content-Type: image/png' --data-binary "@$work/digit.png" "$url/predict"
check "security headers on a /predict error" \
  has_security_headers -H 'Content-Type: text/plain' --data-binary 'x' "$url/predict"
check "security headers on a 405" has_security_headers "$url/predict"
if ! has_security_headers -H 'Content-Type: image/png' --data-binary "@$work/9mb.bin" "$url/predict" >/dev/null; then
  echo "# note: lighttpd's own 413 (request too large) carries no security headers"
fi

# --- nothing but the UI is reachable ------------------------------------------------
check "unknown path outside the API: 404" test "$(status "$url/no-such-page")" = 404
curl -s -D "$work/headers" -o /dev/null "$url/no-such-page"
grep -qi '^content-type: application/json' "$work/headers" ||
  echo "# note: a 404 outside the API routes is lighttpd's HTML page, not JSON"
# refused PATH: 400, 403 or 404, and none of the config, the model, or /etc/passwd
refused() {
  local got
  got=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$url$1")
  case $got in 400 | 403 | 404) ;; *) echo "#   $1: $got"; return 1 ;; esac
  ! grep -aq -e 'server.modules' -e 'root:x:0' -e '__metadata__' -e 'fastcgi.server' "$work/body"
}
rel=$(realpath --relative-to="$top_srcdir/www" "$model")
for path in /lighttpd.conf /../lighttpd/lighttpd.conf /../../../../etc/passwd \
  /%2e%2e/lighttpd/lighttpd.conf /..%2flighttpd%2flighttpd.conf /%2e%2e%2f%2e%2e%2fetc%2fpasswd \
  "/$rel" "/%2e%2e/${rel#../}" /predict/../../lighttpd/lighttpd.conf /index.html/../../lighttpd/lighttpd.conf \
  /..%5clighttpd%5clighttpd.conf /.hidden /.git/config /.htaccess /errors/status-404.html \
  /mnist-fcgi.sock-0 /uploads/ /state/ "/$(basename "$model")"; do
  check "GET $path: refused (400/403/404), nothing leaked" refused "$path"
done

# A document root that holds what must never be served (a copy of www/ plus a
# directory, dotfiles, a config, a script, a model file, an editor backup): the
# configuration must refuse all of them, whatever lands there by mistake.
mkdir -p "$work/src/lighttpd" "$work/src/www/sub/deeper" "$work/src/www/.git" "$work/src/www/empty"
cp -r "$top_srcdir/www/." "$work/src/www/"
ln -s "$top_srcdir/lighttpd/lighttpd.conf" "$work/src/lighttpd/lighttpd.conf"
ln -s "$top_srcdir/lighttpd/errors" "$work/src/lighttpd/errors"
echo "a file in a directory" >"$work/src/www/sub/a.txt"
echo "deeper" >"$work/src/www/sub/deeper/b.txt"
echo "secret" >"$work/src/www/.hidden"
echo "[core]" >"$work/src/www/.git/config"
echo "server.modules = ()" >"$work/src/www/local.conf"
echo "server.modules = ()" >"$work/src/www/extra.inc"
echo "#!/bin/sh" >"$work/src/www/run.sh"
cp "$model" "$work/src/www/mnist_model.safetensors"
cp "$top_srcdir/www/index.html" "$work/src/www/index.html~"
services+=(docroot)
top_srcdir=$work/src "$serve" start "$work/docroot" "$model" --quiet
url=$(cat "$work/docroot/url")
no_listing() { # PATH: no directory listing (no 200 naming the files inside)
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' "$url$1")
  [ "$got" != 200 ] || ! grep -q -e 'a.txt' -e 'deeper' -e 'Index of' "$work/body"
}
check "docroot: the UI is still served" test "$(status "$url/")" = 200
check "docroot: a file in a subdirectory is served (the control case)" test "$(status "$url/sub/a.txt")" = 200
for path in /sub/ /sub /sub/deeper/ /empty/ /.git/; do
  check "docroot: no directory listing for $path" no_listing "$path"
done
for path in /.hidden /.git/config /local.conf /extra.inc /run.sh /mnist_model.safetensors /index.html~ \
  /sub/../.hidden /%2ehidden /sub/%2e%2e/.hidden; do
  check "docroot: GET $path refused (400/403/404)" refused "$path"
done
"$serve" stop "$work/docroot"

finish
