#!/usr/bin/env bash
# The whole GPU story of one bundle, in one call: the accelerators, every kernel family checked
# against the float64 reference through the CUDA path (both dtypes, d = 64 and 128, ragged, varlen,
# GQA/MQA; sequences of ~300 tokens so the float64 reference on the host finishes in a minute or
# two), then the sweeps of DESIGN.md §7 (b=2, H=16, d=128, fp16, causal, B=128, topK=8): MoBA
# forward (router + attention) and forward+backward from 8K to 512K with the dense baseline beside
# it, per-stage MoBA times, and the key convolution at 64K. These are the README's tables.
#
# Usage (here):        benchmarks/gpu/publish.sh NAME        # bundle into <main>/.gpu/NAME
# Usage (GPU machine): OUT=/log/dir bash .gpu/NAME/full-gpu.sh    # publish.sh copies this script
#   DENSE_FWD_MAX  largest N of the dense forward baseline   (default 131072)
#   DENSE_BWD_MAX  largest N of the dense fwd+bwd baseline   (default 65536)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sweep=8192,16384,32768,65536,131072,262144,524288
export FLASHMOBA_MOBA_STAGES=1
bash "$here/device-run.sh" "$here" info \
    "verify --device cuda --seqlen 300" \
    "bench --device cuda --mode fwd --seqlen $sweep --repeats 5 --warmup 2 --dense-max-seqlen ${DENSE_FWD_MAX:-131072} --json \$OUT/moba-fwd.json --csv \$OUT/moba-fwd.csv --plot \$OUT/moba-fwd.svg" \
    "bench --device cuda --mode fwdbwd --seqlen $sweep --repeats 5 --warmup 2 --dense-max-seqlen ${DENSE_BWD_MAX:-65536} --json \$OUT/moba-fwdbwd.json --csv \$OUT/moba-fwdbwd.csv --plot \$OUT/moba-fwdbwd.svg" \
    "bench --device cuda --mode keyconvfwdbwd --seqlen 65536 --repeats 10 --warmup 3 --json \$OUT/keyconv.json"
status=$?
# The runner brings back only a few files: everything also travels in one archive.
out="${OUT:-$PWD/device-out}"
archive="$(mktemp "${TMPDIR:-/tmp}/full-gpu.XXXXXX.tar.gz")"
tar -C "$out" --exclude 00-all.tar.gz -czf "$archive" . && mv "$archive" "$out/00-all.tar.gz" && echo "packed $out/00-all.tar.gz"
exit $status
