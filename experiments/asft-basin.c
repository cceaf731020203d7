/* asft-basin: the basin walk. Evaluates S(theta + alpha d1 + beta d2) on a 1-D or 2-D grid of
 * directions from an asft-perturb file, point by point into a resumable surface file, then the
 * EPL and VISAGE of the curves through the origin.
 *
 *   asft-basin --model DIR --directions dirs.h5 --x NAME [--y NAME] --out surface.h5
 *              [--xmin -0.5 --xmax 0.5 --xnum 21] [--metrics proxy,hs,...] [--world DIR] ...
 *
 * The parts (axes, directions, weights at a point, metrics, EPL, the file) are analysis/basin.h;
 * this file adds the flags, the loop, the progress line, the summary and MPI (make MPI=1: grid
 * points are dealt round-robin to the ranks, rank 0 writes every result into the one file, so
 * the output is the one a serial run gives). */
#include "basin.h"
#include "checkpoint.h"
#include "cli.h"
#include "dataset.h"
#include "h5store.h"
#include "judge.h"
#include "model.h"
#include "threads.h"
#include "tokenizer.h"
#include "util.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if ASFT_MPI
#include <mpi.h>
#endif

static const char usage[] =
	"usage: asft-basin --model DIR --directions dirs.h5 --x NAME [--y NAME] --out surface.h5\n"
	"                  [--xmin -0.5 --xmax 0.5 --xnum 21] [--ymin .. --ymax .. --ynum ..]\n"
	"                  [--metrics proxy,hs,...] [--world DIR | --prompts FILE] [--judge FILE]\n"
	"\n"
	"Evaluates the model with weights theta + alpha d_x (+ beta d_y) at every grid point (weights\n"
	"computed fresh from theta each time) and writes one dataset per metric (row = y, column = x),\n"
	"NaN + done = 0 where a point is missing. A killed walk resumes where it stopped when run again\n"
	"with the same settings. Metrics: harmful_score refusal_rate other_rate keyword_asr\n"
	"keyword_asr_nocase (generation), proxy_margin proxy_comply_share (no generation: fast),\n"
	"task_accuracy loss (a task test set); aliases proxy, hs, judge, keyword, task, all.\n"
	"At the end: EPL (largest |alpha| before the metric crosses tau, each side and the minimum)\n"
	"and VISAGE (mean safety between the basin edges) of the curves through alpha = 0.";

static int mpi_rank = 0, mpi_size = 1;

/* fail: one error line and exit (every rank of an MPI job). */
static void fail(const char *msg)
{
	fprintf(stderr, "%s: %s\n", asft_prog, msg);
#if ASFT_MPI
	if (mpi_size > 1)
		MPI_Abort(MPI_COMM_WORLD, 1);
	MPI_Finalize();
#endif
	exit(1);
}
static void fail_err(void) { fail(err_msg()); }

static char *abspath(const char *p)
{
	char *r = p ? realpath(p, NULL) : NULL;
	return r ? r : xstrdup(p ? p : "");
}

static double params_norm(const Model *m)
{
	double s = 0;
	for (size_t i = 0; i < m->n_params; i++)
		s += (double)m->params[i] * m->params[i];
	return sqrt(s);
}

static const BasinMetric epl_order[] = {
	BM_HARMFUL_SCORE, BM_KEYWORD_ASR, BM_PROXY_COMPLY_SHARE, BM_PROXY_MARGIN, BM_REFUSAL_RATE,
	BM_KEYWORD_ASR_NOCASE, BM_OTHER_RATE, BM_TASK_ACCURACY, BM_LOSS,
};

typedef struct {
	BasinMetric metric;
	double tau;             /* NaN: the default from S(0) */
	double rise;            /* < 0: the default */
} EplSpec;

/* epl_axis: EPL of metric's curve along one axis through the origin, stored as attributes of obj
 * ("/" or the metric's dataset) with the axis letter, printed unless quiet. tau NaN = the
 * default from S(0) and rise. Returns 0, or 1 when the grid has no origin on that line. */
static int epl_axis(BasinSurface *s, const char *obj, BasinMetric metric, const double *vals,
		    const BasinAxis *ax, const BasinAxis *other, char letter, double tau_set,
		    double rise, int quiet)
{
	long n = ax->num;
	long z = basin_axis_zero(ax), zo = other ? basin_axis_zero(other) : 0;
	if (z < 0 || zo < 0)
		return 1;
	double *a = xmalloc((size_t)n * sizeof(double)), *c = xmalloc((size_t)n * sizeof(double));
	for (long i = 0; i < n; i++) {
		a[i] = basin_axis_at(ax, i);
		/* x: row zo, column i; y: row i, column zo */
		size_t k = letter == 'x' ? (size_t)zo * s->nx + (size_t)i : (size_t)i * s->nx + (size_t)zo;
		c[i] = vals[k];
	}
	double tau;
	int up;
	basin_epl_default_tau(metric, c[z], rise, &tau, &up);
	if (!isnan(tau_set))
		tau = tau_set;
	BasinEpl e;
	if (basin_epl(a, c, n, tau, up, basin_metric_is_pct(metric), &e))
		fail_err();
	char name[64];
#define SETF(suffix, v) do { snprintf(name, sizeof name, "epl_%c%s", letter, suffix); \
	if (h5s_attr_set_f64(s->h, obj, name, v)) fail_err(); } while (0)
	SETF("", e.epl);
	SETF("_neg", e.neg);
	SETF("_pos", e.pos);
	SETF("_neg_grid", e.neg_grid);
	SETF("_pos_grid", e.pos_grid);
	SETF("_censored_neg", e.censored_neg);
	SETF("_censored_pos", e.censored_pos);
	SETF("_tau", tau);
	SETF("_s0", c[z]);
#undef SETF
	snprintf(name, sizeof name, "visage_%c", letter);
	if (h5s_attr_set_f64(s->h, obj, name, e.visage))
		fail_err();
	snprintf(name, sizeof name, "basin_points_%c", letter);
	if (h5s_attr_set_i64(s->h, obj, name, e.n_basin))
		fail_err();
	if (!quiet)
		printf("  EPL along %c  %-18s tau %-8.4g S(0) %-8.4g EPL %.4f  (neg %.4f%s, pos %.4f%s)  "
		       "VISAGE %.2f over %ld points\n", letter, basin_metric_name(metric), tau,
		       c[z], e.epl, e.neg, e.censored_neg ? "+" : "", e.pos, e.censored_pos ? "+" : "",
		       e.visage, e.n_basin);
	free(a);
	free(c);
	return 0;
}

int main(int argc, char **argv)
{
#if ASFT_MPI
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
#endif
	const char *model_dir = NULL, *dirs_path = NULL, *xname = NULL, *yname = NULL, *out = NULL;
	const char *metrics_s = "proxy", *world = NULL, *prompts = NULL, *judge_path = NULL;
	const char *task = "", *task_data = NULL, *epl_metric_s = "";
	double xmin = -0.5, xmax = 0.5, ymin = -0.5, ymax = 0.5, tau = NAN, tau_rise = -1;
	long xnum = 21, ynum = 21, n_prompts = 80, n_task = 100, max_new = 64, batch = 32;
	long seed = 0, threads = 2;
	int resume = 0, overwrite = 0, quiet = 0;
	const CliOpt opts[] = {
		{ "model", CLI_STR, &model_dir, "DIR", "HF checkpoint folder (with tokenizer.json): the centre theta" },
		{ "directions", CLI_STR, &dirs_path, "FILE", "direction file (asft-perturb)" },
		{ "x", CLI_STR, &xname, "NAME", "direction along x (alpha), e.g. aligned" },
		{ "y", CLI_STR, &yname, "NAME", "direction along y (beta) for a 2-D surface" },
		{ "out", CLI_STR, &out, "FILE", "surface file (HDF5); resumed when it exists with the same settings" },
		{ "xmin", CLI_DOUBLE, &xmin, "A", "first alpha" },
		{ "xmax", CLI_DOUBLE, &xmax, "A", "last alpha" },
		{ "xnum", CLI_INT, &xnum, "N", "alpha points (linspace)" },
		{ "ymin", CLI_DOUBLE, &ymin, "B", "first beta" },
		{ "ymax", CLI_DOUBLE, &ymax, "B", "last beta" },
		{ "ynum", CLI_INT, &ynum, "N", "beta points" },
		{ "metrics", CLI_STR, &metrics_s, "LIST", "metrics or aliases (proxy, hs, judge, keyword, task, all)" },
		{ "world", CLI_STR, &world, "DIR", "synthetic world: default prompts and task test set" },
		{ "prompts", CLI_STR, &prompts, "FILE", "harmful prompts (default WORLD/eval/harmful.json)" },
		{ "n-prompts", CLI_INT, &n_prompts, "N", "first N prompts (0: all; Peng et al. use 80)" },
		{ "judge", CLI_STR, &judge_path, "FILE", "moderation judge (harmful_score, refusal_rate, other_rate)" },
		{ "task", CLI_STR, &task, "NAME", "task of task_accuracy / loss (default topic with --world)" },
		{ "task-data", CLI_STR, &task_data, "FILE", "its test set (default WORLD/test/TASK.json)" },
		{ "n-task", CLI_INT, &n_task, "N", "first N task records (0: all)" },
		{ "max-new", CLI_INT, &max_new, "N", "max new tokens per answer (generation metrics)" },
		{ "batch", CLI_INT, &batch, "B", "generation / scoring batch" },
		{ "epl-metric", CLI_STR, &epl_metric_s, "NAME", "metric of EPL / VISAGE (default: first of harmful_score, keyword_asr, proxy_comply_share, proxy_margin, ...)" },
		{ "tau", CLI_DOUBLE, &tau, "T", "EPL threshold (default: S(0) + 10 points; proxy_margin 0; loss S(0) + 1)" },
		{ "tau-rise", CLI_DOUBLE, &tau_rise, "D", "rise above S(0) that counts as crossing (default 10 points, loss 1 nat)" },
		{ "resume", CLI_BOOL, &resume, NULL, "continue an existing output (an output with the same settings is always continued)" },
		{ "overwrite", CLI_BOOL, &overwrite, NULL, "replace an existing output made with other settings" },
		{ "seed", CLI_INT, &seed, "S", "recorded (decoding is greedy)" },
		{ "threads", CLI_INT, &threads, "N", "threads (per MPI rank)" },
		{ "quiet", CLI_BOOL, &quiet, NULL, "no progress line and no summary" },
		{ NULL, 0, NULL, NULL, NULL },
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!model_dir || !dirs_path || !xname || !out)
		fail("--model, --directions, --x and --out are required (see --help)");
	if (max_new < 1 || batch < 1)
		fail("--max-new and --batch must be >= 1");
	if (n_prompts < 0 || n_task < 0)
		fail("--n-prompts and --n-task must be >= 0");
	if (resume && overwrite)
		fail("--resume and --overwrite exclude each other");
	BasinAxis ax = { xmin, xmax, xnum }, ay = { ymin, ymax, ynum };
	if (basin_axis_check(&ax, "--xmin/--xmax/--xnum"))
		fail_err();
	if (yname && basin_axis_check(&ay, "--ymin/--ymax/--ynum"))
		fail_err();
	if (yname && (size_t)xnum * (size_t)ynum > 100000000)
		fail("--xnum x --ynum: more than 1e8 points");
	unsigned metrics;
	if (basin_metrics_parse(metrics_s, &metrics))
		fail_err();
	EplSpec es = { BM_N, tau, tau_rise };
	if (*epl_metric_s) {
		if (basin_metric_parse(epl_metric_s, &es.metric))
			fail_err();
		if (!(metrics & BM_BIT(es.metric)))
			fail("--epl-metric is not one of --metrics");
	} else {
		for (size_t i = 0; i < sizeof epl_order / sizeof epl_order[0]; i++)
			if (metrics & BM_BIT(epl_order[i])) {
				es.metric = epl_order[i];
				break;
			}
	}
	if (!isnan(tau) && !isfinite(tau))
		fail("--tau must be finite");
	char *config = cli_config_json(opts);
	threads_set((int)threads);
	if (quiet)
		setenv("ASFT_QUIET", "1", 1);

	/* defaults from the world */
	char *def_prompts = NULL, *def_task = NULL;
	if (world && !prompts)
		prompts = def_prompts = xasprintf("%s/eval/harmful.json", world);
	if ((metrics & BM_TASK_MASK) && !*task && world)
		task = "topic";
	if ((metrics & BM_TASK_MASK) && !task_data && world && *task)
		task_data = def_task = xasprintf("%s/test/%s.json", world, task);

	/* model, directions */
	Model m = { 0 };
	if (checkpoint_load(&m, model_dir))
		fail_err();
	char *tok_file = path_join(model_dir, "tokenizer.json");
	Tokenizer *tok = tokenizer_load(tok_file);
	if (!tok)
		fail_err();
	H5Store *dh = h5s_open(dirs_path, 0);
	if (!dh)
		fail_err();
	BasinDir d1, d2 = { 0 };
	if (basin_dir_load(&d1, dh, xname, &m))
		fail_err();
	if (yname && basin_dir_load(&d2, dh, yname, &m))
		fail_err();
	h5s_close(dh);
	if (d1.norm == 0)
		fail("--x: the direction is zero everywhere");
	if (yname && d2.norm == 0)
		fail("--y: the direction is zero everywhere");
	double cos_xy = yname ? basin_dir_cosine(&d1, &d2) : NAN;

	JudgeModel *jm = NULL;
	if (judge_path && !(jm = judge_load(judge_path)))
		fail_err();
	BasinEvalOpts eo = { metrics, prompts, n_prompts, jm, task, task_data, n_task, (int)max_new,
			     (int)batch };
	BasinEval ev;
	if (basin_eval_init(&ev, tok, m.cfg.max_position_embeddings, &eo))
		fail_err();

	/* settings that decide the numbers: a resume needs the same ones */
	char *mstr = basin_metrics_string(metrics);
	char *a_model = abspath(model_dir), *a_dirs = abspath(dirs_path), *a_prompts = abspath(prompts);
	char *a_judge = abspath(judge_path), *a_task = abspath(task_data);
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "model", a_model);
	cJSON_AddNumberToObject(st, "model_norm", params_norm(&m));
	cJSON_AddStringToObject(st, "directions", a_dirs);
	cJSON_AddStringToObject(st, "x", xname);
	cJSON_AddNumberToObject(st, "x_norm", d1.norm);
	cJSON_AddStringToObject(st, "y", yname ? yname : "");
	cJSON_AddNumberToObject(st, "y_norm", yname ? d2.norm : 0);
	cJSON_AddNumberToObject(st, "xmin", xmin);
	cJSON_AddNumberToObject(st, "xmax", xmax);
	cJSON_AddNumberToObject(st, "xnum", (double)xnum);
	cJSON_AddNumberToObject(st, "ymin", yname ? ymin : 0);
	cJSON_AddNumberToObject(st, "ymax", yname ? ymax : 0);
	cJSON_AddNumberToObject(st, "ynum", yname ? (double)ynum : 1);
	cJSON_AddStringToObject(st, "metrics", mstr);
	cJSON_AddStringToObject(st, "prompts", (metrics & (BM_GEN_MASK | BM_PROXY_MASK)) ? a_prompts : "");
	cJSON_AddNumberToObject(st, "n_prompts", (double)ev.n);
	cJSON_AddStringToObject(st, "judge", (metrics & BM_JUDGE_MASK) ? a_judge : "");
	cJSON_AddStringToObject(st, "task", (metrics & BM_TASK_MASK) ? task : "");
	cJSON_AddStringToObject(st, "task_data", (metrics & BM_TASK_MASK) ? a_task : "");
	cJSON_AddNumberToObject(st, "n_task", (double)ev.n_task);
	cJSON_AddNumberToObject(st, "max_new_tokens", (metrics & (BM_GEN_MASK | BM_BIT(BM_TASK_ACCURACY))) ? (double)max_new : 0);
	cJSON_AddNumberToObject(st, "batch", (double)batch);
	cJSON_AddStringToObject(st, "template", "asft");
	char *settings = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);

	size_t nx = (size_t)xnum, ny = yname ? (size_t)ynum : 1, total = nx * ny;
	BasinSurface sf = { 0 };
	int resumed = 0;
	uint8_t *done = xcalloc(total, 1);
	if (mpi_rank == 0) {
		if (basin_surface_open(&sf, out, "asft-basin", config, (uint64_t)seed, settings, &ax,
				       yname ? &ay : NULL, metrics, overwrite, &resumed)) {
			if (mpi_size == 1)
				fail_err();
			fprintf(stderr, "%s: %s\n", asft_prog, err_msg());
			total = 0;      /* tell the others */
		} else {
			memcpy(done, sf.done, nx * ny);
		}
	}
#if ASFT_MPI
	unsigned long long tot = total;
	MPI_Bcast(&tot, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
	if (tot == 0) {
		MPI_Finalize();
		return 1;
	}
	MPI_Bcast(done, (int)(nx * ny), MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
#endif
	if (mpi_rank == 0) {
		char *tmpl = prompt_format("{instruction}", NULL);
		H5Store *h = sf.h;
		if (h5s_attr_set_str(h, "/", "tool", "asft-basin") ||
		    h5s_attr_set_str(h, "/", "model", a_model) ||
		    h5s_attr_set_str(h, "/", "directions", a_dirs) ||
		    h5s_attr_set_str(h, "/", "x", xname) ||
		    h5s_attr_set_str(h, "/", "y", yname ? yname : "") ||
		    h5s_attr_set_str(h, "/", "x_normalisation", d1.normalisation) ||
		    h5s_attr_set_str(h, "/", "y_normalisation", yname ? d2.normalisation : "") ||
		    h5s_attr_set_f64(h, "/", "x_norm", d1.norm) ||
		    h5s_attr_set_f64(h, "/", "y_norm", yname ? d2.norm : NAN) ||
		    h5s_attr_set_f64(h, "/", "cosine_xy", cos_xy) ||
		    h5s_attr_set_str(h, "/", "metrics", mstr) ||
		    h5s_attr_set_str(h, "/", "prompts", a_prompts) ||
		    h5s_attr_set_i64(h, "/", "n_prompts", (int64_t)ev.n) ||
		    h5s_attr_set_i64(h, "/", "n_proxy", (int64_t)ev.n_proxy) ||
		    h5s_attr_set_str(h, "/", "judge", judge_path ? a_judge : "") ||
		    h5s_attr_set_str(h, "/", "task", (metrics & BM_TASK_MASK) ? task : "") ||
		    h5s_attr_set_i64(h, "/", "n_task", (int64_t)ev.n_task) ||
		    h5s_attr_set_i64(h, "/", "max_new_tokens", max_new) ||
		    h5s_attr_set_i64(h, "/", "batch", batch) ||
		    h5s_attr_set_str(h, "/", "template", "asft") ||
		    h5s_attr_set_str(h, "/", "template_text", tmpl) ||
		    h5s_attr_set_str(h, "/", "decoding", "greedy") ||
		    h5s_attr_set_str(h, "/", "weights", "theta + alpha d_x + beta d_y, fresh per point, in double rounded once to float") ||
		    h5s_attr_set_i64(h, "/", "seed", seed) ||
		    h5s_attr_set_i64(h, "/", "mpi_ranks", mpi_size))
			fail_err();
		free(tmpl);
	}

	/* the walk */
	float *base = xmalloc(m.n_params * sizeof(float));
	memcpy(base, m.params, m.n_params * sizeof(float));
	size_t todo_all = 0;
	for (size_t k = 0; k < total; k++)
		todo_all += !done[k];
	if (mpi_rank == 0 && !quiet && (resumed || todo_all < total))
		fprintf(stderr, "asft-basin: %s: %zu of %zu points already done, %zu to go\n", out,
			total - todo_all, total, todo_all);
	long stop_after = getenv("ASFT_BASIN_STOP_AFTER") ? atol(getenv("ASFT_BASIN_STOP_AFTER")) : 0;
	Progress pr;
	if (mpi_rank == 0 && !quiet && todo_all)
		progress_init(&pr, "basin", todo_all);
	size_t written = 0, computed = 0;
	double t_walk = time_now();
	BasinMetric show = es.metric < BM_N ? es.metric : BM_PROXY_MARGIN;
	char extra[96];
#if ASFT_MPI
	double msg[BM_N + 2];
#endif
	for (size_t k = 0; k < total; k++) {
		if (done[k] || (int)(k % (size_t)mpi_size) != mpi_rank)
			continue;
		size_t ix = k % nx, iy = k / nx;
		double a = basin_axis_at(&ax, (long)ix), b = yname ? basin_axis_at(&ay, (long)iy) : 0;
		double t0 = time_now(), val[BM_N];
		basin_set_weights(&m, base, &d1, a, yname ? &d2 : NULL, b);
		if (basin_eval_point(&ev, &m, tok, NULL, val))
			fail_err();
		double secs = time_now() - t0;
		computed++;
		if (mpi_rank == 0) {
			if (basin_surface_put(&sf, ix, iy, val, secs))
				fail_err();
			written++;
			if (!quiet) {
				snprintf(extra, sizeof extra, "%s %.4g at (%.3g, %.3g)", basin_metric_name(show),
					 val[show], a, b);
				progress_update(&pr, written, extra);
			}
			if (stop_after > 0 && (long)computed >= stop_after)
				_exit(75);      /* test hook: a kill right after a flushed point */
		}
#if ASFT_MPI
		else {
			memcpy(msg, val, sizeof val);
			msg[BM_N] = secs;
			msg[BM_N + 1] = (double)k;
			MPI_Send(msg, BM_N + 2, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD);
		}
		if (mpi_rank == 0) {
			int flag = 1;
			while (flag) {
				MPI_Status ms;
				MPI_Iprobe(MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, &flag, &ms);
				if (!flag)
					break;
				MPI_Recv(msg, BM_N + 2, MPI_DOUBLE, ms.MPI_SOURCE, 1, MPI_COMM_WORLD, &ms);
				size_t kk = (size_t)msg[BM_N + 1];
				if (basin_surface_put(&sf, kk % nx, kk / nx, msg, msg[BM_N]))
					fail_err();
				written++;
				if (!quiet)
					progress_update(&pr, written, NULL);
			}
		}
#endif
	}
#if ASFT_MPI
	if (mpi_rank == 0) {
		while (written < todo_all) {
			MPI_Status ms;
			MPI_Recv(msg, BM_N + 2, MPI_DOUBLE, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, &ms);
			size_t kk = (size_t)msg[BM_N + 1];
			if (basin_surface_put(&sf, kk % nx, kk / nx, msg, msg[BM_N]))
				fail_err();
			written++;
			if (!quiet)
				progress_update(&pr, written, NULL);
		}
	}
#endif
	double t_total = time_now() - t_walk;
	if (mpi_rank == 0 && !quiet && todo_all)
		progress_finish(&pr, NULL);

	if (mpi_rank == 0) {
		if (sf.n_done != total)
			fail("the walk ended with missing points (internal error)");
		if (h5s_attr_set_f64(sf.h, "/", "wall_seconds_last_run", t_total) ||
		    h5s_attr_set_i64(sf.h, "/", "points_last_run", (int64_t)todo_all))
			fail_err();
		if (!quiet) {
			printf("asft-basin: %s along %s%s%s (cos %.3g), %zu x %zu points (%zu computed now, "
			       "%.1f s)\n", model_dir, xname, yname ? " x " : "", yname ? yname : "",
			       cos_xy, nx, ny, todo_all, t_total);
		}
		/* the 1-D curve as a table */
		double *vals[BM_N] = { 0 };
		for (int i = 0; i < BM_N; i++)
			if ((metrics & BM_BIT(i)) && !(vals[i] = basin_surface_read(&sf, (BasinMetric)i)))
				fail_err();
		if (!yname && !quiet) {
			printf("  %8s", "alpha");
			for (int i = 0; i < BM_N; i++)
				if (metrics & BM_BIT(i))
					printf("  %18s", basin_metric_name((BasinMetric)i));
			printf("\n");
			for (size_t ix = 0; ix < nx; ix++) {
				printf("  %8.4f", basin_axis_at(&ax, (long)ix));
				for (int i = 0; i < BM_N; i++)
					if (metrics & BM_BIT(i))
						printf("  %18.4f", vals[i][ix]);
				printf("\n");
			}
		}
		if (es.metric < BM_N) {
			/* the EPL metric's on the root; every metric's on its own dataset */
			if (h5s_attr_set_str(sf.h, "/", "epl_metric", basin_metric_name(es.metric)))
				fail_err();
			int no = epl_axis(&sf, "/", es.metric, vals[es.metric], &ax, yname ? &ay : NULL, 'x',
					  es.tau, es.rise, 1);
			if (yname)
				no |= epl_axis(&sf, "/", es.metric, vals[es.metric], &ay, &ax, 'y', es.tau,
					       es.rise, 1);
			for (int i = 0; !no && i < BM_N; i++) {
				if (!(metrics & BM_BIT(i)))
					continue;
				char obj[64];
				snprintf(obj, sizeof obj, "/%s", basin_metric_name((BasinMetric)i));
				/* --tau and --tau-rise are the EPL metric's; the others use defaults */
				double t = i == (int)es.metric ? es.tau : NAN;
				double r = i == (int)es.metric ? es.rise : -1;
				epl_axis(&sf, obj, (BasinMetric)i, vals[i], &ax, yname ? &ay : NULL, 'x', t, r,
					 quiet);
				if (yname)
					epl_axis(&sf, obj, (BasinMetric)i, vals[i], &ay, &ax, 'y', t, r, quiet);
			}
			if (no && !quiet)
				printf("  (no EPL: the grid needs an exact 0 on both axes)\n");
		}
		for (int i = 0; i < BM_N; i++)
			free(vals[i]);
		if (basin_surface_close(&sf))
			fail_err();
		if (!quiet)
			printf("  wrote %s\n", out);
	}

	free(done);
	free(base);
	free(settings);
	free(mstr);
	free(a_model);
	free(a_dirs);
	free(a_prompts);
	free(a_judge);
	free(a_task);
	basin_eval_free(&ev);
	judge_free(jm);
	basin_dir_free(&d1);
	basin_dir_free(&d2);
	tokenizer_free(tok);
	free(tok_file);
	model_free(&m);
	free(def_prompts);
	free(def_task);
	free(config);
	threads_shutdown();
#if ASFT_MPI
	MPI_Finalize();
#endif
	return 0;
}
