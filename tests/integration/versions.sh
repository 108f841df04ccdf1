#!/usr/bin/env bash
# Model versions and rollback, with the real mnist-train, mnist-model, lighttpd and
# mnist-fcgi:
#   - the trainer publishing over a regular model file (an older trainer's) keeps it
#     as a version; /health and GET /v2/models/mnist list the kept versions, newest
#     first, and name the served one; a second publish while serving is picked up;
#   - `mnist-model rollback` (to the previous version) while requests flow: 0 failed
#     requests, answers from both versions, then /health serves the older version and
#     /model/report is that version's report; `rollback PREFIX` brings the newest back;
#   - a damaged version file is refused by `mnist-model rollback` (exit 65, the reason
#     on stderr) and the served model stays;
#   - /model/report serves the served version's report even without NAME.report.json,
#     and the listed versions follow a version removed from the directory.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/integration/common.sh
source "$top_srcdir/tests/integration/common.sh"

train=$top_builddir/mnist-train
cli=$top_builddir/mnist-model
mkdir -p "$work/models"
target=$work/models/mnist_model.safetensors
versions=$work/models/versions
cp "$(test_model)" "$target" # a regular file, as an older trainer published it
v0=$("$py" "$helper" version "$target")
quick=(--data "$data" --limit-train 2000 --limit-test 500 --epochs 1 --threads 1 --no-resume)
publish() { # SEED: trains a quick model into $target; prints its version
  "$train" "${quick[@]}" --seed "$1" --out "$target" 2>"$work/train-$1.log" ||
    { tail -5 "$work/train-$1.log" >&2; return 1; }
  "$py" "$helper" version "$target"
}
# health: "VERSION AVAILABLE,VERSIONS,..." from /health
health() {
  curl -s "$url/health" | "$py" -c 'import json, sys
j = json.load(sys.stdin)
print((j.get("model") or {}).get("version"), ",".join(j.get("available_versions", ["missing"])))'
}
served() { health | cut -d' ' -f1; }
same_json() { # A B: the same JSON document (the service ends its answers with a newline)
  "$py" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$1" "$2"
}
wait_served() { # VERSION: /health names it within 5 s
  local deadline=$((SECONDS + 5))
  until [ "$(served)" = "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

v1=$(publish 1)
check "the trainer kept the regular file it replaced as version $v0" test -f "$versions/mnist_model.$v0.safetensors"
start_service svc "$target"
echo "# service at $url, model path $target"
check "/health: serves $v1, lists $v1 and $v0, newest first" test "$(health)" = "$v1 $v1,$v0"
v2=$(publish 2)
check "a publish while serving is loaded: /health serves $v2" wait_served "$v2"
check "/health: lists $v2,$v1,$v0" test "$(health)" = "$v2 $v2,$v1,$v0"
meta=$(curl -s "$url/v2/models/mnist" | "$py" -c 'import json, sys
j = json.load(sys.stdin)
print(j["name"], ",".join(j["versions"]), ",".join(j["available_versions"]), j["platform"],
      j["inputs"][0]["name"], j["outputs"][0]["name"])')
check "GET /v2/models/mnist: versions is the served one, available_versions all three" \
  test "$meta" = "mnist $v2 $v2,$v1,$v0 mnist-service_c input probabilities"
check "/model/report is the report of $v2" \
  same_json <(curl -s "$url/model/report") "$versions/mnist_model.$v2.report.json"

# --- rollback under load ------------------------------------------------------------
"$py" "$helper" png "$data" 0 "$work/digit.png" >/dev/null
load() { # FILE: POSTs the digit until $work/stop exists; "STATUS VERSION" per request
  local out v
  while [ ! -e "$work/stop" ]; do
    out=$(curl -s --max-time 10 -w ' %{http_code}' -F "file=@$work/digit.png;type=image/png" \
      "$url/predict") || out="curl-error $?"
    v=-
    if [[ $out =~ \"version\":\"([0-9a-f]{12})\" ]]; then v=${BASH_REMATCH[1]}; fi
    printf '%s %s\n' "${out##* }" "$v"
  done >"$1"
}
load "$work/load-1" &
l1=$!
load "$work/load-2" &
l2=$!
sleep 1
status=0
"$cli" --model "$target" rollback >"$work/rollback.out" 2>&1 || status=$?
sed 's/^/# mnist-model: /' "$work/rollback.out"
check "mnist-model rollback: exit 0, says $v2 -> $v1" \
  bash -c "[ $status -eq 0 ] && grep -q 'now serves version $v1 (was $v2)' '$work/rollback.out'"
check "after the rollback /health serves $v1 (the link switched to an older file)" wait_served "$v1"
sleep 1
touch "$work/stop"
wait "$l1" "$l2"
total=$(cat "$work/load-1" "$work/load-2" | wc -l)
bad=$(cat "$work/load-1" "$work/load-2" | grep -vc '^200 ' || true)
echo "# $total requests during the rollback: $(cut -d' ' -f2 "$work/load-1" "$work/load-2" | sort | uniq -c | tr -s ' \n' ' ')"
check "rollback under load: 0 failed of $total requests (at least 50)" \
  test "$bad" -eq 0 -a "$total" -ge 50
check "rollback under load: answers came from $v2, then from $v1" \
  bash -c "grep -q ' $v2$' '$work/load-1' && grep -q ' $v1$' '$work/load-1'"
check "/health after the rollback: $v1 served, all three still listed" test "$(health)" = "$v1 $v2,$v1,$v0"
check "/model/report is now the report of $v1" \
  same_json <(curl -s "$url/model/report") "$versions/mnist_model.$v1.report.json"
check "... and not that of $v2" \
  bash -c "! cmp -s '$versions/mnist_model.$v1.report.json' '$versions/mnist_model.$v2.report.json'"
# the served version's own report, not whatever the stable report name holds
mv "$work/models/mnist_model.report.json" "$work/report-link"
check "/model/report still that of $v1 without mnist_model.report.json" \
  same_json <(curl -s "$url/model/report") "$versions/mnist_model.$v1.report.json"
mv "$work/report-link" "$work/models/mnist_model.report.json"

"$cli" --model "$target" rollback "${v2:0:6}" >/dev/null
check "mnist-model rollback ${v2:0:6} (a prefix): /health serves $v2 again" wait_served "$v2"

# --- a damaged version is refused ----------------------------------------------------
truncate -s 100000 "$versions/mnist_model.$v0.safetensors"
status=0
"$cli" --model "$target" rollback "$v0" >"$work/refused.out" 2>&1 || status=$?
sed 's/^/# mnist-model: /' "$work/refused.out"
check "a damaged version: mnist-model rollback exits 65 (got $status)" test "$status" -eq 65
check "a damaged version: it says why" grep -q "refusing to roll back to $v0: .*damaged" "$work/refused.out"
check "a damaged version: the link still names $v2" \
  test "$(readlink "$target")" = "versions/mnist_model.$v2.safetensors"
sleep 1.2 # two looks of the watcher
check "a damaged version: /health still serves $v2" test "$(served)" = "$v2"
status=0
"$cli" --model "$target" rollback 0000ffff >/dev/null 2>&1 || status=$?
check "an unknown version: exit 65" test "$status" -eq 65

# --- a version removed (as a prune does): the list follows without a model load -------
rm "$versions/mnist_model.$v0".*
listed() { test "$(health)" = "$v2 $v2,$v1"; }
wait_listed() {
  local deadline=$((SECONDS + 5))
  until listed; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
check "a version removed: /health lists $v2,$v1 within 5 s" wait_listed
finish
