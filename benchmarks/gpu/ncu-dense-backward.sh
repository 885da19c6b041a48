#!/usr/bin/env bash
# Profiles the dense backward's main kernel with Nsight Compute on the GPU machine, one fwd+bwd step
# (b=2, H=16, d=128, fp16, causal):
#   default  stall reasons, pipe use and shared-memory / reduction traffic -> $OUT/ncu-<bundle name>.txt
#   --sass   per-instruction stall sampling (SourceCounters) as CSV of the SASS -> $OUT/sass-<bundle name>.csv.gz
#
# Usage: ncu-dense-backward.sh [--sass] BUNDLE_DIR [SEQLEN]   (BUNDLE_DIR from publish.sh; SEQLEN default 16384)
# Launch order of `bench --mode densefwdbwd --warmup 0 --repeats 1`: forward, backward preprocess, backward main
# kernel, ... — hence --launch-skip 2.
set -euo pipefail
sass=0
if [[ "${1:-}" == "--sass" ]]; then sass=1; shift; fi
bundle="$1"
seqlen="${2:-16384}"
OUT="${OUT:-$PWD/device-out}"
mkdir -p "$OUT"
app="$(mktemp -d "${TMPDIR:-/tmp}/flashmoba.XXXXXX")"
tar -C "$app" -xJf "$bundle/flashmoba.tar.xz"
name="$(basename "$bundle")"
step=("$app/flashmoba" bench --device cuda --mode densefwdbwd --seqlen "$seqlen" --repeats 1 --warmup 0)

if [[ $sass -eq 1 ]]; then
    ncu --launch-skip 2 --launch-count 1 --section SourceCounters --section WarpStateStats -o "$app/report" \
        "${step[@]}" > /dev/null
    ncu -i "$app/report.ncu-rep" --page source --csv --print-source sass > "$OUT/sass-$name.csv"
    ncu -i "$app/report.ncu-rep" --section WarpStateStats --section SourceCounters | tail -60
    gzip -9 "$OUT/sass-$name.csv"
    exit 0
fi

metrics=(
    sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active
    sm__inst_executed_pipe_lsu.avg.pct_of_peak_sustained_active
    smsp__inst_executed.sum
    l1tex__data_pipe_lsu_wavefronts.avg.pct_of_peak_sustained_elapsed
    l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum
    l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum
    l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum
    l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum
    l1tex__t_requests_pipe_lsu_mem_global_op_red.sum
    l1tex__t_sectors_pipe_lsu_mem_global_op_red.sum
    smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio
    smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio
    smsp__average_warps_issue_stalled_math_pipe_throttle_per_issue_active.ratio
    smsp__average_warps_issue_stalled_mio_throttle_per_issue_active.ratio
    smsp__average_warps_issue_stalled_lg_throttle_per_issue_active.ratio
    smsp__average_warps_issue_stalled_short_scoreboard_per_issue_active.ratio
    smsp__average_warps_issue_stalled_wait_per_issue_active.ratio
    smsp__average_warps_issue_stalled_dispatch_stall_per_issue_active.ratio
    smsp__average_warps_issue_stalled_not_selected_per_issue_active.ratio
    launch__registers_per_thread
)
ncu --launch-skip 2 --launch-count 1 --section SpeedOfLight --section SchedulerStats \
    --metrics "$(IFS=,; echo "${metrics[*]}")" "${step[@]}" > "$OUT/ncu-$name.txt" 2>&1
grep -E "Kernel_|registers|hmma|lsu|wavefronts|bank|red\.sum|stalled|Duration|Eligible|Issued|Throughput" \
    "$OUT/ncu-$name.txt"
