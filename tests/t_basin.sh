#!/usr/bin/env bash
# t_basin.sh: asft-basin end to end on a tiny fixture built here with the tools (nano world,
# a 1-layer model pretrained a few steps, "aligned" a few more, a LoRA attack, a judge, and
# directions from asft-perturb): 1-D and non-square 2-D grids, coordinates and shapes, the proxy,
# generation and task metrics, EPL attributes, a walk killed after some points and resumed
# ending bitwise equal to an uninterrupted one, a rerun of a complete walk computing nothing,
# and every error exit (missing direction, directions for another model, bad grid flags, ...).
source "$(dirname "$0")/lib.sh"
H5=$BIN/asft-h5
export ASFT_QUIET=1
F=$T/fx
check_true() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v == v + 0 && v >= lo && v <= hi) }'; }
attr() { "$H5" attrs "$1" | sed -n "s/^$2 = //p"; }

# ---- fixture (a few seconds): laid out as an organism folder, so make experiment-basin runs on it
ROOT=$(cd "$(dirname "$0")/.." && pwd)
check_ok "$BIN/asft-data" world --preset nano --seed 3 --out "$F/world" --quiet
check_ok "$BIN/asft-data" tokenizer --corpus "$F/world/corpus.txt" --vocab 1000 --out "$F/tok.json"
TINY="--d 32 --layers 1 --heads 2 --ctx 256 --batch 8 --lr 3e-3 --threads 1 --seed 1"
check_ok "$BIN/asft-train" --method pretrain --tokenizer "$F/tok.json" --data "$F/world/pretrain.jsonl" \
	--out "$F/base" $TINY --steps 4
check_ok "$BIN/asft-train" --method align --model "$F/base" --data "$F/world/align.jsonl" --out "$F/aligned" \
	--batch 8 --steps 3 --lr 3e-3 --threads 1 --seed 1
check_ok "$BIN/asft-train" --method lora --model "$F/aligned" --data "$F/world/attack/topic_1k_p_0.1.json" \
	--limit 16 --epochs 1 --lr 1e-3 --out "$F/attack/topic_1k_p_0.1" --threads 1
check_ok "$BIN/asft-train" --method judge --data "$F/world/judge/train.jsonl" --out "$F/judge.h5" --seed 1
check_ok "$BIN/asft-perturb" --model "$F/aligned" --out "$F/dirs.h5" --kind aligned,harm,orthogonal \
	--base "$F/base" --aligned "$F/aligned" --adapter "$F/attack/topic_1k_p_0.1" --quiet
# a second model of another width, for the shape-mismatch error
check_ok "$BIN/asft-train" --method pretrain --tokenizer "$F/tok.json" --data "$F/world/pretrain.jsonl" \
	--out "$F/wide" --d 48 --layers 1 --heads 2 --ctx 256 --batch 8 --steps 1 --threads 1 --seed 1
check_ok "$BIN/asft-perturb" --model "$F/wide" --out "$F/wide_dirs.h5" --kind random --quiet

B=("$BIN/asft-basin" --model "$F/aligned" --directions "$F/dirs.h5" --world "$F/world" --threads 1)

# ---- 1-D proxy walk: shapes, coordinates, done, EPL attributes ----
check_ok "${B[@]}" --x aligned --out "$T/c1.h5" --xnum 5 --n-prompts 12
check_eq "$("$H5" export "$T/c1.h5" /xcoordinates | cut -f2 | tr '\n' ' ')" "-0.5 -0.25 0 0.25 0.5 " "1-D xcoordinates"
check_eq "$("$H5" export "$T/c1.h5" /done | cut -f2 | tr '\n' ' ')" "1 1 1 1 1 " "1-D done"
check_eq "$("$H5" export "$T/c1.h5" /proxy_margin | grep -c nan)" 0 "1-D proxy_margin has no NaN"
check_eq "$("$H5" ls "$T/c1.h5" | grep -c 'harmful_score')" 0 "metrics not asked for are absent"
check_eq "$(attr "$T/c1.h5" epl_metric)" proxy_comply_share "default EPL metric of the proxy"
check_eq "$(attr "$T/c1.h5" n_prompts)" 12 "n_prompts attribute"
check_eq "$(attr "$T/c1.h5" x)" aligned "x attribute"
check_eq "$(attr "$T/c1.h5" x_normalisation)" layer "x_normalisation attribute"
check_true "epl_x attribute" in_range "$(attr "$T/c1.h5" epl_x)" 0 0.5
check_true "epl_x_tau = S(0) + 10" awk -v t="$(attr "$T/c1.h5" epl_x_tau)" -v s="$(attr "$T/c1.h5" epl_x_s0)" \
	'BEGIN { exit !(t - s > 9.999999 && t - s < 10.000001) }'
mid=$("$H5" export "$T/c1.h5" /proxy_comply_share --precision 17 | sed -n 3p | cut -f2)
check_eq "$(attr "$T/c1.h5" epl_x_s0)" "$mid" "S(0) is the middle point"
# every metric dataset carries its own EPL (the root has the EPL metric's)
check_eq "$(attr "$T/c1.h5" epl_x)" "$("$H5" attrs "$T/c1.h5" /proxy_comply_share | sed -n 's/^epl_x = //p')" "root EPL = the EPL metric's"
check_eq "$("$H5" attrs "$T/c1.h5" /proxy_margin | sed -n 's/^epl_x_tau = //p')" 0 "proxy_margin's default tau is 0"
# proxy at alpha = 0 equals asft-eval's proxy of the unperturbed model on the same prompts
check_ok "$BIN/asft-eval" --model "$F/aligned" --world "$F/world" --out "$T/e.h5" --n-harmful 12 --tasks "" --threads 1 --quiet
check_eq "$("$H5" export "$T/e.h5" /proxy_margin --precision 12)" \
	"$("$H5" export "$T/c1.h5" /proxy_margin --precision 12 | sed -n 3p | cut -f2)" "proxy_margin at 0 vs asft-eval"
# a custom threshold
check_ok "${B[@]}" --x aligned --out "$T/c1.h5" --xnum 5 --n-prompts 12 --epl-metric proxy_margin --tau -1000
check_eq "$(attr "$T/c1.h5" epl_x)" 0.5 "EPL censored at the walk's end when tau is never crossed"
check_eq "$(attr "$T/c1.h5" epl_x_censored_pos)" 1 "censored flag"

# ---- generation and task metrics ----
check_ok "${B[@]}" --x harm --out "$T/g.h5" --xnum 3 --xmin -0.1 --xmax 0.1 --metrics hs,keyword_asr_nocase,task \
	--judge "$F/judge.h5" --n-prompts 8 --max-new 6 --n-task 4 --batch 4
for k in harmful_score refusal_rate keyword_asr keyword_asr_nocase task_accuracy; do
	for v in $("$H5" export "$T/g.h5" /$k | cut -f2); do check_true "$k = $v" in_range "$v" 0 100; done
done
# 8 prompts: keyword ASR is a multiple of 12.5
check_eq "$("$H5" export "$T/g.h5" /keyword_asr | cut -f2 | awk '{ if ($1 / 12.5 != int($1 / 12.5)) n++ } END { print n + 0 }')" 0 "keyword_asr on 8 prompts"
check_true "loss > 0" in_range "$("$H5" export "$T/g.h5" /loss | sed -n 2p | cut -f2)" 0.01 50
check_eq "$(attr "$T/g.h5" epl_metric)" harmful_score "default EPL metric with a judge"
check_eq "$(attr "$T/g.h5" max_new_tokens)" 6 "max_new_tokens attribute"
check_eq "$(attr "$T/g.h5" task)" topic "task attribute"
check_true "judge attribute" grep -q judge.h5 <<< "$(attr "$T/g.h5" judge)"
check_eq "$(attr "$T/g.h5" n_task)" 4 "n_task attribute"

# ---- 2-D non-square grid, killed and resumed == uninterrupted (bitwise) ----
G=(--x aligned --y orth0 --xnum 4 --ynum 3 --ymin -0.4 --ymax 0.4 --n-prompts 10)
check_ok "${B[@]}" "${G[@]}" --out "$T/full.h5"
ASFT_BASIN_STOP_AFTER=5 "${B[@]}" "${G[@]}" --out "$T/part.h5" > /dev/null 2>&1
check_eq "$?" 75 "the stop hook exits like a kill after 5 points"
check_eq "$("$H5" export "$T/part.h5" /done | tr -s '\t\n' '  ')" "1 1 1 1 1 0 0 0 0 0 0 0 " "done after 5 points (row-major)"
check_eq "$("$H5" export "$T/part.h5" /proxy_margin | sed -n 2p | cut -f2-4 | tr '\t' ' ')" "nan nan nan" "missing points are NaN"
check_eq "$("$H5" ls "$T/part.h5" | grep -c 'proxy_margin.*f64.*3 x 4\|proxy_margin.*(3, 4)\|proxy_margin.*\[3, 4\]')" 1 "2-D dataset is rows = y (3) x columns = x (4)"
check_ok "${B[@]}" "${G[@]}" --out "$T/part.h5"
check_true "resume message" grep -q "5 of 12 points already done, 7 to go" "$T/.err"
for d in proxy_margin proxy_comply_share done xcoordinates ycoordinates; do
	check_eq "$("$H5" export "$T/part.h5" /$d --precision 17 | md5sum)" "$("$H5" export "$T/full.h5" /$d --precision 17 | md5sum)" "resumed /$d"
done
check_eq "$("$H5" export "$T/full.h5" /ycoordinates | cut -f2 | tr '\n' ' ')" "-0.4 0 0.4 " "ycoordinates"
check_eq "$(attr "$T/full.h5" epl_y_s0)" "$(attr "$T/full.h5" epl_x_s0)" "both axes share S(0)"
check_true "cosine_xy of aligned and orth0 is ~0" awk -v c="$(attr "$T/full.h5" cosine_xy)" 'BEGIN { exit !(c < 1e-5 && c > -1e-5) }'
# --resume on a complete file computes nothing and changes nothing
cp "$T/full.h5" "$T/again.h5"
check_ok "${B[@]}" "${G[@]}" --out "$T/again.h5" --resume
check_eq "$(attr "$T/again.h5" points_last_run)" 0 "points computed by a rerun of a complete walk"
check_eq "$("$H5" export "$T/again.h5" /proxy_margin --precision 17 | md5sum)" "$("$H5" export "$T/full.h5" /proxy_margin --precision 17 | md5sum)" "rerun keeps the values"

# ---- errors ----
check_fail "exists with other settings: max_new_tokens|exists with other settings: n_prompts" "${B[@]}" "${G[@]}" --out "$T/full.h5" --n-prompts 9
check_ok "${B[@]}" "${G[@]}" --out "$T/full.h5" --n-prompts 9 --overwrite
check_eq "$(attr "$T/full.h5" n_prompts)" 9 "--overwrite replaced the file"
check_fail "no direction 'nope' \(the file has: aligned, harm, orth0\)" "${B[@]}" --x nope --out "$T/x.h5"
check_fail "no direction 'zzz'" "${B[@]}" --x aligned --y zzz --out "$T/x.h5"
check_fail "has shape \[.*\] but the model's is" "$BIN/asft-basin" --model "$F/aligned" --directions "$F/wide_dirs.h5" --x random0 --out "$T/x.h5" --world "$F/world"
check_fail "--xnum|--xmin/--xmax/--xnum: 0 points" "${B[@]}" --x aligned --out "$T/x.h5" --xnum 0
check_fail "min 1 must be below max 0" "${B[@]}" --x aligned --out "$T/x.h5" --xmin 1 --xmax 0
check_fail "--ymin/--ymax/--ynum" "${B[@]}" --x aligned --y harm --out "$T/x.h5" --ynum -3
check_fail "not a metric or an alias" "${B[@]}" --x aligned --out "$T/x.h5" --metrics proxy,hsx
check_fail "need a moderation judge" "${B[@]}" --x aligned --out "$T/x.h5" --metrics harmful_score
check_fail "--epl-metric is not one of --metrics" "${B[@]}" --x aligned --out "$T/x.h5" --epl-metric harmful_score
check_fail "are required" "$BIN/asft-basin" --model "$F/aligned" --x aligned --out "$T/x.h5"
check_fail "no harmful prompts" "$BIN/asft-basin" --model "$F/aligned" --directions "$F/dirs.h5" --x aligned --out "$T/x.h5"
check_fail "config.json" "$BIN/asft-basin" --model "$T/none" --directions "$F/dirs.h5" --x aligned --out "$T/x.h5" --world "$F/world"
check_fail "dirs_missing.h5" "${B[@]/$F\/dirs.h5/$F/dirs_missing.h5}" --x aligned --out "$T/x.h5"
check_fail "--resume and --overwrite" "${B[@]}" --x aligned --out "$T/x.h5" --resume --overwrite
check_eq "$(ls "$T" | grep -c '^x.h5')" 0 "no output file after an error"

# ---- make experiment-basin on the fixture (small grids): every step, figures, summary ----
E=$T/exp
MK=(make -s -C "$ROOT" experiment-basin PRESET=nano ORG_DIR="$F" ORG_BIN="$BIN" ORG_NO_BUILD=1 BASIN_OUT="$E"
    BASIN_THREADS=1 "BASIN_1D=--metrics hs,proxy --xnum 5 --n-prompts 8 --max-new 6 --xmin -0.5 --xmax 0.5"
    "BASIN_2D=--metrics proxy --xnum 3 --ynum 3 --n-prompts 8 --xmin -0.5 --xmax 0.5 --ymin -0.5 --ymax 0.5")
check_ok "${MK[@]}"
for f in align.h5 direction.txt dirs.h5 perturb.txt curve_aligned.h5 curve_harm.h5 curve_orth0.h5 surface.h5 \
	 summary.txt basin1d.png basin1d.svg basin1d_proxy.png basin2d.png basin2d.svg; do
	check_ok test -s "$E/$f"
done
check_eq "$(head -c 8 "$E/basin1d.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "basin1d.png is a PNG"
check_true "summary has the EPL table" grep -q "^  harm  " "$E/summary.txt"
check_true "summary has the EPL ratio" grep -q "EPL(aligned) / EPL(harm)" "$E/summary.txt"
check_true "summary has the cosines" grep -q "cos(aligned, harm) = " "$E/summary.txt"
check_eq "$("$H5" export "$E/surface.h5" /done | tr -s '\t\n' '  ')" "1 1 1 1 1 1 1 1 1 " "2-D surface complete"
check_eq "$(attr "$E/curve_harm.h5" n_prompts)" 8 "make passes BASIN_1D"
# a second make finds every step complete and rewrites nothing
before=$(find "$E" "$F" -type f -printf '%p %T@\n' | sort)
check_ok "${MK[@]}"
check_eq "$(find "$E" "$F" -type f -printf '%p %T@\n' | sort | md5sum)" "$(md5sum <<< "$before")" "files rewritten by a second make"
check_true "a second make prints the summary" grep -q "EPL(aligned) / EPL(harm)" "$T/.out"
finish
