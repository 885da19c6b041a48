#!/usr/bin/env bash
# Publishes the flashmoba CLI and the key-conv harness self-contained into one folder and packs it for
# the GPU machine (which has no .NET). Usage: benchmarks/gpu/keyconv-publish.sh DEST_DIR
# DEST_DIR receives flashmoba.tar.xz and keyconv-run.sh; carry it and run keyconv-run.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${1:?destination folder}
pub=$(mktemp -d)
dotnet publish src/FlashMoBA.Cli -c Release -r linux-x64 --self-contained -o "$pub" -v q -nologo
dotnet publish benchmarks/gpu/keyconv-bench -c Release -r linux-x64 --self-contained -o "$pub" -v q -nologo
mkdir -p "$dest"
tar -C "$pub" -cJf "$dest/flashmoba.tar.xz" .
cp benchmarks/gpu/keyconv-run.sh "$dest/"
rm -rf "$pub"
ls -l "$dest"
