/* asft-fakeckpt: a random Llama-shaped base/aligned checkpoint pair, streamed to disk.
 *
 *   asft-fakeckpt --out-base DIR --out-aligned DIR [--layers 32 --hidden 4096 --ffn 11008
 *                 --vocab 32000 --heads 32] [--dtype bf16] [--shard-bytes 10000000000]
 *                 [--delta 0.001] [--seed 1]
 *
 * For the scale benchmark of asft-direction (experiments/mk/bench-direction.sh) and its shell
 * tests: weights are uniform with std 0.02 (norm weights 1 + noise), the aligned model is the
 * base plus delta * (uniform noise with std 1), sharded the way save_pretrained shards (module
 * order, a new shard when the next tensor would pass --shard-bytes). Nothing but one chunk is
 * ever in memory, so a 7B-shaped pair (about 27 GB in BF16) is written with a few MB of RAM.
 * The weights mean nothing: they exist to measure I/O, memory and SVD cost. */
#include "cli.h"
#include "hfconfig.h"
#include "rng.h"
#include "safetensors.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1 << 20)

typedef struct {
	char name[96];
	int ndim;
	int64_t shape[2];
	int is_norm;
} Spec;

static const char usage[] =
	"usage: asft-fakeckpt --out-base DIR --out-aligned DIR [options]\n"
	"\n"
	"Writes a random Llama-shaped base checkpoint and an aligned one (base + delta * noise)\n"
	"as Hugging Face folders, streaming (for benchmarks and tests; the weights mean nothing).";

/* uniform in [-sqrt(3), sqrt(3)): std 1, from one 32-bit half of a 64-bit draw */
static inline float unif(uint32_t u)
{
	return (float)((int32_t)u) * (1.7320508f / 2147483648.0f);
}

static void fill(Rng *r, float *x, size_t n, float mean, float std)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2) {
		uint64_t v = rng_u64(r);
		x[i] = mean + std * unif((uint32_t)v);
		x[i + 1] = mean + std * unif((uint32_t)(v >> 32));
	}
	if (i < n)
		x[i] = mean + std * unif((uint32_t)rng_u64(r));
}

int main(int argc, char **argv)
{
	const char *out_base = NULL, *out_aligned = NULL, *dtype = "bf16";
	long layers = 32, hidden = 4096, ffn = 11008, vocab = 32000, heads = 32, seed = 1;
	long shard_bytes = 10000000000L;
	double delta = 1e-3;
	CliOpt opts[] = {
		{"out-base", CLI_STR, &out_base, "DIR", "base checkpoint folder to create"},
		{"out-aligned", CLI_STR, &out_aligned, "DIR", "aligned checkpoint folder to create"},
		{"layers", CLI_INT, &layers, "N", "decoder layers"},
		{"hidden", CLI_INT, &hidden, "N", "hidden size"},
		{"ffn", CLI_INT, &ffn, "N", "intermediate (MLP) size"},
		{"vocab", CLI_INT, &vocab, "N", "vocabulary size"},
		{"heads", CLI_INT, &heads, "N", "attention heads (MHA)"},
		{"dtype", CLI_STR, &dtype, "T", "bf16 or f32"},
		{"shard-bytes", CLI_INT, &shard_bytes, "B", "largest shard (save_pretrained's max_shard_size)"},
		{"delta", CLI_DOUBLE, &delta, "X", "std of aligned - base"},
		{"seed", CLI_INT, &seed, "S", "seed"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!out_base || !out_aligned)
		die("--out-base and --out-aligned are required");
	if (layers < 1 || hidden < 2 || ffn < 1 || vocab < 1 || heads < 1 || hidden % heads ||
	    (hidden / heads) % 2 || shard_bytes < 1)
		die("bad sizes: need positive sizes, heads dividing hidden and an even head_dim");
	StDtype dt = !strcmp(dtype, "bf16") ? ST_BF16 : !strcmp(dtype, "f32") ? ST_F32 : ST_NDTYPES;
	if (dt == ST_NDTYPES)
		die("--dtype %s: expected bf16 or f32", dtype);

	int n = 0, cap = (int)layers * 9 + 3;
	Spec *sp = xcalloc((size_t)cap, sizeof(Spec));
#define ADD(d0, d1, nd, norm, ...) do { \
		snprintf(sp[n].name, sizeof sp[n].name, __VA_ARGS__); \
		sp[n].ndim = (nd); sp[n].shape[0] = (d0); sp[n].shape[1] = (d1); sp[n].is_norm = (norm); \
		n++; \
	} while (0)
	ADD(vocab, hidden, 2, 0, "model.embed_tokens.weight");
	for (long l = 0; l < layers; l++) {
		ADD(hidden, hidden, 2, 0, "model.layers.%ld.self_attn.q_proj.weight", l);
		ADD(hidden, hidden, 2, 0, "model.layers.%ld.self_attn.k_proj.weight", l);
		ADD(hidden, hidden, 2, 0, "model.layers.%ld.self_attn.v_proj.weight", l);
		ADD(hidden, hidden, 2, 0, "model.layers.%ld.self_attn.o_proj.weight", l);
		ADD(ffn, hidden, 2, 0, "model.layers.%ld.mlp.gate_proj.weight", l);
		ADD(ffn, hidden, 2, 0, "model.layers.%ld.mlp.up_proj.weight", l);
		ADD(hidden, ffn, 2, 0, "model.layers.%ld.mlp.down_proj.weight", l);
		ADD(hidden, 0, 1, 1, "model.layers.%ld.input_layernorm.weight", l);
		ADD(hidden, 0, 1, 1, "model.layers.%ld.post_attention_layernorm.weight", l);
	}
	ADD(hidden, 0, 1, 1, "model.norm.weight");
	ADD(vocab, hidden, 2, 0, "lm_head.weight");
#undef ADD

	ModelConfig cfg;
	config_default(&cfg);
	cfg.hidden_size = (int)hidden;
	cfg.intermediate_size = (int)ffn;
	cfg.num_hidden_layers = (int)layers;
	cfg.num_attention_heads = cfg.num_key_value_heads = (int)heads;
	cfg.head_dim = (int)(hidden / heads);
	cfg.vocab_size = (int)vocab;
	cfg.max_position_embeddings = 4096;
	cfg.rms_norm_eps = 1e-5;
	snprintf(cfg.torch_dtype, sizeof cfg.torch_dtype, "%s", dt == ST_BF16 ? "bfloat16" : "float32");

	StShardWriter *w[2] = {st_shard_writer_new(out_base, (size_t)shard_bytes),
			       st_shard_writer_new(out_aligned, (size_t)shard_bytes)};
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < n; i++)
			if (st_shard_writer_plan(w[k], sp[i].name, dt, sp[i].ndim, sp[i].shape) < 0)
				die_err();
		if (st_shard_writer_begin(w[k]) < 0 || config_save_dir(&cfg, k ? out_aligned : out_base) < 0)
			die_err();
	}
	float *b = xmalloc(CHUNK * sizeof(float)), *a = xmalloc(CHUNK * sizeof(float));
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += (size_t)sp[i].shape[0] * (sp[i].ndim == 2 ? (size_t)sp[i].shape[1] : 1);
	Progress prog;
	progress_init(&prog, "fakeckpt", total);
	size_t done = 0;
	for (int i = 0; i < n; i++) {
		size_t numel = (size_t)sp[i].shape[0] * (sp[i].ndim == 2 ? (size_t)sp[i].shape[1] : 1);
		Rng rb, rd;
		rng_init(&rb, (uint64_t)seed, 2 * (uint64_t)i);
		rng_init(&rd, (uint64_t)seed, 2 * (uint64_t)i + 1);
		for (size_t first = 0; first < numel; first += CHUNK) {
			size_t m = numel - first < CHUNK ? numel - first : CHUNK;
			fill(&rb, b, m, sp[i].is_norm ? 1.0f : 0.0f, sp[i].is_norm ? 0.05f : 0.02f);
			fill(&rd, a, m, 0.0f, (float)delta);
			for (size_t e = 0; e < m; e++)
				a[e] += b[e];
			if (st_shard_writer_write_part(w[0], sp[i].name, first, b, m) < 0 ||
			    st_shard_writer_write_part(w[1], sp[i].name, first, a, m) < 0)
				die_err();
			done += m;
			progress_update(&prog, done, NULL);
		}
	}
	for (int k = 0; k < 2; k++)
		if (st_shard_writer_finish(w[k]) < 0)
			die_err();
	progress_finish(&prog, NULL);
	printf("wrote %s and %s: %d tensors, %zu parameters each, %d shard(s)\n", out_base,
	       out_aligned, n, total, st_shard_writer_nshards(w[0]));
	st_shard_writer_free(w[0]);
	st_shard_writer_free(w[1]);
	free(b);
	free(a);
	free(sp);
	return 0;
}
