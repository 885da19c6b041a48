#!/usr/bin/env bash
# Publishes the primitives GPU self-check (benchmarks/gpu/primitives-check) self-contained, writes the
# PTX of its kernels, and stages both in /work/main/.gpu/primitives for the GPU machine. Then run there:
#   mkdir -p /tmp/p && tar -C /tmp/p -xJf .gpu/primitives/check.tar.xz && /tmp/p/FlashMoBA.PrimitivesCheck $OUT \
#     && for f in .gpu/primitives/ptx/*.ptx; do echo "== $f"; ptxas -arch=sm_90 -v "$f" -o /dev/null; done > $OUT/ptxas.txt 2>&1
# with carry [".gpu/primitives"]. Locally, without a GPU: ptxas=$(../shared/tools/get-ptxas) and the same loop.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
stage=${STAGE:-/work/main/.gpu/primitives}
publish=$(mktemp -d)
dotnet publish "$root/benchmarks/gpu/primitives-check" -c Release -r linux-x64 --self-contained -o "$publish" >/dev/null
mkdir -p "$stage/ptx"
rm -f "$stage"/ptx/*.ptx
dotnet "$publish/FlashMoBA.PrimitivesCheck.dll" --ptx "$stage/ptx" >/dev/null
tar -C "$publish" -cJf "$stage/check.tar.xz" .
rm -rf "$publish"
ls -la "$stage" "$stage/ptx"
