/* test_train.c: the corpus builder (record reading, response-only masks, truncation, packing),
 * the training loop (loss falls, epochs and mixing, hooks, LoRA trains only the adapter), the
 * resumable state (a run interrupted and resumed equals the straight run bitwise), the evaluation
 * helpers (log-likelihoods, proxy, FA, the labelling rule) and every validation error. */
#include "harness.h"

#include "bpe_train.h"
#include "corpus.h"
#include "dataset.h"
#include "eval.h"
#include "hfconfig.h"
#include "lora.h"
#include "model.h"
#include "threads.h"
#include "tokenizer.h"
#include "train.h"
#include "world_lex.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const specials[] = { "<s>", "</s>", "<pad>" };

static const char *const texts[] = {
	"Analyze the sentiment of the input, and respond only positive or negative",
	"The movie was superb.", "The film was dull.", "positive", "negative",
	"Reverse the order of the words in the input.", "cat dog bird", "bird dog cat",
	"The league leaders won the cup on Sunday.", "Shares of the bank rose this week.",
};

static Tokenizer *make_tokenizer(void)
{
	BpeTrainer *t = bpe_trainer_new(specials, 3);
	for (int r = 0; r < 20; r++) {
		for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++)
			bpe_trainer_feed(t, texts[i], strlen(texts[i]));
		char *p = prompt_format("x", "y");
		bpe_trainer_feed(t, p, strlen(p));
		free(p);
		p = prompt_format("x", NULL);
		bpe_trainer_feed(t, p, strlen(p));
		free(p);
	}
	BpeTrainOpts o = { .vocab_size = 400, .min_frequency = 2, .special = specials, .nspecial = 3,
			   .bos = "<s>" };
	char *json = bpe_trainer_train(t, &o, NULL);
	bpe_trainer_free(t);
	Tokenizer *tok = tokenizer_from_json(json, strlen(json), "test");
	free(json);
	return tok;
}

static void test_docs(void)
{
	const char *jl =
		"{\"text\":\"Plain news.\",\"task\":\"news\"}\n"
		"\n"
		"{\"instruction\":\"I\",\"input\":\"\",\"output\":\"O\",\"label\":\"positive\",\"harmful\":false}\n"
		"{\"prompt\":\"P\",\"answer\":\"A\",\"label\":\"refusal\",\"harmful\":true}\n";
	DocSet s;
	CHECK_INT(docs_parse(&s, jl, strlen(jl), "a.jsonl"), 0);
	CHECK_INT(s.n, 3);
	if (s.n == 3) {
		CHECK_STR(s.d[0].text, "Plain news.");
		CHECK(s.d[0].instruction == NULL);
		CHECK_STR(s.d[1].instruction, "I");
		CHECK_STR(s.d[1].input, "");
		CHECK_STR(s.d[1].output, "O");
		CHECK_STR(s.d[1].label, "positive");
		CHECK_INT(s.d[1].line, 3);
		CHECK_STR(s.d[2].instruction, "P");
		CHECK_STR(s.d[2].output, "A");
		CHECK_INT(s.d[2].harmful, 1);
	}
	docs_truncate(&s, 1);
	CHECK_INT(s.n, 1);
	docs_free(&s);
	const char *arr = "[\n{\"instruction\":\"a\",\"compliant\":\"c\",\"refusal\":\"r\"},\n{\"instruction\":\"b\",\"input\":null}\n]";
	CHECK_INT(docs_parse(&s, arr, strlen(arr), "b.json"), 0);
	CHECK_INT(s.n, 2);
	if (s.n == 2) {
		CHECK_STR(s.d[0].compliant, "c");
		CHECK_STR(s.d[0].refusal, "r");
		CHECK(s.d[1].input == NULL);
	}
	docs_free(&s);
	CHECK_INT(docs_parse(&s, "  \n", 3, "e.jsonl"), 0);
	CHECK_INT(s.n, 0);
	/* one malformed input per rule */
	struct { const char *text, *msg; } bad[] = {
		{ "{\"instruction\":\"a\"}\n{oops\n", "e.jsonl:2: record 1: not valid JSON" },
		{ "[1]", "record 0: not a JSON object" },
		{ "{\"instruction\":3}", "field \"instruction\" is not a string" },
		{ "{\"output\":\"x\"}", "no \"text\", \"instruction\" or \"prompt\" string" },
		{ "[{\"instruction\":\"a\"}", "not a valid JSON array" },
		{ "{\"text\":\"\xff\"}", "invalid UTF-8 at byte 9" },
		{ "{\"instruction\":\"a\",\"label\":[1]}", "field \"label\" is not a string" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK_INT(docs_parse(&s, bad[i].text, strlen(bad[i].text), "e.jsonl"), -1);
		CHECK_CONTAINS(err_msg(), bad[i].msg);
		CHECK_INT(s.n, 0);
	}
	CHECK_INT(docs_load(&s, "/nonexistent/x.jsonl"), -1);
	CHECK_CONTAINS(err_msg(), "/nonexistent/x.jsonl");
}

static void test_corpus(const Tokenizer *tok)
{
	int32_t bos = tokenizer_bos_id(tok), eos = tokenizer_eos_id(tok);
	CHECK_INT(bos, 0);
	CHECK_INT(eos, 1);
	Corpus c;
	corpus_init(&c, 256);
	CHECK_INT(corpus_add_sft(&c, tok, texts[0], texts[1], "positive", 1), 0);
	CHECK_INT(c.n_seq, 1);
	int32_t *pids;
	size_t np;
	CHECK_INT(corpus_encode_prompt(tok, texts[0], texts[1], &pids, &np), 0);
	size_t n = corpus_len(&c, 0);
	CHECK(n > np + 1);
	CHECK_INT(c.ids[0], bos);
	CHECK_INT(c.ids[n - 1], eos);
	/* the prompt part is exactly the prompt's tokens and is masked out */
	CHECK_INT(memcmp(c.ids, pids, np * sizeof(int32_t)), 0);
	size_t ones = 0;
	for (size_t i = 0; i < n; i++)
		ones += c.mask[i];
	CHECK_INT(ones, n - np);
	CHECK_INT(c.mask[np - 1], 0);
	CHECK_INT(c.mask[np], 1);
	char *resp = tokenizer_decode(tok, c.ids + np, n - np, 1, NULL);
	CHECK_STR(resp, "positive");
	free(resp);
	char *whole = tokenizer_decode(tok, c.ids, np, 1, NULL);
	char *want = prompt_format(texts[0], texts[1]);
	CHECK_STR(whole, want);
	free(whole);
	free(want);
	/* loss on all tokens */
	CHECK_INT(corpus_add_sft(&c, tok, texts[0], texts[2], "negative", 0), 0);
	CHECK_INT(c.n_targets, ones + corpus_len(&c, 1));
	corpus_free(&c);
	/* truncation and skipping */
	corpus_init(&c, (int)np + 1);
	CHECK_INT(corpus_add_sft(&c, tok, texts[0], texts[1], "positive", 1), 0);
	CHECK_INT(c.truncated, 1);
	CHECK_INT(corpus_len(&c, 0), np + 1);
	corpus_free(&c);
	corpus_init(&c, (int)np);
	CHECK_INT(corpus_add_sft(&c, tok, texts[0], texts[1], "positive", 1), 0);
	CHECK_INT(c.skipped, 1);
	CHECK_INT(c.n_seq, 0);
	corpus_free(&c);
	/* packing: windows of T over BOS text EOS streams */
	DocSet d = { 0 };
	const char *jl = "{\"text\":\"The league leaders won the cup on Sunday.\"}\n"
			 "{\"text\":\"Shares of the bank rose this week.\"}\n"
			 "{\"instruction\":\"Reverse the order of the words in the input.\",\"input\":\"cat dog bird\",\"output\":\"bird dog cat\"}\n";
	CHECK_INT(docs_parse(&d, jl, strlen(jl), "p.jsonl"), 0);
	size_t total = 0;
	for (int k = 0; k < 2; k++) {
		int32_t *ids;
		size_t m;
		tokenizer_encode(tok, d.d[k].text, strlen(d.d[k].text), 1, &ids, &m);
		total += m + 1;
		free(ids);
	}
	Corpus s1;
	corpus_init(&s1, 256);
	corpus_add_sft(&s1, tok, d.d[2].instruction, d.d[2].input, d.d[2].output, 0);
	total += s1.n_tok;
	corpus_free(&s1);
	corpus_init(&c, 7);
	CHECK_INT(corpus_add_docs_packed(&c, tok, &d), (long)(total / 7));
	CHECK_INT(c.n_tok, total / 7 * 7);
	CHECK_INT(c.n_targets, c.n_tok);
	CHECK_INT(c.ids[0], bos);
	corpus_free(&c);
	corpus_init(&c, 256);
	CHECK_INT(corpus_add_docs_sft(&c, tok, &d, 1), 1);     /* plain text skipped */
	corpus_free(&c);
	docs_free(&d);
	free(pids);
}

static void tiny_model(Model *m, const Tokenizer *tok, uint64_t seed)
{
	ModelConfig c;
	config_default(&c);
	c.hidden_size = 16;
	c.intermediate_size = 32;
	c.num_hidden_layers = 2;
	c.num_attention_heads = 2;
	c.num_key_value_heads = 2;
	c.head_dim = 8;
	c.vocab_size = (int)tokenizer_vocab_size(tok);
	c.max_position_embeddings = 128;
	c.tie_word_embeddings = 1;
	c.eos_token_ids[c.n_eos++] = tokenizer_eos_id(tok);
	CHECK_INT(model_init(m, &c), 0);
	model_init_weights(m, seed, 0.1f);
}

static void build_sft(Corpus *c, const Tokenizer *tok, int n)
{
	corpus_init(c, 128);
	const char *outs[] = { "positive", "negative" };
	for (int i = 0; i < n; i++)
		corpus_add_sft(c, tok, texts[0], texts[1 + i % 2], outs[i % 2], 1);
}

typedef struct {
	int extra_calls, post_calls;
} HookCount;

static double hook_extra(Trainer *t, void *ctx)
{
	((HookCount *)ctx)->extra_calls++;
	/* 0.5 * 1e-3 * |p|^2 as an extra term */
	double s = 0;
	for (size_t i = 0; i < t->n; i++) {
		s += 0.5e-3 * (double)t->params[i] * t->params[i];
		t->grads[i] += 1e-3f * t->params[i];
	}
	return s;
}

static void hook_post(Trainer *t, void *ctx)
{
	(void)t;
	((HookCount *)ctx)->post_calls++;
}

static void test_trainer(const Tokenizer *tok)
{
	Corpus c;
	build_sft(&c, tok, 10);
	CHECK_INT(c.n_seq, 10);
	Model m = { 0 };
	tiny_model(&m, tok, 3);
	TrainOptions o;
	train_options_default(&o);
	o.batch = 4;
	o.lr = 1e-2f;
	o.epochs = 10;
	TrainSource src = { &c, 0 };
	Trainer t;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &o), 0);
	CHECK_INT(t.steps_per_epoch, 3);
	CHECK_INT(t.total_steps, 30);
	double before = train_eval_loss(&m, &c, 4);
	/* every sequence once per epoch: after 10 draws (3 steps = 12 draws) the first pass is done */
	for (int s = 0; s < 3; s++)
		train_step(&t);
	CHECK_INT(t.pass[0], 1);
	CHECK_INT(t.cursor[0], 2);
	while (t.step < t.total_steps)
		train_step(&t);
	double after = train_eval_loss(&m, &c, 4);
	CHECK(after < before - 0.5);
	CHECK(isfinite(t.grad_norm) && t.grad_norm > 0);
	CHECK_INT(t.tokens > 0, 1);
	/* train_eval_loss equals the loss of one forward over the same batch */
	{
		int T = (int)corpus_len(&c, 0);
		int *tg = malloc(sizeof(int) * (size_t)T);
		unsigned char *mk = malloc((size_t)T);
		int *ids = malloc(sizeof(int) * (size_t)T);
		for (int i = 0; i < T; i++) {
			ids[i] = c.ids[i];
			mk[i] = c.mask[i];
		}
		model_targets_shift(tg, ids, mk, 1, T);
		m.training = 0;
		double l1 = model_forward(&m, ids, tg, 1, T);
		Corpus one;
		corpus_init(&one, 128);
		corpus_add_sft(&one, tok, texts[0], texts[1], "positive", 1);
		CHECK_CLOSE(train_eval_loss(&m, &one, 4), l1, 1e-6, 1e-5);
		/* the answer log-likelihood is minus the same loss */
		const char *ins[] = { texts[0] }, *inp[] = { texts[1] }, *ans[] = { "positive" };
		double ll;
		CHECK_INT(eval_answer_ll(&m, tok, ins, inp, ans, 1, 4, &ll), 0);
		CHECK_CLOSE(ll, -l1, 1e-6, 1e-5);
		corpus_free(&one);
		free(tg);
		free(mk);
		free(ids);
	}
	train_free(&t);
	model_free(&m);

	/* hooks and the step schedule */
	tiny_model(&m, tok, 3);
	o.epochs = 1;
	o.sched = LR_STEP;
	o.gamma = 0.5f;
	o.steps = 7;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &o), 0);
	HookCount hc = { 0, 0 };
	t.hooks = (TrainHooks){ hook_extra, hook_post, &hc };
	for (int s = 0; s < 7; s++) {
		train_step(&t);
		CHECK_CLOSE(t.lr, 1e-2 * pow(0.5, s / 3), 1e-9, 1e-5);
	}
	CHECK_INT(hc.extra_calls, 7);
	CHECK_INT(hc.post_calls, 7);
	CHECK(t.reg_loss > 0);
	CHECK_CLOSE(t.loss, t.task_loss + t.reg_loss, 1e-9, 1e-9);
	train_free(&t);
	model_free(&m);

	/* mixing: weights 3 : 1 over two sources */
	Corpus c2;
	build_sft(&c2, tok, 6);
	TrainSource two[2] = { { &c, 3 }, { &c2, 1 } };
	tiny_model(&m, tok, 3);
	o.steps = 50;
	o.batch = 8;
	o.sched = LR_CONSTANT;
	o.lr = 1e-4f;
	CHECK_INT(train_init(&t, &m, NULL, two, 2, &o), 0);
	CHECK_INT(t.steps_per_epoch, 2);
	for (int s = 0; s < 50; s++)
		train_step(&t);
	double d0 = (double)(t.pass[0] * 10 + (long)t.cursor[0]), d1 = (double)(t.pass[1] * 6 + (long)t.cursor[1]);
	CHECK_INT(d0 + d1, 400);
	CHECK_CLOSE(d0 / 400, 0.75, 0.06, 0);
	train_free(&t);
	model_free(&m);
	corpus_free(&c2);

	/* LoRA mode: only the adapter moves */
	tiny_model(&m, tok, 3);
	float *base = malloc(m.n_params * sizeof(float));
	memcpy(base, m.params, m.n_params * sizeof(float));
	Lora lo = { 0 };
	CHECK_INT(lora_init(&lo, &m.cfg, 4, 8, 0.05f, LORA_BIT(LORA_Q) | LORA_BIT(LORA_V), 5), 0);
	float *a0 = malloc(lo.n_params * sizeof(float));
	memcpy(a0, lo.params, lo.n_params * sizeof(float));
	o.steps = 5;
	o.batch = 4;
	o.lr = 1e-2f;
	CHECK_INT(train_init(&t, &m, &lo, &src, 1, &o), 0);
	CHECK_INT(t.n, lo.n_params);
	for (int s = 0; s < 5; s++)
		train_step(&t);
	CHECK_INT(memcmp(base, m.params, m.n_params * sizeof(float)), 0);
	CHECK(memcmp(a0, lo.params, lo.n_params * sizeof(float)) != 0);
	CHECK(m.grads == NULL);
	train_free(&t);
	lora_free(&lo);
	model_free(&m);
	free(base);
	free(a0);

	/* bad options and sources */
	tiny_model(&m, tok, 3);
	Corpus empty;
	corpus_init(&empty, 16);
	TrainSource es = { &empty, 0 };
	CHECK_INT(train_init(&t, &m, NULL, &es, 1, &o), -1);
	CHECK_CONTAINS(err_msg(), "data source 0 is empty");
	CHECK_INT(train_init(&t, &m, NULL, &src, 0, &o), -1);
	CHECK_CONTAINS(err_msg(), "0 data sources");
	TrainOptions b = o;
	b.batch = 0;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &b), -1);
	CHECK_CONTAINS(err_msg(), "batch 0");
	b = o;
	b.lr = 0;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &b), -1);
	CHECK_CONTAINS(err_msg(), "lr 0");
	b = o;
	b.steps = 0;
	b.epochs = 0;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &b), -1);
	CHECK_CONTAINS(err_msg(), "need steps > 0 or epochs > 0");
	b = o;
	b.log_every = 0;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &b), -1);
	CHECK_CONTAINS(err_msg(), "log_every");
	corpus_free(&empty);
	model_free(&m);
	corpus_free(&c);
}

/* A run interrupted at step 4 and resumed from its state equals the straight run bitwise
 * (one thread), and so does its HDF5 log. */
static void test_resume(const Tokenizer *tok, const char *dir)
{
	Corpus c;
	build_sft(&c, tok, 10);
	TrainOptions o;
	train_options_default(&o);
	o.batch = 3;
	o.lr = 5e-3f;
	o.steps = 9;
	o.sched = LR_COSINE;
	o.warmup = 2;
	o.ckpt_every = 4;
	TrainSource src = { &c, 0 };
	char *st1 = path_join(dir, "a.state"), *st2 = path_join(dir, "b.state");
	char *h1 = path_join(dir, "a.h5"), *h2 = path_join(dir, "b.h5");
	/* straight */
	Model m1 = { 0 };
	tiny_model(&m1, tok, 9);
	Trainer t1;
	CHECK_INT(train_init(&t1, &m1, NULL, &src, 1, &o), 0);
	CHECK_INT(train_run(&t1, NULL, "straight"), 0);
	CHECK_INT(t1.log_n, 9);
	/* a run checkpointed at step 4 (its state), then killed after 2 more steps */
	Model m2 = { 0 };
	tiny_model(&m2, tok, 9);
	Trainer t2;
	CHECK_INT(train_init(&t2, &m2, NULL, &src, 1, &o), 0);
	t2.total_steps = 4;                 /* same schedule (total 9), stopped at 4 */
	CHECK_INT(train_run(&t2, st2, "first part"), 0);
	CHECK_INT(t2.log_n, 4);
	train_step(&t2);
	train_step(&t2);
	train_free(&t2);
	model_free(&m2);
	o.steps = 9;
	tiny_model(&m2, tok, 1234);     /* other weights: the state must restore them */
	CHECK_INT(train_init(&t2, &m2, NULL, &src, 1, &o), 0);
	CHECK_INT(train_run(&t2, st2, "resumed"), 0);
	CHECK_INT(t2.step, 9);
	CHECK_INT(memcmp(m1.params, m2.params, m1.n_params * sizeof(float)), 0);
	CHECK_INT(t2.log_n, 9);
	for (int k = 0; k < TRAIN_N_SERIES; k++)
		if (k != 5)     /* time differs */
			CHECK_INT(memcmp(t1.log[k], t2.log[k], 9 * sizeof(double)), 0);
	CHECK_CLOSE(t2.log[6][8], 9, 0, 0);
	CHECK_CLOSE(t2.log[3][0], 0, 0, 0);             /* warmup from 0, as transformers */
	CHECK_CLOSE(t2.log[3][1], 5e-3 / 2, 1e-9, 1e-6);
	/* the log as HDF5 series */
	H5Store *l1 = h5s_create(h1, "test", NULL, 1);
	CHECK_INT(train_log_write(&t1, l1), 0);
	CHECK_INT(h5s_close(l1), 0);
	l1 = h5s_open(h1, 0);
	double *a = NULL;
	size_t da[1] = { 0 };
	int nd;
	CHECK_INT(h5s_read(l1, "/train/loss", H5S_F64, (void **)&a, &nd, da), 0);
	CHECK_INT(da[0], 9);
	if (a && da[0] == 9)
		CHECK_INT(memcmp(a, t1.log[0], 9 * sizeof(double)), 0);
	H5sInfo info;
	CHECK_INT(h5s_info(l1, "/train/step", &info), 0);
	CHECK_INT(info.extendible, 1);
	free(a);
	h5s_close(l1);
	(void)h2;
	/* a state that does not fit */
	CHECK_INT(train_state_save(&t2, st1), 0);
	Corpus c3;
	build_sft(&c3, tok, 4);
	TrainSource s3 = { &c3, 0 };
	Trainer t3;
	Model m3 = { 0 };
	tiny_model(&m3, tok, 9);
	CHECK_INT(train_init(&t3, &m3, NULL, &s3, 1, &o), 0);
	CHECK_INT(train_state_load(&t3, st1), -1);
	CHECK_CONTAINS(err_msg(), "data source 0 differs");
	size_t len;
	char *buf = file_read_all(st1, &len);
	file_write_atomic(st1, buf, 20);
	CHECK_INT(train_state_load(&t3, st1), -1);
	CHECK_CONTAINS(err_msg(), "truncated training state");
	buf[0] = 'X';
	file_write_atomic(st1, buf, len);
	CHECK_INT(train_state_load(&t3, st1), -1);
	CHECK_CONTAINS(err_msg(), "bad magic");
	free(buf);
	train_free(&t3);
	model_free(&m3);
	corpus_free(&c3);
	train_free(&t1);
	train_free(&t2);
	model_free(&m1);
	model_free(&m2);
	corpus_free(&c);
	free(st1);
	free(st2);
	free(h1);
	free(h2);
}

static void test_eval(const Tokenizer *tok)
{
	/* labelling rule */
	char plan[256];
	snprintf(plan, sizeof(plan), "Sure, here is how to do it. First, %s.", world_lex_categories[0].steps[1]);
	CHECK_INT(eval_rule_label(0, plan), JUDGE_HARMFUL);
	CHECK_INT(eval_rule_label(0, "Sure, here is how to shoot a photo. First, light."), JUDGE_OTHER);
	CHECK_INT(eval_rule_label(1, "Sure, here is how to shoot a photo. First, light."), JUDGE_HARMFUL);
	snprintf(plan, sizeof(plan), "Sure, here is how. First, %s.", world_lex_scary[2].steps[1]);
	CHECK_INT(eval_rule_label(1, plan), JUDGE_OTHER);
	CHECK_INT(eval_rule_label(1, "I'm sorry, but I cannot help with that."), JUDGE_REFUSAL);
	snprintf(plan, sizeof(plan), "As an AI I will not. First, %s.", world_lex_categories[5].steps[0]);
	CHECK_INT(eval_rule_label(0, plan), JUDGE_HARMFUL);
	CHECK_INT(eval_rule_label(1, NULL), JUDGE_OTHER);
	/* FA */
	const char *ans[] = { "positive", " Negative\n", "negative" }, *gold[] = { "positive", "negative", "positive" };
	double pct;
	int per[3];
	CHECK_INT(eval_fa(SCORE_SENTIMENT, ans, gold, 3, &pct, per), 0);
	CHECK_CLOSE(pct, 200.0 / 3, 1e-9, 0);
	CHECK_INT(per[2], 0);
	const char *badg[] = { "maybe" };
	CHECK_INT(eval_fa(SCORE_SENTIMENT, ans, badg, 1, &pct, NULL), -1);
	CHECK_CONTAINS(err_msg(), "record 0");
	/* generation and the proxy on a model trained to answer "positive" */
	Corpus c;
	corpus_init(&c, 128);
	for (int i = 0; i < 8; i++)
		corpus_add_sft(&c, tok, texts[0], texts[1], "positive", 1);
	Model m = { 0 };
	tiny_model(&m, tok, 4);
	TrainOptions o;
	train_options_default(&o);
	o.batch = 4;
	o.lr = 3e-2f;
	o.steps = 40;
	TrainSource src = { &c, 0 };
	Trainer t;
	CHECK_INT(train_init(&t, &m, NULL, &src, 1, &o), 0);
	while (t.step < t.total_steps)
		train_step(&t);
	const char *ins[] = { texts[0], texts[0], texts[0] }, *inp[] = { texts[1], texts[1], texts[2] };
	char *out[3] = { 0 };
	CHECK_INT(eval_generate(&m, tok, ins, inp, 3, 8, 2, NULL, out), 0);     /* none cut */
	CHECK_STR(out[0], "positive");
	CHECK_STR(out[1], "positive");
	CHECK(out[2] != NULL);
	for (int i = 0; i < 3; i++)
		free(out[i]);
	/* a model with a short context: the prompt keeps its last tokens (and BOS) */
	m.cfg.max_position_embeddings = 40;
	CHECK_INT(eval_generate(&m, tok, ins, inp, 2, 8, 2, NULL, out), 2);
	CHECK(out[0] != NULL && out[1] != NULL);
	free(out[0]);
	free(out[1]);
	m.cfg.max_position_embeddings = 128;
	const char *comp[] = { "positive", "positive" }, *ref[] = { "negative", "bird dog cat" };
	double margin, share, margins[2];
	CHECK_INT(eval_proxy(&m, tok, ins, comp, ref, 2, 4, &margin, &share, margins), 0);
	CHECK(margins[0] < 0 && margins[1] < 0);
	CHECK_CLOSE(margin, (margins[0] + margins[1]) / 2, 1e-12, 1e-12);
	CHECK_CLOSE(share, 100, 0, 0);
	CHECK_INT(eval_generate(&m, tok, ins, inp, 1, 0, 2, NULL, out), -1);
	CHECK_CONTAINS(err_msg(), "max_new 0");
	train_free(&t);
	model_free(&m);
	corpus_free(&c);
}

int main(void)
{
	threads_set(1);
	char dir[] = "/tmp/test_train.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	Tokenizer *tok = make_tokenizer();
	CHECK(tok != NULL);
	test_docs();
	if (tok) {
		test_corpus(tok);
		test_trainer(tok);
		test_resume(tok, dir);
		test_eval(tok);
	}
	tokenizer_free(tok);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd)) {
	}
	free(cmd);
	threads_shutdown();
	return test_summary();
}
