/* hfconfig.h: Hugging Face config.json <-> ModelConfig (kernels/config.h).
 *
 * Reads the config.json of LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM checkpoints
 * as written by transformers 4.x and 5.x, and writes one that transformers 4.x loads. Field names
 * and defaults follow transformers' LlamaConfig / MistralConfig / Qwen2Config. What the engine
 * cannot compute is rejected with one error line naming the file and the field (rope scaling,
 * MLP biases, activations other than SiLU, quantized checkpoints, unknown architectures), never
 * silently ignored. Keys the engine does not need (initializer_range, use_cache, pretraining_tp,
 * attention_dropout, ...) are ignored on read.
 *
 * Not handled here: weights (data/safetensors.h), the tokenizer, generation_config.json. */
#ifndef ASFT_HFCONFIG_H
#define ASFT_HFCONFIG_H

#include <stddef.h>

#include "config.h"

/* The transformers version string the writer records; the file uses only 4.x conventions
 * (top-level rope_theta, torch_dtype, rope_scaling null). */
#define CONFIG_TRANSFORMERS_VERSION "4.46.0"

/* config_default: every size 0 (so config_validate fails until they are set), arch LLAMA,
 * rms_norm_eps 1e-6, rope_theta 10000, no biases, untied, no sliding window, bos -1, no eos,
 * torch_dtype "float32". */
void config_default(ModelConfig *cfg);

/* config_load: parses the config.json at path into *cfg and validates it (config_validate).
 * 0 ok; -1 with err_set ("PATH: field \"NAME\": what was wrong"), *cfg then unspecified.
 * Missing optional fields take transformers' class defaults: num_key_value_heads = heads,
 * head_dim = hidden/heads, rms_norm_eps 1e-6, rope_theta 10000, tie_word_embeddings false,
 * max_position_embeddings 2048 / 131072 / 32768 (llama / mistral / qwen2); JSON null means
 * the default too. hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and
 * vocab_size are required. bos_token_id absent or null gives -1; eos_token_id may be an int,
 * a list of up to CONFIG_MAX_EOS ints, or absent/null (n_eos 0). */
int config_load(ModelConfig *cfg, const char *path);
/* config_load_dir: config_load(cfg, "dir/config.json"). */
int config_load_dir(ModelConfig *cfg, const char *dir);
/* config_parse: the same from n bytes of text in memory; name is used in error messages. */
int config_parse(ModelConfig *cfg, const char *text, size_t n, const char *name);

/* config_to_json: the config.json text config_save writes (keys sorted, 2-space indent,
 * trailing newline); caller frees. Does not validate. */
char *config_to_json(const ModelConfig *cfg);
/* config_save: validates cfg, then writes config_to_json atomically to path (temporary name
 * and rename). torch_dtype is written as cfg->torch_dtype when it is "float32", "float16" or
 * "bfloat16", else "float32": set it to the dtype of the weights written beside it.
 * 0 ok; -1 with err_set. */
int config_save(const ModelConfig *cfg, const char *path);
/* config_save_dir: config_save(cfg, "dir/config.json"); dir must exist. */
int config_save_dir(const ModelConfig *cfg, const char *dir);

/* config_validate: consistency of a filled config. 0 ok; -1 with a one-line reason naming the
 * field written to why (why may be NULL, n its size; the text is not err_set). Checks: every
 * size positive; num_key_value_heads <= num_attention_heads and divides it; head_dim even (RoPE
 * rotates halves); products that size buffers fit in an int; finite positive rms_norm_eps and
 * rope_theta; bos/eos ids inside the vocabulary; biases the architecture can express (Qwen2:
 * qkv_bias and no attention_bias; Llama: no qkv_bias; Mistral: neither); sliding_window >= 0. */
int config_validate(const ModelConfig *cfg, char *why, size_t n);

/* "LlamaForCausalLM" / "MistralForCausalLM" / "Qwen2ForCausalLM"; "?" for a bad value. */
const char *config_arch_name(ModelArch arch);
/* "llama" / "mistral" / "qwen2"; "?" for a bad value. */
const char *config_model_type(ModelArch arch);

#endif
