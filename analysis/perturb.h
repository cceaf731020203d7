/* perturb.h: direction files for basin walks (asft-perturb): sample, normalise, orthogonalise.
 *
 * Kinds (one or many per file; each gives one or --count directions):
 *   aligned     d_aligned = W_aligned - W_base                       -> /aligned
 *   random      Gaussian per tensor, seeded by (seed, tensor name)   -> /random0, /random1, ...
 *   orthogonal  random with its components along d_aligned and the previous orthogonal
 *               directions removed (Gram-Schmidt in double)          -> /orth0, /orth1, ...
 *   harm        to - from (e.g. attacked minus aligned), or scale * B A of a PEFT adapter -> /harm
 *   interp      to - from, never normalised, every tensor (theta_from + t d, t in [0,1]) -> /interp
 * Normalisation (all kinds but interp), against the weights W of --model:
 *   filter  each output row scaled to the norm of W's row (loss-landscape, Li et al. 2018)
 *   layer   each tensor scaled to ||W_tensor|| (llm-landscape, Peng et al. 2024; AsFT's protocol)
 *   none    as sampled
 *   unit    the whole direction scaled to global norm 1
 * Norm weights, biases and other 1-D tensors get zero unless include_1d (then "filter" treats
 * the vector as one row); embed_tokens / lm_head get zero unless include_embed.
 *
 * Orthogonality is exact in the written directions: the orthogonalisation unit follows the
 * normalisation (scope auto: a row for filter, a tensor for layer, the whole model for none and
 * unit), Gram-Schmidt runs on the normalised vectors inside each unit, and the result is
 * re-normalised per unit, which keeps it orthogonal. With a coarser scope than the
 * normalisation (e.g. global with layer) the vectors are orthogonal but not re-normalised.
 * Global scope streams twice: a first pass accumulates the Gram matrix, the second writes.
 *
 * File layout: /<direction>/<HF tensor name> float32 with the tensor's shape; group attrs kind,
 * normalisation, seed, source, orth_scope, include_1d, include_embed, global_norm; /cosines
 * (n x n float64, global cosines, attr `names` = comma-separated order), /norms (n),
 * /cosines_per_tensor/<HF tensor name> (n x n, NaN where a direction is zero in that tensor). */
#ifndef ASFT_PERTURB_H
#define ASFT_PERTURB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "h5store.h"

typedef enum { NORM_FILTER, NORM_LAYER, NORM_NONE, NORM_UNIT } DirNorm;
typedef enum { KIND_ALIGNED, KIND_RANDOM, KIND_ORTHOGONAL, KIND_HARM, KIND_INTERP } DirKind;
typedef enum { ORTH_AUTO, ORTH_ROW, ORTH_TENSOR, ORTH_GLOBAL } OrthScope;

const char *dir_norm_name(DirNorm n);
int dir_norm_parse(const char *s, DirNorm *n);          /* 0 ok, -1 with err_set */
const char *dir_kind_name(DirKind k);
int dir_kind_parse(const char *s, DirKind *k);
const char *orth_scope_name(OrthScope s);
int orth_scope_parse(const char *s, OrthScope *sc);

/* dir_normalize_filter: d (rows, cols): each row scaled to the norm of w's row (a zero d row
 * stays zero; a zero w row makes the d row zero). Norms in double. */
void dir_normalize_filter(float *d, const float *w, size_t rows, size_t cols);
/* dir_normalize_layer: d (n) scaled to ||w|| (a zero d stays zero). */
void dir_normalize_layer(float *d, const float *w, size_t n);

typedef struct {
	const char *model_dir;              /* W: shapes, names and the normalisation */
	const char *kinds;                  /* comma-separated kind names */
	const char *base_dir, *aligned_dir; /* for aligned and orthogonal */
	const char *direction_file;         /* or: the base/aligned recorded by asft-direction */
	const char *from_dir, *to_dir;      /* harm and interp */
	const char *adapter_dir;            /* harm from a PEFT adapter (instead of from/to) */
	const char *modules;                /* tensors that get nonzero directions ("all") */
	DirNorm norm;
	OrthScope scope;
	uint64_t seed;
	int count;                          /* directions per random / orthogonal kind */
	int include_1d, include_embed;
	int progress;
} PerturbOpts;

typedef struct {
	int n;
	char **names;
	double *norms;          /* (n) global norms of the written directions */
	double *cosines;        /* (n, n) */
	int n_tensors;
	double seconds;
} PerturbSummary;

/* perturb_compute: every direction into the open store (layout above). 0 ok; -1 with err_set
 * naming the folder/tensor/flag at fault. */
int perturb_compute(H5Store *out, const PerturbOpts *o, PerturbSummary *sum);
void perturb_summary_print(FILE *f, const PerturbSummary *sum);
void perturb_summary_free(PerturbSummary *sum);

#endif
