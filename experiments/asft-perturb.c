/* asft-perturb: sample and normalise directions into one HDF5 direction file.
 *
 *   asft-perturb --model DIR --out dirs.h5 --kind aligned,random,orthogonal,harm,interp
 *                [--base DIR --aligned DIR | --direction align.h5] [--from DIR --to DIR |
 *                --adapter DIR] [--norm filter|layer|none|unit] [--count N] [--seed S] ...
 *
 * The work is in analysis/perturb.c (layout and normalisation rules in perturb.h and README);
 * this file parses flags and prints the cosine table (the paper's Table 1 measurement). */
#include "cli.h"
#include "h5store.h"
#include "perturb.h"
#include "tool_common.h"
#include "util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
	"usage: asft-perturb --model DIR --out FILE.h5 --kind KIND[,KIND...] [options]\n"
	"\n"
	"Directions for basin walks, one group per direction (/aligned, /random0.., /orth0..,\n"
	"/harm, /interp) with one float32 dataset per tensor, plus /cosines (names attribute).\n"
	"kinds: aligned (W_aligned - W_base), random (Gaussian), orthogonal (random with the\n"
	"d_aligned and earlier orth components removed), harm (--to minus --from, or a PEFT\n"
	"--adapter's scale*B*A), interp (--to minus --from, never normalised).";

int main(int argc, char **argv)
{
	const char *model = NULL, *out = NULL, *kind = NULL, *base = NULL, *aligned = NULL;
	const char *direction = NULL, *from = NULL, *to = NULL, *adapter = NULL;
	const char *norm = "layer", *scope = "auto", *modules = "all";
	long seed = 0, count = 1, threads = 0;
	int include_1d = 0, include_embed = 0, quiet = 0;
	CliOpt opts[] = {
		{"model", CLI_STR, &model, "DIR", "checkpoint whose weights set shapes and norms"},
		{"out", CLI_STR, &out, "FILE", "output direction file (HDF5)"},
		{"kind", CLI_STR, &kind, "LIST", "aligned,random,orthogonal,harm,interp (any subset)"},
		{"base", CLI_STR, &base, "DIR", "base checkpoint (aligned, orthogonal)"},
		{"aligned", CLI_STR, &aligned, "DIR", "aligned checkpoint (aligned, orthogonal)"},
		{"direction", CLI_STR, &direction, "FILE", "asft-direction file: use its base/aligned"},
		{"from", CLI_STR, &from, "DIR", "harm / interp: start checkpoint (e.g. aligned)"},
		{"to", CLI_STR, &to, "DIR", "harm / interp: end checkpoint (e.g. attacked)"},
		{"adapter", CLI_STR, &adapter, "DIR", "harm: PEFT adapter folder (scale * B A)"},
		{"norm", CLI_STR, &norm, "N", "filter, layer, none or unit (interp: always none)"},
		{"orth-scope", CLI_STR, &scope, "S", "auto, row, tensor or global (auto follows --norm)"},
		{"count", CLI_INT, &count, "N", "directions per random / orthogonal kind"},
		{"seed", CLI_INT, &seed, "S", "seed of the random directions"},
		{"modules", CLI_STR, &modules, "LIST", "tensors that get directions (module names or all)"},
		{"include-1d", CLI_BOOL, &include_1d, NULL, "also perturb norm weights, biases, 1-D tensors"},
		{"include-embed", CLI_BOOL, &include_embed, NULL, "also perturb embed_tokens and lm_head"},
		{"threads", CLI_INT, &threads, "N", "BLAS threads (0: OpenBLAS default)"},
		{"quiet", CLI_BOOL, &quiet, NULL, "no progress line and no summary"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!model || !out || !kind)
		die("--model, --out and --kind are required (see --help)");
	if (seed < 0)
		die("--seed %ld: expected >= 0", seed);
	if (threads > 0)
		openblas_set_num_threads((int)threads);
	PerturbOpts o = {.model_dir = model, .kinds = kind, .base_dir = base, .aligned_dir = aligned,
			 .direction_file = direction, .from_dir = from, .to_dir = to,
			 .adapter_dir = adapter, .modules = modules, .seed = (uint64_t)seed,
			 .count = (int)count, .include_1d = include_1d, .include_embed = include_embed,
			 .progress = !quiet};
	if (dir_norm_parse(norm, &o.norm) < 0 || orth_scope_parse(scope, &o.scope) < 0)
		die("%s", err_msg());

	H5Store *h5 = tool_h5_create(out, "asft-perturb", opts, (uint64_t)seed);
	PerturbSummary sum;
	if (perturb_compute(h5, &o, &sum) < 0)
		tool_h5_abort_die(h5);
	if (h5s_close(h5) < 0)
		die_err();
	if (!quiet) {
		perturb_summary_print(stdout, &sum);
		printf("wrote %s\n", out);
	}
	perturb_summary_free(&sum);
	return 0;
}
