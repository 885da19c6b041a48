#!/usr/bin/env bash
# Runs on the GPU machine (which has the NVIDIA driver but no .NET): unpacks the bundle made by
# publish.sh and runs the given flashmoba verb lines in order, each logged to $OUT/NN-VERB.log.
#
# Usage: device-run.sh BUNDLE_DIR VERB_LINE [VERB_LINE ...]
#   BUNDLE_DIR  folder holding flashmoba.tar.xz (e.g. .gpu/NAME)
#   VERB_LINE   one quoted flashmoba command line, e.g. "verify --device cuda" or
#               "bench --json \$OUT/bench.json --plot \$OUT/bench.svg" ($OUT is expanded here)
# Environment: OUT (default ./device-out) receives the logs, nvidia-smi.txt and summary.txt.
# Exit status: 0 when every verb exited 0, else the first non-zero verb status.
set -uo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
bundle="$1"
shift
OUT="${OUT:-$PWD/device-out}"
export OUT
mkdir -p "$OUT"

app="$(mktemp -d "${TMPDIR:-/tmp}/flashmoba.XXXXXX")"
tar -C "$app" -xJf "$bundle/flashmoba.tar.xz" || { echo "device-run.sh: cannot unpack $bundle/flashmoba.tar.xz" >&2; exit 2; }
echo "bundle commit: $(cat "$app/COMMIT" 2>/dev/null || echo unknown)" | tee "$OUT/summary.txt"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed (see nvidia-smi.txt)" | tee -a "$OUT/summary.txt"

status=0
index=0
for line in "$@"; do
    index=$((index + 1))
    expanded="$(eval "printf '%s' \"$line\"")"   # expand $OUT inside the verb line
    read -r -a words <<< "$expanded"
    log="$(printf '%s/%02d-%s.log' "$OUT" "$index" "${words[0]}")"
    start=$(date +%s)
    "$app/flashmoba" "${words[@]}" > "$log" 2>&1
    code=$?
    echo "flashmoba $expanded -> exit $code in $(( $(date +%s) - start )) s (log: $(basename "$log"))" | tee -a "$OUT/summary.txt"
    tail -n 60 "$log"
    if [[ $code -ne 0 && $status -eq 0 ]]; then status=$code; fi
done
rm -rf "$app"
exit $status
