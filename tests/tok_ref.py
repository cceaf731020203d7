#!/usr/bin/env python3
"""tok_ref.py: an independent byte-level BPE encoder written from the GPT-2 description, to check
asft-tokenize on many random strings (tests/t_tokenize.sh).

    tok_ref.py encode TOKENIZER.json STRINGS.json   -> JSON array of id arrays (no specials)
    tok_ref.py random SEED N                        -> JSON array of N random strings

Only what a trained asft tokenizer uses: no normalizer, ByteLevel(add_prefix_space false,
use_regex true), BPE without unk / byte fallback, special tokens matched first (leftmost,
longest). The pre-tokenizer is a hand-written scanner for the GPT-2 pattern
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
(alternatives tried in order, as a backtracking regex does), with \\p{L} / \\p{N} from
unicodedata and \\s the Unicode White_Space set. Merging is the original GPT-2 loop: take the
pair of lowest rank, merge all its occurrences left to right, repeat. Nothing is shared with
the C implementation but the file format.
"""
import json
import random
import sys
import unicodedata

WHITE_SPACE = set([0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F,
                   0x205F, 0x3000] + list(range(0x2000, 0x200B)))


def is_space(c):
    return ord(c) in WHITE_SPACE


def is_letter(c):
    return unicodedata.category(c).startswith("L")


def is_number(c):
    return unicodedata.category(c).startswith("N")


def is_other(c):
    return not (is_space(c) or is_letter(c) or is_number(c))


def run(s, i, pred):
    j = i
    while j < len(s) and pred(s[j]):
        j += 1
    return j


def pretokenize(s):
    out, i, n = [], 0, len(s)
    while i < n:
        m = None
        for c in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
            if s.startswith(c, i):
                m = i + len(c)
                break
        if m is None:
            for pred in (is_letter, is_number, is_other):
                k = i + 1 if s[i] == " " and i + 1 < n and pred(s[i + 1]) else i
                j = run(s, k, pred)
                if j > k:
                    m = j
                    break
        if m is None:
            j = run(s, i, is_space)
            # \s+(?!\S): the run, or all but its last char when a non-space follows
            if j == n or j - i >= 2:
                m = j if j == n else j - 1
            else:
                m = j          # \s+
        out.append(s[i:m])
        i = m
    return out


def bytes_to_unicode():
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    m, k = {}, 0
    for b in range(256):
        if b in keep:
            m[b] = chr(b)
        else:
            m[b] = chr(256 + k)
            k += 1
    return m


def bpe(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        best = None
        for a, b in zip(parts, parts[1:]):
            r = ranks.get((a, b))
            if r is not None and (best is None or r < best[0]):
                best = (r, a, b)
        if best is None:
            break
        _, a, b = best
        merged, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                merged.append(a + b)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def encode(tok, text):
    vocab = tok["model"]["vocab"]
    ranks = {}
    for r, m in enumerate(tok["model"]["merges"]):
        a, b = m.split(" ") if isinstance(m, str) else m
        ranks[(a, b)] = r
    specials = {t["content"]: t["id"] for t in tok["added_tokens"]}
    b2u = bytes_to_unicode()
    ids, i, start = [], 0, 0

    def plain(seg):
        for w in pretokenize(seg):
            mapped = "".join(b2u[b] for b in w.encode("utf-8"))
            ids.extend(vocab[p] for p in bpe(mapped, ranks))

    while i < len(text):
        hit = max((c for c in specials if text.startswith(c, i)), key=len, default=None)
        if hit is None:
            i += 1
            continue
        plain(text[start:i])
        ids.append(specials[hit])
        i += len(hit)
        start = i
    plain(text[start:])
    return ids


def random_strings(seed, n):
    rnd = random.Random(seed)
    pools = [(0x20, 0x7E), (0x00, 0x1F), (0xC0, 0x17F), (0x391, 0x3C9), (0x410, 0x44F),
             (0x4E00, 0x4FFF), (0x1F600, 0x1F64F), (0x30, 0x39)]
    pieces = [" ", "  ", "\n", "\t", " \n ", "'s", "'ll", "<s>", "</s>", "the", " the", "123"]
    out = []
    for _ in range(n):
        s = []
        for _ in range(rnd.randrange(0, 40)):
            if rnd.random() < 0.3:
                s.append(rnd.choice(pieces))
            else:
                lo, hi = rnd.choice(pools)
                c = rnd.randint(lo, hi)
                s.append(chr(c if c else 1))
        out.append("".join(s))
    return out


if __name__ == "__main__":
    if sys.argv[1] == "encode":
        tok = json.load(open(sys.argv[2], encoding="utf-8"))
        texts = json.load(open(sys.argv[3], encoding="utf-8"))
        print(json.dumps([encode(tok, t) for t in texts], separators=(",", ":")))
    elif sys.argv[1] == "random":
        print(json.dumps(random_strings(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        sys.exit("usage: tok_ref.py encode TOK STRINGS | random SEED N")
