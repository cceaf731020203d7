/* asft-logits: a probe of the engine for parity checks with other implementations.
 *
 *   asft-logits --model DIR [--adapter DIR] --ids IDS.json --out OUT.h5 [--grads]
 *
 * Runs the model on B equal-length rows of token ids and writes /logits float32 [B,T,V]. With
 * --grads also /loss (mean next-token cross-entropy over all B*(T-1) positions, labels = the ids,
 * as transformers' LlamaForCausalLM(labels=ids)) and /grads/<name> for every trainable tensor:
 * every parameter under its Hugging Face name, or with --adapter the LoRA tensors under their
 * PEFT names (base frozen). It does no training and no tokenization. */
#include "checkpoint.h"
#include "cli.h"
#include "h5store.h"
#include "model.h"
#include "threads.h"
#include "tool_common.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: asft-logits --model DIR [--adapter DIR] --ids IDS.json --out OUT.h5 [--grads]\n"
	"\n"
	"Writes the logits of a Hugging Face Llama/Mistral/Qwen2 checkpoint (optionally with a PEFT\n"
	"LoRA adapter) for the rows of IDS.json (a JSON array of equal-length arrays of token ids)\n"
	"to OUT.h5 as /logits [B,T,V]; --grads adds /loss and /grads/<name> (HF names, or PEFT names\n"
	"of the adapter's tensors with --adapter).";

int main(int argc, char **argv)
{
	const char *model_dir = NULL, *adapter_dir = NULL, *ids_path = NULL, *out = NULL;
	int grads = 0;
	long threads = 1;
	CliOpt opts[] = {
		{"model", CLI_STR, &model_dir, "DIR", "Hugging Face checkpoint folder"},
		{"adapter", CLI_STR, &adapter_dir, "DIR", "PEFT LoRA adapter folder (optional)"},
		{"ids", CLI_STR, &ids_path, "FILE", "JSON array of equal-length arrays of token ids"},
		{"out", CLI_STR, &out, "FILE", "output HDF5 file"},
		{"grads", CLI_BOOL, &grads, NULL, "also write /loss and /grads/<name>"},
		{"threads", CLI_INT, &threads, "N", "threads for BLAS and the engine's loops"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!model_dir || !ids_path || !out)
		die("--model, --ids and --out are required (see --help)");
	tool_threads_set(threads);

	Model m;
	Lora lo;
	tool_model_load(&m, &lo, model_dir, adapter_dir);
	int **rows, *lens, B;
	if (ids_json_load(ids_path, m.V, 1, &rows, &lens, &B) < 0)
		die_err();
	int T = lens[0];
	if (m.cfg.max_position_embeddings > 0 && T > m.cfg.max_position_embeddings)
		die("%s: rows of %d ids exceed max_position_embeddings %d", ids_path, T,
		    m.cfg.max_position_embeddings);
	if (grads && T < 2)
		die("%s: --grads needs rows of at least 2 ids (the loss predicts id t+1 from t)",
		    ids_path);
	int *ids = xmalloc(sizeof(int) * B * T), *targets = xmalloc(sizeof(int) * B * T);
	for (int b = 0; b < B; b++)
		memcpy(ids + (size_t)b * T, rows[b], sizeof(int) * T);
	model_targets_shift(targets, ids, NULL, B, T);
	if (grads && !adapter_dir)
		model_enable_grads(&m);
	model_zero_grad(&m);
	float loss = model_forward(&m, ids, grads ? targets : NULL, B, T);

	H5Store *h5 = tool_h5_create(out, "asft-logits", opts, 0);
	size_t dims[3] = { (size_t)B, (size_t)T, (size_t)m.V };
	if (h5s_write_f32(h5, "/logits", m.a.logits, 3, dims, "logits [B,T,V] of the model on the ids") < 0)
		goto fail;
	if (grads) {
		if (h5s_write_scalar(h5, "/loss", loss, "mean next-token cross-entropy over B*(T-1) "
				     "positions, labels = ids (HF convention)") < 0)
			goto fail;
		model_backward(&m);
		char path[256];
		if (adapter_dir) {
			for (int i = 0; i < lo.n_tensors; i++) {
				const LoraTensor *t = &lo.tensors[i];
				size_t d2[2] = { (size_t)t->shape[0], (size_t)t->shape[1] };
				snprintf(path, sizeof(path), "/grads/%s", t->name);
				if (h5s_write_f32(h5, path, lo.grads + t->offset, 2, d2,
						  "d loss / d tensor (PEFT name, base frozen)") < 0)
					goto fail;
			}
		} else {
			for (int i = 0; i < m.n_tensors; i++) {
				const ModelTensor *t = &m.tensors[i];
				size_t d2[2] = { (size_t)t->shape[0], (size_t)t->shape[1] };
				snprintf(path, sizeof(path), "/grads/%s", t->name);
				if (h5s_write_f32(h5, path, m.grads + t->offset, t->ndim, d2,
						  "d loss / d tensor (Hugging Face name)") < 0)
					goto fail;
			}
		}
	}
	if (h5s_close(h5) < 0)
		die_err();
	free(targets);
	free(ids);
	ids_json_free(rows, lens, B);
	lora_free(&lo);
	model_free(&m);
	threads_shutdown();
	return 0;
fail:
	tool_h5_abort_die(h5);
}
