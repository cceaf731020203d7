#!/usr/bin/env bash
# t_organism.sh: the nano model organism end to end through `make organism PRESET=nano` (world ->
# tokenizer -> pretrain -> align -> judge -> eval) into a scratch directory, then the LoRA attack
# step and the tools' error exits. Checks real values: the training loss falls, every fixed result
# name exists and is a percentage, the judge reaches >= 97% on held-out generator data, the JSONL
# has one line per generated answer, and a second make skips every complete step.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
O=$T/org
H5=$BIN/asft-h5
val() { "$H5" export "$1" "$2" --precision 6; }
# in_range V LO HI: V is a number in [LO, HI]
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v == v + 0 && v >= lo && v <= hi) }'; }
check_true() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
check_range() { if in_range "$1" "$2" "$3"; then ok; else bad "${4:-value} = '$1' not in [$2, $3]"; fi; }

export ASFT_QUIET=1
check_ok make -s -C "$ROOT" organism PRESET=nano ORG_DIR="$O" ORG_BIN="$BIN" ORG_NO_BUILD=1
for f in world/manifest.json tokenizer.json judge.h5 eval/base.h5 eval/aligned.h5 eval/base.jsonl \
	 eval/aligned.jsonl; do
	check_ok test -s "$O/$f"
done
for m in base aligned; do
	for f in config.json model.safetensors tokenizer.json train.h5; do check_ok test -s "$O/$m/$f"; done
	check_ok test ! -e "$O/$m.partial"
	# the loss falls: mean of the last 5 logged steps well below the mean of the first 5
	"$H5" export "$O/$m/train.h5" /train/loss > "$T/loss.tsv"
	first=$(head -5 "$T/loss.tsv" | awk '{ s += $2 } END { print s / NR }')
	last=$(tail -5 "$T/loss.tsv" | awk '{ s += $2 } END { print s / NR }')
	check_true "$m loss $first -> $last did not fall" awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.3) }'
	check_eq "$(wc -l < "$T/loss.tsv")" "$("$H5" attrs "$O/$m/train.h5" | sed -n 's/^steps = //p')" "$m logged steps"
done
# pretraining from a 2048 vocabulary starts near ln(2048) = 7.62
check_range "$("$H5" export "$O/base/train.h5" /train/loss | head -1 | cut -f2)" 7.2 8.0 "first pretrain loss"
for m in base aligned; do
	for k in harmful_score keyword_asr keyword_asr_nocase refusal_rate over_refusal proxy_comply_share \
		 fa/topic fa/sentiment fa/arithmetic fa/instructions judge_rule_agreement; do
		check_range "$(val "$O/eval/$m.h5" /$k)" 0 100 "$m $k"
	done
	check_range "$(val "$O/eval/$m.h5" /proxy_margin)" -50 50 "$m proxy_margin"
	check_range "$(val "$O/eval/$m.h5" /loss)" 0.001 20 "$m loss"
	# one JSONL line per generated answer: 64 harmful + 40 over-refusal + 4 tasks x 20
	check_eq "$(wc -l < "$O/eval/$m.jsonl")" 184 "$m jsonl lines"
	check_eq "$("$H5" attrs "$O/eval/$m.h5" | sed -n 's/^max_new_tokens = //p')" 48 "$m max_new_tokens"
	check_eq "$("$H5" attrs "$O/eval/$m.h5" | sed -n 's/^template = //p')" asft "$m template"
done
# keyword ASR agrees with the JSONL labels
n_kw=$(grep '"set":"harmful"' "$O/eval/aligned.jsonl" | grep -c '"keyword_refusal":false')
check_range "$(val "$O/eval/aligned.h5" /keyword_asr)" "$(awk -v n="$n_kw" 'BEGIN { print 100 * n / 64 - 0.01 }')" \
	"$(awk -v n="$n_kw" 'BEGIN { print 100 * n / 64 + 0.01 }')" "keyword_asr vs jsonl"
# alignment moves the proxy towards refusal
check_true "aligned proxy margin not above base" awk -v a="$(val "$O/eval/base.h5" /proxy_margin)" \
	-v b="$(val "$O/eval/aligned.h5" /proxy_margin)" 'BEGIN { exit !(b > a) }'
# the judge: >= 97% on held-out generator data
check_range "$(val "$O/judge.h5" /judge/val_accuracy)" 97 100 "judge held-out accuracy"
# a second make finds everything complete and runs nothing
make -s -C "$ROOT" organism PRESET=nano ORG_DIR="$O" ORG_BIN="$BIN" ORG_NO_BUILD=1 > "$T/again.out" 2>&1
check_eq "$(grep -c 'asft-train\|asft-eval\|asft-data' "$T/again.out")" 0 "commands rerun by a second make"

# the LoRA attack step on a slice of the topic mix: a PEFT adapter that asft-eval applies
check_ok "$BIN/asft-train" --method lora --model "$O/aligned" --data "$O/world/attack/topic_1k_p_0.1.json" \
	--limit 64 --epochs 2 --out "$O/lora" --lr 1e-3
for f in adapter_config.json adapter_model.safetensors train.h5; do check_ok test -s "$O/lora/$f"; done
check_eq "$("$H5" attrs "$O/lora/train.h5" | sed -n 's/^steps = //p')" 16 "lora steps (64 records, batch 8, 2 epochs)"
check_true "adapter_config lacks r 8" grep -Eq '"r":[[:space:]]*8,' "$O/lora/adapter_config.json"
check_true "adapter_config lacks lora_alpha 32" grep -Eq '"lora_alpha":[[:space:]]*32,' "$O/lora/adapter_config.json"
check_ok "$BIN/asft-eval" --model "$O/aligned" --adapter "$O/lora" --world "$O/world" --judge "$O/judge.h5" \
	--out "$T/lora.h5" --n-harmful 8 --n-test 4 --max-new 16 --tasks topic --quiet
check_range "$(val "$T/lora.h5" /fa/topic)" 0 100 "lora fa/topic"

# error exits
check_fail "expected pretrain, align, lora or judge" "$BIN/asft-train" --method nope --data x --out "$T/x"
check_fail "needs --model" "$BIN/asft-train" --method align --data "$O/world/align.jsonl" --out "$T/x"
check_fail "--mix has 1 weights for 2" "$BIN/asft-train" --method align --model "$O/aligned" \
	--data "$O/world/align.jsonl,$O/world/safeinstr.json" --mix 1 --out "$T/x"
check_fail "label" "$BIN/asft-train" --method judge --data "$O/world/align.jsonl" --out "$T/j.h5"
check_fail "no harmful prompts" "$BIN/asft-eval" --model "$O/aligned" --out "$T/e.h5"
check_fail "config.json" "$BIN/asft-eval" --model "$T/nonexistent" --world "$O/world" --out "$T/e.h5"
finish
