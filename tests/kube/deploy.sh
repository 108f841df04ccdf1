#!/usr/bin/env bash
# kube/deploy.sh against a scripted cluster: tests/kube/fake-kubectl stands in for
# kubectl on PATH, records every call and plays a scenario (a Job that completes or
# fails, an image that cannot be pulled, a volume that cannot attach, ...). Checks the
# order of the steps, the waits, the fail-fast paths and their messages, the dry run
# and re-runs. Needs no cluster and no network.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

deploy=$top_srcdir/kube/deploy.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-deploy-test.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$here/fake-kubectl" "$work/bin/kubectl"

# (run from the top of the source tree, where the linter finds tests/lib.sh)
lint() { (cd "$top_srcdir" && shellcheck -x "$@"); }
check "kube/deploy.sh is shellcheck-clean" lint kube/deploy.sh
check "tests/kube/fake-kubectl and this test are shellcheck-clean" \
  lint tests/kube/fake-kubectl tests/kube/deploy.sh

# run NAME [VAR=VALUE...] -- [ARGS...]: runs deploy.sh in scenario NAME; sets $status,
# $out (stdout), $err (stderr), $calls (the kubectl calls), $elapsed (seconds)
run() {
  local name=$1
  shift
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  local dir=$work/$name
  rm -rf "$dir" && mkdir -p "$dir/state"
  local start=$SECONDS
  status=0
  env PATH="$work/bin:$PATH" FAKE_STATE="$dir/state" POLL_INTERVAL=0 JOB_TIMEOUT=30 \
    ROLLOUT_TIMEOUT=30 LB_TIMEOUT=30 "${envs[@]}" "$deploy" "$@" >"$dir/out" 2>"$dir/err" || status=$?
  elapsed=$((SECONDS - start))
  out=$(cat "$dir/out")
  err=$(cat "$dir/err")
  calls=$(cat "$dir/state/calls" 2>/dev/null)
}
# line_of PATTERN: the number of the first recorded call matching PATTERN (0: none)
line_of() { grep -n -m1 -e "$1" <<<"$calls" | cut -d: -f1 || true; }
before() { # before A B: call A is recorded before call B
  local a b
  a=$(line_of "$1")
  b=$(line_of "$2")
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
said() { grep -qF -e "$1" <<<"$err"; }
called() { grep -q -e "$1" <<<"$calls"; }
show_on_failure() { [ "$failed" -eq "$1" ] || awk '{ print "#   " $0 }' <<<"$err" | tail -n 25; }

# ---------------------------------------------------------------- success, in order
f=$failed
run success
check "success: exit 0" test "$status" -eq 0
check "success: prints the service URL on stdout" test "$out" = "http://34.120.1.2/"
check "success: renders the kustomization first" before '^kustomize ' '^apply '
check "success: storage, then training, then inference" \
  bash -c "$(declare -f line_of before); calls=\$(cat '$work/success/state/calls'); \
    before 'apply .*component=storage' 'apply .*component=training' && \
    before 'apply .*component=training' 'apply .*component=inference'"
check "success: waits for the Job to complete before deploying the service" \
  before '^get job mnist-training' 'apply .*component=inference'
check "success: waits for the rollout, then the load balancer" \
  before '^rollout status deployment/mnist-inference' '^get service mnist-inference-service'
check "success: shows the trainer's progress" said "trainer:   Batch [100/469]"
check "success: no unexpected kubectl call" bash -c "! grep -q UNEXPECTED '$work/success/state/calls'"
check "success: deletes nothing" bash -c "! grep -q '^delete' '$work/success/state/calls'"
show_on_failure "$f"

run hostname FAKE_LB=hostname
check "a load balancer with a host name: its URL" test "$out" = "http://a1b2.elb.example.com/"

run namespace -- -n mnist-prod
check "--namespace reaches every kubectl call" \
  bash -c "! grep -v -e '^kustomize' -e '^config current-context' '$work/namespace/state/calls' | grep -vq -- '--namespace mnist-prod'"

run oom FAKE_TRAIN=oom
check "a trainer restarted after OOMKilled is waited for, not failed" test "$status" -eq 0

# ---------------------------------------------------------------- re-runs
run rerun FAKE_JOB=complete
check "re-run with a completed Job: exit 0" test "$status" -eq 0
check "re-run: the Job is neither deleted nor applied again" \
  bash -c "! grep -q -e '^delete' -e 'apply .*component=training' '$work/rerun/state/calls'"
check "re-run: says the model is already trained" said "already completed"
check "re-run: still applies storage and inference (idempotent apply)" \
  bash -c "grep -q 'apply .*component=storage' '$work/rerun/state/calls' && grep -q 'apply .*component=inference' '$work/rerun/state/calls'"

run newimage FAKE_JOB=complete-old-image
check "a completed Job of an older image: says --retrain trains with the new one" \
  said "the manifests now name gcr.io/proj/mnist-train:abc123; run with --retrain"

run retrain FAKE_JOB=complete -- --retrain
check "--retrain: exit 0" test "$status" -eq 0
check "--retrain: deletes the finished Job (foreground), then runs a new one" \
  before '^delete job mnist-training --cascade=foreground' 'apply .*component=training'

run afterfail FAKE_JOB=failed
check "a previously failed Job is deleted and run again" \
  before '^delete job mnist-training' 'apply .*component=training'
check "... and the run succeeds" test "$status" -eq 0

run running FAKE_JOB=running
check "a Job already running is waited for, not replaced" \
  bash -c "! grep -q -e '^delete' -e 'apply .*component=training' '$work/running/state/calls'"
check "... and the run goes on once it completes" test "$status" -eq 0

# ---------------------------------------------------------------- fail fast
f=$failed
run jobfail FAKE_TRAIN=failed JOB_TIMEOUT=600
check "Job failed: exit 1" test "$status" -eq 1
check "Job failed: at once, not after the timeout" test "$elapsed" -lt 10
check "Job failed: says so with the Job's reason" said "Job mnist-training FAILED: BackoffLimitExceeded"
check "Job failed: prints the trainer's last log lines" said "Segmentation fault"
check "Job failed: prints kubectl describe job" called '^describe job mnist-training'
check "Job failed: the service is not deployed" \
  bash -c "! grep -q 'apply .*component=inference' '$work/jobfail/state/calls'"
show_on_failure "$f"

f=$failed
run jobpull FAKE_TRAIN=image-pull JOB_TIMEOUT=600
check "trainer image pull error: exit 1 at once" test "$status" -eq 1 -a "$elapsed" -lt 10
check "trainer image pull error: names the reason and the image" \
  said 'cannot pull its image (ImagePullBackOff): Back-off pulling image "gcr.io/proj/mnist-train:abc123"'
check "trainer image pull error: prints the pod's events and describe" \
  bash -c "grep -q 'unauthorized' '$work/jobpull/err' && grep -q '^describe pod mnist-training-x7k2p' '$work/jobpull/state/calls'"
show_on_failure "$f"

run dataerr FAKE_TRAIN=data-error JOB_TIMEOUT=600
check "trainer exit 65 (data error): fails at once, a restart cannot fix it" \
  test "$status" -eq 1 -a "$elapsed" -lt 10
check "trainer exit 65: prints the trainer's own message" said "No such file or directory"

f=$failed
run inferpull FAKE_ROLLOUT=image-pull ROLLOUT_TIMEOUT=600
check "inference image pull error: exit 1 at once" test "$status" -eq 1 -a "$elapsed" -lt 10
check "inference image pull error: names the reason" said "cannot pull its image (ErrImagePull)"
check "inference image pull error: no wait for the load balancer" \
  bash -c "! grep -q '^get service' '$work/inferpull/state/calls'"
show_on_failure "$f"

run multiattach FAKE_ROLLOUT=multi-attach ROLLOUT_TIMEOUT=600
check "Multi-Attach error: exit 1 at once" test "$status" -eq 1 -a "$elapsed" -lt 10
check "Multi-Attach error: explains the ReadWriteOnce volume and the way out" \
  bash -c "grep -q 'another node holds it (Multi-Attach error)' '$work/multiattach/err' && grep -q 'overlays/rwx' '$work/multiattach/err'"

run detaching FAKE_ROLLOUT=detaching ROLLOUT_TIMEOUT=600
check "a disk still detaching from the trainer's node (exclusively attached): waited for, not failed" \
  test "$status" -eq 0

run crash FAKE_ROLLOUT=crashloop ROLLOUT_TIMEOUT=600
check "a crashing inference container: exit 1 at once, with its logs" \
  bash -c "[ $status -eq 1 ] && [ $elapsed -lt 10 ] && grep -q 'keeps crashing' '$work/crash/err' && grep -q '^logs mnist-inference-6d9f7-abcde --tail=30 --previous' '$work/crash/state/calls'"

run deadline FAKE_ROLLOUT=deadline
check "a rollout past its progress deadline: exit 1 with kubectl's reason" \
  bash -c "[ $status -eq 1 ] && grep -q 'exceeded its progress deadline' '$work/deadline/err'"

# ---------------------------------------------------------------- timeouts
run stuck FAKE_TRAIN=stuck JOB_TIMEOUT=1 POLL_INTERVAL=1
check "a Job that never finishes: times out with the pods' state" \
  bash -c "[ $status -eq 1 ] && grep -q 'timed out after 1s waiting for Job mnist-training' '$work/stuck/err' && grep -q 'pod mnist-training-x7k2p: Running' '$work/stuck/err'"

f=$failed
run notready FAKE_ROLLOUT=never-ready ROLLOUT_TIMEOUT=1 POLL_INTERVAL=1
check "pods that never get ready: time out with the probe's failure and the service's log" \
  bash -c "[ $status -eq 1 ] && grep -q 'Readiness probe failed: HTTP probe failed with statuscode: 503' '$work/notready/err' && grep -q 'mnist-fcgi: no model' '$work/notready/err'"
check "pods that never get ready: describe the Deployment" called '^describe deployment mnist-inference'
show_on_failure "$f"

run nolb FAKE_LB=never LB_TIMEOUT=1 POLL_INTERVAL=1
check "no external IP: times out with the Service described" \
  bash -c "[ $status -eq 1 ] && grep -q 'waiting for the load balancer' '$work/nolb/err' && grep -q '^describe service mnist-inference-service' '$work/nolb/state/calls'"

# ---------------------------------------------------------------- preflight
run unbuilt FAKE_RENDER=unbuilt
check "placeholder images: refuses to deploy, says to run kube/build.sh" \
  bash -c "[ $status -eq 1 ] && grep -q 'run kube/build.sh first' '$work/unbuilt/err' && ! grep -q '^apply' '$work/unbuilt/state/calls'"
run badrender FAKE_RENDER=error
check "a kustomization that does not render: kubectl's error, nothing applied" \
  bash -c "[ $status -eq 1 ] && grep -q 'accumulating resources' '$work/badrender/err' && ! grep -q '^apply' '$work/badrender/state/calls'"
run nocontext FAKE_CONTEXT=
check "no kubectl context: says how to get one" \
  bash -c "[ $status -eq 1 ] && grep -q 'get-credentials' '$work/nocontext/err'"
run unreachable FAKE_REACHABLE=0
check "an unreachable cluster: kubectl's error, nothing applied" \
  bash -c "[ $status -eq 1 ] && grep -q 'i/o timeout' '$work/unreachable/err' && ! grep -q '^apply' '$work/unreachable/state/calls'"
run nokubectl -- 2>/dev/null
status=0
env PATH=/nonexistent /bin/bash "$deploy" >/dev/null 2>"$work/nokubectl.err" || status=$?
check "no kubectl: says how to install it" \
  bash -c "[ $status -eq 1 ] && grep -q 'kubectl is missing' '$work/nokubectl.err'"
run badarg -- --frobnicate
check "an unknown option: usage and exit 1" \
  bash -c "[ $status -eq 1 ] && grep -q 'unknown argument' '$work/badarg/err'"

# ---------------------------------------------------------------- dry run
run dry -- --dry-run
check "--dry-run: exit 0" test "$status" -eq 0
check "--dry-run: nothing applied or deleted" \
  bash -c "! grep -E '^(apply|delete|create|patch|replace|scale)' '$work/dry/state/calls' | grep -qv -- '--dry-run=server'"
check "--dry-run: the API server validates each step (apply --dry-run=server)" \
  test "$(grep -c -- '--dry-run=server' <<<"$calls")" -eq 3
check "--dry-run: prints the plan" \
  bash -c "grep -q 'would run: kubectl apply .* -l component=training' '$work/dry/err' && grep -q 'nothing was applied' '$work/dry/err'"
run dryretrain FAKE_JOB=complete -- --dry-run --retrain
check "--dry-run --retrain: would delete the Job, deletes nothing" \
  bash -c "[ $status -eq 0 ] && grep -q 'would run: kubectl delete job mnist-training' '$work/dryretrain/err' && ! grep -q '^delete' '$work/dryretrain/state/calls'"
run dryoffline FAKE_REACHABLE=0 -- --dry-run
check "--dry-run without a reachable cluster: prints the plan, exit 0" \
  bash -c "[ $status -eq 0 ] && grep -q 'only prints the plan' '$work/dryoffline/err' && ! grep -q -- '--dry-run=server' '$work/dryoffline/state/calls'"
check "--dry-run without a reachable cluster: asks it nothing more" \
  bash -c "! grep -q -e '^get job' -e '^get pods' '$work/dryoffline/state/calls'"
run drynocontext FAKE_CONTEXT= -- --dry-run
check "--dry-run without a kubectl context: prints the plan, exit 0" \
  bash -c "[ $status -eq 0 ] && grep -q 'no kubectl context: the dry run only prints the plan' '$work/drynocontext/err'"

# ---------------------------------------------------------------- rollback
f=$failed
run rollback -- --rollback
check "--rollback: exit 0" test "$status" -eq 0
check "--rollback: deploys nothing, runs the Job mnist-rollback and waits for it" \
  bash -c "! grep -q -e 'apply .*component=' -e '^rollout' '$work/rollback/state/calls' &&
           grep -q '^apply -f .*rollback-job.yaml' '$work/rollback/state/calls' &&
           grep -q '^get job mnist-rollback' '$work/rollback/state/calls'"
check "--rollback: the Job runs mnist-model rollback with no version (the previous one)" \
  bash -c "grep -q 'command: \[\"/usr/local/bin/mnist-model\"\]' '$work/rollback/state/applied.yaml' &&
           grep -q 'args: \[\"rollback\"\]' '$work/rollback/state/applied.yaml'"
check "--rollback: shows mnist-model's log" said "now serves version 1f9669b9ec06 (was b50da29b8279)"
check "--rollback: with the trainer image the manifests name" \
  grep -q 'image: gcr.io/proj/mnist-train:abc123$' "$work/rollback/state/applied.yaml"
check "--rollback: the Job's pod has the training Job's volume, security and co-location settings" \
  /usr/bin/python3 - "$work/rollback/state/applied.yaml" "$top_srcdir/kube/base/training-job.yaml" <<'PY'
import sys, yaml
rb, tr = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
r, t = rb["spec"]["template"], tr["spec"]["template"]
rs, ts = r["spec"], t["spec"]
rc, tc = rs["containers"][0], ts["containers"][0]
assert r["metadata"]["labels"]["mnist/volume"] == t["metadata"]["labels"]["mnist/volume"]
assert rb["metadata"]["labels"]["component"] == "rollback" == r["metadata"]["labels"]["component"]
for key in ("securityContext", "affinity", "automountServiceAccountToken", "enableServiceLinks"):
    assert rs[key] == ts[key], key
assert rc["securityContext"] == tc["securityContext"]
assert rc["env"] == tc["env"]
assert [v for v in rs["volumes"] if v["name"] == "model-storage"] == \
       [v for v in ts["volumes"] if v["name"] == "model-storage"]
assert {(m["name"], m["mountPath"], m.get("readOnly", False)) for m in rc["volumeMounts"]} == \
       {(m["name"], m["mountPath"], m.get("readOnly", False)) for m in tc["volumeMounts"]}
assert rs["restartPolicy"] == "Never" and rb["spec"]["backoffLimit"] == 0
PY
show_on_failure "$f"

run rollbackv -- --rollback 1F9669b9
check "--rollback VERSION: passed to mnist-model" \
  bash -c "[ $status -eq 0 ] && grep -q 'args: \[\"rollback\", \"1F9669b9\"\]' '$work/rollbackv/state/applied.yaml'"
run rollbackagain FAKE_ROLLBACK_JOB=complete -- --rollback
check "--rollback again: the previous rollback Job is deleted first" \
  before '^delete job mnist-rollback' '^apply -f .*rollback-job.yaml'
run rollbackrwx -- --overlay rwx --rollback
check "--rollback with the rwx overlay: no co-location, as the overlay's training Job" \
  bash -c "[ $status -eq 0 ] && ! grep -q podAffinity '$work/rollbackrwx/state/applied.yaml'"

f=$failed
run rollbackrefused FAKE_ROLLBACK=refused ROLLBACK_TIMEOUT=600 -- --rollback 1f9669b9ec06
check "a refused rollback: exit 1 at once" test "$status" -eq 1 -a "$elapsed" -lt 10
check "a refused rollback: mnist-model's reason and its exit status explained" \
  bash -c "grep -q 'refusing to roll back to 1f9669b9ec06: .*damaged' '$work/rollbackrefused/err' &&
           grep -q 'rollback FAILED: no such version, none older, or the version fails a check (exit 65); nothing changed' '$work/rollbackrefused/err'"
check "a refused rollback: describes the Job" called '^describe job mnist-rollback'
show_on_failure "$f"
run rollbackpull FAKE_ROLLBACK=image-pull ROLLBACK_TIMEOUT=600 -- --rollback
check "rollback image pull error: exit 1 at once, names the reason" \
  bash -c "[ $status -eq 1 ] && [ $elapsed -lt 10 ] && grep -q 'cannot pull its image (ErrImagePull)' '$work/rollbackpull/err'"
run rollbackstuck FAKE_ROLLBACK=stuck ROLLBACK_TIMEOUT=1 POLL_INTERVAL=1 -- --rollback
check "a rollback Job that never runs: times out with the pod's state" \
  bash -c "[ $status -eq 1 ] && grep -q 'timed out after 1s waiting for Job mnist-rollback' '$work/rollbackstuck/err' && grep -q 'pod mnist-rollback-q8z4w: Pending' '$work/rollbackstuck/err'"
run rollbackbadver -- --rollback 12z
check "--rollback 12z: refused before any kubectl call, exit 1" \
  bash -c "[ $status -eq 1 ] && grep -q 'not a version' '$work/rollbackbadver/err' && [ ! -s '$work/rollbackbadver/state/calls' ]"
run rollbackretrain -- --rollback --retrain
check "--rollback --retrain: refused" bash -c "[ $status -eq 1 ] && grep -q 'do not go together' '$work/rollbackretrain/err'"
run dryrollback -- --dry-run --rollback abcd
check "--dry-run --rollback: prints the Job, the server validates it, nothing applied or deleted" \
  bash -c "[ $status -eq 0 ] && grep -q 'mnist-model' '$work/dryrollback/err' &&
           grep -q '^apply --dry-run=server -f' '$work/dryrollback/state/calls' &&
           ! grep -qE '^(delete|apply -f)' '$work/dryrollback/state/calls'"

# ---------------------------------------------------------------- overlays
run overlay -- --overlay rwx
check "--overlay rwx renders kube/overlays/rwx" \
  bash -c "grep -q '^kustomize .*/kube/overlays/rwx$' '$work/overlay/state/calls'"
run nooverlay -- --overlay nosuch
check "an unknown overlay: refused before any kubectl call" \
  bash -c "[ $status -eq 1 ] && grep -q 'no kustomization directory' '$work/nooverlay/err'"

finish
