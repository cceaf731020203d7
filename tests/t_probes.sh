#!/usr/bin/env bash
# t_probes.sh: asft-generate and asft-logits from the command line: greedy output equal to torch's
# (tests/ref_engine.py) for prompts of different lengths, EOS handling, adapters, seeded
# sampling, thread counts, and one clear error line for each kind of bad input.
# (The numbers inside asft-logits' HDF5 output are checked by test_engine_probes.)
. tests/lib.sh
F=tests/fixtures/engine

for m in mha_untied_f32 gqa_tied_bf16 qwen2_bias_f32; do
	check_ok "$BIN/asft-generate" --model $F/$m --ids $F/$m/prompts.json --max-new 6
	check_eq "$(cat "$T/.out")" "$(cat $F/$m/gen_expected.json)" "$m greedy output"
	check_ok "$BIN/asft-generate" --model $F/$m --ids $F/$m/prompts.json --max-new 6 --threads 2
	check_eq "$(cat "$T/.out")" "$(cat $F/$m/gen_expected.json)" "$m greedy output, 2 threads"
	# --ignore-eos: every row gets all 6 new tokens
	check_ok "$BIN/asft-generate" --model $F/$m --ids $F/$m/prompts.json --max-new 6 --ignore-eos
	want=$(/usr/bin/python3 -c "import json,sys; p=json.load(open('$F/$m/prompts.json')); print(' '.join(str(len(r)+6) for r in p))")
	got=$(/usr/bin/python3 -c "import json,sys; print(' '.join(str(len(r)) for r in json.load(open('$T/.out'))))")
	check_eq "$got" "$want" "$m --ignore-eos lengths"
	# with the adapter, sampling is reproducible by seed
	check_ok "$BIN/asft-generate" --model $F/$m --adapter $F/$m/adapter --ids $F/$m/prompts.json \
		--max-new 5 --temperature 0.8 --top-k 10 --top-p 0.9 --seed 3
	cp "$T/.out" "$T/s1"
	check_ok "$BIN/asft-generate" --model $F/$m --adapter $F/$m/adapter --ids $F/$m/prompts.json \
		--max-new 5 --temperature 0.8 --top-k 10 --top-p 0.9 --seed 3
	check_eq "$(cat "$T/.out")" "$(cat "$T/s1")" "$m seeded sampling repeats"
	check_ok "$BIN/asft-logits" --model $F/$m --ids $F/$m/ids.json --out "$T/$m.h5"
	check_ok test -s "$T/$m.h5"
done

m=$F/mha_untied_f32
echo '[[1,2,3],[4,5]]' > "$T/ragged.json"
echo '[[1,2,64]]' > "$T/oov.json"
echo '[[1,2,-1]]' > "$T/neg.json"
echo '[[1,2.5]]' > "$T/frac.json"
echo '[[]]' > "$T/empty.json"
echo '[[1,2' > "$T/broken.json"
echo '{"ids":[1]}' > "$T/obj.json"
echo '[[7]]' > "$T/one.json"
check_fail 'row 1: 2 ids, row 0 has 3' "$BIN/asft-logits" --model $m --ids "$T/ragged.json" --out "$T/x.h5"
check_fail 'row 0, item 2: 64 is not a token id in \[0, 64\)' "$BIN/asft-logits" --model $m --ids "$T/oov.json" --out "$T/x.h5"
check_fail 'row 0, item 2: -1 is not a token id' "$BIN/asft-generate" --model $m --ids "$T/neg.json" --max-new 2
check_fail 'item 1: 2.5 is not a token id' "$BIN/asft-generate" --model $m --ids "$T/frac.json" --max-new 2
check_fail 'row 0: expected a non-empty array' "$BIN/asft-generate" --model $m --ids "$T/empty.json" --max-new 2
check_fail 'not valid JSON' "$BIN/asft-logits" --model $m --ids "$T/broken.json" --out "$T/x.h5"
check_fail 'expected a non-empty JSON array of arrays' "$BIN/asft-generate" --model $m --ids "$T/obj.json" --max-new 2
check_fail 'at least 2 ids' "$BIN/asft-logits" --model $m --ids "$T/one.json" --out "$T/x.h5" --grads
check_fail 'exceeds max_position_embeddings 64' "$BIN/asft-generate" --model $m --ids "$T/one.json" --max-new 64
check_fail 'top-p' "$BIN/asft-generate" --model $m --ids "$T/one.json" --max-new 2 --top-p 0
check_fail 'config.json' "$BIN/asft-generate" --model "$T/nowhere" --ids "$T/one.json" --max-new 2
check_fail 'adapter_config.json' "$BIN/asft-logits" --model $m --adapter "$T/nowhere" --ids "$T/one.json" --out "$T/x.h5"
check_fail 'required' "$BIN/asft-logits" --model $m --ids "$T/one.json"
check_eq "$(ls "$T" | grep -c '^x\.h5')" 0 "no output file after failures"
# an adapter for another architecture is refused
check_fail 'adapter' "$BIN/asft-logits" --model $m --adapter $F/gqa_tied_bf16/adapter --ids "$T/one.json" --out "$T/x.h5"
# the same weights as MistralForCausalLM: the same maths, so the same tokens; a sequence longer
# than its sliding window is refused rather than computed without the window
mkdir -p "$T/mistral"
ln -s "$PWD/$m/model.safetensors" "$T/mistral/model.safetensors"
sed -e 's/LlamaForCausalLM/MistralForCausalLM/' -e 's/"model_type": "llama"/"model_type": "mistral"/' \
	-e 's/"attention_bias": false,/"sliding_window": 9,/' $m/config.json > "$T/mistral/config.json"
check_ok "$BIN/asft-generate" --model "$T/mistral" --ids $m/prompts.json --max-new 2
want=$(/usr/bin/python3 -c "import json; print(json.dumps([r[:len(p)+2] for r,p in zip(json.load(open('$m/gen_expected.json')), json.load(open('$m/prompts.json')))], separators=(',',':')))")
check_eq "$(cat "$T/.out")" "$want" "MistralForCausalLM greedy output"
check_fail 'sliding_window 9' "$BIN/asft-generate" --model "$T/mistral" --ids $m/prompts.json --max-new 6
check_ok "$BIN/asft-generate" --help
check_ok "$BIN/asft-logits" --help
finish
