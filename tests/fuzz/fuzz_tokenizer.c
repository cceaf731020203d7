/* fuzz_tokenizer.c: tokenizer.json bytes -> tokenizer_from_json (data/tokenizer.h).
 *
 * Properties: a refusal carries an error message; a tokenizer that loads encodes a fixed set of
 * texts (ASCII, accents, CJK, emoji, control characters, special-token strings, long runs) with
 * and without the post-processor, every id lies below tokenizer_vocab_size, decoding them
 * (keeping and skipping specials) returns a string of the reported length, invalid UTF-8 is
 * refused with a message, the well-known ids are -1 or inside the vocabulary, id_to_token
 * works on every id, and tokenizer_save writes a file tokenizer_load accepts again.
 * Seeds: the hand-built fixtures of tests/fixtures/tokenizers (one per supported model kind). */
#include "fuzz.h"
#include "tokenizer.h"
#include "util.h"

#include <string.h>

const size_t fuzz_replay_total = 2000;

static const char *const texts[] = {
	"", " ", "Hello world", "Hello, world! It's 2024.\n", "  leading and trailing  ",
	"na\xc3\xafve caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x99\x82 ok",
	"tab\there\r\nnew line\n\n", "<s>", "</s>", "<|endoftext|>", "<unk>", "[UNK]",
	"<|begin_of_text|>hi<|end_of_text|>", "\xe2\x96\x81word", "<0x0A>", "aaaaaaaaaaaaaaaaaaaaaaaa",
	"1234567890 3.14159", "don't we'll I'M", "\x01\x7f",
};

static void check_ids(const Tokenizer *tok, const int32_t *ids, size_t n, size_t vocab)
{
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(ids[i] >= 0 && (size_t)ids[i] < vocab, "id %d outside vocab %zu",
			   (int)ids[i], vocab);
	for (int skip = 0; skip <= 1; skip++) {
		size_t len = (size_t)-1;
		char *s = tokenizer_decode(tok, ids, n, skip, &len);
		FUZZ_CHECK(s != NULL && len != (size_t)-1, "decode returned nothing");
		FUZZ_CHECK(memchr(s, 0, len) || strlen(s) == len, "decode length %zu", len);
		free(s);
	}
}

static void exercise(const Tokenizer *tok)
{
	size_t vocab = tokenizer_vocab_size(tok);
	int32_t known[4] = { tokenizer_bos_id(tok), tokenizer_eos_id(tok), tokenizer_pad_id(tok),
			     tokenizer_unk_id(tok) };
	for (int i = 0; i < 4; i++)
		FUZZ_CHECK(known[i] == -1 || (known[i] >= 0 && (size_t)known[i] < vocab),
			   "special id %d outside vocab %zu", (int)known[i], vocab);
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		for (int add = 0; add <= 1; add++) {
			int32_t *ids = NULL;
			size_t n = 0;
			err_clear();
			if (tokenizer_encode(tok, texts[i], strlen(texts[i]), add, &ids, &n) != 0) {
				FUZZ_CHECK_ERR("tokenizer_encode");   /* WordLevel without unk */
				free(ids);
				continue;
			}
			check_ids(tok, ids, n, vocab);
			free(ids);
		}
	}
	int32_t *ids = NULL;
	size_t n = 0;
	err_clear();
	FUZZ_CHECK(tokenizer_encode(tok, "ab\xc3(", 4, 0, &ids, &n) != 0, "invalid UTF-8 encoded");
	FUZZ_CHECK_ERR("tokenizer_encode of invalid UTF-8");
	free(ids);
	int32_t all[] = { -1, 0, 1, 2, (int32_t)vocab - 1, (int32_t)vocab, INT32_MAX, INT32_MIN };
	size_t n_all = sizeof all / sizeof all[0];
	char *s = tokenizer_decode(tok, all, n_all, 0, NULL);   /* unknown ids are skipped */
	FUZZ_CHECK(s != NULL, "decode of odd ids");
	free(s);
	for (size_t i = 0; i < vocab && i < 4096; i++) {
		const char *t = tokenizer_id_to_token(tok, (int32_t)i);
		if (t)
			FUZZ_CHECK(tokenizer_token_to_id(tok, t) >= 0, "token %zu has no id", i);
		tokenizer_is_special(tok, (int32_t)i);
	}
	FUZZ_CHECK(tokenizer_id_to_token(tok, -1) == NULL, "token for -1");
	FUZZ_CHECK(tokenizer_id_to_token(tok, (int32_t)vocab) == NULL, "token past vocab");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	err_clear();
	Tokenizer *tok = tokenizer_from_json((const char *)data, size, "tokenizer.json");
	if (!tok) {
		FUZZ_CHECK_ERR("tokenizer_from_json");
		return 0;
	}
	exercise(tok);
	char *path = fuzz_path("tokenizer.json");
	err_clear();
	FUZZ_CHECK(tokenizer_save(tok, path) == 0, "tokenizer_save: %s", err_msg());
	Tokenizer *again = tokenizer_load(path);
	FUZZ_CHECK(again != NULL, "saved tokenizer does not load: %s", err_msg());
	FUZZ_CHECK(tokenizer_vocab_size(again) == tokenizer_vocab_size(tok), "vocab size changed");
	tokenizer_free(again);
	free(path);
	tokenizer_free(tok);
	return 0;
}
