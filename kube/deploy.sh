#!/usr/bin/env bash
# Deploys the MNIST service to the current kubectl context, in order, waiting at each
# step and failing at once, with the reason, when a step cannot succeed:
#
#   1. storage    the PVC model-storage-pvc
#   2. training   the Job mnist-training, waited for until it completes; skipped when a
#                 finished Job already trained the model (--retrain trains again)
#   3. inference  the Deployment, Service, PodDisruptionBudget and HPA; waits for the
#                 rollout (every replica ready)
#   4. address    waits for the Service's external IP and prints the URL
#
# Fails fast (instead of waiting out a timeout) on: a failed Job (its last log lines),
# a trainer exit that a restart cannot fix (usage 64, data 65, write 74), an image that
# cannot be pulled, a container that cannot be created or keeps crashing, and a volume
# that cannot attach ("Multi-Attach error"); each failure prints the pod's events and
# `kubectl describe`. Each wait has a timeout, after which the same is printed.
# Running it again is safe: kubectl apply changes only what changed.
#
# Usage: kube/deploy.sh [OPTION]...
#   --dry-run            apply nothing: print the plan and the rendered objects, and
#                        validate them with the API server (apply --dry-run=server) if
#                        the cluster is reachable
#   --retrain            delete the finished (or running) Job and train a new model; the
#                        service keeps serving the old one and reloads the new one
#   --rollback [VERSION] deploy nothing: run the Job mnist-rollback (the trainer image's
#                        mnist-model rollback [VERSION] on the model volume), wait for
#                        it and show its log; without VERSION, the newest version older
#                        than the served one. The inference pods serve it within their
#                        reload interval.
#   --overlay NAME       deploy kube/overlays/NAME (e.g. rwx) instead of kube/
#   -k, --kustomize DIR  deploy this kustomization directory
#   -n, --namespace NS   the namespace (default: the context's)
#   -h, --help
# Environment: NAMESPACE, JOB_TIMEOUT [1800], ROLLOUT_TIMEOUT [600], LB_TIMEOUT [600],
# ROLLBACK_TIMEOUT [300] (seconds), POLL_INTERVAL [5], KUBECTL [kubectl].
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kdir=$here
namespace=${NAMESPACE:-}
dry_run=0
retrain=0
rollback=0
rollback_version=
job_timeout=${JOB_TIMEOUT:-1800}
rollback_timeout=${ROLLBACK_TIMEOUT:-300}
rollout_timeout=${ROLLOUT_TIMEOUT:-600}
lb_timeout=${LB_TIMEOUT:-600}
poll=${POLL_INTERVAL:-5}
kubectl_bin=${KUBECTL:-kubectl}

readonly job=mnist-training deployment=mnist-inference service=mnist-inference-service
readonly job_pods=app=mnist,component=training inference_pods=app=mnist,component=inference
readonly rollback_job=mnist-rollback rollback_pods=app=mnist,component=rollback

say() { printf 'deploy.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
step() { printf '\n=== %s ===\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry_run=1 ;;
    --retrain) retrain=1 ;;
    --rollback)
      rollback=1
      if [ $# -ge 2 ] && [[ $2 != -* ]]; then rollback_version=$2; shift; fi ;;
    --rollback=*) rollback=1; rollback_version=${1#*=} ;;
    --overlay) [ $# -ge 2 ] || die "--overlay needs a name"; kdir=$here/overlays/$2; shift ;;
    --overlay=*) kdir=$here/overlays/${1#*=} ;;
    -k | --kustomize) [ $# -ge 2 ] || die "$1 needs a directory"; kdir=$2; shift ;;
    --kustomize=*) kdir=${1#*=} ;;
    -n | --namespace) [ $# -ge 2 ] || die "$1 needs a namespace"; namespace=$2; shift ;;
    --namespace=*) namespace=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
[ $rollback = 0 ] || [ $retrain = 0 ] || die "--rollback and --retrain do not go together"
[[ -z $rollback_version || $rollback_version =~ ^[0-9a-fA-F]{4,12}$ ]] ||
  die "--rollback: '$rollback_version' is not a version (4 to 12 hex digits; mnist-model list shows them)"
for n in "$job_timeout" "$rollout_timeout" "$lb_timeout" "$rollback_timeout" "$poll"; do
  case $n in '' | *[!0-9]*) die "timeouts and POLL_INTERVAL are whole seconds, not '$n'" ;; esac
done
[ -d "$kdir" ] || die "no kustomization directory $kdir"

command -v "$kubectl_bin" >/dev/null 2>&1 ||
  die "kubectl is missing: install it (gcloud components install kubectl, or apt-get install kubectl from Google's repository)"
kc() { "$kubectl_bin" ${namespace:+--namespace "$namespace"} "$@" </dev/null; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-deploy.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
rendered=$work/rendered.yaml

# ---------------------------------------------------------------- preflight
if ! "$kubectl_bin" kustomize "$kdir" >"$rendered" 2>"$work/kustomize.err"; then
  cat "$work/kustomize.err" >&2
  die "kubectl kustomize $kdir failed"
fi
if grep -q '^[ -]*image: .*:unbuilt$' "$rendered"; then
  die "the manifests still name the placeholder images (tag 'unbuilt'): run kube/build.sh first"
fi
# the image the rendered Job trains with (the Job is the only object with one container)
job_image=$(awk '/^kind: Job$/ { j = 1 } /^---/ { j = 0 } j && /^[ -]*image: / { print $NF; exit }' "$rendered")
reachable=1
if ! context=$("$kubectl_bin" config current-context 2>/dev/null); then
  [ $dry_run = 1 ] ||
    die "no current kubectl context: for GKE run 'gcloud container clusters get-credentials CLUSTER --region REGION'"
  context="(none)"
  reachable=0
fi
ns_label=${namespace:-default of the context}
say "context $context, namespace $ns_label, manifests $kdir"
objects=$(awk '/^kind:/ { k = $2 } /^  name:/ && k { printf "%s%s/%s", sep, k, $2; sep = ", "; k = "" }' "$rendered")
say "objects: $objects"

if [ $reachable = 0 ]; then
  say "no kubectl context: the dry run only prints the plan"
elif ! kc get --raw /version >/dev/null 2>"$work/reach.err"; then
  reachable=0
  if [ $dry_run = 0 ]; then
    cat "$work/reach.err" >&2
    die "cannot reach the cluster of context $context (credentials expired? gcloud container clusters get-credentials ...)"
  fi
  say "the cluster is not reachable: the dry run only prints the plan"
fi

# apply_step COMPONENT: applies the rendered objects labelled component=COMPONENT
# (in a dry run, the API server checks them unless NO_SERVER_CHECK=1)
apply_step() {
  if [ $dry_run = 1 ]; then
    say "would run: kubectl apply -f <rendered $kdir> -l component=$1"
    if [ $reachable = 1 ] && [ "${NO_SERVER_CHECK:-0}" = 0 ]; then
      kc apply --dry-run=server -f "$rendered" -l "component=$1" >&2 ||
        die "the API server refuses the $1 objects (above)"
    fi
    return 0
  fi
  kc apply -f "$rendered" -l "component=$1" >&2 || die "kubectl apply of the $1 objects failed (above)"
}

# ---------------------------------------------------------------- diagnostics
# pods SELECTOR: one line per pod: name, phase, ready, waiting reason, last exit code,
# last termination reason, waiting message, separated by '|' (not a tab: read would
# merge empty fields separated by whitespace)
pods() {
  kc get pods -l "$1" -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.status.phase}{"|"}{.status.containerStatuses[0].ready}{"|"}{.status.containerStatuses[0].state.waiting.reason}{"|"}{.status.containerStatuses[0].lastState.terminated.exitCode}{"|"}{.status.containerStatuses[0].lastState.terminated.reason}{"|"}{.status.containerStatuses[0].state.waiting.message}{"\n"}{end}' 2>/dev/null
}
# warnings POD: the pod's warning events, "reason: message"
warnings() {
  kc get events --field-selector "involvedObject.name=$1,type=Warning" \
    -o jsonpath='{range .items[*]}{.reason}{": "}{.message}{"\n"}{end}' 2>/dev/null
}
# describe KIND NAME: `kubectl describe` of one object, for a report
describe() {
  say "--- kubectl describe $1 $2:"
  kc describe "$1" "$2" 2>&1 | sed 's/^/    /' >&2
}
# explain POD [--previous]: events, describe and the last log lines of one pod
explain() {
  local pod=$1 previous=${2:-}
  say "--- warning events of pod $pod:"
  warnings "$pod" | tail -n 15 | sed 's/^/    /' >&2
  describe pod "$pod"
  say "--- last log lines of pod $pod:"
  { { [ -n "$previous" ] && kc logs "$pod" --tail=30 --previous 2>/dev/null; } ||
    kc logs "$pod" --tail=30 2>&1; } | sed 's/^/    /' >&2 || true
}
# fatal_pods SELECTOR WHAT: fails when a pod is in a state that waiting cannot fix
fatal_pods() {
  local selector=$1 what=$2 name phase ready reason code why message events
  while IFS='|' read -r name phase ready reason code why message; do
    [ -n "$name" ] || continue
    case $reason in
      ErrImagePull | ImagePullBackOff | InvalidImageName)
        say "$what: pod $name cannot pull its image ($reason): $message"
        say "is the image pushed (kube/build.sh), and may the nodes pull from the registry?"
        explain "$name"
        return 1 ;;
      CreateContainerConfigError | CreateContainerError | RunContainerError)
        say "$what: pod $name cannot start its container ($reason): $message"
        explain "$name"
        return 1 ;;
      CrashLoopBackOff)
        if [ "$what" != training ] || [[ $code =~ ^(64|65|74)$ ]]; then
          say "$what: pod $name keeps crashing (last exit $code${why:+, $why})"
          explain "$name" --previous
          return 1
        fi ;;
    esac
    if [ "$what" = training ] && [[ $code =~ ^(64|65|74)$ ]]; then
      say "training: the trainer exited $code (64 usage, 65 data, 74 write error): a restart cannot fix that"
      explain "$name" --previous
      return 1
    fi
    if [ "$ready" != true ]; then
      events=$(warnings "$name")
      # "already used by pod(s) ..." names live pods on another node: that lasts. (The
      # other form, "already exclusively attached to one node", passes once the disk
      # is detached from a node whose pods ended, e.g. the training Job's.)
      if grep -q 'Multi-Attach error.*already used by pod' <<<"$events"; then
        say "$what: pod $name cannot attach the model volume: another node holds it (Multi-Attach error)."
        say "A ReadWriteOnce disk attaches to one node: the pods that mount it must share a node"
        say "(kube/README.md, \"Storage across nodes\"), or use kube/overlays/rwx."
        explain "$name"
        return 1
      fi
    fi
  done < <(pods "$selector")
  return 0
}
# report_pods SELECTOR: the state of every pod; events, describe and logs of the first
# three that are not ready (after a timeout)
report_pods() {
  local name phase ready reason code why message shown=0
  while IFS='|' read -r name phase ready reason code why message; do
    [ -n "$name" ] || continue
    say "pod $name: $phase, ready=${ready:-false}${reason:+, $reason}${code:+, last exit $code${why:+ ($why)}}${message:+: $message}"
    if [ "$ready" != true ] && [ $shown -lt 3 ]; then
      explain "$name"
      shown=$((shown + 1))
    fi
  done < <(pods "$1")
}
# timed_out SECONDS WHAT SELECTOR KIND NAME [HINT]: ends a wait that ran out of time:
# says so (and HINT), reports the pods of SELECTOR (none when empty), describes KIND
# NAME, exits 1
timed_out() {
  say "timed out after ${1}s waiting for $2"
  [ -z "${6:-}" ] || say "$6"
  [ -z "$3" ] || report_pods "$3"
  describe "$4" "$5"
  exit 1
}

# the Job's state: its true conditions (Complete, Failed, ...) and its image
job_state() { # [NAME]: the training Job's by default
  [ $reachable = 1 ] || return 0
  kc get job "${1:-$job}" --ignore-not-found \
    -o jsonpath='{.metadata.name}{"|"}{.status.conditions[?(@.status=="True")].type}{"|"}{.spec.template.spec.containers[0].image}' 2>/dev/null
}

# ---------------------------------------------------------------- rollback
# The Job mnist-rollback: the trainer image's mnist-model on the model volume, mounted
# read-write, with the training Job's pod settings (tests/kube/deploy.sh checks that
# they agree with kube/base/training-job.yaml): the restricted security context, the
# label every pod that mounts the volume carries and, unless the manifests removed it
# (the rwx overlay), the podAffinity that puts it on the node the volume is attached
# to. Small requests: it runs for a second and must fit beside the inference pods.
rollback_manifest() {
  local args='["rollback"]' affinity=
  [ -z "$rollback_version" ] || args="[\"rollback\", \"$rollback_version\"]"
  # the rendered training Job decides the co-location
  if awk '/^kind: Job$/ { j = 1 } /^---/ { j = 0 } j' "$rendered" | grep -q 'podAffinity:'; then
    affinity='      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector:
                matchLabels:
                  mnist/volume: model-storage-pvc
              topologyKey: kubernetes.io/hostname'
  fi
  cat <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $rollback_job
  labels:
    app: mnist
    component: rollback
spec:
  # mnist-model's exit status says why it failed; running it again would not help
  backoffLimit: 0
  activeDeadlineSeconds: $rollback_timeout
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        app: mnist
        component: rollback
        mnist/volume: model-storage-pvc
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
$affinity
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        fsGroupChangePolicy: OnRootMismatch
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: rollback
          image: $job_image
          imagePullPolicy: IfNotPresent
          command: ["/usr/local/bin/mnist-model"]
          args: $args
          env:
            - name: MODEL_PATH
              value: /mnt/model-storage/mnist_model.safetensors
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              cpu: "1"
              memory: 256Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: model-storage
              mountPath: /mnt/model-storage
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: model-storage
          persistentVolumeClaim:
            claimName: model-storage-pvc
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
EOF
}

# rollback_failed POD: says why mnist-model failed, with its pod and Job, and exits 1
rollback_failed() {
  local pod=$1 code
  code=$(kc get pods -l "$rollback_pods" \
    -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}' 2>/dev/null || true)
  case $code in
    64) say "rollback FAILED: mnist-model refused its arguments (exit 64)" ;;
    65) say "rollback FAILED: no such version, none older, or the version fails a check (exit 65); nothing changed" ;;
    74) say "rollback FAILED: an I/O error on the model volume (exit 74); nothing changed" ;;
    *) say "rollback FAILED${code:+ (exit $code)}" ;;
  esac
  [ -z "$pod" ] || explain "$pod" || true # (a failed query must not end the report)
  describe job "$rollback_job"
  exit 1
}

# run_rollback: applies the Job, waits for it, shows mnist-model's log; exits
run_rollback() {
  local manifest=$work/rollback-job.yaml found conditions image pod deadline
  step "rollback: Job $rollback_job runs mnist-model rollback ${rollback_version:-(to the previous version)}"
  rollback_manifest >"$manifest"
  if [ $dry_run = 1 ]; then
    say "would run: kubectl delete job $rollback_job --ignore-not-found, then kubectl apply -f:"
    sed 's/^/    /' "$manifest" >&2
    if [ $reachable = 1 ]; then
      kc apply --dry-run=server -f "$manifest" >&2 || die "the API server refuses the rollback Job (above)"
    fi
    say "dry run: nothing was applied"
    exit 0
  fi
  # a Job's pod template cannot change: the previous rollback's Job goes first
  kc delete job "$rollback_job" --ignore-not-found --cascade=foreground --wait=true --timeout=120s >&2 ||
    die "cannot delete the previous Job $rollback_job"
  kc apply -f "$manifest" >&2 || die "kubectl apply of Job $rollback_job failed (above)"
  deadline=$((SECONDS + rollback_timeout))
  while :; do
    IFS='|' read -r found conditions image <<<"$(job_state "$rollback_job")" || true
    [ -n "$found" ] || die "Job $rollback_job disappeared while waiting for it"
    pod=$(pods "$rollback_pods" | awk -F '|' 'NF { p = $1 } END { print p }')
    if [[ " $conditions " == *" Complete "* ]] || [[ " $conditions " == *" Failed "* ]]; then
      say "--- mnist-model:"
      [ -z "$pod" ] || kc logs "$pod" --tail=30 2>&1 | sed 's/^/    /' >&2 || true
      [[ " $conditions " == *" Complete "* ]] || rollback_failed "$pod"
      say "rolled back: the inference pods serve that version within their reload interval (GET /health says which)"
      exit 0
    fi
    fatal_pods "$rollback_pods" rollback || die "Job $rollback_job cannot succeed (above)"
    [ $SECONDS -lt $deadline ] || timed_out "$rollback_timeout" "Job $rollback_job" "$rollback_pods" job "$rollback_job"
    sleep "$poll"
  done
}
[ $rollback = 0 ] || run_rollback

# ---------------------------------------------------------------- 1. storage
step "1. storage: PersistentVolumeClaim model-storage-pvc"
apply_step storage

# ---------------------------------------------------------------- 2. training
step "2. training: Job $job"
IFS='|' read -r found conditions image <<<"$(job_state)" || true
run_job=1
wait_only=0
if [ -n "$found" ]; then
  if [ $retrain = 1 ]; then
    say "--retrain: deleting Job $job (it ran $image) to train again"
    delete=1
  elif [[ " $conditions " == *" Failed "* ]]; then
    say "the previous Job $job failed: deleting it to run it again"
    delete=1
  elif [[ " $conditions " == *" Complete "* ]]; then
    say "Job $job already completed (image $image): the model is trained; --retrain trains again"
    if [ -n "$job_image" ] && [ "$image" != "$job_image" ]; then
      say "note: the manifests now name $job_image; run with --retrain to train with it"
    fi
    delete=0
    run_job=0
  else
    say "Job $job is already running (image $image): waiting for it (--retrain replaces it)"
    delete=0
    run_job=0
    wait_only=1
  fi
  if [ "$delete" = 1 ]; then
    if [ $dry_run = 1 ]; then
      say "would run: kubectl delete job $job --cascade=foreground --wait"
      # the server would refuse the new Job while the old one exists
      NO_SERVER_CHECK=1
    else
      # foreground: the old pod is gone, and the volume free, before the new one starts
      kc delete job "$job" --cascade=foreground --wait=true --timeout=300s >&2 ||
        die "cannot delete Job $job"
    fi
  fi
fi
if [ $run_job = 1 ]; then
  apply_step training
fi

if [ $dry_run = 1 ]; then
  [ $run_job = 0 ] || say "would wait for Job $job to complete (at most ${job_timeout}s)"
  NO_SERVER_CHECK=0
elif [ $run_job = 1 ] || [ $wait_only = 1 ]; then
  say "waiting for Job $job to complete (at most ${job_timeout}s)"
  deadline=$((SECONDS + job_timeout))
  last_line=
  while :; do
    IFS='|' read -r found conditions image <<<"$(job_state)" || true
    [ -n "$found" ] || die "Job $job disappeared while waiting for it"
    if [[ " $conditions " == *" Complete "* ]]; then
      say "Job $job completed: the model is on model-storage-pvc"
      break
    fi
    pod=$(pods "$job_pods" | awk -F '|' 'NF { p = $1 } END { print p }')
    if [ -n "$pod" ] && kc logs "$pod" --tail=30 >"$work/job.log.new" 2>/dev/null && [ -s "$work/job.log.new" ]; then
      mv "$work/job.log.new" "$work/job.log"
      line=$(tail -n 1 "$work/job.log")
      [ "$line" = "$last_line" ] || say "trainer: $line"
      last_line=$line
    fi
    if [[ " $conditions " == *" Failed "* ]]; then
      reason=$(kc get job "$job" -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}' 2>/dev/null || true)
      say "Job $job FAILED: $reason"
      if [ -n "$pod" ]; then
        explain "$pod" --previous
      fi
      if [ -s "$work/job.log" ]; then
        say "--- the trainer's last log lines:"
        sed 's/^/    /' "$work/job.log" >&2
      fi
      describe job "$job"
      exit 1
    fi
    fatal_pods "$job_pods" training || die "Job $job cannot succeed (above); fix it and run kube/deploy.sh again"
    [ $SECONDS -lt $deadline ] || timed_out "$job_timeout" "Job $job" "$job_pods" job "$job"
    sleep "$poll"
  done
fi

# ---------------------------------------------------------------- 3. inference
step "3. inference: Deployment $deployment, Service $service, PodDisruptionBudget, HPA"
apply_step inference
if [ $dry_run = 0 ]; then
  say "waiting for the rollout of Deployment $deployment (at most ${rollout_timeout}s)"
  deadline=$((SECONDS + rollout_timeout))
  while :; do
    if ! status=$(kc rollout status "deployment/$deployment" --watch=false 2>&1); then
      say "rollout of $deployment failed: $status"
      report_pods "$inference_pods"
      exit 1
    fi
    if [[ $status == *"successfully rolled out"* ]]; then
      say "$status"
      break
    fi
    fatal_pods "$inference_pods" inference || die "the rollout cannot succeed (above)"
    [ $SECONDS -lt $deadline ] ||
      timed_out "$rollout_timeout" "the rollout of Deployment $deployment ($status)" "$inference_pods" \
        deployment "$deployment" \
        "pods that never become ready: their readiness probe (GET /health) fails; /health says why (no model yet?)"
    sleep "$poll"
  done
fi

# ---------------------------------------------------------------- 4. address
step "4. address: Service $service"
if [ $dry_run = 1 ]; then
  say "would wait for the external IP of Service $service"
  say "dry run: nothing was applied"
  exit 0
fi
deadline=$((SECONDS + lb_timeout))
while :; do
  address=$(kc get service "$service" \
    -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}' 2>/dev/null || true)
  [ -z "$address" ] || break
  [ $SECONDS -lt $deadline ] || timed_out "$lb_timeout" "the load balancer of Service $service" "" service "$service"
  sleep "$poll"
done
say "the service is at http://$address/"
printf 'http://%s/\n' "$address"
say "try: curl http://$address/health   (the load balancer may need a minute more to route)"
