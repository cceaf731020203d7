/* cmd_tokenizer.c: asft-data tokenizer: trains a byte-level BPE tokenizer on text / JSONL
 * corpora and writes tokenizer.json (see data/bpe_train.h for what the file contains).
 *
 *   asft-data tokenizer --corpus A.jsonl[,B.txt...] [MORE FILES...] --vocab N --out tokenizer.json
 *                       [--special "<s>,</s>,<pad>"] [--bos "<s>"] [--min-frequency F]
 *
 * The written file is loaded back and checked before it is renamed into place: it must parse,
 * have the requested specials at ids 0..k-1, and round-trip a sample of the corpus exactly. */
#include "bpe_train.h"
#include "cli.h"
#include "cmds.h"
#include "tokenizer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 256
#define MAX_SPECIAL 64

/* Round trip: decode(encode(s)) == s on a few strings that stress the byte paths. */
static void check_roundtrip(const Tokenizer *tok, const char *what, const char *s)
{
	int32_t *ids;
	size_t n, dl;
	if (tokenizer_encode(tok, s, strlen(s), 0, &ids, &n) < 0)
		die("%s: trained tokenizer cannot encode: %s", what, err_msg());
	char *back = tokenizer_decode(tok, ids, n, 0, &dl);
	if (dl != strlen(s) || memcmp(back, s, dl) != 0)
		die("%s: trained tokenizer does not round-trip '%.40s'", what, s);
	free(back);
	free(ids);
}

int cmd_tokenizer(int argc, char **argv)
{
	const char *corpus = NULL, *out = NULL, *special = "<s>,</s>,<pad>", *bos = "<s>";
	long vocab = 2048, min_freq = 2;
	CliOpt opts[] = {
		{"corpus", CLI_STR, &corpus, "FILE[,FILE...]",
		 "training text: .jsonl/.json records (fields text, instruction, input, output, "
		 "prompt, response) or plain text; more files may follow as arguments"},
		{"vocab", CLI_INT, &vocab, "N", "vocabulary size, specials and the 256 bytes included"},
		{"out", CLI_STR, &out, "FILE", "tokenizer.json to write (required)"},
		{"special", CLI_STR, &special, "LIST", "special tokens, comma-separated, ids 0..k-1"},
		{"bos", CLI_STR, &bos, "TOKEN",
		 "special token the post-processor prepends when add_special_tokens (\"\" = none)"},
		{"min-frequency", CLI_INT, &min_freq, "F", "stop when the best pair occurs fewer times"},
		{NULL, 0, NULL, NULL, NULL},
	};
	char **pos;
	int npos = cli_parse(argc, argv, opts,
			     "usage: asft-data tokenizer --corpus FILE... --vocab N --out tokenizer.json\n"
			     "Trains a byte-level BPE tokenizer (GPT-2 pre-tokenization, all 256 bytes in "
			     "the vocab, so any UTF-8 text round-trips) and writes tokenizer.json.",
			     &pos);
	asft_prog = "asft-data tokenizer";
	if (!out)
		die("--out FILE is required");
	char *files[MAX_FILES];
	int nfiles = 0;
	char *corpus_copy = corpus ? xstrdup(corpus) : NULL;
	if (corpus_copy)
		nfiles = cli_split(corpus_copy, files, MAX_FILES);
	for (int i = 0; i < npos && nfiles < MAX_FILES; i++)
		files[nfiles++] = pos[i];
	if (nfiles == 0)
		die("--corpus FILE is required");
	if (vocab < 1 || vocab > 1000000)
		die("--vocab %ld: expected 1..1000000", vocab);
	char *special_copy = xstrdup(special);
	char *sp[MAX_SPECIAL];
	int nsp = *special_copy ? cli_split(special_copy, sp, MAX_SPECIAL) : 0;

	double t0 = time_now();
	BpeTrainer *tr = bpe_trainer_new((const char *const *)sp, nsp);
	for (int i = 0; i < nfiles; i++)
		if (bpe_trainer_feed_file(tr, files[i]) < 0)
			die_err();
	double t1 = time_now();
	BpeTrainOpts o = {
		.vocab_size = (size_t)vocab,
		.min_frequency = min_freq,
		.special = (const char *const *)sp,
		.nspecial = nsp,
		.bos = bos && *bos ? bos : NULL,
	};
	BpeTrainStats st;
	char *json = bpe_trainer_train(tr, &o, &st);
	if (!json)
		die_err();
	double t2 = time_now();

	Tokenizer *tok = tokenizer_from_json(json, strlen(json), out);
	if (!tok)
		die("trained tokenizer does not load: %s", err_msg());
	for (int i = 0; i < nsp; i++)
		if (tokenizer_token_to_id(tok, sp[i]) != i || !tokenizer_is_special(tok, i))
			die("trained tokenizer: special token '%s' is not id %d", sp[i], i);
	check_roundtrip(tok, out, "Hello, world! 123 \t\n  x\r\n caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC "
			"\xF0\x9F\x91\x8D \x01\x7F");
	if (file_write_atomic(out, json, strlen(json)) < 0)
		die_err();
	fprintf(stderr,
		"asft-data tokenizer: %s: vocab %zu (%d special + 256 bytes + %llu merges) from %llu "
		"words (%llu unique, %.1f MB) in %.2f s (count %.2f s, merge %.2f s)\n",
		out, st.vocab_size, nsp, (unsigned long long)st.merges,
		(unsigned long long)st.words, (unsigned long long)st.unique_words, st.bytes / 1e6,
		t2 - t0, t1 - t0, t2 - t1);
	if (st.vocab_size < (size_t)vocab)
		warnf("vocab %zu is below the requested %ld: no pair occurs %ld times any more",
		      st.vocab_size, vocab, min_freq);
	tokenizer_free(tok);
	free(json);
	bpe_trainer_free(tr);
	free(special_copy);
	free(corpus_copy);
	return 0;
}
