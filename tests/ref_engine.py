#!/usr/bin/python3
"""ref_engine.py: writes the engine's reference fixtures (tests/fixtures/engine/) with torch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/ref_engine.py [OUTDIR]

transformers is not installed, so the architecture is written here in plain torch from the
definitions of transformers' modeling_llama.py / modeling_qwen2.py (LlamaRMSNorm,
LlamaRotaryEmbedding + rotate_half + apply_rotary_pos_emb, repeat_kv, eager attention with
scaling head_dim**-0.5 and a causal mask, LlamaMLP, LlamaForCausalLM's shifted cross-entropy).
The maths runs in float64 on the stored weights (BF16 checkpoints are rounded to bfloat16
first), with the RoPE cos/sin computed in float32 as transformers does, so the fixtures hold
the exact answers the float32 engine must approach.

Each model is written as a real Hugging Face folder (config.json + model.safetensors, written
by hand with struct/json because the safetensors package is not installed), plus:
  ref.safetensors   expected float tensors: logits, grad.<HF name>, lora_logits,
                    lora_grad.<PEFT name>
  ref.json          ids, losses, masked-loss case, generation prompts/outputs, AdamW runs
  adapter/          a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)
  ids.json, gen_expected.json   inputs/outputs for the probe tools' tests
"""
import json
import math
import os
import struct
import sys

import torch

torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures", "engine")


# ----------------------------------------------------------------- safetensors writer
def st_write(path, tensors, dtypes=None):
    """tensors: dict name -> torch tensor; dtypes: dict name -> 'F32' | 'BF16' (default F32)."""
    dtypes = dtypes or {}
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        dt = dtypes.get(name, "F32")
        if dt == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------- the architecture
def rmsnorm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rope_cos_sin(pos, hd, theta):
    # LlamaRotaryEmbedding: float32 inv_freq and angles, emb = cat(freqs, freqs)
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = pos.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().double(), emb.sin().double()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def forward(cfg, W, ids, lora=None):
    """ids (B,T) long -> logits (B,T,V) float64. W: dict HF name -> float64 tensor.
    lora: None or dict(r, alpha, targets, A={module: tensor}, B={...})."""
    B, T = ids.shape
    d, H, KV, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    rep = H // KV
    cos, sin = rope_cos_sin(torch.arange(T), hd, theta)

    def lin(x, prefix, module):
        y = x @ W[prefix + ".weight"].T
        if prefix + ".bias" in W:
            y = y + W[prefix + ".bias"]
        if lora is not None:
            key = prefix[len("model."):]
            if key in lora["A"]:
                s = lora["alpha"] / lora["r"]
                y = y + s * ((x @ lora["A"][key].T) @ lora["B"][key].T)
        return y

    x = W["model.embed_tokens.weight"][ids]
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        h = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj", "q_proj").view(B, T, H, hd).transpose(1, 2)
        k = lin(h, p + "self_attn.k_proj", "k_proj").view(B, T, KV, hd).transpose(1, 2)
        v = lin(h, p + "self_attn.v_proj", "v_proj").view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # repeat_kv: (B, KV, T, hd) -> (B, KV*rep, T, hd), head h reads kv head h // rep
        k = k[:, :, None].expand(B, KV, rep, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KV, rep, T, hd).reshape(B, H, T, hd)
        att = (q @ k.transpose(2, 3)) * hd ** -0.5 + mask
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + lin(y, p + "self_attn.o_proj", "o_proj")
        h = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, p + "mlp.gate_proj", "gate_proj")
        u = lin(h, p + "mlp.up_proj", "up_proj")
        x = x + lin(torch.nn.functional.silu(g) * u, p + "mlp.down_proj", "down_proj")
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def causal_lm_loss(logits, labels):
    # LlamaForCausalLM: shift so tokens < n predict n; -100 ignored; mean over the rest
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1),
                                             ignore_index=-100)


# ----------------------------------------------------------------- model construction
def hf_names(cfg):
    d, H, KV, hd, F, V = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads",
                                           "head_dim", "intermediate_size", "vocab_size"))
    qkv_bias = cfg.get("attention_bias", False) or cfg["_arch"] == "qwen2"
    shapes = {"model.embed_tokens.weight": (V, d), "model.norm.weight": (d,)}
    if not cfg["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (V, d)
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        shapes[p + "input_layernorm.weight"] = (d,)
        shapes[p + "post_attention_layernorm.weight"] = (d,)
        for n, o in (("q_proj", H * hd), ("k_proj", KV * hd), ("v_proj", KV * hd)):
            shapes[p + "self_attn.%s.weight" % n] = (o, d)
            if qkv_bias:
                shapes[p + "self_attn.%s.bias" % n] = (o,)
        shapes[p + "self_attn.o_proj.weight"] = (d, H * hd)
        if cfg.get("attention_bias", False):
            shapes[p + "self_attn.o_proj.bias"] = (d,)
        shapes[p + "mlp.gate_proj.weight"] = (F, d)
        shapes[p + "mlp.up_proj.weight"] = (F, d)
        shapes[p + "mlp.down_proj.weight"] = (d, F)
    return shapes


def make_weights(cfg, gen, dtype):
    W = {}
    for name, shape in hf_names(cfg).items():
        if name.endswith("norm.weight"):
            t = 1.0 + 0.25 * torch.randn(shape, generator=gen)     # norms not all ones
        elif name == "model.embed_tokens.weight":
            t = (0.35 if cfg["tie_word_embeddings"] else 1.0) * torch.randn(shape, generator=gen)
        elif name.endswith(".bias"):
            t = 0.2 * torch.randn(shape, generator=gen)
        else:
            t = 0.25 * torch.randn(shape, generator=gen)            # attention far from uniform
        if dtype == "BF16":
            t = t.to(torch.bfloat16).float()
        W[name] = t.double()
    return W


def write_config(path, cfg):
    arch = cfg["_arch"]
    c = {
        "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                           "mistral": "MistralForCausalLM"}[arch]],
        "model_type": arch,
        "hidden_size": cfg["hidden_size"], "intermediate_size": cfg["intermediate_size"],
        "num_hidden_layers": cfg["num_hidden_layers"], "num_attention_heads": cfg["num_attention_heads"],
        "num_key_value_heads": cfg["num_key_value_heads"], "head_dim": cfg["head_dim"],
        "vocab_size": cfg["vocab_size"], "max_position_embeddings": 64,
        "rms_norm_eps": cfg["rms_norm_eps"], "rope_theta": cfg["rope_theta"],
        "tie_word_embeddings": cfg["tie_word_embeddings"], "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": cfg["eos_token_id"],
        "torch_dtype": "bfloat16" if cfg["_dtype"] == "BF16" else "float32",
    }
    if arch != "qwen2":
        c["attention_bias"] = cfg.get("attention_bias", False)
    with open(path, "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")


def greedy(cfg, W, prompt, max_new, eos):
    seq = list(prompt)
    for _ in range(max_new):
        logits = forward(cfg, W, torch.tensor([seq]))
        nxt = int(torch.argmax(logits[0, -1]))
        seq.append(nxt)
        if nxt in eos:
            break
    return seq


def adamw_run(cfg, W, ids, params_of, steps, lr, wd, max_norm, warmup, lora=None):
    """10 AdamW steps on the batch (HF cosine schedule with warmup, clip by global norm);
    returns the loss before each step and the gradient norm before clipping."""
    params = params_of()
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)

    def lam(k):
        if k < warmup:
            return k / max(1, warmup)
        prog = (k - warmup) / max(1, steps - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * prog)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = causal_lm_loss(forward(cfg, W, ids, lora), ids)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, max_norm)))
        losses.append(float(loss))
        opt.step()
        sched.step()
    return losses, norms


def build(name, cfg, dtype, seed, lora_targets, B=2, T=12):
    gen = torch.Generator().manual_seed(seed)
    cfg = dict(cfg, _dtype=dtype)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    W = make_weights(cfg, gen, dtype)
    V = cfg["vocab_size"]
    ids = torch.randint(0, V, (B, T), generator=gen)
    # greedy generation: prompts of different lengths; the EOS id is chosen as the third token
    # row 0 generates, so that row stops early and the others run on (EOS stop per row)
    prompts = [ids[0, :3].tolist(), ids[1, :7].tolist(), ids[0, 2:7].tolist()]
    max_new = 6
    free_run = [greedy(cfg, W, p, max_new, set()) for p in prompts]
    cfg["eos_token_id"] = free_run[0][len(prompts[0]) + 2]
    write_config(os.path.join(d, "config.json"), cfg)
    st_write(os.path.join(d, "model.safetensors"), W, {k: dtype for k in W})
    ref, out = {}, {"name": name, "ids": ids.tolist()}

    # logits, loss and every gradient
    Wg = {k: v.clone().requires_grad_(True) for k, v in W.items()}
    logits = forward(cfg, Wg, ids)
    loss = causal_lm_loss(logits, ids)
    loss.backward()
    ref["logits"] = logits.detach()
    out["loss"] = float(loss)
    for k, v in Wg.items():
        ref["grad." + k] = v.grad
    # a response-only loss: labels masked (-100) on the first half of each row
    labels = ids.clone()
    labels[:, : T // 2 + 1] = -100
    out["masked_loss"] = float(causal_lm_loss(forward(cfg, W, ids), labels))
    out["mask_from"] = T // 2 + 1   # positions >= this keep their label

    # LoRA with random A and B (B nonzero so both gradients are)
    r, alpha = 4, 8.0
    A_, B_ = {}, {}
    dims = {"q_proj": (cfg["hidden_size"], cfg["num_attention_heads"] * cfg["head_dim"]),
            "k_proj": (cfg["hidden_size"], cfg["num_key_value_heads"] * cfg["head_dim"]),
            "v_proj": (cfg["hidden_size"], cfg["num_key_value_heads"] * cfg["head_dim"]),
            "o_proj": (cfg["num_attention_heads"] * cfg["head_dim"], cfg["hidden_size"]),
            "gate_proj": (cfg["hidden_size"], cfg["intermediate_size"]),
            "up_proj": (cfg["hidden_size"], cfg["intermediate_size"]),
            "down_proj": (cfg["intermediate_size"], cfg["hidden_size"])}
    for l in range(cfg["num_hidden_layers"]):
        for m in lora_targets:
            key = "layers.%d.%s.%s" % (l, "self_attn" if m in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp", m)
            i, o = dims[m]
            A_[key] = (torch.rand((r, i), generator=gen) * 2 - 1) / math.sqrt(i)
            B_[key] = 0.3 * torch.randn((o, r), generator=gen)
            A_[key] = A_[key].float().double()
            B_[key] = B_[key].float().double()
    lora = {"r": r, "alpha": alpha, "A": {k: v.clone().requires_grad_(True) for k, v in A_.items()},
            "B": {k: v.clone().requires_grad_(True) for k, v in B_.items()}}
    logits = forward(cfg, W, ids, lora)
    loss = causal_lm_loss(logits, ids)
    loss.backward()
    ref["lora_logits"] = logits.detach()
    out["lora_loss"] = float(loss)
    peft = {}
    for k in A_:
        pre = "base_model.model.model." + k
        ref["lora_grad." + pre + ".lora_A.weight"] = lora["A"][k].grad
        ref["lora_grad." + pre + ".lora_B.weight"] = lora["B"][k].grad
        peft[pre + ".lora_A.weight"] = A_[k]
        peft[pre + ".lora_B.weight"] = B_[k]
    ad = os.path.join(d, "adapter")
    os.makedirs(ad, exist_ok=True)
    st_write(os.path.join(ad, "adapter_model.safetensors"), peft)
    with open(os.path.join(ad, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha,
                   "lora_dropout": 0.0, "target_modules": list(lora_targets), "bias": "none",
                   "fan_in_fan_out": False, "base_model_name_or_path": None}, f, indent=2)
    out["lora"] = {"r": r, "alpha": alpha, "targets": list(lora_targets)}

    eos = cfg["eos_token_id"]
    gens = [greedy(cfg, W, p, max_new, {eos}) for p in prompts]
    out["gen"] = {"prompts": prompts, "max_new": max_new, "eos": eos, "outputs": gens,
                  "outputs_ignore_eos": free_run}
    with open(os.path.join(d, "ids.json"), "w") as f:
        json.dump(ids.tolist(), f, separators=(",", ":"))
    with open(os.path.join(d, "prompts.json"), "w") as f:
        json.dump(prompts, f, separators=(",", ":"))
    with open(os.path.join(d, "gen_expected.json"), "w") as f:
        json.dump(gens, f, separators=(",", ":"))
        f.write("\n")

    # AdamW: full fine-tuning and LoRA, 10 steps each
    lr, wd, max_norm, warmup, steps = 1e-2, 0.1, 1.0, 3, 10
    Wt = {k: v.clone().requires_grad_(True) for k, v in W.items()}
    losses, norms = adamw_run(cfg, Wt, ids, lambda: [Wt[k] for k in sorted(Wt)], steps, lr, wd,
                              max_norm, warmup)
    lt = {"r": r, "alpha": alpha, "A": {k: v.clone().requires_grad_(True) for k, v in A_.items()},
          "B": {k: v.clone().requires_grad_(True) for k, v in B_.items()}}
    l_losses, l_norms = adamw_run(cfg, W, ids, lambda: [lt["A"][k] for k in sorted(lt["A"])] +
                                  [lt["B"][k] for k in sorted(lt["B"])], steps, lr, wd, 0.05, warmup, lt)
    out["adamw"] = {"lr": lr, "weight_decay": wd, "betas": [0.9, 0.999], "eps": 1e-8, "max_norm": max_norm,
                    "warmup": warmup, "steps": steps, "losses": losses, "grad_norms": norms,
                    "lora_max_norm": 0.05, "lora_losses": l_losses, "lora_grad_norms": l_norms}

    st_write(os.path.join(d, "ref.safetensors"), ref)
    with open(os.path.join(d, "ref.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(d) for fn in fns)
    print("%s: loss %.6f lora_loss %.6f gen %s  (%d bytes)" % (name, out["loss"], out["lora_loss"], gens, size))


def main():
    torch.manual_seed(0)
    base = {"rms_norm_eps": 1e-5, "rope_theta": 10000.0, "num_hidden_layers": 2}
    # MHA, untied, F32, Llama
    build("mha_untied_f32", dict(base, _arch="llama", hidden_size=32, intermediate_size=40,
                                 num_attention_heads=4, num_key_value_heads=4, head_dim=8,
                                 vocab_size=64, tie_word_embeddings=False),
          "F32", 1, ["q_proj", "v_proj"])
    # GQA, tied, BF16, head_dim * heads != hidden, Llama with attention_bias (q,k,v,o biases)
    build("gqa_tied_bf16", dict(base, _arch="llama", hidden_size=32, intermediate_size=32,
                                num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                vocab_size=64, tie_word_embeddings=True, attention_bias=True, rope_theta=500.0),
          "BF16", 2, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    # Qwen2: q/k/v biases, GQA, untied, F32
    build("qwen2_bias_f32", dict(base, _arch="qwen2", hidden_size=32, intermediate_size=32,
                                 num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                 vocab_size=72, tie_word_embeddings=False,
                                 rms_norm_eps=1e-6, rope_theta=1000000.0),
          "F32", 3, ["k_proj", "o_proj", "up_proj", "down_proj"])


if __name__ == "__main__":
    main()
