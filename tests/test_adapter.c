/* test_adapter.c: PEFT adapter folders: PEFT's targeting rules (list suffix match, regex full
 * match, all-linear), save/load round trips (F32, BF16, list and regex configs), checks
 * against a ModelConfig, and one malformed folder per validation rule. */
#include "adapter.h"
#include "harness.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static char tdir[] = "/tmp/asft-adapter-XXXXXX";

static const char *Q0 = "model.layers.0.self_attn.q_proj";
static const char *V1 = "model.layers.1.self_attn.v_proj";

static void test_targets(void)
{
	AdapterConfig c;
	adapter_config_init(&c, 8, 16);
	CHECK(!adapter_targets(&c, Q0));                    /* no targets yet */
	const char *list[] = {"q_proj", "v_proj"};
	CHECK_INT(adapter_config_set_list(&c, list, 2), 0);
	CHECK(adapter_targets(&c, Q0));
	CHECK(adapter_targets(&c, "model.layers.17.self_attn.v_proj"));
	CHECK(!adapter_targets(&c, "model.layers.0.self_attn.k_proj"));
	CHECK(adapter_targets(&c, "q_proj"));               /* equal to an entry */
	CHECK(!adapter_targets(&c, "model.layers.0.self_attn.xq_proj"));    /* not after a dot */
	CHECK(!adapter_targets(&c, "model.layers.0.self_attn.q_proj.base"));
	CHECK(!adapter_targets(&c, NULL));
	const char *dotted[] = {"self_attn.q_proj"};
	CHECK_INT(adapter_config_set_list(&c, dotted, 1), 0);
	CHECK(adapter_targets(&c, Q0));
	CHECK(!adapter_targets(&c, "model.layers.0.mlp.q_proj"));
	CHECK_INT(adapter_config_set_list(&c, dotted, 0), -1);
	CHECK_CONTAINS(err_msg(), "target_modules is an empty list");

	/* regex: re.fullmatch semantics */
	CHECK_INT(adapter_config_set_regex(&c, ".*\\.(q_proj|v_proj)"), 0);
	CHECK(c.targets == NULL && c.n_targets == 0);
	CHECK(adapter_targets(&c, Q0) && adapter_targets(&c, V1));
	CHECK(!adapter_targets(&c, "model.layers.1.self_attn.v_proj_x"));
	CHECK_INT(adapter_config_set_regex(&c, "model\\.layers\\.[0-3]\\.self_attn\\.q_proj"), 0);
	CHECK(adapter_targets(&c, "model.layers.3.self_attn.q_proj"));
	CHECK(!adapter_targets(&c, "model.layers.13.self_attn.q_proj"));   /* search would match */
	CHECK_INT(adapter_config_set_regex(&c, "q_proj"), 0);
	CHECK(!adapter_targets(&c, Q0));                    /* a match must span the whole name */
	CHECK_INT(adapter_config_set_regex(&c, "a|ab"), 0);
	CHECK(adapter_targets(&c, "ab"));                   /* fullmatch backtracks into "ab" */
	CHECK_INT(adapter_config_set_regex(&c, "(q_proj"), -1);
	CHECK_CONTAINS(err_msg(), "target_modules regex \"(q_proj\" does not compile at offset 7");
	CHECK_STR(c.target_regex, "a|ab");                  /* a failed set keeps the old one */
	adapter_config_free(&c);
	CHECK(c.target_regex == NULL && c.re_code_ == NULL);
	adapter_config_free(&c);                            /* twice is fine */

	adapter_config_init(&c, 4, 8);
	CHECK_CLOSE(adapter_scaling(&c), 2.0, 0, 0);
	c.use_rslora = 1;
	CHECK_CLOSE(adapter_scaling(&c), 4.0, 0, 0);
	adapter_config_free(&c);
}

static ModelConfig tiny_model(void)
{
	ModelConfig m = {0};
	m.hidden_size = 16, m.intermediate_size = 40, m.num_hidden_layers = 2;
	m.num_attention_heads = 4, m.num_key_value_heads = 2, m.head_dim = 4;
	return m;
}

static float val(int k, size_t i)   /* exact in bf16 */
{
	return (float)((int)((i * 29 + (size_t)k * 53) % 201) - 100) / 32;
}

static Adapter make_adapter(int regex)
{
	Adapter ad = {0};
	adapter_config_init(&ad.cfg, 4, 8);
	ad.cfg.lora_dropout = 0.05;
	adapter_config_set_base(&ad.cfg, "asft/organism-small");
	const char *list[] = {"q_proj", "v_proj", "down_proj"};
	if (regex)
		adapter_config_set_regex(&ad.cfg, "model\\.layers\\.\\d+\\.(self_attn\\.[qv]|mlp\\.down)_proj");
	else
		adapter_config_set_list(&ad.cfg, list, 3);
	ModelConfig m = tiny_model();
	const char *mods[] = {V1, Q0, "model.layers.1.mlp.down_proj"};
	for (int k = 0; k < 3; k++) {
		int in = 0, out = 0;
		CHECK_INT(adapter_module_dims(&m, mods[k], &in, &out), 0);
		AdapterModule *am = adapter_add(&ad, mods[k], in, out);
		CHECK(am != NULL);
		for (int i = 0; i < 4 * in; i++)
			am->A[i] = val(k, (size_t)i);
		for (int i = 0; i < out * 4; i++)
			am->B[i] = val(k + 7, (size_t)i);
	}
	return ad;
}

static void test_roundtrip(void)
{
	ModelConfig m = tiny_model();
	for (int variant = 0; variant < 3; variant++) {     /* list F32, list BF16, regex F32 */
		Adapter ad = make_adapter(variant == 2);
		CHECK(adapter_add(&ad, Q0, 16, 16) == NULL);
		CHECK_CONTAINS(err_msg(), "module model.layers.0.self_attn.q_proj added twice");
		char *dir = xasprintf("%s/rt%d/sub", tdir, variant);
		CHECK_INT(adapter_save(&ad, dir, variant == 1 ? ST_BF16 : ST_F32), 0);
		Adapter back;
		CHECK_INT(adapter_load(&back, dir), 0);
		CHECK_INT(back.cfg.r, 4);
		CHECK_CLOSE(back.cfg.lora_alpha, 8, 0, 0);
		CHECK_CLOSE(back.cfg.lora_dropout, 0.05, 0, 0);
		CHECK_STR(back.cfg.base_model, "asft/organism-small");
		if (variant == 2) {
			CHECK_STR(back.cfg.target_regex, ad.cfg.target_regex);
		} else {
			CHECK_INT(back.cfg.n_targets, 3);
			CHECK_STR(back.cfg.targets[2], "down_proj");
		}
		CHECK_INT(back.n_mods, 3);
		CHECK_STR(back.mods[0].module, "model.layers.0.self_attn.q_proj");  /* sorted */
		CHECK_STR(back.mods[1].module, "model.layers.1.mlp.down_proj");
		CHECK_INT(back.mods[0].layer, 0);
		CHECK_INT(back.mods[1].layer, 1);
		for (int k = 0; k < 3; k++) {
			const AdapterModule *a = &ad.mods[k], *b = adapter_find(&back, a->module);
			CHECK(b && b->in == a->in && b->out == a->out);
			if (!b)
				continue;
			CHECK_ALLCLOSE(b->A, a->A, (size_t)(4 * a->in), 0, 0);
			CHECK_ALLCLOSE(b->B, a->B, (size_t)(a->out * 4), 0, 0);
		}
		CHECK_INT(adapter_check_model(&back, &m), 0);
		CHECK(adapter_find(&back, "model.layers.0.self_attn.k_proj") == NULL);

		/* the tensor names and shapes PEFT uses */
		char *w = xasprintf("%s/adapter_model.safetensors", dir);
		Safetensors st;
		CHECK_INT(st_open(&st, w), 0);
		const StTensor *t = st_find(&st, "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight");
		CHECK(t && t->ndim == 2 && t->shape[0] == 4 && t->shape[1] == 40);
		t = st_find(&st, "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight");
		CHECK(t && t->shape[0] == 8 && t->shape[1] == 4 &&
		      t->dtype == (variant == 1 ? ST_BF16 : ST_F32));
		CHECK_INT(st.n, 6);
		st_close(&st);
		char *cfg = xasprintf("%s/adapter_config.json", dir);
		char *text = file_read_all(cfg, NULL);
		CHECK_CONTAINS(text, "\"peft_type\":\t\"LORA\"");
		CHECK_CONTAINS(text, "\"task_type\":\t\"CAUSAL_LM\"");
		CHECK_CONTAINS(text, "\"bias\":\t\"none\"");
		CHECK_CONTAINS(text, "\"fan_in_fan_out\":\tfalse");
		free(text), free(cfg), free(w);
		adapter_free(&back);
		adapter_free(&ad);
		free(dir);
	}

	/* checks against the model */
	Adapter ad = make_adapter(0);
	ModelConfig small = tiny_model();
	small.num_key_value_heads = 4;                      /* v_proj is now 16 -> 16 */
	CHECK_INT(adapter_check_model(&ad, &small), -1);
	CHECK_CONTAINS(err_msg(), "module model.layers.1.self_attn.v_proj: lora_A/lora_B give in 16, "
		       "out 8 but the model's layer is 16 -> 16");
	small = tiny_model();
	small.num_hidden_layers = 1;
	CHECK_INT(adapter_check_model(&ad, &small), -1);
	CHECK_CONTAINS(err_msg(), "layer 1 out of range (the model has 1)");
	int in, out;
	CHECK_INT(adapter_module_dims(&m, "model.layers.0.mlp.gate_proj", &in, &out), 0);
	CHECK(in == 16 && out == 40);
	CHECK_INT(adapter_module_dims(&m, "model.layers.1.self_attn.o_proj", &in, &out), 0);
	CHECK(in == 16 && out == 16);
	CHECK_INT(adapter_module_dims(&m, "model.layers.0.self_attn.rotary", &in, &out), -1);
	CHECK_CONTAINS(err_msg(), "self_attn.rotary is not a LoRA-able linear layer");
	CHECK_INT(adapter_module_dims(&m, "model.layers.0.mlp.q_proj", &in, &out), -1);
	CHECK_INT(adapter_module_dims(&m, "lm_head", &in, &out), -1);
	CHECK_CONTAINS(err_msg(), "module lm_head: not a model.layers.L.{self_attn,mlp}.X_proj");
	CHECK_INT(adapter_module_dims(&m, "model.layers.99999999999.mlp.up_proj", &in, &out), -1);

	/* saving a module the config does not target */
	CHECK(adapter_add(&ad, "model.layers.0.self_attn.k_proj", 16, 8) != NULL);
	char *dir = path_join(tdir, "untargeted");
	CHECK_INT(adapter_save(&ad, dir, ST_F32), -1);
	CHECK_CONTAINS(err_msg(), "module model.layers.0.self_attn.k_proj is not matched by "
		       "target_modules");
	CHECK(adapter_add(&ad, "x", 0, 8) == NULL);
	CHECK_CONTAINS(err_msg(), "must be positive");
	free(dir);
	adapter_free(&ad);
	adapter_free(&ad);
}

/* adapter_config_save writes only what adapter_config_load accepts, and what it writes reads
 * back to the same doubles bit for bit (cJSON's own printing may drift by an ulp). */
static void test_config_save(void)
{
	AdapterConfig c, back;
	char *p = path_join(tdir, "cfg.json");
	const char *list[] = {"q_proj"};
	static const struct { int r; double alpha, dropout; const char *want; } bad[] = {
		{0, 8, 0, "cfg.json: r 0 is outside [1, 65536]"},
		{65537, 8, 0, "r 65537 is outside [1, 65536]"},
		{4, INFINITY, 0, "cfg.json: lora_alpha inf is outside (0, 1e+06]"},
		{4, NAN, 0, "lora_alpha nan is outside (0, 1e+06]"},
		{4, 1.7976931348623157e308, 0, "lora_alpha 1.79769313486232e+308 is outside (0, 1e+06]"},
		{4, 0, 0, "lora_alpha 0 is outside (0, 1e+06]"},
		{4, -2, 0, "lora_alpha -2 is outside (0, 1e+06]"},
		{4, 8, 1, "lora_dropout 1 is outside [0, 1)"},
		{4, 8, -0.5, "lora_dropout -0.5 is outside [0, 1)"},
		{4, 8, NAN, "lora_dropout nan is outside [0, 1)"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		adapter_config_init(&c, bad[i].r, bad[i].alpha);
		c.lora_dropout = bad[i].dropout;
		CHECK_INT(adapter_config_set_list(&c, list, 1), 0);
		unlink(p);
		CHECK_INT(adapter_config_save(&c, p), -1);
		CHECK_CONTAINS(err_msg(), bad[i].want);
		CHECK(!path_exists(p));
		adapter_config_free(&c);
	}
	adapter_config_init(&c, 4, 8);
	CHECK_INT(adapter_config_save(&c, p), -1);
	CHECK_CONTAINS(err_msg(), "cfg.json: adapter config needs target_modules");
	adapter_config_free(&c);
	/* doubles that need 16 or 17 digits, the range ends, and a subnormal alpha */
	static const double alphas[] = {8, 0.1 + 0.2, 1.0 / 3, 1e6, 4.9406564584124654e-324,
					123456.78901234567};
	static const double drops[] = {0, 0.05, 0.1 + 0.2, 0.99999999999999989, 1e-300, 2.0 / 3};
	for (size_t i = 0; i < sizeof alphas / sizeof *alphas; i++) {
		adapter_config_init(&c, 65536, alphas[i]);
		c.lora_dropout = drops[i];
		CHECK_INT(adapter_config_set_list(&c, list, 1), 0);
		CHECK_INT(adapter_config_save(&c, p), 0);
		CHECK_INT(adapter_config_load(&back, p), 0);
		CHECK(back.lora_alpha == alphas[i]);
		CHECK(back.lora_dropout == drops[i]);
		CHECK_INT(back.r, 65536);
		adapter_config_free(&back);
		adapter_config_free(&c);
	}
	char *text = file_read_all(p, NULL);
	CHECK_CONTAINS(text, "\"lora_alpha\":\t123456.78901234567,");
	CHECK_CONTAINS(text, "\"lora_dropout\":\t0.6666666666666666,");
	free(text);
	adapter_config_init(&c, 4, 16);
	c.lora_dropout = 0.05;
	CHECK_INT(adapter_config_set_list(&c, list, 1), 0);
	CHECK_INT(adapter_config_save(&c, p), 0);
	text = file_read_all(p, NULL);
	CHECK_CONTAINS(text, "\"lora_alpha\":\t16,");     /* the shortest form when it is exact */
	CHECK_CONTAINS(text, "\"lora_dropout\":\t0.05,");
	free(text);
	adapter_config_free(&c);
	/* names echoed in messages are escaped (part and kind of a module name too) */
	ModelConfig m = tiny_model();
	int in, out;
	CHECK_INT(adapter_module_dims(&m, "model.layers.0.self\nattn.q\rproj", &in, &out), -1);
	CHECK_CONTAINS(err_msg(), "module model.layers.0.self\\nattn.q\\rproj: self\\nattn.q\\rproj is "
		       "not a LoRA-able linear layer");
	Adapter ad = {0};
	adapter_config_init(&ad.cfg, 4, 8);
	CHECK(adapter_add(&ad, "a\nb", 0, 1) == NULL);
	CHECK_CONTAINS(err_msg(), "adapter: module a\\nb: in 0, out 1");
	adapter_free(&ad);
	unlink(p);
	free(p);
}

/* A folder with the given config text and tensors (name, dims (r_or_out, in_or_r)). */
typedef struct { const char *name; int64_t d0, d1; } Tdesc;

static char *make_folder(const char *name, const char *config, const Tdesc *ts, int n)
{
	char *dir = path_join(tdir, name);
	CHECK_INT(mkdir_p(dir), 0);
	char *cp = path_join(dir, "adapter_config.json");
	if (config)
		CHECK_INT(file_write_atomic(cp, config, strlen(config)), 0);
	static float zeros[4096];
	StWriter *w = st_writer_new();
	for (int i = 0; i < n; i++) {
		int64_t sh[2] = {ts[i].d0, ts[i].d1};
		CHECK_INT(st_writer_add(w, ts[i].name, ST_F32, zeros, ts[i].d1 ? 2 : 1, sh), 0);
	}
	char *wp = path_join(dir, "adapter_model.safetensors");
	if (n >= 0)
		CHECK_INT(st_writer_save(w, wp), 0);
	st_writer_free(w);
	free(wp), free(cp);
	return dir;
}

#define CFG(extra) "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"]" extra "}"
/* CFG without lora_alpha (PEFT's default 8 applies), for configs that set their own */
#define CFG_NA(extra) "{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":[\"q_proj\"]" extra "}"
#define QA "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
#define QB "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"

#define BAD_FOLDER(config, ts, n, want) do { \
	char *d_ = make_folder("bad", config, ts, n); \
	Adapter ad_; \
	CHECK_INT(adapter_load(&ad_, d_), -1); \
	CHECK_CONTAINS(err_msg(), want); \
	CHECK(strchr(err_msg(), '\n') == NULL); \
	CHECK(ad_.n_mods == 0 && ad_.mods == NULL && ad_.cfg.targets == NULL); \
	char *rm_ = xasprintf("rm -rf %s", d_); \
	CHECK_INT(system(rm_), 0); \
	free(rm_), free(d_); \
} while (0)

static void test_errors(void)
{
	const Tdesc good[] = {{QA, 4, 16}, {QB, 16, 4}};
	/* a good folder first, so each bad one below differs by one thing */
	char *d = make_folder("good", CFG(""), good, 2);
	Adapter a;
	CHECK_INT(adapter_load(&a, d), 0);
	CHECK_INT(a.n_mods, 1);
	CHECK_CLOSE(a.cfg.lora_dropout, 0, 0, 0);
	CHECK(a.cfg.base_model == NULL);
	adapter_free(&a);
	free(d);

	BAD_FOLDER(NULL, good, 2, "bad/adapter_config.json: cannot open");
	BAD_FOLDER(CFG(""), good, -1, "bad/adapter_model.safetensors: cannot open");
	BAD_FOLDER("{\"peft_type\":", good, 2, "adapter_config.json: not valid JSON");
	BAD_FOLDER("[]", good, 2, "adapter_config.json: not a JSON object");
	BAD_FOLDER("{\"peft_type\":\"PREFIX_TUNING\",\"r\":4}", good, 2,
		   "peft_type is \"PREFIX_TUNING\"; only LORA adapters are supported");
	BAD_FOLDER("{\"r\":4}", good, 2, "peft_type is missing or not a string");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"target_modules\":[\"q_proj\"]}", good, 2,
		   "adapter_config.json: r is missing or not an integer");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":0,\"target_modules\":[\"q_proj\"]}", good, 2,
		   "adapter_config.json: r 0 is outside [1, 65536]");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":2.5,\"target_modules\":[\"q_proj\"]}", good, 2,
		   "r is missing or not an integer");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":65537,\"target_modules\":[\"q_proj\"]}", good, 2,
		   "r 65537 is outside [1, 65536]");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":1e309,\"target_modules\":[\"q_proj\"]}", good, 2,
		   "r inf is outside [1, 65536]");
	/* alpha and dropout: finite (cJSON reads 1e309 as infinity) and in range */
	BAD_FOLDER(CFG_NA(",\"lora_alpha\":1e309"), good, 2,
		   "adapter_config.json: lora_alpha is not a finite number (inf)");
	BAD_FOLDER(CFG_NA(",\"lora_alpha\":-1e309"), good, 2, "lora_alpha is not a finite number (-inf)");
	BAD_FOLDER(CFG_NA(",\"lora_alpha\":0"), good, 2,
		   "adapter_config.json: lora_alpha 0 is outside (0, 1e+06]");
	BAD_FOLDER(CFG_NA(",\"lora_alpha\":-8"), good, 2, "lora_alpha -8 is outside (0, 1e+06]");
	BAD_FOLDER(CFG_NA(",\"lora_alpha\":1000000.5"), good, 2, "lora_alpha 1000000.5 is outside (0, 1e+06]");
	BAD_FOLDER(CFG_NA(",\"lora_alpha\":1.7976931348623157e308"), good, 2,
		   "lora_alpha 1.79769313486232e+308 is outside (0, 1e+06]");
	BAD_FOLDER(CFG(",\"lora_dropout\":1e309"), good, 2, "lora_dropout is not a finite number (inf)");
	BAD_FOLDER(CFG(",\"lora_dropout\":-0.1"), good, 2, "lora_dropout -0.1 is outside [0, 1)");
	BAD_FOLDER(CFG(",\"lora_dropout\":1"), good, 2, "lora_dropout 1 is outside [0, 1)");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":\"8\",\"target_modules\":\"q\"}",
		   good, 2, "lora_alpha is not a number");
	BAD_FOLDER(CFG(",\"r\":8"), good, 2, "adapter_config.json: key \"r\" appears twice");
	BAD_FOLDER(CFG(",\"lora_dropout\":1.5"), good, 2, "lora_dropout 1.5 is outside [0, 1)");
	BAD_FOLDER(CFG(",\"bias\":\"all\""), good, 2, "bias must be \"none\"");
	BAD_FOLDER(CFG(",\"task_type\":\"SEQ_CLS\""), good, 2, "task_type must be \"CAUSAL_LM\"");
	BAD_FOLDER(CFG(",\"use_rslora\":1"), good, 2, "use_rslora is not true or false");
	BAD_FOLDER(CFG(",\"use_dora\":true"), good, 2, "use_dora is set");
	BAD_FOLDER(CFG(",\"fan_in_fan_out\":true"), good, 2, "fan_in_fan_out is set");
	BAD_FOLDER(CFG(",\"rank_pattern\":{\"q_proj\":8}"), good, 2, "rank_pattern is set");
	BAD_FOLDER(CFG(",\"layers_to_transform\":[0]"), good, 2, "layers_to_transform is set");
	BAD_FOLDER(CFG(",\"modules_to_save\":[\"lm_head\"]"), good, 2, "modules_to_save is set");
	BAD_FOLDER(CFG(",\"base_model_name_or_path\":3"), good, 2,
		   "base_model_name_or_path is not a string");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":4}", good, 2, "target_modules is missing");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":[]}", good, 2,
		   "target_modules is neither a non-empty list nor a regex string");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":[\"q_proj\",7]}", good, 2,
		   "target_modules entry 1 is not a non-empty string");
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":\"[q\"}", good, 2,
		   "adapter_config.json: adapter config: target_modules regex \"[q\" does not compile");
	/* strings from the files are escaped, so each message stays one line (BAD_FOLDER checks) */
	BAD_FOLDER("{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":\"[q\\n\"}", good, 2,
		   "target_modules regex \"[q\\n\" does not compile");
	BAD_FOLDER("{\"peft_type\":\"LO\\nRA\\u0007\",\"r\":4}", good, 2,
		   "peft_type is \"LO\\nRA\\x07\"; only LORA");
	BAD_FOLDER(CFG(",\"x\\r\\n\":1,\"x\\r\\n\":2"), good, 2, "key \"x\\r\\n\" appears twice");
	/* tensors */
	const Tdesc r8[] = {{QA, 8, 16}, {QB, 16, 8}};
	BAD_FOLDER(CFG(""), r8, 2, "tensor " QA ": shape (8, 16) is not (r=4, in)");
	const Tdesc rb[] = {{QA, 4, 16}, {QB, 16, 2}};
	BAD_FOLDER(CFG(""), rb, 2, "tensor " QB ": shape (16, 2) is not (out, r=4)");
	const Tdesc a1[] = {{QA, 64, 0}, {QB, 16, 4}};
	BAD_FOLDER(CFG(""), a1, 2, "shape (64) is not (r=4, in)");
	BAD_FOLDER(CFG(""), good, 1, "module model.layers.0.self_attn.q_proj: lora_A.weight without "
		   "lora_B.weight");
	BAD_FOLDER(CFG(""), good + 1, 1, "module model.layers.0.self_attn.q_proj: lora_B.weight "
		   "without lora_A.weight");
	const Tdesc plain[] = {{QA, 4, 16}, {QB, 16, 4},
			       {"base_model.model.model.layers.0.self_attn.q_proj.weight", 16, 16}};
	BAD_FOLDER(CFG(""), plain, 3, "tensor base_model.model.model.layers.0.self_attn.q_proj.weight: "
		   "unexpected key");
	const Tdesc named[] = {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", 4, 16}};
	BAD_FOLDER(CFG(""), named, 1, "unexpected key");
	const Tdesc bare[] = {{"model.layers.0.self_attn.q_proj.lora_A.weight", 4, 16}};
	BAD_FOLDER(CFG(""), bare, 1, "unexpected key");
	const Tdesc kproj[] = {{QA, 4, 16}, {QB, 16, 4},
			       {"base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", 4, 16},
			       {"base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight", 8, 4}};
	BAD_FOLDER(CFG(""), kproj, 4, "module model.layers.0.self_attn.k_proj is not matched by "
		   "target_modules");
	BAD_FOLDER(CFG(""), good, 0, "adapter_model.safetensors: no lora_A/lora_B tensors");
	const Tdesc nl[] = {{"base_model.model.x\n.weight", 4, 16}};
	BAD_FOLDER(CFG(""), nl, 1, "tensor base_model.model.x\\n.weight: unexpected key");
	const Tdesc nlmod[] = {{QA, 4, 16}, {QB, 16, 4},
			       {"base_model.model.model.layers.0.k\nproj.lora_A.weight", 4, 16}};
	BAD_FOLDER(CFG(""), nlmod, 3, "module model.layers.0.k\\nproj is not matched by target_modules");

	/* integer tensors cannot be LoRA weights */
	d = make_folder("ints", CFG(""), NULL, 0);
	char *w = path_join(d, "adapter_model.safetensors");
	char hdr[512];
	int hl = snprintf(hdr, sizeof hdr, "{\"" QA "\":{\"dtype\":\"I32\",\"shape\":[4,1],"
			  "\"data_offsets\":[0,16]},\"" QB "\":{\"dtype\":\"I32\",\"shape\":[1,4],"
			  "\"data_offsets\":[16,32]}}");
	unsigned char buf[600] = {0};
	uint64_t h64 = (uint64_t)hl;
	memcpy(buf, &h64, 8);
	memcpy(buf + 8, hdr, (size_t)hl);
	CHECK_INT(file_write_atomic(w, buf, 8 + (size_t)hl + 32), 0);
	CHECK_INT(adapter_load(&a, d), -1);
	CHECK_CONTAINS(err_msg(), "adapter_model.safetensors: tensor " QA ": dtype I32 cannot be read as f32");
	/* a pickle-only folder */
	unlink(w);
	char *bin = path_join(d, "adapter_model.bin");
	CHECK_INT(file_write_atomic(bin, "PK", 2), 0);
	CHECK_INT(adapter_load(&a, d), -1);
	CHECK_CONTAINS(err_msg(), "only adapter_model.bin (a pickle) is present");
	free(bin), free(w), free(d);

	/* a config as PEFT 0.10 writes it (every field it saves) */
	d = make_folder("peft010", "{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n"
			"  \"base_model_name_or_path\": \"meta-llama/Llama-2-7b-hf\",\n  \"bias\": \"none\",\n"
			"  \"fan_in_fan_out\": false,\n  \"inference_mode\": true,\n"
			"  \"init_lora_weights\": true,\n  \"layer_replication\": null,\n"
			"  \"layers_pattern\": null,\n  \"layers_to_transform\": null,\n"
			"  \"loftq_config\": {},\n  \"lora_alpha\": 16,\n  \"lora_dropout\": 0.05,\n"
			"  \"megatron_config\": null,\n  \"megatron_core\": \"megatron.core\",\n"
			"  \"modules_to_save\": null,\n  \"peft_type\": \"LORA\",\n  \"r\": 4,\n"
			"  \"rank_pattern\": {},\n  \"revision\": null,\n"
			"  \"target_modules\": [\n    \"v_proj\",\n    \"q_proj\"\n  ],\n"
			"  \"task_type\": \"CAUSAL_LM\",\n  \"use_dora\": false,\n  \"use_rslora\": false\n}\n",
			good, 2);
	CHECK_INT(adapter_load(&a, d), 0);
	CHECK_STR(a.cfg.base_model, "meta-llama/Llama-2-7b-hf");
	CHECK_CLOSE(adapter_scaling(&a.cfg), 4.0, 0, 0);
	CHECK_CLOSE(a.cfg.lora_dropout, 0.05, 0, 0);
	CHECK(a.n_mods == 1 && a.mods[0].in == 16 && a.mods[0].out == 16 && a.mods[0].layer == 0);
	adapter_free(&a);
	free(d);
	BAD_FOLDER(CFG(",\"layer_replication\":[[0,2]]"), good, 2, "layer_replication is set");

	/* all-linear and regex configs load */
	d = make_folder("alllinear", "{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":\"all-linear\","
			"\"task_type\":null,\"rank_pattern\":{},\"use_dora\":false}", good, 2);
	CHECK_INT(adapter_load(&a, d), 0);
	CHECK_INT(a.cfg.n_targets, 7);
	CHECK(adapter_targets(&a.cfg, "model.layers.5.mlp.down_proj"));
	CHECK(!adapter_targets(&a.cfg, "lm_head"));
	CHECK_CLOSE(adapter_scaling(&a.cfg), 2.0, 0, 0);   /* PEFT's default lora_alpha 8 */
	adapter_free(&a);
	free(d);
}

int main(void)
{
	if (!mkdtemp(tdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_targets();
	test_roundtrip();
	test_config_save();
	test_errors();
	char *cmd = xasprintf("rm -rf %s", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tdir);
	free(cmd);
	return test_summary();
}
