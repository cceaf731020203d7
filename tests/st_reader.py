#!/usr/bin/env python3
"""st_reader.py: an independent safetensors reader/checker, written from the format spec
(huggingface/safetensors README) with only the standard library, used by t_safetensors_py.sh.

  st_reader.py check FILE        header layout as our writer promises it: 8-byte padded header
                                 (spaces), tensors sorted by name, offsets contiguous from 0 and
                                 covering the data region, sizes = shape product * dtype size
  st_reader.py verify-c DIR      files written by `test_safetensors --write-for-python DIR`:
                                 layout, metadata and every value (BF16 rounding recomputed here
                                 with exact fractions; also against torch when it is installed)
  st_reader.py write-py FILE     a file for `test_safetensors --read-from-python FILE`: header
                                 keys unsorted, F16 / BF16 / F32 / F64 packed by struct

Exit status 0 when every check passes; each failure is printed as one line.
"""
import json
import math
import os
import struct
import sys
from fractions import Fraction

DTYPE_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
              "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg, file=sys.stderr)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate keys in a JSON object")
    return pairs


def read(path):
    """(ordered list of (key, entry) pairs, metadata dict or None, data bytes, header length)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: shorter than 8 bytes" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("%s: header length %d past end of file" % (path, n))
    text = blob[8:8 + n].decode("utf-8")
    pairs = json.loads(text, object_pairs_hook=no_duplicates)
    meta = None
    tensors = []
    for k, v in pairs:
        if k == "__metadata__":
            meta = dict(v)
        else:
            tensors.append((k, dict(v)))
    return tensors, meta, blob[8 + n:], n, text


def check_layout(path, want_sorted=True):
    tensors, meta, data, n, text = read(path)
    ok = True

    def bad(msg):
        nonlocal ok
        ok = False
        fail("%s: %s" % (path, msg))

    if n % 8:
        bad("header length %d is not a multiple of 8" % n)
    body = text.rstrip(" ")
    if not body.startswith("{") or not body.endswith("}") or len(text) - len(body) >= 8:
        bad("header is not a JSON object padded with fewer than 8 spaces")
    if meta is not None and not all(isinstance(v, str) for v in meta.values()):
        bad("__metadata__ values are not all strings")
    names = [k for k, _ in tensors]
    if want_sorted and names != sorted(names):
        bad("tensors not sorted by name: %s" % names)
    end = 0
    for name, e in sorted(tensors, key=lambda kv: tuple(kv[1]["data_offsets"])):
        b, f = e["data_offsets"]
        numel = 1
        for d in e["shape"]:
            numel *= d
        if f - b != numel * DTYPE_SIZE[e["dtype"]]:
            bad("tensor %s: size %d != %d" % (name, f - b, numel * DTYPE_SIZE[e["dtype"]]))
        if b != end:
            bad("tensor %s: begins at %d, previous ended at %d" % (name, b, end))
        end = f
    if end != len(data):
        bad("tensors cover %d of %d data bytes" % (end, len(data)))
    return ok


def tensor_bits(path, name):
    """The raw elements of a tensor as unsigned integers, plus its entry."""
    tensors, _, data, _, _ = read(path)
    e = dict(tensors)[name]
    b, f = e["data_offsets"]
    fmt = {8: "Q", 4: "I", 2: "H", 1: "B"}[DTYPE_SIZE[e["dtype"]]]
    count = (f - b) // DTYPE_SIZE[e["dtype"]]
    return list(struct.unpack("<%d%s" % (count, fmt), data[b:f])), e


def lcg_bits(i):
    return (i * 2654435761 + 12345) & 0xFFFFFFFF


def f32_value(bits):
    """Exact value of a finite f32 bit pattern (exponent 255 with mantissa 0 -> 2^128)."""
    sign = -1 if bits >> 31 else 1
    e, m = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    if e == 0:
        v = Fraction(m, 1 << 149)
    else:
        v = Fraction((1 << 23) + m) * Fraction(2) ** (e - 150)
    return sign * v


def is_nan32(bits):
    return (bits & 0x7F800000) == 0x7F800000 and (bits & 0x7FFFFF) != 0


def bf16_rne(x):
    """Round f32 bits x to bf16 bits: the nearer neighbour, ties to the even one. Neighbours are
    the truncation and the next bf16 up in magnitude; both are compared as exact fractions."""
    if is_nan32(x):
        return None                 # any NaN with the same sign is right
    lo = x >> 16
    hi = lo + 1
    v = abs(f32_value(x))
    dlo = v - abs(f32_value(lo << 16))
    dhi = abs(f32_value(hi << 16)) - v if (lo & 0x7FFF) != 0x7F80 else None
    if dhi is None or dlo < dhi or (dlo == dhi and lo % 2 == 0):
        return lo
    return hi


def bf16_expected(i):
    special = {0: 0x3F808000, 1: 0x3F818000, 2: 0x7F800001, 3: 0x7F7FFFFF, 4: 0x80000000}
    return special.get(i, lcg_bits(i + 1000))


def verify_c(d):
    f32 = os.path.join(d, "f32.safetensors")
    check_layout(f32)
    tensors, meta, _, _, _ = read(f32)
    want_meta = {"note": "quote \" backslash \\ tab\t", "format": "pt"}
    if meta != want_meta:
        fail("%s: __metadata__ %r != %r" % (f32, meta, want_meta))
    bits, e = tensor_bits(f32, "a.weight")
    if e["dtype"] != "F32" or e["shape"] != [3, 5] or bits != [lcg_bits(i) for i in range(15)]:
        fail("%s: a.weight differs" % f32)
    bits, e = tensor_bits(f32, "b")
    if e["shape"] != [] or struct.unpack("<f", struct.pack("<I", bits[0]))[0] != -1.25:
        fail("%s: scalar b differs" % f32)
    bits, e = tensor_bits(f32, "c.empty")
    if e["shape"] != [0, 4] or bits != []:
        fail("%s: c.empty differs" % f32)

    bf = os.path.join(d, "bf16.safetensors")
    check_layout(bf)
    wbits, e = tensor_bits(bf, "w")
    if e["dtype"] != "BF16" or e["shape"] != [64, 64] or len(wbits) != 4096:
        fail("%s: w has entry %r" % (bf, e))
        wbits = [0] * 4096
    nbad = 0
    for i, got in enumerate(wbits):
        x = bf16_expected(i)
        want = bf16_rne(x)
        if want is None:
            ok = (got & 0x7F80) == 0x7F80 and (got & 0x7F) != 0 and (got >> 15) == (x >> 31)
        else:
            ok = got == want
        if not ok:
            nbad += 1
            if nbad <= 3:
                fail("%s: w[%d] = %#06x, expected %s from f32 %#010x" % (bf, i, got, want, x))
    for i, want in ((0, 0x3F80), (1, 0x3F82), (3, 0x7F80), (4, 0x8000)):
        if wbits[i] != want:
            fail("%s: w[%d] = %#06x, expected %#06x" % (bf, i, wbits[i], want))
    vbits, _ = tensor_bits(bf, "v")
    if vbits != [lcg_bits(i) for i in range(15)]:
        fail("%s: v differs" % bf)
    torch_check(bf, wbits)

    sd = os.path.join(d, "sharded")
    with open(os.path.join(sd, "model.safetensors.index.json")) as f:
        index = json.load(f, object_pairs_hook=lambda p: dict(no_duplicates(p)))
    wm = index["weight_map"]
    want_map = {"w": "model-00001-of-00002.safetensors", "v": "model-00002-of-00002.safetensors"}
    if wm != want_map:
        fail("%s: weight_map %r != %r" % (sd, wm, want_map))
    total = 0
    for fn in sorted(set(wm.values())):
        p = os.path.join(sd, fn)
        check_layout(p)
        tensors, meta, data, _, _ = read(p)
        if sorted(k for k, _ in tensors) != sorted(k for k, v in wm.items() if v == fn):
            fail("%s: tensors %r disagree with the index" % (p, [k for k, _ in tensors]))
        if not meta or meta.get("format") != "pt":
            fail("%s: __metadata__ lacks format pt" % p)
        total += len(data)
    if index["metadata"]["total_size"] != total:
        fail("%s: total_size %r != %d" % (sd, index["metadata"]["total_size"], total))
    sw, _ = tensor_bits(os.path.join(sd, wm["w"]), "w")
    sv, _ = tensor_bits(os.path.join(sd, wm["v"]), "v")
    if sw != wbits or sv != vbits:
        fail("%s: shard values differ from the single file" % sd)


def torch_check(path, wbits):
    try:
        import numpy as np
        import torch
    except ImportError:
        print("torch: not installed, skipped")
        return
    xs = np.array([bf16_expected(i) for i in range(len(wbits))], dtype=np.uint32).view(np.float32)
    tb = torch.from_numpy(xs.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    nan = np.isnan(xs)
    nbad = int((tb[~nan] != np.array(wbits, dtype=np.uint16)[~nan]).sum())
    if nbad:
        fail("%s: %d BF16 values differ from torch's float32 -> bfloat16" % (path, nbad))
    else:
        print("torch: %d BF16 values agree with torch %s" % (int((~nan).sum()), torch.__version__))


def write_py(path):
    """Tensors in a non-sorted header order (data in yet another order), metadata last."""
    inf = float("inf")
    parts = [
        ("double", "F64", [4], struct.pack("<4d", 1 / 3, -2.5, 1e300, 2.0 ** -149)),
        ("half", "F16", [11], struct.pack("<11e", 0.0, -0.0, 1.0, -2.0, 65504.0, 2.0 ** -24,
                                          2.0 ** -14, 1023 * 2.0 ** -24, inf, -inf,
                                          0.333251953125)),
        ("single", "F32", [3], struct.pack("<3f", 1.5, -7.0, 2.0 ** -149)),
        ("nan16", "F16", [2], struct.pack("<2H", 0x7E00, 0xFE00)),
        ("brain", "BF16", [2, 2], struct.pack("<4H", *[struct.unpack("<I", struct.pack("<f", v))[0]
                                                      >> 16 for v in (1.0, -0.5, 3.140625,
                                                                      2.0 ** -130)])),
    ]
    header, off, data = {}, 0, b""
    for name, dt, shape, raw in parts:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        data += raw
    order = ["single", "half", "brain", "double", "nan16"]
    text = "{" + ", ".join('"%s": %s' % (k, json.dumps(header[k])) for k in order)
    text += ', "__metadata__": {"writer": "st_reader.py"}}'
    text += " " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + data)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("check", "verify-c", "write-py"):
        print(__doc__)
        return 2
    try:
        if argv[1] == "check":
            check_layout(argv[2])
        elif argv[1] == "verify-c":
            verify_c(argv[2])
        else:
            write_py(argv[2])
    except (ValueError, KeyError, TypeError, OSError, UnicodeDecodeError) as e:
        fail("%s: %s" % (argv[2], e))
    if not failures:
        print("ok %s %s" % (argv[1], argv[2]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
