/* direction.h: the alignment direction d_aligned = theta_aligned - theta_base, per tensor.
 *
 * direction_compute() streams two Hugging Face checkpoints tensor by tensor (mmapped safetensors,
 * in file order so reads are sequential; each tensor's pages are released after use) and writes,
 * for every selected weight matrix V = W_aligned - W_base (out x in):
 *   /delta/<HF name>            group; attrs fro_norm (||V||_F), rel_norm (||V|| / ||W_aligned||),
 *                               stable_rank (||V||_F^2 / sigma_1^2), base_norm, aligned_norm,
 *                               cos_vw (cosine of flattened V and W_aligned), energy_topk
 *                               (sum_{i<=K} sigma_i^2 / ||V||_F^2), chat_eig_max (sigma_1^2/||V||_F),
 *                               n_eig_gt_half, n_eig_gt_one, eig_counts_exact, layer, rows, cols,
 *                               svd_method, svd_seconds
 *   /delta/<HF name>/s          (K) float64, top-K singular values, descending
 *   /delta/<HF name>/U          (out, K) float64, left singular vectors (columns)
 *   /delta/<HF name>/V          (in, K) float64, right singular vectors (columns)
 *   /delta/<HF name>/chat_eig   (K) float64, C_hat's top eigenvalues sigma_i^2 / ||V||_F
 *   /delta/<HF name>/delta      (out, in) float32, V itself (only with save_delta)
 *   /summary/<metric>           one value per selected tensor (attr `names`: comma-separated)
 *   /layers/<metric>            one value per decoder layer (over all its tensors)
 *   root attrs global_norm (||d_aligned|| over every floating tensor), selected_norm, base,
 *   aligned, modules, topk, n_tensors, n_selected, svd (method name).
 * With topk 0 no SVD runs: stable_rank, energy_topk and the eigenvalue attributes are NaN / -1.
 *
 * Also the checkpoint helpers asft-perturb shares: pair checks, chunked conversion to float,
 * module and layer names. Deliberately not here: any direction sampling (perturb.h). */
#ifndef ASFT_DIRECTION_H
#define ASFT_DIRECTION_H

#include <stdio.h>

#include "h5store.h"
#include "linalg.h"
#include "safetensors.h"

/* ---- checkpoint helpers ---- */

/* ckpt_check_config: when both folders' config.json load, their architectures must agree
 * (arch, hidden, intermediate, layers, heads, kv heads, head_dim, vocab): -1 with err_set naming
 * the field and both values. A config that does not load only gives a warning (the tensor
 * check below is the real guarantee). */
int ckpt_check_config(const char *dir_a, const char *dir_b);
/* ckpt_check_pair: a and b hold the same tensor names with the same shapes, and every
 * tensor that is floating point in one is floating point in the other. -1 with err_set naming
 * the first offending tensor ("tensor X: shape [4, 8] in DIR_A but [8, 8] in DIR_B"). */
int ckpt_check_pair(const Safetensors *a, const char *dir_a, const Safetensors *b,
		    const char *dir_b);
/* tensor_is_float: F32, F16, BF16 or F64. */
int tensor_is_float(const StTensor *t);
/* tensor_read_f32: elements [first, first + n) of a floating tensor converted to float. */
void tensor_read_f32(const StTensor *t, size_t first, size_t n, float *dst);
/* tensor_prefetch / tensor_release: madvise(WILLNEED / DONTNEED) on the tensor's pages, so
 * reading ahead overlaps compute and a streamed model never stays resident in our RSS (the
 * mapping is read-only: released pages are refaulted from the page cache if touched again). */
void tensor_prefetch(const StTensor *t);
void tensor_release(const StTensor *t);
/* tensor_file_order: indices of st's tensors sorted by (file, offset); caller frees. */
int *tensor_file_order(const Safetensors *st);
/* tensor_module: the name's component before its final ".weight"/".bias" ("q_proj" for
 * model.layers.3.self_attn.q_proj.weight) into buf; "" if none. */
void tensor_module(const char *name, char *buf, size_t n);
/* tensor_layer: N of "layers.N." in name, or -1. */
int tensor_layer(const char *name);
/* modules_match: name is a 2-D weight matrix selected by the comma-separated module list
 * ("all" = every 2-D tensor). */
int modules_match(const StTensor *t, const char *modules);

/* ---- the direction tool ---- */

typedef struct {
	const char *base_dir, *aligned_dir;
	const char *modules;    /* "q_proj,v_proj" or "all" */
	int topk;               /* 0: no SVD */
	SvdOpts svd;
	int save_delta;         /* also write V itself as float32 */
	int progress;           /* progress line on stderr */
} DirOpts;

/* One selected tensor's numbers, for the printed summary. */
typedef struct {
	char *name;
	char module[32];
	int layer, rows, cols, k;
	double fro_norm, base_norm, aligned_norm, rel_norm, cos_vw;
	double stable_rank, energy_topk, chat_eig_max;
	int n_eig_gt_half, n_eig_gt_one, eig_exact;
	double svd_seconds;
} DirTensorStat;

typedef struct {
	DirTensorStat *t;
	int n;
	int n_tensors;                  /* floating tensors compared */
	int n_layers;
	double global_norm, selected_norm;
	double seconds, svd_seconds;
	size_t largest_bytes;           /* the largest selected tensor as float32 */
	int topk;
	double *layer_rel;              /* (n_layers) ||d_aligned|| / ||W_aligned|| per layer */
	double *layer_eig;              /* (n_layers) largest C_hat eigenvalue (NaN: none) */
} DirSummary;

/* direction_compute: the whole computation into the open store out (see the layout above).
 * 0 ok; -1 with err_set naming the checkpoint and tensor. sum is filled on success (free with
 * direction_summary_free). */
int direction_compute(H5Store *out, const DirOpts *o, DirSummary *sum);
/* direction_summary_print: one screen: totals, a per-module table (medians), the relative
 * norm (and top C_hat eigenvalue) per layer, and the verdict on how far C_hat is from a
 * projector. */
void direction_summary_print(FILE *f, const DirSummary *sum);
void direction_summary_free(DirSummary *sum);

#endif
