#!/usr/bin/env bash
# Per-instruction stall sampling of the dense backward's main kernel (Nsight Compute SourceCounters), written as
# CSV of the SASS with its sampled stall reasons: where the warps of the kernel wait.
#
# Usage: ncu-dense-backward-source.sh BUNDLE_DIR [SEQLEN]   -> $OUT/sass-<bundle name>.csv
set -euo pipefail
bundle="$1"
seqlen="${2:-16384}"
OUT="${OUT:-$PWD/device-out}"
mkdir -p "$OUT"
app="$(mktemp -d "${TMPDIR:-/tmp}/flashmoba.XXXXXX")"
tar -C "$app" -xJf "$bundle/flashmoba.tar.xz"
name="$(basename "$bundle")"
ncu --launch-skip 2 --launch-count 1 --section SourceCounters --section WarpStateStats -o "$app/report" \
    "$app/flashmoba" bench --device cuda --mode densefwdbwd --seqlen "$seqlen" --repeats 1 --warmup 0 > /dev/null
ncu -i "$app/report.ncu-rep" --page source --csv --print-source sass > "$OUT/sass-$name.csv"
ncu -i "$app/report.ncu-rep" --section WarpStateStats --section SourceCounters | tail -60
gzip -9 "$OUT/sass-$name.csv"
