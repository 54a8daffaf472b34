#!/bin/sh
# Train the downstream protocol's fold-honest generators (training/fold_generators.py) on a GPU machine lent through
# the workplace's device tool, in one call, and bring their weights back. Three steps:
#
#   sh training/device_folds.sh prepare     # here: put the training photos in .devdata/ (git-ignored) and move the four
#                                           # large tracked binaries (44 MB, not needed there) to /tmp/dds-large so
#                                           # that what travels stays under the tool's 64 MiB
#   device run, carry [".devdata"], timeout_s 600:
#       sh training/device_folds.sh train    # there: 3 folds at once, --max-minutes ${MINUTES:-8}; $OUT/fold<k>.pt back
#   sh training/device_folds.sh restore     # here, at once: the binaries back (git checkout if /tmp lost them)
#
# Then, here: copy the returned fold<k>.pt into training/runs/folds/, and
#   /usr/bin/python3 training/fold_generators.py --out training/runs/folds --export training/runs/fold-models
# exports every finished fold (one that stopped short says so: train it on with --init, see below). A fold cut off by
# --max-minutes comes back as fold<k>.pt at the step it reached; a second call continues it from there
# (INIT=1: each fold starts from .devdata/fold<k>.pt, without the optimiser's moments, which do not travel).
# PYTHON / CONFIG / STEPS / PARALLEL / RUNS / DATA / GENERATOR override the defaults (smoke test on a CPU: CONFIG=training/configs/tiny.json STEPS=2).
set -e
cd "$(dirname "$0")/.."
LARGE="training/checkpoints/magtile-defect-64.pt training/checkpoints/magtile-defect-64-fast.pt
public/models/magtile-defect-64/model.onnx public/models/magtile-defect-64-fast/model.onnx"
case "$1" in
prepare)
  mkdir -p .devdata /tmp/dds-large
  [ -d .devdata/train ] || cp -r ../shared/datasets/magnetic-tile/train .devdata/train
  for f in $LARGE; do
    [ -f "$f" ] && mkdir -p "/tmp/dds-large/$(dirname "$f")" && mv "$f" "/tmp/dds-large/$f"
  done
  echo "ready: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes of tracked files on disk" \
       "+ $(du -sb .devdata | cut -f1) bytes in .devdata; run 'sh training/device_folds.sh restore' after the call"
  ;;
restore)
  for f in $LARGE; do
    if [ -f "/tmp/dds-large/$f" ]; then mv "/tmp/dds-large/$f" "$f"; fi
  done
  git checkout -- $LARGE
  git status --short $LARGE
  echo "restored"
  ;;
train)
  OUT="${OUT:?the device tool sets OUT; on a CPU smoke test set it to a folder}"
  RUNS="${RUNS:-/tmp/folds}"
  DATA="${DATA:-.devdata/train}"
  mkdir -p "$RUNS"
  if [ -n "$INIT" ]; then
    for p in .devdata/fold*.pt; do
      k=$(basename "$p" .pt)
      [ -f "$RUNS/$k/last.pt" ] || { mkdir -p "$RUNS/$k"; cp "$p" "$RUNS/$k/init.pt"; }
    done
  fi
  rc=0
  PYTHONUNBUFFERED=1 "${PYTHON:-python3}" training/fold_generators.py --data "$DATA" --out "$RUNS" --compact \
    --parallel "${PARALLEL:-3}" --max-minutes "${MINUTES:-8}" --save-minutes 2 \
    ${CONFIG:+--config "$CONFIG"} ${STEPS:+--max-steps "$STEPS"} ${GENERATOR:+--generator "$GENERATOR"} >"$OUT/folds.log" 2>&1 || rc=$?
  cat "$OUT/folds.log"
  for d in "$RUNS"/fold*/; do
    k=$(basename "$d")
    [ -f "$RUNS/$k.pt" ] && cp "$RUNS/$k.pt" "$OUT/$k.pt"
    [ -f "$d/log.jsonl" ] && cp "$d/log.jsonl" "$OUT/$k-log.jsonl"
  done
  tail -n 3 "$RUNS"/fold*/stdout.log 2>/dev/null || true
  ls -la "$OUT"
  exit $rc
  ;;
*)
  echo "usage: sh training/device_folds.sh prepare | train | restore" >&2
  exit 2
  ;;
esac
