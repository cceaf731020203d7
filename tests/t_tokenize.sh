#!/usr/bin/env bash
# t_tokenize.sh: the asft-tokenize probe and `asft-data tokenizer` end to end: JSON in and out,
# hand-derived ids (see tests/test_tokenizer.c for their derivation), training, round trips,
# and the error paths of both tools.
. "$(dirname "$0")/lib.sh"
F=tests/fixtures/tokenizers
TOK=$BIN/asft-tokenize

# encode: one JSON array of strings -> one JSON array of id arrays
out=$(printf '%s' '["hello world", "a<|endoftext|>the", "", "日本"]' | $TOK --tokenizer $F/gpt2_like.json)
check_eq "$out" '[[257,259,111,32,119,111,114,108,100],[97,266,116,257],[],[230,151,165,230,156,172]]' "gpt2 encode"
out=$(printf '%s' '["ab c", "ü", ""]' | $TOK --tokenizer $F/llama2_like.json)
check_eq "$out" '[[1,265,259,262],[1,259,198,191],[1]]' "llama2 encode with BOS"
out=$(printf '%s' '["ab c", ""]' | $TOK --tokenizer $F/llama2_like.json --no-special)
check_eq "$out" '[[265,259,262],[]]' "llama2 encode --no-special"
out=$(printf '%s' '["hello?! xyz"]' | $TOK --tokenizer $F/wordlevel.json)
check_eq "$out" '[[1,9,0]]' "wordlevel encode"

# decode: arrays of ids -> strings (special tokens kept unless --skip-special)
out=$(printf '%s' '[[1,265,259,262],[259,198,191],[]]' | $TOK --tokenizer $F/llama2_like.json --decode)
check_eq "$out" '["<s> ab c","ü",""]' "llama2 decode"
out=$(printf '%s' '[[1,265,259,262]]' | $TOK --tokenizer $F/llama2_like.json --decode --skip-special)
check_eq "$out" '["ab c"]' "llama2 decode --skip-special"
out=$(printf '%s' '[[97,266],[230,151]]' | $TOK --tokenizer $F/gpt2_like.json --decode)
check_eq "$out" '["a<|endoftext|>","�"]' "gpt2 decode"

out=$($TOK --tokenizer $F/llama2_like.json --info)
check_eq "$out" '{"vocab_size": 268, "bos": 1, "eos": 2, "pad": -1, "unk": 0}' "info"

# probe errors: one line naming the problem, non-zero exit
check_fail 'tokenizer FILE is required' $TOK
check_fail 'no-such.json' $TOK --tokenizer $T/no-such.json
printf '{"model": {"type": "WordPiece", "vocab": {}}}' > $T/wp.json
check_fail "model 'WordPiece' is not supported" $TOK --tokenizer $T/wp.json
check_fail 'not valid JSON' sh -c "echo '[\"a\"' | $TOK --tokenizer $F/gpt2_like.json"
check_fail 'element 1 is not a string' sh -c "echo '[\"a\", 3]' | $TOK --tokenizer $F/gpt2_like.json"
check_fail 'expected a JSON array of strings' sh -c "echo '{}' | $TOK --tokenizer $F/gpt2_like.json"
check_fail 'id 0 is not a 32-bit integer' sh -c "echo '[[1.5]]' | $TOK --tokenizer $F/gpt2_like.json --decode"

# training: JSONL records (text fields only) and a plain text file
python3 - "$T" <<'EOF'
import json, random, sys
d = sys.argv[1]
random.seed(3)
words = "the cat sat on a mat and then the dog ran far away from the big red house".split()
with open(d + "/world.jsonl", "w") as f:
    for i in range(3000):
        s = " ".join(random.choice(words) for _ in range(10))
        f.write(json.dumps({"instruction": s.capitalize() + "?", "input": "", "output": s + ".",
                            "category": "zzlabelzz"}) + "\n")
        f.write(json.dumps({"text": "Story %d: %s\n" % (i, s)}) + "\n")
with open(d + "/plain.txt", "w") as f:
    f.write("Plain text with caf\u00e9, \u65e5\u672c and emoji \U0001F44D.\n" * 200)
EOF
check_ok $BIN/asft-data tokenizer --corpus $T/world.jsonl,$T/plain.txt --vocab 400 --out $T/tok.json
check_ok test -s $T/tok.json
out=$($TOK --tokenizer $T/tok.json --info)
check_eq "$out" '{"vocab_size": 400, "bos": 0, "eos": 1, "pad": 2, "unk": -1}' "trained info"
# same corpus, files given as arguments: same bytes (deterministic)
check_ok $BIN/asft-data tokenizer --corpus $T/world.jsonl $T/plain.txt --vocab 400 --out $T/tok2.json
check_ok cmp $T/tok.json $T/tok2.json
check_ok python3 -c "
import json, sys
t = json.load(open('$T/tok.json'))
assert t['model']['type'] == 'BPE' and len(t['model']['vocab']) == 400, 'vocab'
assert len(t['model']['merges']) == 400 - 259, 'merges'
assert all(isinstance(m, str) and m.count(' ') == 1 for m in t['model']['merges']), 'merge form'
assert t['pre_tokenizer'] == {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
assert [a['content'] for a in t['added_tokens']] == ['<s>', '</s>', '<pad>']
assert t['post_processor']['single'][0] == {'SpecialToken': {'id': '<s>', 'type_id': 0}}
assert not any('zzlabelzz' in k for k in t['model']['vocab']), 'label fields are not text'
"
# round trip through the probe: encode then decode gives the input back
printf '%s' '["the cat sat on the mat", "Plain text with café, 日本 and emoji 👍.", "\u0001 \t\n x  ", "<s>the</s>"]' > $T/strs.json
$TOK --tokenizer $T/tok.json --no-special < $T/strs.json > $T/ids.json
out=$($TOK --tokenizer $T/tok.json --decode < $T/ids.json)
check_eq "$out" "$(python3 -c "import json; print(json.dumps(json.load(open('$T/strs.json')), ensure_ascii=False, separators=(',', ':')))")" "trained round trip"
out=$(printf '%s' '["the cat"]' | $TOK --tokenizer $T/tok.json)
case "$out" in '[[0,'*) ok ;; *) bad "trained encode should start with BOS 0: $out" ;; esac
out=$($TOK --tokenizer $T/tok.json --bench $T/plain.txt)
case "$out" in *'"mb_per_s": '*) ok ;; *) bad "bench output: $out" ;; esac

# an independent encoder (tests/tok_ref.py: the GPT-2 scanner and merge loop written from the
# description) agrees on random strings: ASCII, controls, Latin, Greek, Cyrillic, CJK, emoji,
# digits, contractions, whitespace runs and special tokens, with merges learned on such text
python3 tests/tok_ref.py random 1 3000 > $T/train_strs.json
python3 -c "import json; print(''.join(s + '\n' for s in json.load(open('$T/train_strs.json'))))" > $T/mixed.txt
check_ok $BIN/asft-data tokenizer --corpus $T/mixed.txt,$T/world.jsonl --vocab 1200 --out $T/mixed.json
python3 tests/tok_ref.py random 2 400 > $T/test_strs.json
$TOK --tokenizer $T/mixed.json --no-special < $T/test_strs.json > $T/ours.json
python3 tests/tok_ref.py encode $T/mixed.json $T/test_strs.json > $T/ref.json
check_ok cmp $T/ours.json $T/ref.json
check_ok python3 -c "
import json
ids = json.load(open('$T/ours.json'))
assert sum(map(len, ids)) > 2000 and max(max(x) for x in ids if x) > 600, 'merges were exercised'
"

# trainer errors
check_fail 'out FILE is required' $BIN/asft-data tokenizer --corpus $T/plain.txt
check_fail 'corpus FILE is required' $BIN/asft-data tokenizer --out $T/x.json
check_fail 'vocab size 10 is below 259' $BIN/asft-data tokenizer --corpus $T/plain.txt --vocab 10 --out $T/x.json
check_fail "bos token '<bos>' is not one of the special tokens" $BIN/asft-data tokenizer --corpus $T/plain.txt --bos '<bos>' --out $T/x.json
printf '{"text": "ok"}\nnot json\n' > $T/bad.jsonl
check_fail 'bad.jsonl:2: not a JSON record' $BIN/asft-data tokenizer --corpus $T/bad.jsonl --out $T/x.json
check_fail 'missing.txt' $BIN/asft-data tokenizer --corpus $T/missing.txt --out $T/x.json
check_ok test ! -e $T/x.json
finish
