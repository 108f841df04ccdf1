#!/usr/bin/env bash
# Fault: the trainer killed with SIGKILL at random points, FAULT_KILLS (10) times, while
# it trains a small run (--limit-train 3000 --epochs 3) that publishes over an existing
# model. After every kill the published file must be a complete model, either the old
# one or the new one (loaded with every check by tests/faults/model-check, and
# identified by the SHA-256 of its weights); then a rerun resumes from the last
# checkpoint (OUT.ckpt) and finishes with the weights of an uninterrupted run.
#
# Environment: top_srcdir, top_builddir; MNIST_DATA; FAULT_KILLS (10), FAULT_SEED (for
# the kill times; default: random, printed).
set -euo pipefail
# shellcheck source=tests/faults/common.sh
source "$(dirname "$0")/common.sh"
kills=${FAULT_KILLS:-10}
seed=${FAULT_SEED:-$((RANDOM))}
RANDOM=$seed
data=$("$top_srcdir/trainer/fetch-mnist.sh" ${MNIST_DATA:+"$MNIST_DATA"} | tail -1)
train=$top_builddir/mnist-train
run=(--data "$data" --limit-train 3000 --epochs 3 --threads 2 --seed 6)
echo "# kill times from seed $seed (FAULT_SEED=$seed reproduces them)"

weights() { model_check "$1" | awk '$1 == "OK" {print $2}'; }

# the old model, and the weights an uninterrupted run publishes
mkdir -p "$work/ref" "$work/live"
"$train" --data "$data" --limit-train 3000 --epochs 1 --threads 2 --seed 5 --no-resume \
  --out "$work/old.safetensors" 2>"$work/old.log"
old=$(weights "$work/old.safetensors")
t0=$(now_ms)
"$train" "${run[@]}" --no-resume --out "$work/ref/model.safetensors" 2>"$work/ref.log"
full_ms=$(($(now_ms) - t0))
new=$(weights "$work/ref/model.safetensors")
echo "# old weights ${old:0:12}, new weights ${new:0:12}; an uninterrupted run takes $full_ms ms"
check "the old and the new model differ" test -n "$old" -a -n "$new" -a "$old" != "$new"

out=$work/live/mnist_model.safetensors
reset_live() {
  cp "$work/old.safetensors" "$out.copy" && mv "$out.copy" "$out"
  rm -f "$out.ckpt"
}
reset_live
done_kills=0 attempts=0 finished=0
while [ "$done_kills" -lt "$kills" ] && [ "$attempts" -lt $((kills * 3)) ]; do
  attempts=$((attempts + 1))
  delay_ms=$((50 + RANDOM % (full_ms + 200)))
  had_ckpt=$([ -e "$out.ckpt" ] && echo yes || echo no)
  "$train" "${run[@]}" --out "$out" 2>>"$work/kill.log" &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    done_kills=$((done_kills + 1))
    got=$(weights "$out" || true)
    case $got in
      "$old") state=old ;;
      "$new") state=new ;;
      *) state=BROKEN ;;
    esac
    check "kill $done_kills at $delay_ms ms (checkpoint before: $had_ckpt; after: $([ -e "$out.ckpt" ] && echo yes || echo no)): the published model is the $state one" \
      test "$state" != BROKEN
  else
    # it finished before the kill: the new model is out; start over from the old one
    wait "$pid" || true
    finished=$((finished + 1))
    check "run finished before the kill at $delay_ms ms: the new model is published" \
      test "$(weights "$out")" = "$new"
    reset_live
  fi
done
stale=$(find "$work/live" -name '*.tmp.*' | wc -l)
echo "# $done_kills kills, $finished runs finished before their kill; $stale temporary file(s) left by killed writers"
had_ckpt=$([ -e "$out.ckpt" ] && echo yes || echo no)
rc=0
"$train" "${run[@]}" --out "$out" 2>"$work/rerun.log" || rc=$?
check "the rerun finishes (exit $rc)" test "$rc" -eq 0
if [ "$had_ckpt" = yes ]; then
  check "the rerun resumed from the checkpoint: $(grep -m1 '^Resuming' "$work/rerun.log" || echo 'no Resuming line')" \
    grep -q '^Resuming from' "$work/rerun.log"
fi
check "the rerun published the weights of an uninterrupted run" test "$(weights "$out")" = "$new"
check "no checkpoint left after the finished run" test ! -e "$out.ckpt"
check "killed $done_kills times" test "$done_kills" -eq "$kills"
finish
