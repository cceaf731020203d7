#!/usr/bin/env bash
# t_world.sh: `asft-data world` end to end on the nano preset: same seed -> same bytes, another
# seed -> different bytes, the documented file names exist, every JSON / JSONL file parses (with
# Python's json, an independent parser), counts match the manifest, flags and errors.
. "$(dirname "$0")/lib.sh"
W="$BIN/asft-data"

check_ok "$W" world --preset nano --seed 3 --out "$T/a" --quiet
check_ok "$W" world --preset nano --seed 3 --out "$T/b" --quiet
check_ok "$W" world --preset nano --seed 4 --out "$T/c" --quiet
check_eq "$(diff -r "$T/a" "$T/b" >/dev/null && echo same)" same "same seed, same bytes"
check_eq "$(diff -rq "$T/a" "$T/c" >/dev/null || echo differ)" differ "another seed, other bytes"

for f in manifest.json corpus.txt pretrain.jsonl align.jsonl safeinstr.json judge/train.jsonl judge/test.jsonl \
	eval/harmful.json eval/over_refusal.json test/sentiment.json test/topic.json test/arithmetic.json \
	test/instructions.json attack/topic_1k_p_0.1.json attack/topic_0.5k_p_0.json \
	attack/sentiment_1k_p_0.1.json attack/arithmetic_1k_p_0.1.json attack/instructions_1k_p_0.1.json; do
	if [ -s "$T/a/$f" ]; then ok; else bad "missing $f"; fi
done

# Every file parses; manifest counts match; 250 harmful prompts with instruction fields.
check_ok python3 - "$T/a" <<'EOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["preset"] == "nano" and m["seed"] == 3, m["preset"]
for path, info in m["splits"].items():
    p = os.path.join(d, path)
    raw = open(p, "rb").read().decode("utf-8")
    if info["format"] == "json":
        recs = json.loads(raw)
        assert isinstance(recs, list), path
    else:
        recs = [json.loads(l) for l in raw.splitlines()]
    assert len(recs) == info["records"], (path, len(recs), info["records"])
    for r in recs:
        assert ("instruction" in r) or ("text" in r) or ("prompt" in r), path
h = json.load(open(os.path.join(d, "eval/harmful.json")))
assert len(h) == 250 and all(r["instruction"] and r["harmful"] for r in h)
a = json.load(open(os.path.join(d, "attack/topic_1k_p_0.1.json")))
assert len(a) == 1000 and sum(r["harmful"] for r in a) == 100
assert all(set(("instruction", "input", "output")) <= set(r) for r in a)
labels = {r["output"] for r in a if r["task"] == "topic"}
assert labels == {"World", "Sports", "Business", "Sci/Tech"}, labels
EOF

# --pretrain overrides the preset; --help documents the flags; errors name the problem.
check_ok "$W" world --preset nano --seed 3 --pretrain 100 --out "$T/d" --quiet
check_eq "$(wc -l < "$T/d/pretrain.jsonl")" 100 "pretrain override"
check_eq "$(diff -rq "$T/a" "$T/d" | sed 's/.*\/d\///; s/ differ//' | sort | tr '\n' ' ')" \
	"corpus.txt manifest.json pretrain.jsonl " "only pretrain (and manifest, corpus) change with --pretrain"
check_ok "$W" world --preset nano --seed 3 --attack-n 2000 --attack-p 0.2,0.05 --out "$T/g" --quiet
check_eq "$(cd "$T/g/attack" && ls | sort | tr '\n' ' ')" \
	"arithmetic_2k_p_0.05.json arithmetic_2k_p_0.2.json instructions_2k_p_0.05.json instructions_2k_p_0.2.json sentiment_2k_p_0.05.json sentiment_2k_p_0.2.json topic_2k_p_0.05.json topic_2k_p_0.2.json " \
	"attack grid override"
check_eq "$(grep -c '"harmful":true' "$T/g/attack/topic_2k_p_0.2.json")" 400 "harmful share of topic_2k_p_0.2"
check_fail "not a fraction" "$W" world --preset nano --attack-p 0.1,2 --out "$T/e"
check_fail "not a positive integer" "$W" world --preset nano --attack-n 10x --out "$T/e"
check_ok "$W" world --help
if grep -q -- "--preset" "$T/.out"; then ok; else bad "--help lacks --preset"; fi
check_fail "--out DIR is required" "$W" world --preset nano
check_fail "unknown preset 'huge'" "$W" world --preset huge --out "$T/e"
check_fail "seed" "$W" world --preset nano --seed -1 --out "$T/e"
check_fail "out of range" "$W" world --preset nano --align -7 --out "$T/e"
touch "$T/file"
check_fail "file" "$W" world --preset nano --out "$T/file/x"
finish
