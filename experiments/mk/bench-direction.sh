#!/usr/bin/env bash
# bench-direction.sh: the scale benchmark of asft-direction (issue 5), part of `make bench`;
# standalone: `ASFT_BIN=build/bin bash experiments/mk/bench-direction.sh`.
#
# Writes a random Llama-2-7B-shaped pair of BF16 checkpoints (32 layers, hidden 4096, ffn 11008,
# vocab 32000, 10 GB shards as the real ones: about 27 GB for the pair) with asft-fakeckpt into a
# scratch folder, then times in one run:
#   read   cat of both checkpoints' shards > /dev/null
#   nosvd  asft-direction --modules all --topk 0            (target: within 1.5x of read)
#   svd    asft-direction --modules q_proj,v_proj --topk 8  (SVD cost per 4096 x 4096 matrix)
# with peak RSS from /usr/bin/time -v (target < 2 GB). The scratch folder is deleted at the end
# (also on failure). Page cache: nothing is dropped (that needs root); every shard is read once
# with cat before the timed steps, and the table prints the machine's RAM next to the pair's
# size, so a reader can tell whether the timed reads came from memory or from disk.
# Smaller shapes for a quick check: BENCH_LAYERS, BENCH_HIDDEN, BENCH_FFN, BENCH_VOCAB.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every command here (see DESIGN.md 7).
set -eu
cd "$(dirname "$0")/../.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
BIN=${ASFT_BIN:-build/bin}
export ASFT_QUIET=1
layers=${BENCH_LAYERS:-32} hidden=${BENCH_HIDDEN:-4096} ffn=${BENCH_FFN:-11008} vocab=${BENCH_VOCAB:-32000}
scratch=${BENCH_SCRATCH:-results/bench/direction-scratch}
report=results/bench/direction.txt
mkdir -p results/bench
rm -rf "$scratch"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT
for t in asft-fakeckpt asft-direction; do
	[ -x "$BIN/$t" ] || { echo "bench-direction: $BIN/$t missing (run make)" >&2; exit 1; }
done

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

echo "bench-direction: writing a ${layers}-layer pair (hidden $hidden, ffn $ffn, vocab $vocab, bf16) in $scratch"
t=$(now)
"$BIN/asft-fakeckpt" --out-base "$scratch/base" --out-aligned "$scratch/aligned" --layers "$layers" \
	--hidden "$hidden" --ffn "$ffn" --vocab "$vocab" --heads $((hidden / 128 > 0 ? hidden / 128 : 1)) \
	--dtype bf16 --shard-bytes 10000000000 --delta 0.001 > "$scratch/gen.txt"
gen_s=$(since "$t")
shards=("$scratch"/base/*.safetensors "$scratch"/aligned/*.safetensors)
bytes=$(cat "${shards[@]}" | wc -c)     # also the untimed first read of every shard
gb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e9 }')
mem_gb=$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)

t=$(now)
cat "${shards[@]}" > /dev/null
read_s=$(since "$t")

t=$(now)
/usr/bin/time -v -o "$scratch/time0" "$BIN/asft-direction" --base "$scratch/base" \
	--aligned "$scratch/aligned" --out "$scratch/d0.h5" --modules all --topk 0 > "$scratch/out0.txt"
nosvd_s=$(since "$t")
nosvd_rss=$(rss_mb "$scratch/time0")

t=$(now)
/usr/bin/time -v -o "$scratch/time8" "$BIN/asft-direction" --base "$scratch/base" \
	--aligned "$scratch/aligned" --out "$scratch/d8.h5" --modules q_proj,v_proj --topk 8 > "$scratch/out8.txt"
svd_s=$(since "$t")
svd_rss=$(rss_mb "$scratch/time8")
# "N floating tensors compared, M selected matrices, T s (SVD S s)"
svd_total=$(sed -n 's/.*(SVD \([0-9.]*\) s).*/\1/p' "$scratch/out8.txt" | head -1)
nsel=$(sed -n 's/.* \([0-9]*\) selected matrices.*/\1/p' "$scratch/out8.txt" | head -1)
per=$(awk -v s="$svd_total" -v n="$nsel" 'BEGIN { printf "%.3f", (n > 0) ? s / n : 0 }')
ratio=$(awk -v a="$nosvd_s" -v b="$read_s" 'BEGIN { printf "%.2f", a / b }')
ratio8=$(awk -v a="$svd_s" -v b="$read_s" 'BEGIN { printf "%.2f", a / b }')
ok_ratio=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "yes" : "NO" }')
ok_rss=$(awk -v a="$nosvd_rss" -v b="$svd_rss" 'BEGIN { print (a < 2048 && b < 2048) ? "yes" : "NO" }')

{
	echo "asft-direction scale benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${mem_gb} GB RAM, OpenBLAS env unset)"
	echo "pair: 2 x ${layers}-layer Llama shape (hidden $hidden, ffn $ffn, vocab $vocab), bf16, $gb GB on disk, written in ${gen_s} s"
	echo "page cache: every shard read once by cat before timing, nothing dropped; the pair is $gb GB against ${mem_gb} GB RAM"
	printf '%-46s %9s %9s %10s\n' "step" "seconds" "x read" "peak RSS"
	printf '%-46s %9s %9s %10s\n' "cat both checkpoints > /dev/null" "$read_s" "1.00" "-"
	printf '%-46s %9s %9s %7s MB\n' "asft-direction --modules all --topk 0" "$nosvd_s" "$ratio" "$nosvd_rss"
	printf '%-46s %9s %9s %7s MB\n' "asft-direction --modules q_proj,v_proj --topk 8" "$svd_s" "$ratio8" "$svd_rss"
	echo "SVD (randomized, k 8, oversample 10, 4 power iterations): $svd_total s for $nsel matrices = $per s per ${hidden} x ${hidden} matrix"
	echo "targets: no-SVD within 1.5x of read: $ok_ratio; peak RSS < 2 GB: $ok_rss"
	echo "summary printed by the SVD run:"
	sed 's/^/  /' "$scratch/out8.txt"
} | tee "$report"
echo "bench-direction: report in $report; scratch removed"
