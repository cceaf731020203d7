/* tokenizer.h: Hugging Face tokenizer.json, loaded, encoded and decoded exactly as the Rust
 * `tokenizers` library does for the components listed below.
 *
 * Supported (anything else is refused at load time with a message naming the component):
 *   model          BPE (byte-level or SentencePiece-style: byte_fallback, fuse_unk, unk_token,
 *                  ignore_merges, merges as "a b" strings or [a, b] pairs, dropout null),
 *                  WordLevel
 *   normalizer     null, Sequence, Prepend, Replace (String or Regex pattern), Strip; NFC, NFD,
 *                  NFKC, NFKD only for text they leave unchanged (quick check; other text is an
 *                  encode error, never a guess)
 *   pre_tokenizer  null, Sequence, ByteLevel (add_prefix_space, use_regex), Split (String or
 *                  Regex pattern, every behavior, invert), Metaspace (replacement, prepend_scheme
 *                  first/always/never or legacy add_prefix_space, split), Whitespace,
 *                  WhitespaceSplit, Digits, Punctuation
 *   post_processor null, TemplateProcessing (single sequences), ByteLevel (no-op on ids), Sequence
 *   decoder        null (tokens joined by " "), Sequence, ByteLevel, Metaspace, Replace,
 *                  ByteFallback, Fuse, Strip
 *   added_tokens   matched before the model, leftmost-longest, with special, normalized,
 *                  lstrip, rstrip and single_word
 *   truncation and padding must be null (they belong to batching, which callers do).
 * Regexes run on PCRE2 with PCRE2_UTF | PCRE2_UCP (the library uses Oniguruma; the two agree on
 * the GPT-2 / Llama-3 patterns for all Unicode letters, numbers and spaces).
 * Not done: offsets, pairs of sequences, truncation, padding. */
#ifndef ASFT_TOKENIZER_H
#define ASFT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct Tokenizer Tokenizer;

/* tokenizer_load: parses a tokenizer.json file. NULL with err_set (naming the file, the field and
 * the fact) on a malformed file or an unsupported component. Free with tokenizer_free. */
Tokenizer *tokenizer_load(const char *path);
/* tokenizer_from_json: the same from a JSON text of len bytes; name is used in messages. */
Tokenizer *tokenizer_from_json(const char *json, size_t len, const char *name);
void tokenizer_free(Tokenizer *tok);            /* NULL is a no-op */
/* tokenizer_save: writes the JSON the tokenizer was loaded from (pretty-printed) atomically.
 * 0 ok, -1 with err_set. */
int tokenizer_save(const Tokenizer *tok, const char *path);

/* tokenizer_encode: ids of text[0..len) (valid UTF-8, else -1 with err_set); add_special applies
 * the post-processor (e.g. BOS). *ids is a new array (caller frees; may be NULL when *n == 0).
 * 0 ok, -1 with err_set (invalid UTF-8; WordLevel without an unk token for an unknown word;
 * text a Unicode normalizer would change, see above).
 * Thread-safe: a tokenizer is read-only after loading. */
int tokenizer_encode(const Tokenizer *tok, const char *text, size_t len, int add_special,
		     int32_t **ids, size_t *n);
/* tokenizer_decode: the text of ids (unknown ids are skipped, as the library does); special
 * added tokens are dropped when skip_special. Returns a new NUL-terminated string (caller frees);
 * *len (may be NULL) gets its byte length. Never fails. */
char *tokenizer_decode(const Tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
		       size_t *len);

/* token_to_id: the id of a token (added tokens first, then the model vocab), -1 if none. */
int32_t tokenizer_token_to_id(const Tokenizer *tok, const char *token);
/* id_to_token: the token string of id (owned by tok), NULL if the id is unused. */
const char *tokenizer_id_to_token(const Tokenizer *tok, int32_t id);
/* vocab_size: 1 + the largest id of the model vocab and the added tokens (the number of
 * embedding rows a model needs). */
size_t tokenizer_vocab_size(const Tokenizer *tok);
int tokenizer_is_special(const Tokenizer *tok, int32_t id);   /* a special added token */
/* Well-known ids, -1 if unknown. BOS / EOS come from the TemplateProcessing special tokens
 * around the sequence when there is one, else from the tokens named <s> </s>
 * <|begin_of_text|> <|end_of_text|> <|endoftext|> <bos> <eos>; PAD from <pad> <|pad|> [PAD];
 * UNK from the model's unk_token. */
int32_t tokenizer_bos_id(const Tokenizer *tok);
int32_t tokenizer_eos_id(const Tokenizer *tok);
int32_t tokenizer_pad_id(const Tokenizer *tok);
int32_t tokenizer_unk_id(const Tokenizer *tok);

/* The GPT-2 byte-to-unicode map (bytes_to_unicode): the code point that stands for byte b in
 * byte-level vocabularies. Printable Latin-1 bytes map to themselves, the others to 256+k. */
uint32_t tokenizer_byte_char(uint8_t b);
/* The GPT-2 pre-tokenizer pattern used by ByteLevel with use_regex true. */
extern const char tokenizer_gpt2_pattern[];

#endif
