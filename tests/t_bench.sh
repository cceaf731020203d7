#!/usr/bin/env bash
# t_bench.sh: the engine benchmark's own side (asft-bench) on a tiny model, so `make bench`
# cannot rot unnoticed: every mode runs, its JSON carries the settings and sane numbers, and the
# report turns the runs into the table and results file. (Timings are not asserted: they are
# the benchmark's business, not a test's.)
. tests/lib.sh
tiny="--hidden 64 --layers 2 --heads 4 --vocab 256 --ffn 128 --batch 2 --seq 32 --prompts 4
      --max-new 4 --steps 2 --warmup 1 --threads 1 --seed 7"
for m in train lora gen; do
	check_ok "$BIN/asft-bench" --mode $m $tiny
	cat "$T/.out" >> "$T/runs.jsonl"
done
check_ok "$BIN/asft-bench" --mode sgemm --sgemm-n 64 --threads 1
cat "$T/.out" >> "$T/runs.jsonl"

field() { /usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["what"] == sys.argv[2]: print(r[sys.argv[3]])' "$T/runs.jsonl" "$1" "$2"; }
check_eq "$(field train tokens)" 64 "train tokens = batch * seq"
check_eq "$(field train trainable)" "$(field train params)" "full fine-tuning trains every parameter"
check_eq "$(field lora trainable)" 4096 "LoRA r 8 on q,v of 2 layers (64->64): 2*2*8*(64+64)"
check_eq "$(field gen tokens)" 16 "generation tokens = prompts * max-new"
loss=$(field train last_loss)
check_ok awk -v l="$loss" 'BEGIN { exit !(l > 4 && l < 7) }'   # ~ ln 256 = 5.5 for random weights

# Same seed, same greedy tokens.
check_ok "$BIN/asft-bench" --mode gen $tiny
check_eq "$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["first_row"])' "$T/.out")" \
	"$(field gen first_row)" "generation is deterministic"

check_ok "$BIN/asft-bench" --mode report --in "$T/runs.jsonl" --out "$T/engine.h5"
cp "$T/.out" "$T/table.txt"
check_ok grep -q "training step, full fine-tuning" "$T/table.txt"
check_ok "$BIN/asft-h5" ls "$T/engine.h5"
cp "$T/.out" "$T/ls.txt"
check_ok grep -q "/bench/train/asft_tokens_per_s" "$T/ls.txt"
check_fail "asft-bench" "$BIN/asft-bench" --mode nonsense
printf '{"side": "asft", "what":\n' > "$T/bad.jsonl"
check_fail "bad.jsonl" "$BIN/asft-bench" --mode report --in "$T/bad.jsonl" --out "$T/x.h5"
finish
