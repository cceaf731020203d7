#!/usr/bin/env bash
# bench-engine.sh: the engine benchmark of issue 3, part of `make bench`; standalone:
#   ASFT_BIN=build/bin bash experiments/mk/bench-engine.sh [--threads N] [--rounds R]
#
# In one run on this machine, the same model and batch for both sides:
#   training step tokens/s, full fine-tuning and LoRA (r 8 on q_proj,v_proj), AdamW;
#   batched greedy generation tokens/s with a KV cache (64 prompts);
#   cblas_sgemm GFLOP/s at n=2048 and the share of it our training step reaches;
# ours (build/bin/asft-bench) against PyTorch (experiments/mk/bench_engine.py on Debian's
# python3-torch, /usr/bin/python3) with the same thread count. Model: d 256, 6 layers, 8 heads,
# ffn 688, vocab 2048, untied; batch 8 x 256 tokens; prompts of 32 random ids + 64 new tokens.
# Each measurement runs in its own process with warm-up steps excluded; R rounds alternate which
# side goes first, so a burst of load on this shared machine hits both; the table gives the
# median over all timed steps of all rounds. Every round also runs for each model organism
# preset found under results/organism/<preset>/base/config.json (label = preset, its architecture
# with random weights; a context shorter than 256 gets more sequences, keeping 2048 tokens per
# step; BENCH_PRESETS=0 skips them). Writes results/bench/engine.jsonl (raw times) and results/bench/engine.h5.
# A quick check of the pipeline: BENCH_ARGS="--hidden 64 --layers 2 --vocab 256 --ffn 128
# --batch 2 --seq 32 --prompts 4 --max-new 4" BENCH_SGEMM_N=256 BENCH_ROUNDS=1 (both sides
# receive BENCH_ARGS).
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every command here (see DESIGN.md 7).
set -eu
cd "$(dirname "$0")/../.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
BIN=${ASFT_BIN:-build/bin}
PY=${BENCH_PYTHON:-/usr/bin/python3}
threads=${BENCH_THREADS:-$(nproc)} rounds=${BENCH_ROUNDS:-3}
# torch's OpenMP threads busy-wait between parallel regions by default and then fight
# OpenBLAS's threads for the cores (2-5x slower steps on this shared 2-core machine); PASSIVE
# is torch's faster setting here, so the comparison uses it (BENCH_OMP_WAIT_POLICY=ACTIVE for
# the default behaviour).
omp_wait=${BENCH_OMP_WAIT_POLICY:-PASSIVE}
while [ $# -gt 0 ]; do
	case "$1" in
	--threads) threads=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	*) echo "bench-engine: unknown argument $1 (--threads N, --rounds R)" >&2; exit 2 ;;
	esac
done
[ -x "$BIN/asft-bench" ] || { echo "bench-engine: $BIN/asft-bench missing (run make)" >&2; exit 1; }
mkdir -p results/bench
runs=results/bench/engine.jsonl
: > "$runs"

models=("bench|")
if [ "${BENCH_PRESETS:-1}" != 0 ]; then
	for c in results/organism/*/base/config.json; do
		[ -e "$c" ] || continue
		d=${c%/config.json}
		p=${d%/base}
		models+=("${p##*/}|$d")
	done
fi

# one measurement: side what label dir [extra flags]
one() {
	local side=$1 what=$2 label=$3 dir=$4
	shift 4
	local m=() extra=()
	read -r -a extra <<< "${BENCH_ARGS:-}"
	[ -n "$dir" ] && m=(--model "$dir")
	local steps=(--warmup 1 --steps 3)
	[ "$what" = gen ] && steps=(--warmup 1 --steps 2)
	if [ "$side" = asft ]; then
		"$BIN/asft-bench" --mode "$what" --label "$label" "${m[@]}" --threads "$threads" \
			"${steps[@]}" "${extra[@]}" "$@" >> "$runs"
	else
		OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=$omp_wait \
			"$PY" experiments/mk/bench_engine.py \
			--mode "$what" --label "$label" "${m[@]}" --threads "$threads" "${steps[@]}" "${extra[@]}" "$@" >> "$runs"
	fi
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-engine: $threads threads, $rounds rounds, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, torch OMP_WAIT_POLICY=$omp_wait, load average $load0"
t_start=$EPOCHREALTIME
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(asft torch); else order=(torch asft); fi
	"$BIN/asft-bench" --mode sgemm --threads "$threads" --warmup 1 --steps 3 \
		--sgemm-n "${BENCH_SGEMM_N:-2048}" >> "$runs"
	for spec in "${models[@]}"; do
		label=${spec%%|*} dir=${spec#*|}
		for what in train lora gen; do
			for side in "${order[@]}"; do
				one "$side" "$what" "$label" "$dir"
			done
		done
	done
	echo "bench-engine: round $r of $rounds done ($(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s)"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-engine: load average at start $load0, at end $load1 ($(nproc) cores)"
"$BIN/asft-bench" --mode report --in "$runs" --out results/bench/engine.h5 \
	--note "threads $threads, rounds $rounds, torch OMP_WAIT_POLICY=$omp_wait; load average (1/5/15 min) at start $load0, at end $load1 on $(nproc) cores; torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)" \
	| tee results/bench/engine.txt
