/* lora.c: LoRA adapter memory, names and initialization (see lora.h). The maths of the branch
 * is lora_forward / lora_backward in ops.c, called from model.c. */
#include "lora.h"
#include "rng.h"
#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mod_names[LORA_NMOD] = {
	"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
};

const char *lora_module_name(LoraModule mod)
{
	return (unsigned)mod < LORA_NMOD ? mod_names[mod] : "?";
}

int lora_module_parse(const char *name)
{
	for (int m = 0; m < LORA_NMOD; m++)
		if (!strcmp(name, mod_names[m]))
			return m;
	return -1;
}

unsigned lora_targets_parse(const char *list)
{
	unsigned mask = 0;
	const char *p = list ? list : "";
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char item[32];
		if (n == 0 || n >= sizeof(item)) {
			err_set("LoRA targets \"%s\": empty or overlong module name", list);
			return 0;
		}
		memcpy(item, p, n);
		item[n] = 0;
		if (!strcmp(item, "all")) {
			mask |= (1u << LORA_NMOD) - 1;
		} else {
			int m = lora_module_parse(item);
			if (m < 0) {
				err_set("LoRA targets: unknown module \"%s\" (expected q_proj, k_proj, "
					"v_proj, o_proj, gate_proj, up_proj, down_proj or all)", item);
				return 0;
			}
			mask |= LORA_BIT(m);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!mask)
		err_set("LoRA targets: empty list");
	return mask;
}

void lora_free(Lora *lo)
{
	if (!lo)
		return;
	free(lo->tensors);
	free(lo->grads);
	free(lo->params);
	memset(lo, 0, sizeof(*lo));
}

const LoraTensor *lora_find(const Lora *lo, const char *name)
{
	for (int i = 0; i < lo->n_tensors; i++)
		if (!strcmp(lo->tensors[i].name, name))
			return &lo->tensors[i];
	return NULL;
}

void lora_zero_grad(Lora *lo)
{
	if (lo->grads)
		memset(lo->grads, 0, sizeof(float) * lo->n_params);
}

int lora_init(Lora *lo, const ModelConfig *cfg, int r, float alpha, float dropout,
	      unsigned targets, uint64_t seed)
{
	memset(lo, 0, sizeof(*lo));
	/* the bounds the adapter writer holds a config to (data/adapter.c), checked here so a run
	 * with a bad value stops before training rather than when it saves */
	if (r < 1 || r > LORA_R_MAX)
		return err_set("LoRA: rank r = %d is outside [1, %d]", r, LORA_R_MAX);
	if (!(alpha > 0 && alpha <= LORA_ALPHA_MAX))
		return err_set("LoRA: lora_alpha = %.9g is outside (0, %g]", alpha, LORA_ALPHA_MAX);
	if (!(dropout >= 0 && dropout < 1))
		return err_set("LoRA: lora_dropout = %.9g is outside [0, 1)", dropout);
	targets &= (1u << LORA_NMOD) - 1;
	if (!targets)
		return err_set("LoRA: no target modules");
	int d = cfg->hidden_size, qd = cfg->num_attention_heads * cfg->head_dim;
	int kvd = cfg->num_key_value_heads * cfg->head_dim, F = cfg->intermediate_size;
	int ins[LORA_NMOD] = { d, d, d, qd, d, d, F };
	int outs[LORA_NMOD] = { qd, kvd, kvd, d, F, F, d };
	lo->r = r;
	lo->alpha = alpha;
	lo->scale = alpha / (float)r;
	lo->dropout = dropout;
	lo->targets = targets;
	lo->L = cfg->num_hidden_layers;
	size_t n = 0;
	int nt = 0;
	for (int m = 0; m < LORA_NMOD; m++) {
		lo->in[m] = ins[m];
		lo->out[m] = outs[m];
		if (targets & LORA_BIT(m)) {
			n += (size_t)lo->L * r * (ins[m] + outs[m]);
			nt += 2 * lo->L;
		}
	}
	lo->n_params = n;
	lo->params = xcalloc(n, sizeof(float));
	lo->grads = xcalloc(n, sizeof(float));
	lo->tensors = xcalloc(nt, sizeof(LoraTensor));
	/* layout: per module A (L, r, in) then B (L, out, r) */
	size_t off = 0;
	for (int m = 0; m < LORA_NMOD; m++) {
		if (!(targets & LORA_BIT(m)))
			continue;
		size_t na = (size_t)r * ins[m], nb = (size_t)outs[m] * r;
		lo->A[m] = lo->params + off;
		lo->dA[m] = lo->grads + off;
		lo->B[m] = lo->params + off + lo->L * na;
		lo->dB[m] = lo->grads + off + lo->L * na;
		for (int l = 0; l < lo->L; l++)
			for (int isb = 0; isb < 2; isb++) {
				LoraTensor *t = &lo->tensors[lo->n_tensors++];
				snprintf(t->name, sizeof(t->name),
					 "base_model.model.model.layers.%d.%s.%s.lora_%c.weight", l,
					 m <= LORA_O ? "self_attn" : "mlp", mod_names[m],
					 isb ? 'B' : 'A');
				t->layer = l;
				t->mod = (LoraModule)m;
				t->is_b = isb;
				t->offset = off + (isb ? lo->L * na + l * nb : l * na);
				t->shape[0] = isb ? outs[m] : r;
				t->shape[1] = isb ? r : ins[m];
				t->numel = isb ? nb : na;
			}
		off += lo->L * (na + nb);
	}
	/* PEFT: nn.init.kaiming_uniform_(A, a=sqrt(5)) -> bound = 1/sqrt(fan_in); B zeros */
	for (int i = 0; i < lo->n_tensors; i++) {
		LoraTensor *t = &lo->tensors[i];
		if (t->is_b)
			continue;
		Rng rng;
		rng_init(&rng, seed, (uint64_t)i);
		float bound = 1.0f / sqrtf((float)t->shape[1]);
		float *a = lo->params + t->offset;
		for (size_t k = 0; k < t->numel; k++)
			a[k] = (2.0f * rng_uniformf(&rng) - 1.0f) * bound;
	}
	return 0;
}
