#!/usr/bin/env bash
# On the GPU machine: unpack the harness packed by routing-publish.sh (beside this script), verify the
# router against the float64 reference, then time it. Tables go to stdout and, when set, to $OUT.
# Usage: routing-gpu.sh [N ...]   (sequence lengths for the benchmark; default 8K … 512K)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp -d)
tar -C "$bin" -xJf "$here/routing-bench.tar.xz"
out=${OUT:-$(mktemp -d)}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
status=0
"$bin/FlashMoBA.RoutingBench" verify | tee "$out/routing-verify.md" || status=1
"$bin/FlashMoBA.RoutingBench" bench "$@" | tee "$out/routing-bench.md" || status=1
exit $status
