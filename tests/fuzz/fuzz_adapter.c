/* fuzz_adapter.c: adapter_config.json bytes -> adapter_config_load (data/adapter.h reads from
 * a path only, so the bytes go to a scratch file first).
 *
 * Properties: a refusal carries a one-line error message; an accepted config has r in
 * [1, 65536], exactly one of a target list / regex, lora_alpha in (0, 1e6], a finite scaling;
 * adapter_targets answers for the Llama linear layers; adapter_config_save writes a config that
 * loads back to the same fields (doubles bit for bit); and a whole folder (adapter_save of
 * every targeted module of a 2-layer model, with known weights) loads back with adapter_load to
 * the same modules and weights. So a fuzzed config is pushed through the writer and the folder
 * reader too.
 * Seeds: the PEFT configs of tests/fixtures/engine/ and hand-written variants (regex target,
 * rsLoRA, "all-linear", a base model name, the extra keys PEFT 0.10 writes). */
#include "adapter.h"
#include "fuzz.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const size_t fuzz_replay_total = 8000;

static const char *const modules[] = {
	"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
	"model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj",
	"model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj",
	"model.layers.1.self_attn.q_proj", "model.layers.1.mlp.down_proj",
};
#define N_MODULES (int)(sizeof modules / sizeof modules[0])
#define DIM 8

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_same_config(const AdapterConfig *a, const AdapterConfig *b)
{
	FUZZ_CHECK(a->r == b->r && a->use_rslora == b->use_rslora, "r / use_rslora changed");
	/* the writer prints the shortest decimal that reads back exactly: no drift at all */
	FUZZ_CHECK(a->lora_alpha == b->lora_alpha, "lora_alpha %.17g became %.17g", a->lora_alpha,
		   b->lora_alpha);
	FUZZ_CHECK(a->lora_dropout == b->lora_dropout, "lora_dropout %.17g became %.17g",
		   a->lora_dropout, b->lora_dropout);
	FUZZ_CHECK(a->n_targets == b->n_targets, "n_targets %d became %d", a->n_targets, b->n_targets);
	for (int i = 0; i < a->n_targets; i++)
		FUZZ_CHECK(!strcmp(a->targets[i], b->targets[i]), "target %d changed", i);
	FUZZ_CHECK(str_eq(a->target_regex, b->target_regex), "target regex changed");
	FUZZ_CHECK(str_eq(a->base_model, b->base_model), "base model changed");
}

static void check_folder(AdapterConfig *c)
{
	Adapter ad;
	memset(&ad, 0, sizeof ad);
	ad.cfg = *c;                    /* ad owns the config from here */
	memset(c, 0, sizeof *c);
	int r = ad.cfg.r;
	for (int m = 0; m < N_MODULES; m++) {
		if (!adapter_targets(&ad.cfg, modules[m]))
			continue;
		AdapterModule *mod = adapter_add(&ad, modules[m], DIM, DIM + m);
		FUZZ_CHECK(mod != NULL, "adapter_add %s: %s", modules[m], err_msg());
		for (int i = 0; i < r * DIM; i++)
			mod->A[i] = (float)(i % 7) - 3.0f + 0.25f * (float)m;
		for (int i = 0; i < (DIM + m) * r; i++)
			mod->B[i] = (float)(i % 5) * 0.5f - (float)m;
	}
	char *dir = fuzz_path("saved");
	err_clear();
	int rc = adapter_save(&ad, dir, ST_F32);
	if (ad.n_mods == 0) {           /* nothing targeted: saving or loading may refuse */
		if (rc != 0)
			FUZZ_CHECK_ERR("adapter_save with no modules");
		goto out;
	}
	FUZZ_CHECK(rc == 0, "adapter_save: %s", err_msg());
	Adapter back;
	memset(&back, 0, sizeof back);
	err_clear();
	FUZZ_CHECK(adapter_load(&back, dir) == 0, "saved folder does not load: %s", err_msg());
	check_same_config(&ad.cfg, &back.cfg);
	FUZZ_CHECK(back.n_mods == ad.n_mods, "%d modules saved, %d loaded", ad.n_mods, back.n_mods);
	for (int m = 0; m < ad.n_mods; m++) {
		const AdapterModule *x = &ad.mods[m], *y = adapter_find(&back, x->module);
		FUZZ_CHECK(y != NULL, "module %s lost", x->module);
		FUZZ_CHECK(y->in == x->in && y->out == x->out, "module %s shape changed", x->module);
		FUZZ_CHECK(!memcmp(x->A, y->A, (size_t)r * (size_t)x->in * sizeof(float)) &&
			   !memcmp(x->B, y->B, (size_t)x->out * (size_t)r * sizeof(float)),
			   "module %s weights changed", x->module);
	}
	adapter_free(&back);
out:
	free(dir);
	adapter_free(&ad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_write("adapter_config.json", data, size);
	AdapterConfig c;
	memset(&c, 0, sizeof c);
	err_clear();
	if (adapter_config_load(&c, path) != 0) {
		FUZZ_CHECK_ERR("adapter_config_load");
		adapter_config_free(&c);
		free(path);
		return 0;
	}
	FUZZ_CHECK(c.r > 0, "r %d", c.r);
	FUZZ_CHECK((c.n_targets > 0) != (c.target_regex != NULL), "targets: %d names, regex %s",
		   c.n_targets, c.target_regex ? c.target_regex : "none");
	FUZZ_CHECK(c.r <= 65536, "r %d", c.r);
	FUZZ_CHECK(c.lora_dropout >= 0 && c.lora_dropout < 1, "dropout %g", c.lora_dropout);
	/* 1e309 reads as infinity and DBL_MAX would not survive the writer: both are refused */
	FUZZ_CHECK(c.lora_alpha > 0 && c.lora_alpha <= 1e6, "lora_alpha %.17g", c.lora_alpha);
	double s = adapter_scaling(&c);
	FUZZ_CHECK(isfinite(s), "scaling %g (lora_alpha %g, r %d)", s, c.lora_alpha, c.r);
	for (int m = 0; m < N_MODULES; m++)
		adapter_targets(&c, modules[m]);

	char *saved = fuzz_path("saved_config.json");
	err_clear();
	FUZZ_CHECK(adapter_config_save(&c, saved) == 0, "adapter_config_save: %s", err_msg());
	AdapterConfig back;
	memset(&back, 0, sizeof back);
	err_clear();
	FUZZ_CHECK(adapter_config_load(&back, saved) == 0, "saved config does not load: %s",
		   err_msg());
	check_same_config(&c, &back);
	adapter_config_free(&back);
	free(saved);

	if (c.r <= 64)
		check_folder(&c);       /* takes c over */
	adapter_config_free(&c);
	free(path);
	return 0;
}
