/* fuzz_tokenizer_text.c: the TEXT given to tokenizer_encode, with fixed good tokenizers.
 *
 * Input: byte 0 picks one of the fixtures of tests/fixtures/tokenizers (loaded once, from the
 * project root where make test and make fuzz run), the rest is the text.
 * Properties: invalid UTF-8 is refused with a message; valid text encodes (WordLevel too: the
 * fixture has an unk token) to ids below the vocabulary size, with and without specials; for
 * the two byte-level tokenizers (GPT-2 and Llama-3 style: no normalizer, ByteLevel decoder)
 * decode(encode(s)) == s byte for byte, as with the Rust library. The SentencePiece-style ones
 * are not lossless by design (unknown characters, the leading-space rule), so for them only
 * decoding is exercised. */
#include "fuzz.h"
#include "tokenizer.h"
#include "util.h"

#include <string.h>

const size_t fuzz_replay_total = 4000;

static const struct {
	const char *file;
	int lossless;
} fixtures[] = {
	{ "tests/fixtures/tokenizers/gpt2_like.json", 1 },
	{ "tests/fixtures/tokenizers/llama3_like.json", 1 },
	{ "tests/fixtures/tokenizers/llama2_like.json", 0 },
	{ "tests/fixtures/tokenizers/metaspace_like.json", 0 },
	{ "tests/fixtures/tokenizers/wordlevel.json", 0 },
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static Tokenizer *toks[N_FIXTURES];

static Tokenizer *get(size_t k)
{
	if (!toks[k]) {
		toks[k] = tokenizer_load(fixtures[k].file);
		FUZZ_CHECK(toks[k] != NULL, "fixture %s: %s (run from the project root)",
			   fixtures[k].file, err_msg());
	}
	return toks[k];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t k = data[0] % N_FIXTURES;
	const Tokenizer *tok = get(k);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	int valid = utf8_check(text, len, NULL) == 0;
	size_t vocab = tokenizer_vocab_size(tok);

	for (int add = 0; add <= 1; add++) {
		int32_t *ids = NULL;
		size_t n = 0;
		err_clear();
		int rc = tokenizer_encode(tok, text, len, add, &ids, &n);
		if (!valid) {
			FUZZ_CHECK(rc != 0, "%s: invalid UTF-8 encoded", fixtures[k].file);
			FUZZ_CHECK_ERR("tokenizer_encode");
			free(ids);
			return 0;
		}
		FUZZ_CHECK(rc == 0, "%s: encode of valid UTF-8 failed: %s", fixtures[k].file,
			   err_msg());
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(ids[i] >= 0 && (size_t)ids[i] < vocab, "id %d", (int)ids[i]);
		size_t out_len = 0;
		char *out = tokenizer_decode(tok, ids, n, 0, &out_len);
		FUZZ_CHECK(out != NULL, "decode returned NULL");
		if (fixtures[k].lossless && !add)
			FUZZ_CHECK(out_len == len && !memcmp(out, text, len),
				   "%s: decode(encode(s)) != s: %zu bytes in, %zu out: \"%.*s\" -> \"%s\"",
				   fixtures[k].file, len, out_len, (int)len, text, out);
		free(out);
		out = tokenizer_decode(tok, ids, n, 1, NULL);
		free(out);
		free(ids);
	}
	return 0;
}
