#!/usr/bin/env bash
# Offline register/spill check of the key-convolution kernels (no GPU needed): writes their sm_90 PTX
# with the harness and prints `ptxas -v` for each. Usage: benchmarks/gpu/keyconv-ptxas.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/keyconv-ptx}
ptxas=$("${GET_PTXAS:-../shared/tools/get-ptxas}")
dotnet build benchmarks/gpu/keyconv-bench -c Release -v q -nologo >/dev/null
dotnet benchmarks/gpu/keyconv-bench/bin/Release/net10.0/FlashMoBA.KeyConvBench.dll ptx "$out" >/dev/null
for f in "$out"/*.ptx; do
  printf '%-20s ' "$(basename "$f" .ptx)"
  "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E 'registers|spill' | sed 's/ptxas info *: //' | tr '\n' ' '
  echo
done
