/* checkpoint.h: Hugging Face checkpoint folders and PEFT adapter folders <-> the engine.
 *
 * A checkpoint is config.json + model.safetensors (or shards with model.safetensors.index.json),
 * read through data/hfconfig.h and data/safetensors.h; F32, F16, BF16 and F64 weights become
 * the engine's f32 parameters. Every parameter of the model must be present with its exact
 * shape; extra tensors are an error (they would mean an architecture we do not compute), except
 * rotary_emb.inv_freq buffers and an lm_head.weight in a tied checkpoint (ignored; transformers
 * ties them on load). The writer produces config.json + model.safetensors with every tensor under
 * its HF name (no lm_head when tied), so transformers' from_pretrained loads it.
 *
 * Adapters go through data/adapter.h (PEFT folder format). Not here: tokenizer.json (copy it
 * beside the weights with the tokenizer module), generation_config.json, optimizer state. */
#ifndef ASFT_CHECKPOINT_H
#define ASFT_CHECKPOINT_H

#include "lora.h"
#include "model.h"
#include "safetensors.h"

/* checkpoint_load: model_init's m from dir/config.json and fills its weights from the folder's
 * safetensors. 0 ok; -1 with err_set naming the file and tensor, m then freed (zeroed). */
int checkpoint_load(Model *m, const char *dir);
/* checkpoint_load_weights: weights of the folder into an initialized m (same architecture). */
int checkpoint_load_weights(Model *m, const char *dir);
/* checkpoint_save: creates dir if needed and writes dir/config.json (m->cfg, torch_dtype set
 * to match dtype) and dir/model.safetensors with tensors in dtype (ST_F32 or ST_BF16);
 * both atomic. 0 ok; -1 with err_set. */
int checkpoint_save(const Model *m, const char *dir, StDtype dtype);

/* checkpoint_load_adapter: a PEFT folder into a new Lora for m (lora_init'd with the folder's
 * r, lora_alpha (rsLoRA scaling honoured), lora_dropout and the set of projection kinds present;
 * a kind adapted in only some layers gets zero A and B in the others, which adds nothing).
 * Shapes are checked against m. 0 ok; -1 with err_set, lo zeroed. */
int checkpoint_load_adapter(Lora *lo, const Model *m, const char *dir);
/* checkpoint_save_adapter: dir/adapter_config.json + dir/adapter_model.safetensors, every
 * layer's A and B under PEFT names, tensors in dtype. base_model may be NULL. */
int checkpoint_save_adapter(const Lora *lo, const char *dir, const char *base_model,
			    StDtype dtype);

/* ids_json_load: a JSON array of arrays of token ids (the probes' IDS.json). *rows (n arrays)
 * and *lens are new (free with ids_json_free). Every row must be non-empty, every id an integer
 * in [0, vocab) (vocab <= 0: only >= 0), and with equal_len all rows the same length.
 * 0 ok; -1 with err_set("<path>: row R, item I: fact"). */
int ids_json_load(const char *path, int vocab, int equal_len, int ***rows, int **lens, int *n);
void ids_json_free(int **rows, int *lens, int n);

#endif
