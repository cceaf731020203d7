/* asft-generate: a probe of the engine's batched KV-cache generation.
 *
 *   asft-generate --model DIR [--adapter DIR] --ids IDS.json --max-new N
 *                 [--temperature T --top-k K --top-p P --seed S] [--ignore-eos]
 *
 * Prompts (rows of IDS.json, any lengths) run as one left-padded batch; greedy by default. Prints
 * a JSON array of arrays on stdout: each prompt followed by its new ids (ending with the EOS id
 * when one stopped the row). No tokenization: ids in, ids out. */
#include "checkpoint.h"
#include "cli.h"
#include "generate.h"
#include "model.h"
#include "threads.h"
#include "tool_common.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: asft-generate --model DIR [--adapter DIR] --ids IDS.json --max-new N [options]\n"
	"\n"
	"Generates continuations of the token-id prompts in IDS.json (a JSON array of arrays, any\n"
	"lengths) with a Hugging Face Llama/Mistral/Qwen2 checkpoint (and optional PEFT adapter):\n"
	"greedy unless --temperature > 0. Prints [[prompt ids..., new ids...], ...] on stdout.";

int main(int argc, char **argv)
{
	const char *model_dir = NULL, *adapter_dir = NULL, *ids_path = NULL;
	long max_new = 32, top_k = 0, seed = 0, threads = 1;
	double temperature = 0, top_p = 1;
	int ignore_eos = 0;
	CliOpt opts[] = {
		{"model", CLI_STR, &model_dir, "DIR", "Hugging Face checkpoint folder"},
		{"adapter", CLI_STR, &adapter_dir, "DIR", "PEFT LoRA adapter folder (optional)"},
		{"ids", CLI_STR, &ids_path, "FILE", "JSON array of arrays of prompt token ids"},
		{"max-new", CLI_INT, &max_new, "N", "new tokens per prompt at most"},
		{"temperature", CLI_DOUBLE, &temperature, "T", "sampling temperature (0: greedy)"},
		{"top-k", CLI_INT, &top_k, "K", "keep the K most likely tokens (0: all)"},
		{"top-p", CLI_DOUBLE, &top_p, "P", "nucleus: smallest set with mass >= P (1: all)"},
		{"seed", CLI_INT, &seed, "S", "sampling seed (row b draws from stream b)"},
		{"ignore-eos", CLI_BOOL, &ignore_eos, NULL, "do not stop rows at the EOS id"},
		{"threads", CLI_INT, &threads, "N", "threads for BLAS and the engine's loops"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!model_dir || !ids_path)
		die("--model and --ids are required (see --help)");
	if (max_new < 1 || max_new > 1000000)
		die("--max-new %ld: expected >= 1", max_new);
	tool_threads_set(threads);
	if (!(temperature >= 0) || top_k < 0 || !(top_p > 0 && top_p <= 1))
		die("--temperature >= 0, --top-k >= 0 and --top-p in (0, 1] (got %g, %ld, %g)",
		    temperature, top_k, top_p);

	Model m;
	Lora lo;
	tool_model_load(&m, &lo, model_dir, adapter_dir);
	int **rows, *lens, B;
	if (ids_json_load(ids_path, m.V, 0, &rows, &lens, &B) < 0)
		die_err();
	int Tp = 0;
	for (int b = 0; b < B; b++)
		if (lens[b] > Tp)
			Tp = lens[b];
	long slots = Tp + max_new;
	if (m.cfg.max_position_embeddings > 0 && slots > m.cfg.max_position_embeddings)
		die("%s: longest prompt %d + --max-new %ld exceeds max_position_embeddings %d",
		    ids_path, Tp, max_new, m.cfg.max_position_embeddings);
	Generator g;
	if (gen_init(&g, &m, B, (int)slots) < 0)
		die_err();
	GenParams p;
	gen_params_default(&p);
	p.max_new = (int)max_new;
	p.temperature = (float)temperature;
	p.top_k = (int)top_k;
	p.top_p = (float)top_p;
	p.seed = (uint64_t)seed;
	p.ignore_eos = ignore_eos;
	int *out = xmalloc(sizeof(int) * B * slots), *out_len = xmalloc(sizeof(int) * B);
	if (gen_run(&g, (const int *const *)rows, lens, B, &p, out, out_len) < 0)
		die_err();
	putchar('[');
	for (int b = 0; b < B; b++) {
		printf("%s[", b ? "," : "");
		for (int i = 0; i < out_len[b]; i++)
			printf("%s%d", i ? "," : "", out[(size_t)b * slots + i]);
		putchar(']');
	}
	printf("]\n");
	free(out_len);
	free(out);
	gen_free(&g);
	ids_json_free(rows, lens, B);
	lora_free(&lo);
	model_free(&m);
	threads_shutdown();
	return fflush(stdout) == 0 ? 0 : 1;
}
