/* test_hfconfig.c: config.json reader and writer: real-world configs (transformers 4 and 5
 * conventions) read to the right values, a malformed file for every validation rule (the error
 * names the file and the field), and write -> read round trips. */
#include "harness.h"
#include "hfconfig.h"
#include "rng.h"
#include "util.h"

#include <cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#define FIX "tests/fixtures/config/"

static char tmpdir[] = "/tmp/asft-hfconfig-XXXXXX";

static char *write_tmp(const char *name, const char *text)
{
	char *p = path_join(tmpdir, name);
	if (file_write_atomic(p, text, strlen(text)) != 0)
		fprintf(stderr, "cannot write %s: %s\n", p, err_msg());
	return p;
}

static void test_llama2(void)
{
	ModelConfig c;
	CHECK_INT(config_load(&c, FIX "llama2-7b.json"), 0);
	CHECK_INT(c.arch, ARCH_LLAMA);
	CHECK_INT(c.hidden_size, 4096);
	CHECK_INT(c.intermediate_size, 11008);
	CHECK_INT(c.num_hidden_layers, 32);
	CHECK_INT(c.num_attention_heads, 32);
	CHECK_INT(c.num_key_value_heads, 32);
	CHECK_INT(c.head_dim, 128);
	CHECK_INT(c.vocab_size, 32000);
	CHECK_INT(c.max_position_embeddings, 4096);
	CHECK_CLOSE(c.rms_norm_eps, 1e-5, 0, 0);
	CHECK_CLOSE(c.rope_theta, 10000.0, 0, 0);   /* absent: LlamaConfig default */
	CHECK_INT(c.tie_word_embeddings, 0);
	CHECK_INT(c.attention_bias, 0);
	CHECK_INT(c.qkv_bias, 0);
	CHECK_INT(c.sliding_window, 0);
	CHECK_INT(c.bos_token_id, 1);
	CHECK_INT(c.n_eos, 1);
	CHECK_INT(c.eos_token_ids[0], 2);
	CHECK_STR(c.torch_dtype, "float16");
}

static void test_mistral_qwen2(void)
{
	ModelConfig c;
	CHECK_INT(config_load(&c, FIX "mistral-7b.json"), 0);
	CHECK_INT(c.arch, ARCH_MISTRAL);
	CHECK_INT(c.num_key_value_heads, 8);
	CHECK_INT(c.head_dim, 128);
	CHECK_INT(c.intermediate_size, 14336);
	CHECK_INT(c.sliding_window, 4096);
	CHECK_INT(c.max_position_embeddings, 32768);
	CHECK_STR(c.torch_dtype, "bfloat16");

	CHECK_INT(config_load(&c, FIX "qwen2-0.5b.json"), 0);
	CHECK_INT(c.arch, ARCH_QWEN2);
	CHECK_INT(c.hidden_size, 896);
	CHECK_INT(c.num_attention_heads, 14);
	CHECK_INT(c.num_key_value_heads, 2);
	CHECK_INT(c.head_dim, 64);
	CHECK_INT(c.qkv_bias, 1);
	CHECK_INT(c.attention_bias, 0);
	CHECK_INT(c.tie_word_embeddings, 1);
	CHECK_INT(c.sliding_window, 0);             /* use_sliding_window false */
	CHECK_CLOSE(c.rope_theta, 1e6, 0, 0);
	CHECK_CLOSE(c.rms_norm_eps, 1e-6, 0, 0);
	CHECK_INT(c.bos_token_id, 151643);
	CHECK_INT(c.n_eos, 1);
	CHECK_INT(c.eos_token_ids[0], 151645);
	CHECK_INT(c.vocab_size, 151936);
}

static void test_tf5_and_defaults(void)
{
	ModelConfig c;
	CHECK_INT(config_load(&c, FIX "llama-tf5.json"), 0);
	CHECK_CLOSE(c.rope_theta, 500000.0, 0, 0);  /* from rope_parameters */
	CHECK_STR(c.torch_dtype, "bfloat16");       /* from "dtype" */
	CHECK_INT(c.n_eos, 3);
	CHECK_INT(c.eos_token_ids[0], 128001);
	CHECK_INT(c.eos_token_ids[2], 128009);
	CHECK_INT(c.head_dim, 64);
	CHECK_INT(c.num_key_value_heads, 8);
	CHECK_INT(c.tie_word_embeddings, 1);
	CHECK_INT(c.bos_token_id, 128000);

	/* model_type only; nulls and absent keys take MistralConfig's defaults */
	CHECK_INT(config_load(&c, FIX "modeltype-only.json"), 0);
	CHECK_INT(c.arch, ARCH_MISTRAL);
	CHECK_INT(c.num_key_value_heads, 4);
	CHECK_INT(c.head_dim, 16);
	CHECK_INT(c.max_position_embeddings, 4096 * 32);
	CHECK_INT(c.sliding_window, 4096);
	CHECK_INT(c.bos_token_id, -1);
	CHECK_INT(c.n_eos, 0);
	CHECK_CLOSE(c.rope_theta, 10000.0, 0, 0);
	CHECK_CLOSE(c.rms_norm_eps, 1e-6, 0, 0);
	CHECK_STR(c.torch_dtype, "");
	CHECK_INT(c.tie_word_embeddings, 0);

	CHECK_INT(config_load_dir(&c, "tests/fixtures/config/no-such-dir"), -1);
	CHECK_CONTAINS(err_msg(), "no-such-dir/config.json: cannot open");
}

#define SIZES "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, " \
	"\"num_attention_heads\": 4, \"vocab_size\": 100"
#define LLAMA "{\"architectures\": [\"LlamaForCausalLM\"], " SIZES
#define MISTRAL "{\"architectures\": [\"MistralForCausalLM\"], " SIZES
#define QWEN2 "{\"architectures\": [\"Qwen2ForCausalLM\"], " SIZES

/* Accepted variants: each parses, and the named value comes out. */
static void test_accepted_variants(void)
{
	ModelConfig c;
	const char *t1 = LLAMA ", \"rope_scaling\": {\"rope_type\": \"default\"}, \"rope_theta\": 5e5}";
	CHECK_INT(config_parse(&c, t1, strlen(t1), "t1"), 0);
	CHECK_CLOSE(c.rope_theta, 5e5, 0, 0);
	const char *t2 = LLAMA ", \"rope_scaling\": {\"type\": \"default\"}, \"rope_theta\": 100.0, "
		"\"rope_parameters\": {\"rope_theta\": 100, \"rope_type\": \"default\"}}";
	CHECK_INT(config_parse(&c, t2, strlen(t2), "t2"), 0);
	CHECK_CLOSE(c.rope_theta, 100.0, 0, 0);
	const char *t3 = QWEN2 ", \"use_sliding_window\": true, \"sliding_window\": 256}";
	CHECK_INT(config_parse(&c, t3, strlen(t3), "t3"), 0);
	CHECK_INT(c.sliding_window, 256);
	CHECK_INT(c.qkv_bias, 1);
	const char *t4 = MISTRAL ", \"sliding_window\": null, \"torch_dtype\": \"float32\"}";
	CHECK_INT(config_parse(&c, t4, strlen(t4), "t4"), 0);
	CHECK_INT(c.sliding_window, 0);
	const char *t5 = LLAMA ", \"attention_bias\": true, \"eos_token_id\": [7], \"bos_token_id\": null, "
		"\"hidden_size\": 64.0}";
	/* 64.0 is an integer value; but hidden_size twice is a duplicate */
	CHECK_INT(config_parse(&c, t5, strlen(t5), "t5"), -1);
	CHECK_CONTAINS(err_msg(), "field \"hidden_size\": appears more than once");
	const char *t6 = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64.0, "
		"\"intermediate_size\": 1.28e2, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
		"\"vocab_size\": 100, \"attention_bias\": true, \"eos_token_id\": [7], "
		"\"bos_token_id\": null, \"architectures_extra\": 1}";
	CHECK_INT(config_parse(&c, t6, strlen(t6), "t6"), 0);
	CHECK_INT(c.hidden_size, 64);
	CHECK_INT(c.intermediate_size, 128);
	CHECK_INT(c.attention_bias, 1);
	CHECK_INT(c.n_eos, 1);
	CHECK_INT(c.eos_token_ids[0], 7);
	CHECK_INT(c.bos_token_id, -1);
	const char *t7 = "{\"architectures\": [], \"model_type\": \"qwen2\", " SIZES "}";
	CHECK_INT(config_parse(&c, t7, strlen(t7), "t7"), 0);
	CHECK_INT(c.arch, ARCH_QWEN2);
	const char *t8 = "\xef\xbb\xbf" LLAMA "}";   /* cJSON skips a UTF-8 BOM; so do we */
	CHECK_INT(config_parse(&c, t8, strlen(t8), "t8"), 0);
	CHECK_INT(c.hidden_size, 64);
}

/* One malformed config per validation rule: the error names the file, the field and the fact. */
static void test_malformed(void)
{
	static const struct {
		const char *text, *field, *fact;
	} bad[] = {
		{ "{\"hidden_size\": 1,\n \"x\": }", ":2:", "not valid JSON" },
		{ "", ":1:", "not valid JSON" },
		{ "[1, 2]", "config", "expected a JSON object, got a list" },
		{ "{} x", ":1:", "text after the JSON object" },
		{ "{\"model_type\": \"ll\xff\"}", ":1:", "invalid UTF-8 at byte offset 18" },
		{ LLAMA ", \"hidden_size\": 32}", "\"hidden_size\"", "appears more than once" },
		{ "{\"architectures\": [\"GPT2LMHeadModel\"], " SIZES "}", "\"architectures\"",
		  "unsupported architecture \"GPT2LMHeadModel\"" },
		{ "{\"architectures\": \"LlamaForCausalLM\", " SIZES "}", "\"architectures\"",
		  "expected a list of strings, got a string" },
		{ "{\"architectures\": [3], " SIZES "}", "\"architectures\"", "holding a number" },
		{ "{\"architectures\": [\"LlamaForCausalLM\", \"Qwen2ForCausalLM\"], " SIZES "}",
		  "\"architectures\"", "lists 2 architectures" },
		{ "{\"model_type\": \"gpt2\", " SIZES "}", "\"model_type\"", "unsupported model type \"gpt2\"" },
		{ "{\"model_type\": 3, " SIZES "}", "\"model_type\"", "expected a string, got a number" },
		{ LLAMA ", \"model_type\": \"qwen2\"}", "\"model_type\"", "does not match architectures" },
		{ "{" SIZES "}", "\"architectures\"", "missing, and no \"model_type\"" },
		{ "{\"model_type\": \"llama\", \"intermediate_size\": 128, \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"vocab_size\": 100}", "\"hidden_size\"", "missing (required)" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, "
		  "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": null}",
		  "\"vocab_size\"", "missing (required)" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": \"64\", \"intermediate_size\": 128, "
		  "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100}",
		  "\"hidden_size\"", "expected an integer, got a string" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": 64.5, \"intermediate_size\": 128, "
		  "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100}",
		  "\"hidden_size\"", "expected an integer, got 64.5" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, "
		  "\"num_hidden_layers\": -2, \"num_attention_heads\": 4, \"vocab_size\": 100}",
		  "\"num_hidden_layers\"", "must be positive, got -2" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, "
		  "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 1e12}",
		  "\"vocab_size\"", "out of range" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 0, "
		  "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100}",
		  "\"intermediate_size\"", "must be positive, got 0" },
		{ "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, "
		  "\"num_hidden_layers\": 2, \"num_attention_heads\": 5, \"vocab_size\": 100}",
		  "\"num_attention_heads\"", "5 does not divide hidden_size 64" },
		{ LLAMA ", \"num_key_value_heads\": 3}", "\"num_key_value_heads\"",
		  "3 does not divide num_attention_heads 4" },
		{ LLAMA ", \"num_key_value_heads\": 8}", "\"num_key_value_heads\"", "8 exceeds" },
		{ LLAMA ", \"num_key_value_heads\": 0}", "\"num_key_value_heads\"", "must be positive" },
		{ LLAMA ", \"head_dim\": 15}", "\"head_dim\"", "15 is odd" },
		{ LLAMA ", \"head_dim\": true}", "\"head_dim\"", "expected an integer, got a boolean" },
		{ LLAMA ", \"max_position_embeddings\": -1}", "\"max_position_embeddings\"", "must be positive" },
		{ LLAMA ", \"rms_norm_eps\": \"1e-6\"}", "\"rms_norm_eps\"", "expected a number, got a string" },
		{ LLAMA ", \"rms_norm_eps\": -1e-6}", "\"rms_norm_eps\"", "must be a positive finite number" },
		{ LLAMA ", \"rope_theta\": 0}", "\"rope_theta\"", "must be a positive finite number" },
		{ LLAMA ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}", "\"rope_scaling\"",
		  "rope_type \"linear\" is not supported" },
		{ LLAMA ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}}",
		  "\"rope_scaling\"", "rope_type \"llama3\" is not supported" },
		{ LLAMA ", \"rope_scaling\": {\"factor\": 8.0}}", "\"rope_scaling\"", "has no rope_type" },
		{ LLAMA ", \"rope_scaling\": \"yes\"}", "\"rope_scaling\"", "expected null or an object" },
		{ LLAMA ", \"rope_scaling\": {\"rope_type\": 1}}", "\"rope_scaling.rope_type\"",
		  "expected a string, got a number" },
		{ LLAMA ", \"rope_parameters\": {\"rope_theta\": 1e4, \"rope_type\": \"yarn\"}}",
		  "\"rope_parameters\"", "rope_type \"yarn\" is not supported" },
		{ LLAMA ", \"rope_parameters\": [1]}", "\"rope_parameters\"", "expected an object, got a list" },
		{ LLAMA ", \"rope_parameters\": {\"rope_theta\": \"big\", \"rope_type\": \"default\"}}",
		  "\"rope_parameters.rope_theta\"", "expected a number, got a string" },
		{ LLAMA ", \"rope_theta\": 1e4, \"rope_parameters\": {\"rope_theta\": 5e5, \"rope_type\": \"default\"}}",
		  "\"rope_parameters.rope_theta\"", "disagrees with rope_theta" },
		{ LLAMA ", \"hidden_act\": \"gelu\"}", "\"hidden_act\"", "\"gelu\" is not supported" },
		{ LLAMA ", \"mlp_bias\": true}", "\"mlp_bias\"", "true is not supported" },
		{ LLAMA ", \"attention_bias\": \"no\"}", "\"attention_bias\"", "expected true or false, got a string" },
		{ MISTRAL ", \"attention_bias\": true}", "\"attention_bias\"", "not supported for MistralForCausalLM" },
		{ LLAMA ", \"tie_word_embeddings\": 1}", "\"tie_word_embeddings\"", "expected true or false, got a number" },
		{ LLAMA ", \"eos_token_id\": [1,2,3,4,5,6,7,8,9]}", "\"eos_token_id\"", "9 ids, at most 8" },
		{ LLAMA ", \"eos_token_id\": [1, \"2\"]}", "\"eos_token_id[1]\"", "expected an integer, got a string" },
		{ LLAMA ", \"eos_token_id\": \"2\"}", "\"eos_token_id\"", "expected an integer or a list" },
		{ LLAMA ", \"eos_token_id\": 100}", "\"eos_token_id\"", "100 is outside the vocabulary" },
		{ LLAMA ", \"bos_token_id\": 100}", "\"bos_token_id\"", "100 is outside the vocabulary" },
		{ LLAMA ", \"bos_token_id\": -1}", "\"bos_token_id\"", "must not be negative" },
		{ LLAMA ", \"torch_dtype\": \"float32-with-a-long-name\"}", "\"torch_dtype\"", "too long" },
		{ LLAMA ", \"dtype\": 16}", "\"dtype\"", "expected a string" },
		{ LLAMA ", \"quantization_config\": {\"bits\": 4}}", "\"quantization_config\"", "quantized" },
		{ MISTRAL ", \"sliding_window\": -5}", "\"sliding_window\"", "must not be negative" },
		{ QWEN2 ", \"use_sliding_window\": \"true\"}", "\"use_sliding_window\"", "expected true or false" },
		/* strings from the file are escaped: every message here is one line (checked below) */
		{ "{\"architectures\": [\"Llama\\nForCausalLM\\u0000x\"], " SIZES "}", "\"architectures\"",
		  "unsupported architecture \"Llama\\nForCausalLM\"" },
		{ "{\"model_type\": \"ll7{}\\n\\n\\r\", " SIZES "}", "\"model_type\"",
		  "unsupported model type \"ll7{}\\n\\n\\r\"" },
		{ LLAMA ", \"model_type\": \"q\\u001b[2J\"}", "\"model_type\"",
		  "\"q\\x1b[2J\" does not match architectures \"LlamaForCausalLM\"" },
		{ "{\"architectures\": [\"Qwen2\\t\"], \"model_type\": \"qwen2\", " SIZES "}",
		  "\"architectures\"", "unsupported architecture \"Qwen2\\t\"" },
		{ LLAMA ", \"a\\nb\": 1, \"a\\nb\": 2}", "\"a\\nb\"", "appears more than once" },
		{ LLAMA ", \"rope_scaling\": {\"rope_type\": \"yarn\\n\"}}", "\"rope_scaling\"",
		  "rope_type \"yarn\\n\" is not supported" },
		{ LLAMA ", \"hidden_act\": \"gelu\\r\\n\"}", "\"hidden_act\"", "\"gelu\\r\\n\" is not supported" },
		{ LLAMA ", \"torch_dtype\": \"float32\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\"}",
		  "\"torch_dtype\"", "\"float32\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n...\" is too long" },
		{ "{\"x\": 1,\n \"y\": 2 \x01z\x02\r\n}", ":2:", "not valid JSON near 'z\\x02\\r'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "bad%02zu-config.json", i);
		char *p = write_tmp(name, bad[i].text);
		ModelConfig c;
		err_clear();
		int rc = config_load(&c, p);
		if (!harness_report(rc == -1, __FILE__, __LINE__, "malformed config rejected"))
			fprintf(stderr, "     case %zu: %s\n", i, bad[i].text);
		CHECK_CONTAINS(err_msg(), p);
		CHECK_CONTAINS(err_msg(), bad[i].field);
		CHECK_CONTAINS(err_msg(), bad[i].fact);
		CHECK(strchr(err_msg(), '\n') == NULL);
		unlink(p);
		free(p);
	}
	ModelConfig c;
	CHECK_INT(config_load(&c, "/nonexistent/config.json"), -1);
	CHECK_CONTAINS(err_msg(), "/nonexistent/config.json: cannot open");
}

static void check_same(const ModelConfig *a, const ModelConfig *b)
{
	CHECK_INT(a->arch, b->arch);
	CHECK_INT(a->hidden_size, b->hidden_size);
	CHECK_INT(a->intermediate_size, b->intermediate_size);
	CHECK_INT(a->num_hidden_layers, b->num_hidden_layers);
	CHECK_INT(a->num_attention_heads, b->num_attention_heads);
	CHECK_INT(a->num_key_value_heads, b->num_key_value_heads);
	CHECK_INT(a->head_dim, b->head_dim);
	CHECK_INT(a->vocab_size, b->vocab_size);
	CHECK_INT(a->max_position_embeddings, b->max_position_embeddings);
	CHECK(a->rms_norm_eps == b->rms_norm_eps);  /* bit-exact: shortest round-trip text */
	CHECK(a->rope_theta == b->rope_theta);
	CHECK_INT(a->tie_word_embeddings, b->tie_word_embeddings);
	CHECK_INT(a->attention_bias, b->attention_bias);
	CHECK_INT(a->qkv_bias, b->qkv_bias);
	CHECK_INT(a->sliding_window, b->sliding_window);
	CHECK_INT(a->bos_token_id, b->bos_token_id);
	CHECK_INT(a->n_eos, b->n_eos);
	for (int i = 0; i < a->n_eos && i < CONFIG_MAX_EOS; i++)
		CHECK_INT(a->eos_token_ids[i], b->eos_token_ids[i]);
	CHECK_STR(a->torch_dtype, b->torch_dtype);
}

/* keys in sorted order, as transformers writes them, and valid JSON */
static void check_sorted_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	CHECK(j && cJSON_IsObject(j));
	int sorted = 1;
	for (const cJSON *c = j ? j->child : NULL; c && c->next; c = c->next)
		sorted &= strcmp(c->string, c->next->string) < 0;
	CHECK(sorted);
	cJSON_Delete(j);
}

static void test_roundtrip(void)
{
	const char *fx[] = { FIX "llama2-7b.json", FIX "mistral-7b.json", FIX "qwen2-0.5b.json",
			     FIX "llama-tf5.json", FIX "modeltype-only.json" };
	for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
		ModelConfig a, b;
		CHECK_INT(config_load(&a, fx[i]), 0);
		if (!a.torch_dtype[0])
			strcpy(a.torch_dtype, "float32");
		CHECK_INT(config_save_dir(&a, tmpdir), 0);
		CHECK_INT(config_load_dir(&b, tmpdir), 0);
		check_same(&a, &b);
		char *text = config_to_json(&a);
		check_sorted_json(text);
		free(text);
	}

	/* a config built in code, as the organism presets do */
	ModelConfig c, d;
	char why[200];
	config_default(&c);
	CHECK_INT(config_validate(&c, why, sizeof why), -1);
	CHECK_CONTAINS(why, "field \"hidden_size\": must be positive, got 0");
	CHECK_INT(config_validate(&c, NULL, 0), -1);
	c.arch = ARCH_QWEN2;
	c.hidden_size = 48, c.intermediate_size = 96, c.num_hidden_layers = 3;
	c.num_attention_heads = 6, c.num_key_value_heads = 2, c.head_dim = 8;
	c.vocab_size = 300, c.max_position_embeddings = 256, c.tie_word_embeddings = 1;
	c.qkv_bias = 1, c.bos_token_id = 1, c.n_eos = 2, c.eos_token_ids[0] = 2, c.eos_token_ids[1] = 3;
	c.rms_norm_eps = 1.0 / 3.0;     /* needs 17 digits */
	CHECK_INT(config_validate(&c, why, sizeof why), 0);
	char *path = path_join(tmpdir, "built.json");
	CHECK_INT(config_save(&c, path), 0);
	CHECK_INT(config_load(&d, path), 0);
	check_same(&c, &d);
	char *text = file_read_all(path, NULL);
	CHECK_CONTAINS(text, "\"rope_theta\": 10000.0,");
	CHECK_CONTAINS(text, "\"torch_dtype\": \"float32\",");
	CHECK_CONTAINS(text, "\"architectures\": [\n    \"Qwen2ForCausalLM\"\n  ],");
	CHECK_CONTAINS(text, "\"model_type\": \"qwen2\",");
	CHECK_CONTAINS(text, "\"eos_token_id\": [2, 3],");
	CHECK_CONTAINS(text, "\"use_sliding_window\": false,");
	CHECK_CONTAINS(text, "\"rope_scaling\": null,");
	CHECK_CONTAINS(text, "\"transformers_version\": \"" CONFIG_TRANSFORMERS_VERSION "\",");
	check_sorted_json(text);
	free(text);

	/* the writer refuses an inconsistent config and leaves nothing behind */
	c.qkv_bias = 0;
	CHECK_INT(config_validate(&c, why, sizeof why), -1);
	CHECK_CONTAINS(why, "Qwen2ForCausalLM always has q/k/v biases");
	char *path2 = path_join(tmpdir, "refused.json");
	CHECK_INT(config_save(&c, path2), -1);
	CHECK_CONTAINS(err_msg(), "refused.json: not written: field \"qkv_bias\"");
	CHECK(!path_exists(path2));
	c.qkv_bias = 1;
	c.arch = ARCH_LLAMA;
	CHECK_INT(config_validate(&c, why, sizeof why), -1);
	CHECK_CONTAINS(why, "LlamaForCausalLM has no q/k/v-only biases");
	c.qkv_bias = 0, c.attention_bias = 1;
	c.eos_token_ids[1] = 300;
	CHECK_INT(config_validate(&c, why, sizeof why), -1);
	CHECK_CONTAINS(why, "field \"eos_token_id\": 300 is outside the vocabulary");
	c.eos_token_ids[1] = 3;
	c.rope_theta = 0.0 / 0.0;
	CHECK_INT(config_validate(&c, why, sizeof why), -1);
	CHECK_CONTAINS(why, "rope_theta");
	c.rope_theta = 1e4;
	c.arch = (ModelArch)7;
	CHECK_INT(config_validate(&c, why, sizeof why), -1);
	CHECK_CONTAINS(why, "unknown ModelArch value 7");
	c.arch = ARCH_MISTRAL, c.attention_bias = 0, c.sliding_window = 64;
	CHECK_INT(config_save(&c, path), 0);
	CHECK_INT(config_load(&d, path), 0);
	check_same(&c, &d);
	CHECK_INT(config_save(&c, "/nonexistent-dir/config.json"), -1);
	CHECK_STR(config_arch_name(ARCH_MISTRAL), "MistralForCausalLM");
	CHECK_STR(config_model_type(ARCH_LLAMA), "llama");
	CHECK_STR(config_model_type((ModelArch)9), "?");
	unlink(path);
	free(path2), free(path);
	char *p = path_join(tmpdir, "config.json");
	unlink(p);
	free(p);
}

/* Python's json (what transformers' from_pretrained reads config.json with) sees the types
 * transformers expects: ints as int, floats as float, lists, null, sorted keys. */
static void test_python_types(void)
{
	ModelConfig c;
	config_default(&c);
	c.arch = ARCH_QWEN2, c.qkv_bias = 1, c.tie_word_embeddings = 1;
	c.hidden_size = 32, c.intermediate_size = 64, c.num_hidden_layers = 2;
	c.num_attention_heads = 4, c.num_key_value_heads = 2, c.head_dim = 8;
	c.vocab_size = 50, c.max_position_embeddings = 128;
	c.n_eos = 2, c.eos_token_ids[0] = 2, c.eos_token_ids[1] = 3;
	char *p = path_join(tmpdir, "py-config.json");
	CHECK_INT(config_save(&c, p), 0);
	char *cmd = xasprintf("python3 -c 'import json, sys\n"
		"d = json.load(open(sys.argv[1]))\n"
		"ints = [\"hidden_size\", \"intermediate_size\", \"num_hidden_layers\", \"num_attention_heads\",\n"
		"        \"num_key_value_heads\", \"head_dim\", \"vocab_size\", \"max_position_embeddings\"]\n"
		"ok = all(type(d[k]) is int for k in ints)\n"
		"ok &= type(d[\"rope_theta\"]) is float and d[\"rope_theta\"] == 10000.0\n"
		"ok &= type(d[\"rms_norm_eps\"]) is float and d[\"rms_norm_eps\"] == 1e-6\n"
		"ok &= d[\"architectures\"] == [\"Qwen2ForCausalLM\"] and d[\"model_type\"] == \"qwen2\"\n"
		"ok &= d[\"tie_word_embeddings\"] is True and d[\"rope_scaling\"] is None\n"
		"ok &= d[\"bos_token_id\"] is None and d[\"eos_token_id\"] == [2, 3]\n"
		"ok &= d[\"torch_dtype\"] == \"float32\" and d[\"hidden_act\"] == \"silu\"\n"
		"ok &= list(d) == sorted(d)\n"
		"sys.exit(0 if ok else 1)' %s", p);
	CHECK_INT(system(cmd), 0);
	unlink(p);
	free(cmd), free(p);
}

/* Every prefix and 3000 random mutations of each fixture: config_parse returns -1 with a
 * message naming the input, or 0 with a config that validates and survives write -> read. */
static void test_fuzz(void)
{
	const char *fx[] = { FIX "llama2-7b.json", FIX "qwen2-0.5b.json", FIX "llama-tf5.json" };
	const char alphabet[] = "\"{}[],:\\-.e0129 \nnul\xff";
	Rng rng;
	rng_init(&rng, 99, 0);
	for (size_t f = 0; f < sizeof fx / sizeof fx[0]; f++) {
		size_t n;
		char *orig = file_read_all(fx[f], &n);
		int bad = 0, ok = 0, total = 0;
		for (int it = -(int)n - 1; it < 3000; it++, total++) {
			char *buf = xmalloc(n + 4);
			size_t m = n;
			memcpy(buf, orig, n);
			if (it < 0) {
				m = (size_t)(-it - 1);     /* truncation to m bytes */
			} else {
				for (int e = 1 + (int)rng_below(&rng, 3); e > 0; e--) {
					size_t at = rng_below(&rng, (uint32_t)m);
					int op = (int)rng_below(&rng, 3);
					char ch = alphabet[rng_below(&rng, sizeof alphabet - 1)];
					if (op == 0) {
						buf[at] = ch;
					} else if (op == 1 && m < n + 4) {
						memmove(buf + at + 1, buf + at, m - at);
						buf[at] = ch;
						m++;
					} else if (m > 1) {
						memmove(buf + at, buf + at + 1, m - at - 1);
						m--;
					}
				}
			}
			char *exact = xmalloc(m);   /* ASan sees any read past the end */
			memcpy(exact, buf, m);
			ModelConfig c, d;
			int rc = config_parse(&c, exact, m, "fuzz");
			if (rc == 0) {
				ok++;
				char *text = config_to_json(&c);
				bad += config_validate(&c, NULL, 0) != 0 ||
				       config_parse(&d, text, strlen(text), "again") != 0 ||
				       d.hidden_size != c.hidden_size || d.rope_theta != c.rope_theta;
				free(text);
			} else {
				bad += !(rc == -1 && strstr(err_msg(), "fuzz"));
			}
			free(exact), free(buf);
		}
		if (!harness_report(bad == 0, __FILE__, __LINE__, "fuzzed config: -1 with a message, or a valid config"))
			fprintf(stderr, "     %s: %d bad outcomes\n", fx[f], bad);
		CHECK(ok > 0 && ok < total);
		free(orig);
	}
	ModelConfig c;
	const char nul[] = LLAMA "}\0";                   /* a NUL after the object is not space */
	CHECK_INT(config_parse(&c, nul, sizeof nul - 1, "nul"), -1);
	CHECK_CONTAINS(err_msg(), "nul:1: text after the JSON object");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_llama2();
	test_mistral_qwen2();
	test_tf5_and_defaults();
	test_accepted_variants();
	test_malformed();
	test_roundtrip();
	test_python_types();
	test_fuzz();
	rmdir(tmpdir);
	return test_summary();
}
