#!/usr/bin/env python3
"""tok_fixtures.py: writes the small hand-constructed tokenizer.json fixtures under
tests/fixtures/tokenizers/. Each one follows the tokenizer.json format of the Hugging Face
`tokenizers` library; the expected ids in tests/test_tokenizer.c were derived by hand from the
format's rules (see the comments there), not computed by any tokenizer.

    python3 tests/tok_fixtures.py        (from the repository root)
"""
import json
import os

OUT = "tests/fixtures/tokenizers"


def bytes_to_unicode():
    # GPT-2's byte -> printable character map.
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    m, k = {}, 0
    for b in range(256):
        if b in keep:
            m[b] = chr(b)
        else:
            m[b] = chr(256 + k)
            k += 1
    return m


B2U = bytes_to_unicode()


def byte_vocab():
    # id of each byte's stand-in character = the byte value
    return {B2U[b]: b for b in range(256)}


def added(id_, content, special=True, normalized=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": normalized, "special": special}


def write(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def gpt2_like():
    vocab = byte_vocab()
    G = B2U[32]  # 'Ġ'
    merges = [f"{G} t", "h e", f"{G}t he", "l l", "e ll", f"{G} a", "a a", "1 2", "12 3",
              f"{G} {G}"]
    for m in merges:
        a, b = m.split(" ")
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)  # 266
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(266, "<|endoftext|>", True, True)],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "byte_fallback": False, "vocab": vocab, "merges": merges},
    }


def spm_vocab():
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = 3 + b
    for t in ["\u2581", "a", "b", "c", "\u2581a", "ab", "\u2581ab", "\u00e9", "\u65e5"]:
        vocab[t] = len(vocab)  # 259..267
    merges = [["\u2581", "a"], ["a", "b"], ["\u2581a", "b"]]  # the [a, b] pair encoding
    return vocab, merges


def spm_added():
    return [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")]


def llama2_like():
    vocab, merges = spm_vocab()
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": spm_added(),
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "vocab": vocab, "merges": merges},
    }


def metaspace_like():
    vocab, merges = spm_vocab()
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": spm_added(),
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                          "prepend_scheme": "first", "split": False},
        "post_processor": None,
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first",
                    "split": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "vocab": vocab,
                  "merges": [" ".join(m) for m in merges]},
    }


def wordlevel():
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "!": 3, "it": 4, "'": 5, "s": 6,
             "caf\u00e9": 7, "\u65e5\u672c": 8, "?!": 9}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "[UNK]")],
        "normalizer": None,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }


LLAMA3_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
              r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def llama3_like():
    vocab = byte_vocab()
    vocab["ab"] = 256
    vocab["abc"] = 257
    vocab["12"] = 258
    vocab["<|begin_of_text|>"] = 259
    vocab["<|end_of_text|>"] = 260
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(259, "<|begin_of_text|>"), added(260, "<|end_of_text|>")],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_PAT}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
             "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [259],
                                                      "tokens": ["<|begin_of_text|>"]}}}]},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": [["a", "b"]]},
    }


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("gpt2_like.json", gpt2_like())
    write("llama2_like.json", llama2_like())
    write("metaspace_like.json", metaspace_like())
    write("wordlevel.json", wordlevel())
    write("llama3_like.json", llama3_like())
