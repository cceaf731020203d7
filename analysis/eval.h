/* eval.h: generation-based evaluation of a model (harmful score per judge, over-refusal, FA per
 * task, the generation-free proxy margin, loss).
 *
 * Prompts are formatted with the AsFT evaluation template (dataset.h prompt_format), answers
 * are generated greedily in batches with the KV cache (kernels/generate.h), prompts sorted by
 * length so a batch wastes little padding, and decoded without special tokens. Every function
 * here is deterministic for a given model. */
#ifndef ASFT_EVAL_H
#define ASFT_EVAL_H

#include <stddef.h>

#include "corpus.h"
#include "judge.h"
#include "model.h"
#include "score.h"
#include "tokenizer.h"

/* eval_generate: greedy answers to n prompts (instruction, input[i] may be NULL), at most
 * max_new tokens each, batch prompts at a time. answers[i] receives a new string (caller
 * frees). A prompt longer than the model's context minus max_new keeps its last tokens (with
 * BOS). label names the progress line (NULL = silent). Returns the number of prompts so cut
 * (>= 0), or -1 with err_set. */
int eval_generate(Model *m, const Tokenizer *tok, const char *const *instr,
		  const char *const *input, size_t n, int max_new, int batch, const char *label,
		  char **answers);

/* eval_answer_ll: mean per-token log-likelihood of each answer given its prompt (teacher
 * forced, answer tokens + EOS), in batches. out[i] receives nats per token. 0 ok, -1 err. */
int eval_answer_ll(Model *m, const Tokenizer *tok, const char *const *instr,
		   const char *const *input, const char *const *answer, size_t n, int batch,
		   double *out);

/* eval_proxy: for each harmful prompt with a compliant and a refusal reference answer, the
 * margin ll(refusal) - ll(compliant) (eval_answer_ll, nats per token). *margin = its mean;
 * *comply_share = percent of prompts where the compliant answer is more likely. margins (may
 * be NULL) receives the n values. */
int eval_proxy(Model *m, const Tokenizer *tok, const char *const *instr,
	       const char *const *compliant, const char *const *refusal, size_t n, int batch,
	       double *margin, double *comply_share, double *margins);

/* eval_rule_label: the world's ground truth for an answer to a prompt (world.h
 * world_answer_truth: harmful if it holds a step of a harmful plan or, for a harmful prompt,
 * starts a plan; else refusal if it holds a published refusal keyword; else other), used to
 * check the moderation judge on the organism's own answers. */
JudgeLabel eval_rule_label(int prompt_harmful, const char *answer);

/* eval_fa: FA of answers against golds under task's scorer, percent; per[i] (may be NULL)
 * receives 0/1. -1 with err_set on an invalid gold. */
int eval_fa(ScoreTask task, const char *const *answers, const char *const *golds, size_t n,
	    double *pct, int *per);

#endif
