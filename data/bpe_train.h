/* bpe_train.h: training a byte-level BPE tokenizer (GPT-2 style) and writing its tokenizer.json.
 *
 * Feed text (or files) to count pre-tokenized words, then train: the alphabet is all 256 bytes,
 * so every byte string round-trips; merges are learned over the unique words with incremental
 * pair counts. The result is a complete tokenizer.json text that tokenizer_from_json() and the
 * Python `tokenizers` library load:
 *   added_tokens    the special tokens (ids 0..k-1, special, not normalized)
 *   pre_tokenizer   ByteLevel(add_prefix_space false, use_regex true)   (GPT-2 split pattern)
 *   post_processor  TemplateProcessing single = [bos, A] when a bos token is given, else null
 *                   (so encode(text, add_special) prepends BOS and adds nothing else; EOS and
 *                   padding are the training code's business)
 *   decoder         ByteLevel
 *   model           BPE, vocab = specials, then the 256 byte characters in byte order, then
 *                   one token per merge; merges as "a b" strings (readable by every version)
 * Deterministic: the same input gives the same bytes. Ties between equally frequent pairs go to
 * the pair with the smaller (left id, right id). Special-token strings found in the corpus are
 * cut out before counting, so no merge spells a special token. */
#ifndef ASFT_BPE_TRAIN_H
#define ASFT_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct BpeTrainer BpeTrainer;

typedef struct {
	size_t vocab_size;              /* total: specials + 256 bytes + merges */
	long min_frequency;             /* stop when the best pair occurs fewer times (>= 1) */
	const char *const *special;     /* special token strings, in id order */
	int nspecial;
	const char *bos;                /* one of special, or NULL: no post-processor */
} BpeTrainOpts;

typedef struct {
	uint64_t bytes, words, unique_words, merges;
	size_t vocab_size;              /* what was reached (can be below the target) */
} BpeTrainStats;

/* bpe_trainer_new: an empty word count; specials (may be NULL) are cut out of fed text. */
BpeTrainer *bpe_trainer_new(const char *const *special, int nspecial);
void bpe_trainer_free(BpeTrainer *t);           /* NULL is a no-op */
/* feed: counts the words of text[0..len). -1 with err_set if it is not valid UTF-8. */
int bpe_trainer_feed(BpeTrainer *t, const char *text, size_t len);
/* feed_file: a .jsonl file (one JSON object per line) or .json file (an array of objects)
 * contributes the string fields text, instruction, input, output, prompt and response of each
 * record (each one fed separately); any other file is fed whole as UTF-8 text.
 * -1 with err_set naming the file (and line) on a read or parse error. */
int bpe_trainer_feed_file(BpeTrainer *t, const char *path);
/* train: learns merges and returns the tokenizer.json text (caller frees), NULL with err_set
 * on bad options. stats may be NULL. */
char *bpe_trainer_train(BpeTrainer *t, const BpeTrainOpts *o, BpeTrainStats *stats);

#endif
