#!/usr/bin/env bash
# Runs on the GPU machine from the folder keyconv-publish.sh filled: the CLI's key-conv verify family on
# CUDA, the harness (kernel attributes, verification, benchmark with launch-plan variants), then the
# CLI's key-conv forward + backward bench at DESIGN's shape. Output also goes to $OUT/keyconv-gpu.log when OUT is
# set. Exit code: non-zero when any check fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=$(mktemp -d)
tar -C "$app" -xJf "$here/flashmoba.tar.xz"
log=${OUT:-/tmp}/keyconv-gpu.log
{
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv
  start=$SECONDS
  "$app/flashmoba" verify --family keyconv --device cuda; verify=$?
  echo "verify: $((SECONDS - start)) s"
  "$app/FlashMoBA.KeyConvBench" gpu; harness=$?
  echo "verify + harness: $((SECONDS - start)) s"
  bench=0
  "$app/flashmoba" bench --device cuda --mode keyconvfwdbwd --seqlen 65536 --batch 2 --heads 16 --heads-kv 16 \
    --head-dim 128 --repeats 20 --warmup 5 || bench=1
  echo "total: $((SECONDS - start)) s"
  echo "verify exit $verify, harness exit $harness, bench exit $bench"
  [ "$verify" -eq 0 ] && [ "$harness" -eq 0 ] && [ "$bench" -eq 0 ]
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
