#!/usr/bin/env bash
# Publishes the router GPU harness self-contained and packs it, with routing-gpu.sh, into a folder to
# carry to a GPU machine without .NET (default: the main checkout's git-ignored .gpu/routing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/.gpu/routing}
publish=$(mktemp -d)
trap 'rm -rf "$publish"' EXIT
dotnet publish "$root/benchmarks/gpu/routing-bench" -c Release -r linux-x64 --self-contained -o "$publish" >/dev/null
mkdir -p "$out"
tar -C "$publish" -cJf "$out/routing-bench.tar.xz" .
cp "$root/benchmarks/gpu/routing-gpu.sh" "$out/"
ls -l "$out"
