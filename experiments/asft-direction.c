/* asft-direction: the alignment direction between a base and an aligned checkpoint.
 *
 *   asft-direction --base DIR --aligned DIR --out align.h5 [--modules q_proj,v_proj|all]
 *                  [--topk K] [--svd auto|exact|randomized] [--save-delta]
 *
 * Streams both checkpoints tensor by tensor (analysis/direction.c), writes norms, spectra and
 * C_hat diagnostics to HDF5 (layout in direction.h and README), and prints a one-screen
 * summary that says at a glance whether C_hat = V V^T / ||V||_F is anywhere near a projector. */
#include "cli.h"
#include "direction.h"
#include "h5store.h"
#include "tool_common.h"
#include "util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static const char usage[] =
	"usage: asft-direction --base DIR --aligned DIR --out FILE.h5 [options]\n"
	"\n"
	"Per-tensor alignment direction V = W_aligned - W_base of two Hugging Face checkpoints\n"
	"(same architecture): norms, top-K SVD (U, s, V), stable rank, and the eigenvalues\n"
	"sigma_i^2/||V||_F of the authors' C_hat = V V^T/||V||_F. Groups /delta/<HF name>.";

int main(int argc, char **argv)
{
	const char *base = NULL, *aligned = NULL, *out = NULL, *modules = "q_proj,v_proj";
	const char *svd = "auto";
	long topk = 8, threads = 0, oversample = 10, power_iters = 4, seed = 1234, exact_max = 512;
	int save_delta = 0, quiet = 0;
	CliOpt opts[] = {
		{"base", CLI_STR, &base, "DIR", "base (unaligned) checkpoint folder"},
		{"aligned", CLI_STR, &aligned, "DIR", "aligned checkpoint folder"},
		{"out", CLI_STR, &out, "FILE", "output HDF5 file"},
		{"modules", CLI_STR, &modules, "LIST", "comma-separated module names (q_proj,...) or all"},
		{"topk", CLI_INT, &topk, "K", "singular triplets per matrix (0: no SVD)"},
		{"svd", CLI_STR, &svd, "M", "auto (dgesdd up to --exact-max), exact or randomized"},
		{"exact-max", CLI_INT, &exact_max, "N", "auto uses dgesdd when min(out,in) <= N"},
		{"oversample", CLI_INT, &oversample, "P", "randomized SVD: extra test vectors"},
		{"power-iters", CLI_INT, &power_iters, "Q", "randomized SVD: power iterations"},
		{"seed", CLI_INT, &seed, "S", "seed of the randomized SVD test matrices"},
		{"save-delta", CLI_BOOL, &save_delta, NULL, "also store V itself (float32) per tensor"},
		{"threads", CLI_INT, &threads, "N", "BLAS threads (0: OpenBLAS default)"},
		{"quiet", CLI_BOOL, &quiet, NULL, "no progress line and no summary"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!base || !aligned || !out)
		die("--base, --aligned and --out are required (see --help)");
	if (topk < 0 || topk > 4096)
		die("--topk %ld: expected 0..4096", topk);
	if (oversample < 0 || power_iters < 0 || exact_max < 0)
		die("--oversample, --power-iters and --exact-max must be >= 0");
	if (threads > 0)
		openblas_set_num_threads((int)threads);

	DirOpts o = {.base_dir = base, .aligned_dir = aligned, .modules = modules, .topk = (int)topk,
		     .save_delta = save_delta, .progress = !quiet};
	svd_opts_default(&o.svd);
	if (svd_method_parse(svd, &o.svd.method) < 0)
		die("--svd: %s", err_msg());
	o.svd.oversample = (int)oversample;
	o.svd.power_iters = (int)power_iters;
	o.svd.exact_max = (int)exact_max;
	o.svd.seed = (uint64_t)seed;

	H5Store *h5 = tool_h5_create(out, "asft-direction", opts, (uint64_t)seed);
	DirSummary sum;
	if (direction_compute(h5, &o, &sum) < 0)
		tool_h5_abort_die(h5);
	if (h5s_close(h5) < 0)
		die_err();
	if (!quiet) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		direction_summary_print(stdout, &sum);
		printf("wrote %s; peak RSS %.1f MB (largest selected tensor %.1f MB as float32)\n", out,
		       ru.ru_maxrss / 1024.0, sum.largest_bytes / 1048576.0);
	}
	direction_summary_free(&sum);
	return 0;
}
