#!/usr/bin/env bash
# Runs on the GPU machine from the folder keyconv-publish.sh filled: the CLI's key-conv verify family on
# CUDA, the harness (kernel attributes, verification, benchmark with run-length variants), then the
# CLI's keyconv bench modes at DESIGN's shape. Output also goes to $OUT/keyconv-gpu.log when OUT is
# set. Exit code: non-zero when any check fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=$(mktemp -d)
tar -C "$app" -xJf "$here/flashmoba.tar.xz"
log=${OUT:-/tmp}/keyconv-gpu.log
{
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv
  "$app/flashmoba" verify --family keyconv --device cuda; verify=$?
  "$app/FlashMoBA.KeyConvBench" gpu; harness=$?
  bench=0
  for mode in keyconv keyconvfwdbwd; do
    "$app/flashmoba" bench --device cuda --mode "$mode" --seqlen 65536 --batch 2 --heads 16 --heads-kv 16 \
      --head-dim 128 --repeats 20 --warmup 5 || bench=1
  done
  echo "verify exit $verify, harness exit $harness, bench exit $bench"
  [ "$verify" -eq 0 ] && [ "$harness" -eq 0 ] && [ "$bench" -eq 0 ]
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
