#!/usr/bin/python3
"""bench_engine.py: the PyTorch side of the engine benchmark (experiments/mk/bench-engine.sh).

Same measurements, flags and JSON lines as `asft-bench --mode train|lora|gen` (see the comment
at the top of experiments/asft-bench.c), on the same architecture written in plain torch (no
transformers): Llama as Hugging Face's modeling_llama defines it (RMSNorm, rotate-half RoPE,
separate q/k/v/o projections without bias, causal softmax attention with repeat_kv, SwiGLU MLP,
untied lm_head), next-token cross-entropy, torch.optim.AdamW; LoRA as PEFT adds it
(base(x) + scale * B(A(x)), base frozen, AdamW on A and B only); generation with an explicit
preallocated KV cache (prefill of the whole prompt, then one token per row per step, greedy).

Threads: torch.set_num_threads(N) for ATen's loops and OPENBLAS_NUM_THREADS=N (set before torch
is imported) for the matmuls, which Debian's torch sends to the same OpenBLAS as ours.
"""
import argparse
import json
import math
import os
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", required=True, choices=["train", "lora", "gen"])
    p.add_argument("--label", default="bench")
    p.add_argument("--model", default=None, help="take the architecture from DIR/config.json")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=0)
    p.add_argument("--ffn", type=int, default=688)
    p.add_argument("--vocab", type=int, default=2048)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--lora-alpha", type=float, default=16)
    p.add_argument("--lora-targets", default="q_proj,v_proj")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--prompts", type=int, default=64)
    p.add_argument("--prompt-len", type=int, default=32)
    p.add_argument("--max-new", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--foreach", type=int, default=1,
                   help="AdamW foreach implementation (1: multi-tensor, torch's fastest on CPU)")
    return p.parse_args()


args = parse()
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ.pop("OPENBLAS_CORETYPE", None)
os.environ.pop("OPENBLAS_L2_SIZE", None)
import torch  # noqa: E402  (after the environment is set)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as Fn  # noqa: E402

torch.set_num_threads(args.threads)


def model_config():
    if args.model:
        with open(os.path.join(args.model, "config.json")) as f:
            c = json.load(f)
        heads = c["num_attention_heads"]
        cfg = dict(d=c["hidden_size"], L=c["num_hidden_layers"], H=heads,
                   KV=c.get("num_key_value_heads") or heads, F=c["intermediate_size"],
                   V=c["vocab_size"], eps=c.get("rms_norm_eps", 1e-6),
                   theta=c.get("rope_theta", 10000.0),
                   maxpos=c.get("max_position_embeddings", 2048),
                   tied=bool(c.get("tie_word_embeddings", False)),
                   qkv_bias=c.get("model_type") == "qwen2" or bool(c.get("attention_bias")))
        cfg["hd"] = c.get("head_dim") or cfg["d"] // heads
        return cfg
    return dict(d=args.hidden, L=args.layers, H=args.heads, KV=args.kv_heads or args.heads,
                F=args.ffn, V=args.vocab, eps=1e-6, theta=10000.0, maxpos=4096, tied=False,
                qkv_bias=False, hd=args.hidden // args.heads)


class LoraLinear(nn.Module):
    """PEFT's LoRA Linear: base(x) + scale * lora_B(lora_A(x)); dropout 0 (identity)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scale


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, H, KV, hd, F = c["d"], c["H"], c["KV"], c["hd"], c["F"]
        self.H, self.KV, self.hd = H, KV, hd
        self.input_layernorm = RMSNorm(d, c["eps"])
        self.q_proj = nn.Linear(d, H * hd, bias=c["qkv_bias"])
        self.k_proj = nn.Linear(d, KV * hd, bias=c["qkv_bias"])
        self.v_proj = nn.Linear(d, KV * hd, bias=c["qkv_bias"])
        self.o_proj = nn.Linear(H * hd, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, c["eps"])
        self.gate_proj = nn.Linear(d, F, bias=False)
        self.up_proj = nn.Linear(d, F, bias=False)
        self.down_proj = nn.Linear(F, d, bias=False)

    def attend(self, x, cos, sin, mask, cache=None, t0=0):
        """x (B,T,d); cos, sin (T,hd) for these positions; mask (T, S) additive or None;
        cache (k, v) of (B,KV,Tmax,hd) filled up to t0 (then extended in place)."""
        B, T, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.KV, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.KV, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            kc, vc = cache
            kc[:, :, t0:t0 + T] = k
            vc[:, :, t0:t0 + T] = v
            k, v = kc[:, :, :t0 + T], vc[:, :, :t0 + T]
        rep = self.H // self.KV
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.hd)
        if mask is not None:
            s = s + mask
        p = torch.softmax(s, dim=-1)
        y = torch.matmul(p, v).transpose(1, 2).reshape(B, T, self.H * self.hd)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(Fn.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["V"], c["d"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["L"])])
        self.norm = RMSNorm(c["d"], c["eps"])
        self.lm_head = nn.Linear(c["d"], c["V"], bias=False)
        if c["tied"]:
            self.lm_head.weight = self.embed_tokens.weight
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
        hd = c["hd"]
        inv = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        P = max(c["maxpos"], args.seq, args.prompt_len + args.max_new)
        ang = torch.outer(torch.arange(P, dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    def forward(self, ids, caches=None, t0=0):
        B, T = ids.shape
        x = self.embed_tokens(ids)
        cos, sin = self.cos[t0:t0 + T], self.sin[t0:t0 + T]
        mask = None
        if T > 1:
            S = t0 + T
            mask = torch.full((T, S), float("-inf")).triu(t0 + 1)
        for i, layer in enumerate(self.layers):
            x = layer.attend(x, cos, sin, mask, caches[i] if caches else None, t0)
        return self.lm_head(self.norm(x))


def add_lora(model):
    targets = args.lora_targets.split(",")
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.layers:
        for name in targets:
            setattr(layer, name, LoraLinear(getattr(layer, name), args.lora_r, args.lora_alpha))
    return [p for n, p in model.named_parameters() if "lora_" in n]


def matrix_params(c):
    d, qd, kvd, F = c["d"], c["H"] * c["hd"], c["KV"] * c["hd"], c["F"]
    return c["L"] * ((qd + 2 * kvd) * d + d * qd + 3 * F * d) + c["V"] * d


def settings(c):
    return dict(side="torch", label=args.label, threads=args.threads, hidden=c["d"],
                layers=c["L"], heads=c["H"], kv_heads=c["KV"], ffn=c["F"], vocab=c["V"],
                warmup=args.warmup, torch=torch.__version__,
                torch_threads=torch.get_num_threads())


def bench_train(c, lora):
    torch.manual_seed(args.seed)
    model = Llama(c)
    B, T = args.batch, min(args.seq, c["maxpos"])
    if T < args.seq:  # a shorter context: more sequences, so a step keeps its B*T tokens
        B = (args.batch * args.seq + T - 1) // T
    N = B * T
    att = 12.0 * c["L"] * T * c["H"] * c["hd"] * N
    if lora:
        params = add_lora(model)
        flops = 4 * matrix_params(c) * N + att - 2.0 * (c["H"] + 2 * c["KV"]) * c["hd"] * c["d"] * N
        for name in args.lora_targets.split(","):
            lin = getattr(model.layers[0], name)
            flops += 6.0 * args.lora_r * (lin.base.in_features + lin.base.out_features) * N * c["L"]
    else:
        params = list(model.parameters())
        flops = 6.0 * matrix_params(c) * N + att
    model.train()
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.01, foreach=bool(args.foreach))
    g = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, c["V"], (B, T), generator=g)
    labels = ids[:, 1:].reshape(-1)
    times, cpu = [], []
    loss = None
    for s in range(args.warmup + args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = Fn.cross_entropy(logits[:, :-1].reshape(-1, c["V"]), labels)
        loss.backward()
        opt.step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if s >= args.warmup:
            times.append(dt)
            cpu.append(dc)
    out = settings(c)
    out.update(what="lora" if lora else "train", batch=B, seq=T, tokens=N, flops=flops,
               params=sum(p.numel() for p in model.parameters()),
               trainable=sum(p.numel() for p in params), last_loss=float(loss),
               adamw_foreach=args.foreach, times=times, cpu=cpu)
    if lora:
        out.update(lora_r=args.lora_r, lora_alpha=args.lora_alpha, lora_targets=args.lora_targets)
    return out


@torch.inference_mode()
def generate(model, c, ids):
    B, Tp = ids.shape
    Tmax = Tp + args.max_new
    caches = [(torch.empty(B, c["KV"], Tmax, c["hd"]), torch.empty(B, c["KV"], Tmax, c["hd"]))
              for _ in range(c["L"])]
    logits = model(ids, caches, 0)[:, -1]
    out = []
    for i in range(args.max_new):
        tok = logits.argmax(-1)
        out.append(tok)
        if i + 1 == args.max_new:
            break
        logits = model(tok.view(B, 1), caches, Tp + i)[:, -1]
    return torch.stack(out, 1)


def bench_gen(c):
    torch.manual_seed(args.seed)
    model = Llama(c)
    model.eval()
    g = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, c["V"], (args.prompts, args.prompt_len), generator=g)
    times, cpu = [], []
    new = None
    for s in range(args.warmup + args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        new = generate(model, c, ids)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if s >= args.warmup:
            times.append(dt)
            cpu.append(dc)
    out = settings(c)
    out.update(what="gen", prompts=args.prompts, prompt_len=args.prompt_len,
               max_new=args.max_new, tokens=int(new.numel()), flops=0,
               first_row=new[0, :8].tolist(), times=times, cpu=cpu)
    return out


def main():
    c = model_config()
    if args.mode == "gen":
        res = bench_gen(c)
    else:
        res = bench_train(c, args.mode == "lora")
    print(json.dumps(res, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
