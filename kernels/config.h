/* config.h: the architecture of a Llama-family model, as the engine needs it.
 *
 * Plain data, no I/O: data/hfconfig.c fills it from a Hugging Face config.json and writes it
 * back. Field meanings follow transformers' LlamaConfig / MistralConfig / Qwen2Config. */
#ifndef ASFT_CONFIG_H
#define ASFT_CONFIG_H

typedef enum {
	ARCH_LLAMA,         /* LlamaForCausalLM */
	ARCH_MISTRAL,       /* MistralForCausalLM: Llama maths; sliding window not applied */
	ARCH_QWEN2,         /* Qwen2ForCausalLM: biases on q, k, v */
} ModelArch;

#define CONFIG_MAX_EOS 8

typedef struct {
	ModelArch arch;
	int hidden_size;            /* d */
	int intermediate_size;      /* ffn width */
	int num_hidden_layers;
	int num_attention_heads;
	int num_key_value_heads;    /* default = num_attention_heads (MHA); fewer = GQA */
	int head_dim;               /* default hidden_size / num_attention_heads */
	int vocab_size;
	int max_position_embeddings;
	double rms_norm_eps;
	double rope_theta;
	int tie_word_embeddings;    /* lm_head shares embed_tokens.weight */
	int attention_bias;         /* Llama/Mistral attention_bias: biases on q, k, v and o */
	int qkv_bias;               /* Qwen2: biases on q, k, v only (o has none) */
	int sliding_window;         /* Mistral / Qwen2; 0 = none. Informational (see ARCH_MISTRAL) */
	int bos_token_id;           /* -1 if absent */
	int eos_token_ids[CONFIG_MAX_EOS];  /* eos_token_id may be an int or a list in HF */
	int n_eos;
	char torch_dtype[16];       /* "float32", "bfloat16", ...; informational */
} ModelConfig;

#endif
