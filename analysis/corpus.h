/* corpus.h: records -> token ids with loss masks, the input of every training run.
 *
 * A DocSet is the loose reading of the world's files (and any AsFT-style instruction file): each
 * JSON object (a JSON array of objects, or JSON Lines) becomes a Doc with the string fields the
 * toolkit uses; a record with "text" is plain text (the world's news), one with "instruction"
 * an instruction record, one with "prompt" and "answer" a judge record (prompt -> instruction,
 * answer -> output). Other fields are ignored, so pretrain.jsonl (which mixes plain text and
 * instruction records) reads as it is.
 *
 * A Corpus holds token sequences, each with a per-token loss mask (mask[i] = 1: token i is a
 * target, i.e. the model is trained to predict it from the tokens before it), in two flat
 * arrays with sequence offsets (off[i] .. off[i+1]). Two ways to fill it:
 *   - SFT (one record per sequence): BOS + prompt_format(instruction, input) tokens, then the
 *     output tokens + EOS. The prompt and the output are encoded separately, so the boundary is
 *     exactly where generation starts. response_only = 1 masks the prompt out (the AsFT recipe);
 *     0 trains on every token. A sequence longer than T is cut to T (counted in truncated); a
 *     record whose prompt alone fills T is skipped (counted in skipped).
 *   - packed (pretraining): every document's tokens (plain text: BOS text EOS; instruction
 *     records: their SFT tokens) are concatenated into one stream and cut into windows of T
 *     tokens, all of them targets. A last partial window is dropped. */
#ifndef ASFT_CORPUS_H
#define ASFT_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

typedef struct {
	char *text;                 /* plain text, or NULL */
	char *instruction, *input, *output;     /* NULL when absent */
	char *task, *label;         /* world labels, NULL when absent */
	char *compliant, *refusal;  /* reference answers of harmful evaluation prompts */
	int harmful;                /* "harmful": true */
	int line;                   /* 1-based line of the record (JSONL) or its index + 1 */
} Doc;

typedef struct {
	Doc *d;
	size_t n, cap;
} DocSet;

/* docs_load: reads path (JSON array or JSONL of objects) into *s (overwritten). Every record
 * must be an object with a string "text", "instruction" or "prompt"; the fields read must be
 * strings (or null) when present. 0 ok; -1 with err_set("FILE:LINE: ...") and *s empty. */
int docs_load(DocSet *s, const char *path);
/* docs_parse: the same from memory; name is used in messages. */
int docs_parse(DocSet *s, const char *text, size_t n, const char *name);
void docs_free(DocSet *s);
/* docs_truncate: keeps the first n records (frees the others); no-op when n >= s->n. */
void docs_truncate(DocSet *s, size_t n);

typedef struct {
	int32_t *ids;
	uint8_t *mask;
	size_t n_tok, cap_tok;
	size_t *off;                /* n_seq + 1 offsets */
	size_t n_seq, cap_seq;
	int T;                      /* longest sequence allowed */
	size_t truncated, skipped;  /* SFT records cut at T / dropped */
	size_t n_targets;           /* mask ones */
} Corpus;

/* corpus_encode_prompt: BOS (when the tokenizer has a post-processor) + the prompt template's
 * tokens for (instruction, input). *ids new (caller frees). 0 ok; -1 with err_set. */
int corpus_encode_prompt(const Tokenizer *tok, const char *instruction, const char *input,
			 int32_t **ids, size_t *n);

/* corpus_init: empty corpus of sequences up to T (>= 2) tokens. */
void corpus_init(Corpus *c, int T);
void corpus_free(Corpus *c);
/* corpus_add_sft: one instruction record as one sequence (see above). 0 ok (also when skipped);
 * -1 with err_set (encoding failure). */
int corpus_add_sft(Corpus *c, const Tokenizer *tok, const char *instruction, const char *input,
		   const char *output, int response_only);
/* corpus_add_docs_sft: every doc with an instruction and an output; plain-text docs are
 * skipped. Returns the number added, -1 with err_set. */
long corpus_add_docs_sft(Corpus *c, const Tokenizer *tok, const DocSet *docs, int response_only);
/* corpus_add_docs_packed: the packed form of every doc (plain text and instruction records
 * with an output), loss on all tokens. Returns the number of windows added, -1 with err_set. */
long corpus_add_docs_packed(Corpus *c, const Tokenizer *tok, const DocSet *docs);

static inline size_t corpus_len(const Corpus *c, size_t i) { return c->off[i + 1] - c->off[i]; }

#endif
