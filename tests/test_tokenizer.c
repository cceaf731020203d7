/* test_tokenizer.c: tokenizer.json loading, encoding and decoding against ids derived by hand
 * from the format's rules, every load-time refusal, round trips, and the BPE trainer.
 *
 * Fixtures (tests/fixtures/tokenizers/, written by tests/tok_fixtures.py):
 *   gpt2_like      byte-level BPE; ids 0..255 are the bytes' stand-in characters (id = byte),
 *                  merges (rank: pair -> id): 0 Ġ t->256 Ġt, 1 h e->257 he, 2 Ġt he->258 Ġthe,
 *                  3 l l->259 ll, 4 e ll->260 ell, 5 Ġ a->261 Ġa, 6 a a->262 aa, 7 1 2->263 12,
 *                  8 12 3->264 123, 9 Ġ Ġ->265 ĠĠ; <|endoftext|> = 266 (special)
 *   llama2_like    <unk>=0 <s>=1 </s>=2, <0x00>..<0xFF> = 3..258, ▁=259 a=260 b=261 c=262
 *                  ▁a=263 ab=264 ▁ab=265 é=266 日=267; merges 0 ▁ a, 1 a b, 2 ▁a b;
 *                  normalizer Prepend(▁)+Replace(' '->▁), byte_fallback, fuse_unk,
 *                  TemplateProcessing [<s>, A], decoder Replace/ByteFallback/Fuse/Strip
 *   metaspace_like the same model with a Metaspace(prepend_scheme first, split false)
 *                  pre-tokenizer and decoder, no normalizer, no post-processor
 *   wordlevel      WordLevel + Whitespace: [UNK]=0 hello=1 world=2 !=3 it=4 '=5 s=6 café=7
 *                  日本=8 ?!=9
 *   llama3_like    Split(Llama-3 regex, Isolated) + ByteLevel(no regex), ignore_merges;
 *                  bytes = ids 0..255, ab=256 abc=257 12=258 <|begin_of_text|>=259,
 *                  merge a b; post Sequence[ByteLevel, Template[<|begin_of_text|>, A]] */
#include "bpe_train.h"
#include "harness.h"
#include "rng.h"
#include "tokenizer.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIX "tests/fixtures/tokenizers/"

static Tokenizer *load(const char *name)
{
	char *path = xasprintf(FIX "%s", name);
	Tokenizer *t = tokenizer_load(path);
	if (!t)
		fprintf(stderr, "load %s: %s\n", path, err_msg());
	free(path);
	return t;
}

/* enc_is: encode(text) == the n expected ids (n < 0 ends the list). */
static int enc_eq(const Tokenizer *t, const char *text, int special, const int32_t *want, size_t n)
{
	int32_t *ids = NULL;
	size_t got = 0;
	if (tokenizer_encode(t, text, strlen(text), special, &ids, &got) < 0) {
		fprintf(stderr, "     encode('%s') failed: %s\n", text, err_msg());
		return 0;
	}
	int ok = got == n && (n == 0 || memcmp(ids, want, n * sizeof(int32_t)) == 0);
	if (!ok) {
		fprintf(stderr, "     encode('%s') = [", text);
		for (size_t i = 0; i < got; i++)
			fprintf(stderr, "%s%d", i ? "," : "", ids[i]);
		fprintf(stderr, "]\n");
	}
	free(ids);
	return ok;
}

#define ENC(t, text, special, ...) do { \
	const int32_t want_[] = {__VA_ARGS__}; \
	CHECK(enc_eq(t, text, special, want_ + 1, sizeof(want_) / sizeof(want_[0]) - 1)); \
} while (0)
/* ENC(t, text, special, -1, ids...): the leading -1 keeps the list non-empty in C. */

static char *dec(const Tokenizer *t, const int32_t *ids, size_t n, int skip)
{
	return tokenizer_decode(t, ids, n, skip, NULL);
}

#define DEC(t, skip, want, ...) do { \
	const int32_t ids_[] = {__VA_ARGS__}; \
	char *s_ = dec(t, ids_ + 1, sizeof(ids_) / sizeof(ids_[0]) - 1, skip); \
	CHECK_STR(s_, want); \
	free(s_); \
} while (0)

static void test_gpt2_like(void)
{
	Tokenizer *t = load("gpt2_like.json");
	CHECK(t != NULL);
	if (!t)
		return;
	/* "hello": h e l l o -> (h,e) rank 1 -> he l l o -> (l,l) rank 3 -> he ll o; (e,ll) can no
	 * longer apply. " world": Ġ w o r l d has no merge. */
	ENC(t, "hello world", 1, -1, 257, 259, 111, 32, 119, 111, 114, 108, 100);
	/* "the": t he (no (t,he) merge); " the": (Ġ,t) rank 0, (h,e) rank 1, (Ġt,he) rank 2 */
	ENC(t, "the the", 1, -1, 116, 257, 258);
	/* three spaces before a letter: \s+(?!\S) takes two, " b" takes the third */
	ENC(t, "a   b", 1, -1, 97, 265, 32, 98);
	/* tab then newline before a letter: "\t" by \s+(?!\S), "\n" by \s+ */
	ENC(t, "a\t\nb", 1, -1, 97, 9, 10, 98);
	/* trailing whitespace stays one piece: Ġ Ċ */
	ENC(t, "a \n", 1, -1, 97, 32, 10);
	/* digits: " 123" -> Ġ 1 2 3 -> Ġ 12 3 -> Ġ 123; " 1234" -> Ġ 123 4 */
	ENC(t, "x 123 1234", 1, -1, 120, 32, 264, 32, 264, 52);
	ENC(t, "Hi!!", 1, -1, 72, 105, 33, 33);
	ENC(t, "it's", 1, -1, 105, 116, 39, 115);                /* 's is its own piece */
	ENC(t, "caf\xC3\xA9", 1, -1, 99, 97, 102, 195, 169);     /* é is a letter: one piece */
	ENC(t, "\xE6\x97\xA5\xE6\x9C\xAC", 1, -1, 230, 151, 165, 230, 156, 172);   /* 日本 */
	ENC(t, "ok \xF0\x9F\x91\x8D", 1, -1, 111, 107, 32, 240, 159, 145, 141);  /* 👍 with space */
	/* the special token inside text is the token, on both sides plain text */
	ENC(t, "a<|endoftext|>the", 1, -1, 97, 266, 116, 257);
	ENC(t, "", 1, -1);
	ENC(t, "aaa", 1, -1, 262, 97);          /* equal ranks: the leftmost pair first */
	ENC(t, " a", 1, -1, 261);
	ENC(t, "bell", 1, -1, 98, 260);         /* l l (3) then e ll (4) */
	ENC(t, "\x01\x7f", 1, -1, 1, 127);      /* control characters are bytes like any other */

	DEC(t, 0, "hello world", -1, 257, 259, 111, 32, 119, 111, 114, 108, 100);
	DEC(t, 0, "\xEF\xBF\xBD", -1, 230, 151);            /* a cut UTF-8 sequence: one U+FFFD */
	DEC(t, 0, "\xEF\xBF\xBD" "a", -1, 195, 97);
	DEC(t, 0, "\xEF\xBF\xBD\xEF\xBF\xBD", -1, 255, 128);  /* two invalid bytes: two U+FFFD */
	DEC(t, 0, "a<|endoftext|>", -1, 97, 266);
	DEC(t, 1, "a", -1, 97, 266);
	DEC(t, 0, "a", -1, 999999, 97, -5);                  /* unknown ids are skipped */
	DEC(t, 0, "", -1);

	CHECK_INT(tokenizer_vocab_size(t), 267);
	CHECK_INT(tokenizer_token_to_id(t, "<|endoftext|>"), 266);
	CHECK_INT(tokenizer_token_to_id(t, "\xC4\xA0the"), 258);   /* Ġthe */
	CHECK_INT(tokenizer_token_to_id(t, "nope"), -1);
	CHECK_STR(tokenizer_id_to_token(t, 257), "he");
	CHECK(tokenizer_id_to_token(t, 267) == NULL);
	CHECK(tokenizer_id_to_token(t, -1) == NULL);
	CHECK(tokenizer_is_special(t, 266));
	CHECK(!tokenizer_is_special(t, 97));
	CHECK_INT(tokenizer_bos_id(t), 266);    /* GPT-2 uses <|endoftext|> for both */
	CHECK_INT(tokenizer_eos_id(t), 266);
	CHECK_INT(tokenizer_pad_id(t), -1);
	CHECK_INT(tokenizer_unk_id(t), -1);
	CHECK_INT(tokenizer_byte_char(' '), 0x120);
	CHECK_INT(tokenizer_byte_char('\n'), 0x10A);
	CHECK_INT(tokenizer_byte_char('A'), 'A');
	CHECK_INT(tokenizer_byte_char(0xAD), 0x143);

	/* invalid UTF-8 is refused, not guessed at */
	int32_t *ids = NULL;
	size_t n = 0;
	CHECK_INT(tokenizer_encode(t, "a\xFFz", 3, 1, &ids, &n), -1);
	CHECK_CONTAINS(err_msg(), "not valid UTF-8 at byte 1");
	CHECK(ids == NULL && n == 0);
	/* long whitespace and a long word go through the regex and the merge heap */
	size_t big = 200000;
	char *s = xmalloc(big + 2);
	memset(s, ' ', big);
	s[big] = 'x';
	s[big + 1] = 0;
	CHECK_INT(tokenizer_encode(t, s, big + 1, 0, &ids, &n), 0);
	/* big-1 spaces pair up into ĠĠ (big-1 is odd: one Ġ left), then " x" */
	CHECK_INT(n, (big - 1) / 2 + 1 + 2);
	CHECK_INT(ids[0], 265);
	free(ids);
	memset(s, 'a', big);
	CHECK_INT(tokenizer_encode(t, s, big, 0, &ids, &n), 0);
	CHECK_INT(n, big / 2);
	CHECK_INT(ids[n - 1], 262);
	free(ids);
	free(s);
	tokenizer_free(t);
}

static void test_llama2_like(void)
{
	Tokenizer *t = load("llama2_like.json");
	CHECK(t != NULL);
	if (!t)
		return;
	ENC(t, "ab", 1, -1, 1, 265);                    /* ▁ab: (▁,a) then (▁a,b) */
	ENC(t, "ab", 0, -1, 265);
	ENC(t, "ab c", 1, -1, 1, 265, 259, 262);        /* ▁ab▁c: no (▁,c) merge */
	ENC(t, "\xC3\xA9", 1, -1, 1, 259, 266);        /* é is in the vocab */
	/* ü (C3 BC) is not: byte fallback to <0xC3>=198 <0xBC>=191 */
	ENC(t, "\xC3\xBC", 1, -1, 1, 259, 198, 191);
	/* 日 in the vocab, 本 (E6 9C AC) by bytes 233 159 175 */
	ENC(t, "\xE6\x97\xA5\xE6\x9C\xAC", 1, -1, 1, 259, 267, 233, 159, 175);
	ENC(t, "a\tb", 1, -1, 1, 263, 12, 261);         /* tab is <0x09> = 12 */
	/* the special token splits the text first; each piece gets its own ▁ (legacy Llama-2) */
	ENC(t, "ab</s>ab", 1, -1, 1, 265, 2, 265);
	ENC(t, "<s>", 0, -1, 1);
	ENC(t, "", 1, -1, 1);
	ENC(t, "", 0, -1);
	ENC(t, "a  b", 1, -1, 1, 263, 259, 259, 261);

	DEC(t, 0, "<s> ab c", -1, 1, 265, 259, 262);
	DEC(t, 1, "ab c", -1, 1, 265, 259, 262);
	DEC(t, 0, "\xC3\xBC", -1, 259, 198, 191);       /* bytes joined back into ü */
	DEC(t, 0, "\xEF\xBF\xBD" "a", -1, 198, 260);    /* a lone lead byte: U+FFFD per byte */
	DEC(t, 0, "\xEF\xBF\xBD\xEF\xBF\xBD", -1, 233, 159);
	DEC(t, 0, "<s> \xE6\x97\xA5\xE6\x9C\xAC", -1, 1, 259, 267, 233, 159, 175);
	DEC(t, 1, "a  b", -1, 1, 263, 259, 259, 261);

	CHECK_INT(tokenizer_bos_id(t), 1);
	CHECK_INT(tokenizer_eos_id(t), 2);
	CHECK_INT(tokenizer_unk_id(t), 0);
	CHECK_INT(tokenizer_vocab_size(t), 268);
	/* a 10k-character word (no pre-tokenizer) through the merge heap: ▁ab then ab ab ... */
	size_t reps = 5000;
	char *s = xmalloc(2 * reps + 1);
	for (size_t i = 0; i < reps; i++)
		memcpy(s + 2 * i, "ab", 2);
	s[2 * reps] = 0;
	int32_t *ids;
	size_t n;
	CHECK_INT(tokenizer_encode(t, s, 2 * reps, 0, &ids, &n), 0);
	CHECK_INT(n, reps);
	CHECK_INT(ids[0], 265);
	CHECK_INT(ids[n - 1], 264);
	free(ids);
	free(s);
	tokenizer_free(t);
}

static void test_metaspace_like(void)
{
	Tokenizer *t = load("metaspace_like.json");
	CHECK(t != NULL);
	if (!t)
		return;
	ENC(t, "ab c", 1, -1, 265, 259, 262);           /* no post-processor: no BOS */
	/* prepend_scheme first: only the piece at offset 0 gets ▁; "ab" after </s> is a b -> ab */
	ENC(t, "ab</s>ab", 1, -1, 265, 2, 264);
	ENC(t, "a  b", 1, -1, 263, 259, 259, 261);
	ENC(t, " ab", 1, -1, 265);                      /* already starts with ▁: none added */
	DEC(t, 0, "ab c", -1, 265, 259, 262);           /* every ▁ of the first token dropped */
	DEC(t, 0, " ", -1, 259, 259);
	DEC(t, 0, "ab</s>ab", -1, 265, 2, 264);
	tokenizer_free(t);
}

static void test_wordlevel(void)
{
	Tokenizer *t = load("wordlevel.json");
	CHECK(t != NULL);
	if (!t)
		return;
	ENC(t, "hello world!", 1, -1, 1, 2, 3);
	ENC(t, "it's", 1, -1, 4, 5, 6);                 /* \w+ | [^\w\s]+ */
	ENC(t, "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC", 1, -1, 7, 8);   /* Unicode \w */
	ENC(t, "hello?! xyz", 1, -1, 1, 9, 0);          /* unknown word -> [UNK] */
	ENC(t, "  \t\n ", 1, -1);
	ENC(t, "[UNK]", 1, -1, 0);                      /* the added token itself */
	/* \w as the Rust regex crate has it: a combining mark stays in the word, a superscript
	 * digit (No, not Nd) does not */
	ENC(t, "e\xCC\x81", 1, -1, 0);
	ENC(t, "x\xC2\xB2", 1, -1, 0, 0);
	DEC(t, 0, "hello world !", -1, 1, 2, 3);        /* no decoder: joined by spaces */
	DEC(t, 1, "hello", -1, 0, 1);
	tokenizer_free(t);
}

static void test_llama3_like(void)
{
	Tokenizer *t = load("llama3_like.json");
	CHECK(t != NULL);
	if (!t)
		return;
	ENC(t, "abc", 1, -1, 259, 257);                 /* ignore_merges: the word is in the vocab */
	ENC(t, "abcd", 1, -1, 259, 256, 99, 100);       /* not: merges a b */
	ENC(t, "12 345", 1, -1, 259, 258, 32, 51, 52, 53);
	ENC(t, "12345", 0, -1, 49, 50, 51, 52, 53);     /* \p{N}{1,3}: 123 | 45 */
	ENC(t, "IT'S", 0, -1, 73, 84, 39, 83);          /* (?i:'s) */
	ENC(t, " hi\n\n x", 0, -1, 32, 104, 105, 10, 10, 32, 120);
	DEC(t, 0, "<|begin_of_text|>abc", -1, 259, 257);
	DEC(t, 1, "abc", -1, 259, 257);
	CHECK_INT(tokenizer_bos_id(t), 259);
	CHECK_INT(tokenizer_eos_id(t), 260);            /* by name: <|end_of_text|> */
	tokenizer_free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* Variants of the fixtures, edited in memory. */

static char *fixture_text(const char *name)
{
	char *path = xasprintf(FIX "%s", name);
	char *s = file_read_all(path, NULL);
	free(path);
	return s;
}

/* Replaces the first `from` in s (freed) by `to`; CHECKs that it was there. */
static char *edit(char *s, const char *from, const char *to)
{
	char *p = s ? strstr(s, from) : NULL;
	CHECK(p != NULL);
	if (!p)
		return s;
	char *r = xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	free(s);
	return r;
}

static Tokenizer *from_text(char *s)
{
	Tokenizer *t = s ? tokenizer_from_json(s, strlen(s), "variant.json") : NULL;
	if (!t)
		fprintf(stderr, "variant: %s\n", err_msg());
	free(s);
	return t;
}

static void test_variants(void)
{
	/* without byte_fallback, unknown characters become <unk>, fused when consecutive */
	Tokenizer *t = from_text(edit(fixture_text("llama2_like.json"), "\"byte_fallback\": true",
				      "\"byte_fallback\": false"));
	if (t) {
		ENC(t, "\xC3\xBC\xC3\xBC" "a", 0, -1, 259, 0, 260);
		ENC(t, "x", 0, -1, 259, 0);
		tokenizer_free(t);
	}
	char *s = edit(fixture_text("llama2_like.json"), "\"byte_fallback\": true",
		       "\"byte_fallback\": false");
	t = from_text(edit(s, "\"fuse_unk\": true", "\"fuse_unk\": false"));
	if (t) {
		ENC(t, "\xC3\xBC\xC3\xBC" "a", 0, -1, 259, 0, 0, 260);
		tokenizer_free(t);
	}
	/* no unk token either: the library drops the character, and ▁ a then merge */
	s = edit(fixture_text("llama2_like.json"), "\"byte_fallback\": true", "\"byte_fallback\": false");
	t = from_text(edit(s, "\"unk_token\": \"<unk>\"", "\"unk_token\": null"));
	if (t) {
		ENC(t, "x" "a", 0, -1, 263);
		tokenizer_free(t);
	}
	/* Metaspace variants: always prepends after a special token; split cuts at each ▁ */
	t = from_text(edit(fixture_text("metaspace_like.json"), "\"prepend_scheme\": \"first\"",
			   "\"prepend_scheme\": \"always\""));
	if (t) {
		ENC(t, "ab</s>ab", 0, -1, 265, 2, 265);
		tokenizer_free(t);
	}
	t = from_text(edit(fixture_text("metaspace_like.json"), "\"prepend_scheme\": \"first\"",
			   "\"prepend_scheme\": \"never\""));
	if (t) {
		ENC(t, "ab c", 0, -1, 264, 259, 262);
		tokenizer_free(t);
	}
	s = edit(fixture_text("metaspace_like.json"), "\"split\": false", "\"split\": true");
	t = from_text(s);
	if (t) {
		/* ▁a▁▁b -> ▁a | ▁ | ▁b; no merge joins ▁ and b */
		ENC(t, "a  b", 0, -1, 263, 259, 259, 261);
		ENC(t, "ab ab", 0, -1, 265, 265);
		tokenizer_free(t);
	}
	/* legacy decoder field add_prefix_space false = never: the first ▁ becomes a space */
	s = edit(fixture_text("metaspace_like.json"),
		 "\"type\": \"Metaspace\",\n  \"replacement\": \"\xE2\x96\x81\",\n  \"prepend_scheme\": \"first\",\n  \"split\": false\n },\n \"model\"",
		 "\"type\": \"Metaspace\",\n  \"replacement\": \"\xE2\x96\x81\",\n  \"add_prefix_space\": false\n },\n \"model\"");
	t = from_text(s);
	if (t) {
		DEC(t, 0, " ab c", -1, 265, 259, 262);
		tokenizer_free(t);
	}
	/* added-token options: lstrip / rstrip swallow the spaces around, single_word needs
	 * non-word neighbours */
	t = from_text(edit(fixture_text("gpt2_like.json"), "\"lstrip\": false", "\"lstrip\": true"));
	if (t) {
		ENC(t, "a <|endoftext|> the", 0, -1, 97, 266, 258);
		tokenizer_free(t);
	}
	s = edit(fixture_text("gpt2_like.json"), "\"lstrip\": false", "\"lstrip\": true");
	t = from_text(edit(s, "\"rstrip\": false", "\"rstrip\": true"));
	if (t) {
		ENC(t, "a <|endoftext|> the", 0, -1, 97, 266, 116, 257);
		tokenizer_free(t);
	}
	t = from_text(edit(fixture_text("gpt2_like.json"), "\"single_word\": false",
			   "\"single_word\": true"));
	if (t) {
		ENC(t, "a <|endoftext|>", 0, -1, 97, 32, 266);
		ENC(t, "a<|endoftext|>the", 0, -1, 97, 60, 124, 101, 110, 100, 111, 102, 116, 101,
		    120, 116, 124, 62, 116, 257);
		tokenizer_free(t);
	}
	t = load("gpt2_like.json");
	if (t) {
		ENC(t, "a <|endoftext|> the", 0, -1, 97, 32, 266, 258);
		tokenizer_free(t);
	}
	/* a normalized added token is matched in normalized text: "ab c" -> ▁ab▁c */
	t = from_text(edit(fixture_text("llama2_like.json"), "\"added_tokens\": [",
			   "\"added_tokens\": [{\"id\": 268, \"content\": \"ab c\", \"single_word\": "
			   "false, \"lstrip\": false, \"rstrip\": false, \"normalized\": true, "
			   "\"special\": false},"));
	if (t) {
		ENC(t, "ab c", 1, -1, 1, 268);
		ENC(t, "x ab c", 1, -1, 1, 259, 123, 268);      /* ▁x | ▁ab▁c; x = <0x78> */
		ENC(t, "xab c", 1, -1, 1, 259, 123, 264, 259, 262);
		CHECK_INT(tokenizer_vocab_size(t), 269);
		DEC(t, 0, "ab c", -1, 268);
		tokenizer_free(t);
	}
	/* WordLevel without its unk token: an unknown word is an error, as in the library */
	t = from_text(edit(fixture_text("wordlevel.json"), "\"unk_token\": \"[UNK]\"",
			   "\"unk_token\": \"<nope>\""));
	if (t) {
		int32_t *ids;
		size_t n;
		CHECK_INT(tokenizer_encode(t, "hello xyz", 9, 0, &ids, &n), -1);
		CHECK_CONTAINS(err_msg(), "'xyz' is not in the vocab");
		ENC(t, "hello", 0, -1, 1);
		tokenizer_free(t);
	}
	/* merges as [a, b] pairs and as "a b" strings load the same model */
	Tokenizer *pairs = load("llama2_like.json"), *strs = load("metaspace_like.json");
	if (pairs && strs) {
		ENC(pairs, "ab", 0, -1, 265);
		ENC(strs, "ab", 0, -1, 265);
	}
	tokenizer_free(pairs);
	tokenizer_free(strs);
}

/* Split behaviours on "a-b--c" with the literal "-" (normalizer.rs split). */
static void test_split_behaviors(void)
{
	static const struct {
		const char *behavior;
		int invert;
		int32_t ids[8];
		size_t n;
	} cases[] = {
		{"Removed", 0, {1, 2, 3}, 3},
		{"Isolated", 0, {1, 4, 2, 4, 4, 3}, 6},
		{"MergedWithPrevious", 0, {5, 6, 4, 3}, 4},        /* a- b- - c */
		{"MergedWithNext", 0, {1, 7, 4, 8}, 4},            /* a -b - -c */
		{"Contiguous", 0, {1, 4, 2, 9, 3}, 5},             /* a - b -- c */
		{"Removed", 1, {4, 4, 4}, 3},                      /* invert: keep the matches */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *json = xasprintf(
			"{\"added_tokens\": [], \"normalizer\": null, \"pre_tokenizer\": {\"type\": "
			"\"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": \"%s\", \"invert\": "
			"%s}, \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"unk_token\": "
			"\"[UNK]\", \"vocab\": {\"[UNK]\": 0, \"a\": 1, \"b\": 2, \"c\": 3, \"-\": 4, "
			"\"a-\": 5, \"b-\": 6, \"-b\": 7, \"-c\": 8, \"--\": 9}}}",
			cases[i].behavior, cases[i].invert ? "true" : "false");
		Tokenizer *t = from_text(json);
		CHECK(t != NULL);
		if (!t)
			continue;
		if (!enc_eq(t, "a-b--c", 0, cases[i].ids, cases[i].n))
			fprintf(stderr, "     behavior %s invert %d\n", cases[i].behavior, cases[i].invert);
		CHECK(enc_eq(t, "a-b--c", 0, cases[i].ids, cases[i].n));
		tokenizer_free(t);
	}
	/* a Regex pattern and a Replace normalizer with a Regex */
	Tokenizer *t = from_text(xstrdup(
		"{\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"[0-9]+\"}, "
		"\"content\": \"#\"}, \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": "
		"\"\\\\s+\"}, \"behavior\": \"Removed\", \"invert\": false}, \"model\": {\"type\": "
		"\"WordLevel\", \"unk_token\": \"[UNK]\", \"vocab\": {\"[UNK]\": 0, \"a#\": 1, "
		"\"#\": 2}}}"));
	CHECK(t != NULL);
	if (t) {
		ENC(t, "a12  345\t", 0, -1, 1, 2);
		tokenizer_free(t);
	}
	/* Digits (runs or single digits), Punctuation (one mark at a time), Strip normalizer */
	t = from_text(xstrdup(
		"{\"normalizer\": {\"type\": \"Strip\", \"strip_left\": true, \"strip_right\": "
		"false}, \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": "
		"\"WhitespaceSplit\"}, {\"type\": \"Digits\", \"individual_digits\": false}, {\"type\": "
		"\"Punctuation\"}]}, \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"?\", "
		"\"vocab\": {\"?\": 0, \"ab\": 1, \"12\": 2, \"3\": 3, \"!\": 4, \"$\": 5, "
		"\"\xE3\x80\x82\": 6, \"x\": 7}}}"));
	CHECK(t != NULL);
	if (t) {
		/* " ab12!$x 3。" -> ab | 12 | ! | $ | x | 3 | 。 (。 is Po) */
		ENC(t, " \tab12!$x 3\xE3\x80\x82", 0, -1, 1, 2, 4, 5, 7, 3, 6);
		tokenizer_free(t);
	}
	t = from_text(xstrdup(
		"{\"normalizer\": {\"type\": \"Strip\", \"strip_left\": false, \"strip_right\": "
		"true}, \"pre_tokenizer\": {\"type\": \"Digits\", \"individual_digits\": true}, "
		"\"model\": {\"type\": \"WordLevel\", \"unk_token\": \"?\", \"vocab\": {\"?\": 0, "
		"\"1\": 1, \"2\": 2, \" a\": 3}}}"));
	CHECK(t != NULL);
	if (t) {
		ENC(t, " a12 \n", 0, -1, 3, 1, 2);
		tokenizer_free(t);
	}
	/* Unicode normalizers: text they leave unchanged passes (quick check), other text is an
	 * encode error naming the code point, never a guess */
	static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD"};
	for (int f = 0; f < 4; f++) {
		char *j = xasprintf("{\"normalizer\": {\"type\": \"%s\"}, \"pre_tokenizer\": "
				    "{\"type\": \"WhitespaceSplit\"}, \"model\": {\"type\": \"WordLevel\", "
				    "\"unk_token\": \"?\", \"vocab\": {\"?\": 0, \"Hello\": 1, "
				    "\"\xE6\x97\xA5\xE6\x9C\xAC\": 2, \"caf\xC3\xA9\": 3}}}", forms[f]);
		t = from_text(j);
		CHECK(t != NULL);
		if (!t)
			continue;
		ENC(t, "Hello \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x91\x8D", 0, -1, 1, 2, 0);
		int32_t *ids;
		size_t n;
		/* e + U+0301: composes under NFC / NFKC, reorders nothing, but is not stable */
		CHECK_INT(tokenizer_encode(t, "cafe\xCC\x81", 6, 0, &ids, &n), -1);
		CHECK_CONTAINS(err_msg(), "U+0301 may change under");
		CHECK_CONTAINS(err_msg(), forms[f]);
		/* precomposed é: stable under NFC and NFKC, decomposed by NFD and NFKD */
		int rc = tokenizer_encode(t, "caf\xC3\xA9", 5, 0, &ids, &n);
		if (f == 0 || f == 2) {
			CHECK_INT(rc, 0);
			CHECK(rc == 0 && n == 1 && ids[0] == 3);
			free(ids);
		} else {
			CHECK_INT(rc, -1);
			CHECK_CONTAINS(err_msg(), "U+00E9");
		}
		/* the fi ligature and the Angstrom sign: only the K forms touch the first */
		rc = tokenizer_encode(t, "\xEF\xAC\x81", 3, 0, &ids, &n);
		CHECK_INT(rc, f >= 2 ? -1 : 0);
		if (rc == 0)
			free(ids);
		CHECK_INT(tokenizer_encode(t, "\xE2\x84\xAB", 3, 0, &ids, &n), -1);
		tokenizer_free(t);
	}
	/* WhitespaceSplit: any Unicode space separates */
	t = from_text(xstrdup("{\"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, \"model\": "
			      "{\"type\": \"WordLevel\", \"unk_token\": \"?\", \"vocab\": {\"?\": 0, "
			      "\"a,\": 1, \"b\": 2}}}"));
	CHECK(t != NULL);
	if (t) {
		ENC(t, " a,\xE3\x80\x80" "b\n", 0, -1, 1, 2);   /* U+3000 ideographic space */
		tokenizer_free(t);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Load-time refusals: each names the component or field. */

static void refuse(const char *json, const char *needle)
{
	Tokenizer *t = tokenizer_from_json(json, strlen(json), "bad.json");
	CHECK(t == NULL);
	CHECK_CONTAINS(err_msg(), needle);
	if (!strstr(err_msg(), needle) || t)
		fprintf(stderr, "     for %s\n", json);
	tokenizer_free(t);
}

#define WL "{\"type\": \"WordLevel\", \"unk_token\": \"a\", \"vocab\": {\"a\": 0}}"
#define BPE(extra, merges) "{\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}" extra \
	", \"merges\": " merges "}"

static void test_refusals(void)
{
	char buf[1024];
#define PART(key, val) (snprintf(buf, sizeof(buf), "{\"" key "\": %s, \"model\": " WL "}", val), buf)
	refuse("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "model 'WordPiece' is not supported");
	refuse("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "model 'Unigram' is not supported");
	refuse("{\"model\": " BPE(", \"dropout\": 0.1", "[]") "}", "model.dropout");
	refuse("{\"model\": " BPE(", \"continuing_subword_prefix\": \"##\"", "[]") "}",
	       "continuing_subword_prefix");
	refuse("{\"model\": " BPE(", \"end_of_word_suffix\": \"</w>\"", "[]") "}", "end_of_word_suffix");
	refuse("{\"model\": " BPE("", "[\"a x\"]") "}", "model.merges[0]: token 'x' is not in the vocab");
	refuse("{\"model\": " BPE("", "[[\"a\", \"b\"]]") "}", "merged token 'ab' is not in the vocab");
	refuse("{\"model\": " BPE("", "[\"a b c\"]") "}", "not two tokens separated by one space");
	refuse("{\"model\": " BPE("", "[3]") "}", "model.merges[0]: expected");
	refuse("{\"model\": " BPE("", "{}") "}", "model.merges: expected an array");
	refuse("{\"model\": " BPE(", \"unk_token\": \"<unk>\"", "[]") "}", "model.unk_token");
	refuse("{\"model\": " BPE(", \"fuse_unk\": 1", "[]") "}", "fuse_unk: expected true or false");
	refuse("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}",
	       "used by two tokens");
	refuse("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}",
	       "expected an integer");
	refuse("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1.5}, \"merges\": []}}",
	       "expected an integer");
	refuse("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1e300}, \"merges\": []}}",
	       "expected an integer");     /* range checked before any conversion */
	/* a JSON text that is not NUL-terminated: the message quotes only bytes inside it */
	Tokenizer *nt = tokenizer_from_json("{\"model\": [}", 12, "cut.json");
	CHECK(nt == NULL);
	CHECK_CONTAINS(err_msg(), "cut.json: not a JSON object");
	refuse("{\"model\": {\"type\": \"BPE\", \"vocab\": [], \"merges\": []}}", "model.vocab");
	refuse("{\"model\": {\"vocab\": {}}}", "model.type: missing");
	refuse("{\"normalizer\": null}", "model: expected an object");
	refuse("[1, 2]", "not a JSON object");
	refuse("{\"model\": ", "not a JSON object");
	refuse(PART("normalizer", "{\"type\": \"BertNormalizer\"}"),
	       "normalizer type 'BertNormalizer' is not supported");
	refuse(PART("normalizer", "{\"type\": \"Lowercase\"}"), "normalizer type 'Lowercase'");
	refuse(PART("normalizer", "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": "
		    "\"Prepend\", \"prepend\": \"x\"}, {\"type\": \"Precompiled\"}]}"),
	       "normalizer.normalizers[1]: normalizer type 'Precompiled'");
	refuse(PART("normalizer", "{\"type\": \"Replace\", \"pattern\": {\"Foo\": \"x\"}, "
		    "\"content\": \"y\"}"), "normalizer.pattern: expected {\"String\"");
	refuse(PART("normalizer", "{\"prepend\": \"x\"}"), "normalizer.type: missing");
	refuse(PART("pre_tokenizer", "{\"type\": \"UnicodeScripts\"}"),
	       "pre_tokenizer type 'UnicodeScripts' is not supported");
	refuse(PART("pre_tokenizer", "{\"type\": \"BertPreTokenizer\"}"), "'BertPreTokenizer'");
	refuse(PART("pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": "
		    "\"Whitespace\"}, {\"type\": \"CharDelimiterSplit\", \"delimiter\": \"x\"}]}"),
	       "pre_tokenizer.pretokenizers[1]: pre_tokenizer type 'CharDelimiterSplit'");
	refuse(PART("pre_tokenizer", "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, "
		    "\"behavior\": \"Sideways\", \"invert\": false}"), "pre_tokenizer.behavior");
	refuse(PART("pre_tokenizer", "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, "
		    "\"behavior\": \"Isolated\", \"invert\": false}"), "regex does not compile");
	refuse(PART("pre_tokenizer", "{\"type\": \"Metaspace\", \"replacement\": \"ab\"}"),
	       "replacement: expected a single character");
	refuse(PART("pre_tokenizer", "{\"type\": \"Metaspace\", \"replacement\": \"_\", "
		    "\"prepend_scheme\": \"sometimes\"}"), "prepend_scheme: 'sometimes'");
	refuse(PART("pre_tokenizer", "{\"type\": \"Metaspace\", \"replacement\": \"_\", "
		    "\"prepend_scheme\": \"always\", \"add_prefix_space\": false}"),
	       "add_prefix_space does not match declared prepend_scheme");
	refuse(PART("pre_tokenizer", "{\"type\": \"ByteLevel\", \"use_regex\": \"yes\"}"),
	       "use_regex: expected true or false");
	refuse(PART("decoder", "{\"type\": \"WordPiece\", \"prefix\": \"##\"}"),
	       "decoder type 'WordPiece' is not supported");
	refuse(PART("decoder", "{\"type\": \"CTC\"}"), "decoder type 'CTC'");
	refuse(PART("decoder", "{\"type\": \"Strip\", \"content\": \" \", \"start\": -1, "
		    "\"stop\": 0}"), "decoder.start: expected an integer");
	refuse(PART("decoder", "{\"type\": \"Sequence\", \"decoders\": {}}"), "decoder.decoders");
	refuse(PART("post_processor", "{\"type\": \"RobertaProcessing\"}"),
	       "post_processor type 'RobertaProcessing' is not supported");
	refuse(PART("post_processor", "{\"type\": \"BertProcessing\"}"), "'BertProcessing'");
	refuse(PART("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{\"Sequence\": "
		    "{\"id\": \"B\", \"type_id\": 0}}], \"special_tokens\": {}}"), "sequence 'B'");
	refuse(PART("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [], "
		    "\"special_tokens\": {}}"), "no {\"Sequence\"");
	refuse(PART("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{"
		    "\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": "
		    "\"A\", \"type_id\": 0}}], \"special_tokens\": {}}"),
	       "no ids for special token '<s>'");
	refuse(PART("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{"
		    "\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": "
		    "\"A\", \"type_id\": 0}}], \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", "
		    "\"ids\": [7], \"tokens\": [\"<s>\"]}}}"), "special token id 7 is past the vocab");
	refuse(PART("truncation", "{\"max_length\": 512}"), "truncation: only null");
	refuse(PART("padding", "{\"strategy\": \"BatchLongest\"}"), "padding: only null");
	refuse(PART("added_tokens", "[{\"id\": 5, \"content\": \"<s>\", \"special\": true}]"),
	       "'<s>' has id 5 but the tokenizers library would give it id 1");
	refuse(PART("added_tokens", "[{\"id\": 3, \"content\": \"a\", \"special\": true}]"),
	       "'a' has id 3 but the tokenizers library would give it id 0");
	refuse(PART("added_tokens", "[{\"id\": 1, \"content\": \"\", \"special\": true}]"),
	       "added_tokens[0].content: missing or empty");
	refuse(PART("added_tokens", "[{\"id\": 1, \"content\": \"x\"}, {\"id\": 2, \"content\": "
		    "\"x\"}]"), "'x' is listed twice");
	refuse(PART("added_tokens", "{}"), "added_tokens: expected an array");
#undef PART
	CHECK(tokenizer_load("tests/fixtures/tokenizers/no-such-file.json") == NULL);
	CHECK_CONTAINS(err_msg(), "no-such-file.json");
}

/* Refusals quoting strings from the file stay on one line (DESIGN.md section 8): newlines,
 * tabs and control bytes come out as escapes, long strings are cut with "...", and the
 * message still names the field. */
static void refuse1(const char *json, const char *needle)
{
	refuse(json, needle);
	const char *m = err_msg();
	int clean = !strpbrk(m, "\n\r\t\x01");
	CHECK(clean);
	if (!clean)
		fprintf(stderr, "     multi-line or raw control byte: %s\n", m);
}

static void test_one_line_errors(void)
{
	char buf[1024];
#define PART(key, val) (snprintf(buf, sizeof(buf), "{\"" key "\": %s, \"model\": " WL "}", val), buf)
	refuse1("{\"model\": {\"type\": \"Word\\nPiece\", \"vocab\": {}}}",
		"model.type: model 'Word\\nPiece' is not supported");
	refuse1("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\\nb\": -1}, \"merges\": []}}",
		"model.vocab[\"a\\nb\"]: expected an integer");
	refuse1("{\"model\": " BPE("", "[\"a x\\ny\"]") "}",
		"model.merges[0]: token 'x\\ny' is not in the vocab");
	refuse1("{\"model\": " BPE("", "[\"a\\r\\n\\tb\"]") "}",
		"model.merges[0]: 'a\\r\\n\\tb' is not two tokens");
	refuse1("{\"model\": " BPE("", "[[\"a\", \"b\\n\"]]") "}",
		"model.merges[0]: token 'b\\n' is not in the vocab");
	refuse1("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\\n\": 1}, "
		"\"merges\": [[\"a\", \"b\\n\"]]}}", "merged token 'ab\\n' is not in the vocab");
	refuse1("{\"model\": " BPE(", \"unk_token\": \"<u\\nnk>\"", "[]") "}",
		"model.unk_token: '<u\\nnk>' is not in the vocab");
	refuse1("{\"model\": " BPE(", \"continuing_subword_prefix\": \"#\\n\"", "[]") "}",
		"continuing_subword_prefix: '#\\n'");
	refuse1("{\"model\": " BPE(", \"end_of_word_suffix\": \"\\u0001\"", "[]") "}",
		"end_of_word_suffix: '\\x01'");
	refuse1(PART("normalizer", "{\"type\": \"Lower\\ncase\"}"),
		"normalizer: normalizer type 'Lower\\ncase' is not supported");
	refuse1(PART("pre_tokenizer", "{\"type\": \"Bert\\n\"}"),
		"pre_tokenizer: pre_tokenizer type 'Bert\\n' is not supported");
	refuse1(PART("pre_tokenizer", "{\"type\": \"Metaspace\", \"replacement\": \"_\", "
		     "\"prepend_scheme\": \"some\\ntimes\"}"), "prepend_scheme: 'some\\ntimes'");
	refuse1(PART("decoder", "{\"type\": \"C\\nTC\"}"), "decoder: decoder type 'C\\nTC'");
	refuse1(PART("post_processor", "{\"type\": \"Roberta\\n\"}"),
		"post_processor: post_processor type 'Roberta\\n'");
	refuse1(PART("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{\"Sequence\": "
		     "{\"id\": \"B\\n\", \"type_id\": 0}}], \"special_tokens\": {}}"),
		"post_processor.single[0]: sequence 'B\\n'");
	refuse1(PART("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{"
		     "\"SpecialToken\": {\"id\": \"<s\\n>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": "
		     "\"A\", \"type_id\": 0}}], \"special_tokens\": {}}"),
		"post_processor.special_tokens: no ids for special token '<s\\n>'");
	refuse1(PART("added_tokens", "[{\"id\": 1, \"content\": \"x\\ny\"}, {\"id\": 2, "
		     "\"content\": \"x\\ny\"}]"), "added_tokens[1]: 'x\\ny' is listed twice");
	refuse1(PART("added_tokens", "[{\"id\": 5, \"content\": \"<s>\\n\", \"special\": true}]"),
		"added_tokens: '<s>\\n' has id 5 but the tokenizers library would give it id 1");
#undef PART
	/* a JSON syntax error: the snippet after the error point is escaped too */
	refuse1("{\"model\": [\n\t}\r\n", "not a JSON object (near byte");
	CHECK_CONTAINS(err_msg(), "\\n");
	/* a long token is cut (at most 40 bytes of it, then "...") */
	char big[400], tok[201];
	memset(tok, 'z', 200);
	tok[200] = 0;
	snprintf(big, sizeof(big), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
		 "\"merges\": [\"a %s\"]}}", tok);
	refuse1(big, "model.merges[0]: token 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...' is not");
	/* encoding: WordLevel without unk quotes the unknown word */
	Tokenizer *t = from_text(edit(fixture_text("wordlevel.json"), "\"unk_token\": \"[UNK]\"",
				      "\"unk_token\": \"<nope>\""));
	if (t) {
		int32_t *ids;
		size_t n;
		CHECK_INT(tokenizer_encode(t, "hello \x01", 7, 0, &ids, &n), -1);
		CHECK_CONTAINS(err_msg(), "WordLevel: '\\x01' is not in the vocab");
		CHECK(!strchr(err_msg(), '\x01'));
		tokenizer_free(t);
	}
}

/* ------------------------------------------------------------------------------------------ */

/* Random valid UTF-8: ASCII with controls, Latin-1, CJK, emoji, other BMP, and special tokens. */
static size_t random_utf8(Rng *r, char *out, size_t max_chars, const char *special)
{
	size_t n = 0, chars = rng_below(r, (uint32_t)max_chars + 1);
	for (size_t i = 0; i < chars; i++) {
		uint32_t cp, kind = rng_below(r, 10);
		if (kind < 4)
			cp = rng_below(r, 128);
		else if (kind < 5)
			cp = 0x80 + rng_below(r, 0x780);
		else if (kind < 6)
			cp = 0x4E00 + rng_below(r, 0x5200);
		else if (kind < 7)
			cp = 0x1F300 + rng_below(r, 0x800);
		else if (kind < 8)
			cp = 0x800 + rng_below(r, 0xF800 - 0x800);
		else if (kind < 9)
			cp = ' ';
		else {
			if (special) {
				memcpy(out + n, special, strlen(special));
				n += strlen(special);
			}
			continue;
		}
		if (cp >= 0xD800 && cp < 0xE000)
			cp = 'x';
		if (cp == 0)
			cp = 1;
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xC0 | (cp >> 6));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[n++] = (char)(0xE0 | (cp >> 12));
			out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[n++] = (char)(0xF0 | (cp >> 18));
			out[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	out[n] = 0;
	return n;
}

static int roundtrips(const Tokenizer *t, const char *s, size_t n)
{
	int32_t *ids;
	size_t k, dl;
	if (tokenizer_encode(t, s, n, 0, &ids, &k) < 0)
		return 0;
	char *back = tokenizer_decode(t, ids, k, 0, &dl);
	int ok = dl == n && memcmp(back, s, n) == 0;
	if (!ok)
		fprintf(stderr, "     round trip of %zu bytes failed ('%.30s' -> '%.30s')\n", n, s, back);
	free(back);
	free(ids);
	return ok;
}

static void test_roundtrip_fixture(void)
{
	Tokenizer *t = load("gpt2_like.json");
	if (!t)
		return;
	Rng r;
	rng_init(&r, 4, 0);
	char buf[64 * 4 + 64 * 16];
	int bad = 0;
	for (int i = 0; i < 2000; i++) {
		size_t n = random_utf8(&r, buf, 64, "<|endoftext|>");
		bad += !roundtrips(t, buf, n);
	}
	CHECK_INT(bad, 0);
	tokenizer_free(t);
}

static void test_trainer(void)
{
	/* a small corpus: text fields of JSONL records, a plain text file, special tokens inside */
	char dir[] = "/tmp/asft-tok-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *jl = xasprintf("%s/c.jsonl", dir), *txt = xasprintf("%s/c.txt", dir);
	FILE *f = fopen(jl, "w");
	Rng r;
	rng_init(&r, 9, 0);
	static const char *words[] = {"the", "cat", "sat", "on", "mat", "dog", "ran", "far", "and",
				      "a", "Hello", "world", "42", "caf\xC3\xA9", "\xE6\x97\xA5"};
	for (int i = 0; i < 400; i++) {
		fprintf(f, "{\"instruction\": \"");
		for (int k = 0; k < 12; k++)
			fprintf(f, "%s%s", k ? " " : "", words[rng_below(&r, 15)]);
		fprintf(f, "\", \"input\": \"\", \"output\": \"%s <s> %s\\n\", \"label\": \"zzzqqq\"}\n",
			words[rng_below(&r, 15)], words[rng_below(&r, 15)]);
	}
	fprintf(f, "\n{\"text\": \"the cat sat on the mat\"}\n");
	fclose(f);
	f = fopen(txt, "w");
	for (int i = 0; i < 300; i++)
		fprintf(f, "the dog ran far and the cat sat\n");
	fclose(f);

	const char *sp[] = {"<s>", "</s>", "<pad>"};
	char *json[2] = {NULL, NULL};
	BpeTrainStats st = {0};
	for (int run = 0; run < 2; run++) {
		BpeTrainer *tr = bpe_trainer_new(sp, 3);
		CHECK_INT(bpe_trainer_feed_file(tr, jl), 0);
		CHECK_INT(bpe_trainer_feed_file(tr, txt), 0);
		BpeTrainOpts o = {.vocab_size = 300, .min_frequency = 2, .special = sp, .nspecial = 3,
				  .bos = "<s>"};
		json[run] = bpe_trainer_train(tr, &o, &st);
		CHECK(json[run] != NULL);
		bpe_trainer_free(tr);
	}
	CHECK(json[0] && json[1] && strcmp(json[0], json[1]) == 0);       /* deterministic */
	CHECK_INT(st.vocab_size, 300);
	CHECK_INT(st.merges, 300 - 259);
	CHECK(json[0] && !strstr(json[0], "zzzqqq") && !strstr(json[0], "label"));
	Tokenizer *t = json[0] ? tokenizer_from_json(json[0], strlen(json[0]), "trained") : NULL;
	CHECK(t != NULL);
	if (t) {
		CHECK_INT(tokenizer_vocab_size(t), 300);
		CHECK_INT(tokenizer_token_to_id(t, "<s>"), 0);
		CHECK_INT(tokenizer_token_to_id(t, "</s>"), 1);
		CHECK_INT(tokenizer_token_to_id(t, "<pad>"), 2);
		CHECK_INT(tokenizer_bos_id(t), 0);
		CHECK_INT(tokenizer_eos_id(t), 1);
		CHECK_INT(tokenizer_pad_id(t), 2);
		CHECK(tokenizer_is_special(t, 0) && tokenizer_is_special(t, 2));
		/* the most frequent words become single tokens */
		ENC(t, " the", 0, -1, tokenizer_token_to_id(t, "\xC4\xA0the"));
		ENC(t, "the", 1, -1, 0, tokenizer_token_to_id(t, "the"));
		CHECK(tokenizer_token_to_id(t, "\xC4\xA0the") >= 259);
		ENC(t, "<s>", 0, -1, 0);
		ENC(t, "", 1, -1, 0);
		int32_t *ids;
		size_t n;
		const char *line = "the dog ran far and the cat sat";
		CHECK_INT(tokenizer_encode(t, line, strlen(line), 0, &ids, &n), 0);
		CHECK(n <= 8);          /* one token per word at most */
		free(ids);
		/* every byte string round-trips (all 256 bytes are in the vocab) */
		char buf[64 * 4 + 64 * 16];
		int bad = 0;
		for (int i = 0; i < 2000; i++) {
			size_t k = random_utf8(&r, buf, 64, i % 2 ? "</s>" : "<pad>");
			bad += !roundtrips(t, buf, k);
		}
		CHECK_INT(bad, 0);
		/* save writes the same tokenizer */
		char *out = xasprintf("%s/tok.json", dir);
		CHECK_INT(tokenizer_save(t, out), 0);
		Tokenizer *t2 = tokenizer_load(out);
		CHECK(t2 != NULL);
		if (t2) {
			ENC(t2, "the cat", 1, -1, 0, tokenizer_token_to_id(t, "the"),
			    tokenizer_token_to_id(t, "\xC4\xA0" "cat"));
			tokenizer_free(t2);
		}
		unlink(out);
		free(out);
		tokenizer_free(t);
	}
	free(json[0]);
	free(json[1]);

	/* min_frequency above every count: no merges, only the base vocabulary */
	BpeTrainer *tr = bpe_trainer_new(sp, 3);
	CHECK_INT(bpe_trainer_feed(tr, "ab ab ab", 8), 0);
	BpeTrainOpts o = {.vocab_size = 400, .min_frequency = 100, .special = sp, .nspecial = 3};
	char *j = bpe_trainer_train(tr, &o, &st);
	CHECK(j != NULL);
	CHECK_INT(st.merges, 0);
	CHECK_INT(st.vocab_size, 259);
	CHECK(j && strstr(j, "\"post_processor\":\tnull") != NULL);
	free(j);
	o.min_frequency = 1;
	j = bpe_trainer_train(tr, &o, &st);
	CHECK_INT(st.merges, 2);        /* words ab x1, Ġab x2: (a,b) x3 -> ab, then (Ġ,ab) x2 */
	free(j);
	/* bad options and bad input */
	o.vocab_size = 100;
	CHECK(bpe_trainer_train(tr, &o, NULL) == NULL);
	CHECK_CONTAINS(err_msg(), "vocab size 100 is below 259");
	o.vocab_size = 400;
	o.bos = "<bos>";
	CHECK(bpe_trainer_train(tr, &o, NULL) == NULL);
	CHECK_CONTAINS(err_msg(), "bos token '<bos>' is not one of the special tokens");
	o.bos = NULL;
	o.min_frequency = 0;
	CHECK(bpe_trainer_train(tr, &o, NULL) == NULL);
	CHECK_CONTAINS(err_msg(), "min_frequency");
	o.min_frequency = 2;
	const char *sp_bad[] = {"<s>", "x"};
	o.special = sp_bad;
	o.nspecial = 2;
	CHECK(bpe_trainer_train(tr, &o, NULL) == NULL);
	CHECK_CONTAINS(err_msg(), "special token 'x' is a byte character");
	const char *sp_dup[] = {"<s>", "<s>"};
	o.special = sp_dup;
	CHECK(bpe_trainer_train(tr, &o, NULL) == NULL);
	CHECK_CONTAINS(err_msg(), "empty or repeated");
	CHECK_INT(bpe_trainer_feed(tr, "a\xC0", 2), -1);
	CHECK_CONTAINS(err_msg(), "not valid UTF-8");
	f = fopen(jl, "w");
	fprintf(f, "{\"text\": \"ok\"}\n{\"text\": oops}\n");
	fclose(f);
	CHECK_INT(bpe_trainer_feed_file(tr, jl), -1);
	CHECK_CONTAINS(err_msg(), "c.jsonl:2: not a JSON record");
	bpe_trainer_free(tr);
	unlink(jl);
	unlink(txt);
	rmdir(dir);
	free(jl);
	free(txt);
}

/* Encoding is read-only on the tokenizer: threads and alternating tokenizers (each thread keeps
 * a word cache per tokenizer) give the single-threaded ids. */
typedef struct {
	const Tokenizer *t;
	const char *const *texts;
	int n;
	int32_t *sums;
} ThreadJob;

static int32_t ids_digest(const Tokenizer *t, const char *s)
{
	int32_t *ids;
	uint32_t h = 17;
	size_t n;
	if (tokenizer_encode(t, s, strlen(s), 1, &ids, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		h = h * 31 + (uint32_t)ids[i];
	free(ids);
	return (int32_t)(h & 0x7FFFFFFF);
}

static void *thread_main(void *arg)
{
	ThreadJob *j = arg;
	for (int rep = 0; rep < 200; rep++)
		for (int i = 0; i < j->n; i++)
			j->sums[i] = ids_digest(j->t, j->texts[i]);
	return NULL;
}

static void test_threads_and_cache(void)
{
	Tokenizer *a = load("gpt2_like.json"), *b = load("llama3_like.json");
	if (!a || !b) {
		tokenizer_free(a);
		tokenizer_free(b);
		return;
	}
	/* the same word alternately through two tokenizers */
	for (int i = 0; i < 3; i++) {
		ENC(a, "abc", 0, -1, 97, 98, 99);
		ENC(b, "abc", 0, -1, 257);
	}
	static const char *const texts[] = {"hello world", "the the aaa", "x 123 1234 bell",
					    "a<|endoftext|>the", "caf\xC3\xA9 \xE6\x97\xA5"};
	int32_t want[5], got[2][5];
	for (int i = 0; i < 5; i++)
		want[i] = ids_digest(a, texts[i]);
	pthread_t th[2];
	ThreadJob jobs[2];
	for (int k = 0; k < 2; k++) {
		jobs[k] = (ThreadJob){a, texts, 5, got[k]};
		CHECK_INT(pthread_create(&th[k], NULL, thread_main, &jobs[k]), 0);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	CHECK(memcmp(got[0], want, sizeof(want)) == 0 && memcmp(got[1], want, sizeof(want)) == 0);
	/* more distinct words than the cache holds: it is emptied and refilled, ids unchanged */
	int32_t before = ids_digest(a, "hello bell");
	char w[32];
	int bad = 0;
	for (int i = 0; i < 40000; i++) {
		/* letters no merge joins: one token per byte */
		int k = 0;
		for (int v = i; k == 0 || v > 0; v /= 7)
			w[k++] = "bcdfgkm"[v % 7];
		w[k] = 0;
		int32_t *ids;
		size_t n;
		bad += tokenizer_encode(a, w, strlen(w), 0, &ids, &n) < 0 || n != strlen(w);
		free(ids);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(ids_digest(a, "hello bell"), before);
	tokenizer_free(a);
	tokenizer_free(b);
}

int main(void)
{
	test_gpt2_like();
	test_llama2_like();
	test_metaspace_like();
	test_wordlevel();
	test_llama3_like();
	test_variants();
	test_split_behaviors();
	test_refusals();
	test_one_line_errors();
	test_roundtrip_fixture();
	test_trainer();
	test_threads_and_cache();
	return test_summary();
}
