#!/usr/bin/env bash
# MoBA attention on the GPU machine, in one call: a GPU correctness check against the float64 reference
# (both dtypes, d = 128, sequences of a few hundred tokens so the reference finishes in about a minute),
# then the forward and forward+backward sweeps of issue 5 (b=2, H=16, d=128, fp16, causal, B=128,
# topK=8, N = 8K … 512K) with the per-stage breakdown and the kernels' registers / local memory.
#
# Usage (here):       benchmarks/gpu/publish.sh moba && cp benchmarks/gpu/moba-gpu.sh <main>/.gpu/moba/
# Usage (GPU machine, from the copied repository root):
#                     bash .gpu/moba/moba-gpu.sh               # logs and JSON land in $OUT (default ./device-out)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sweep=8192,16384,32768,65536,131072,262144,524288
export FLASHMOBA_MOBA_STAGES=1
bash "$here/device-run.sh" "$here" info \
    "verify --device cuda --family moba --seqlen 300 --head-dim 128 --dtype fp16,bf16" \
    "bench --device cuda --mode fwd --seqlen $sweep --repeats 5 --warmup 2 --json \$OUT/moba-fwd.json" \
    "bench --device cuda --mode fwdbwd --seqlen $sweep --repeats 5 --warmup 2 --json \$OUT/moba-fwdbwd.json"
