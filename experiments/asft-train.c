/* asft-train: training runs of the toolkit.
 *
 *   --method pretrain  a Llama model from scratch on packed text (loss on every token, cosine
 *                      schedule with warmup)                       -> HF checkpoint folder
 *   --method align     full fine-tuning of --model with response-only loss  -> HF checkpoint
 *   --method lora      LoRA (PEFT defaults of the AsFT paper) on --model    -> PEFT adapter
 *   --method judge     the moderation classifier on labelled (prompt, answer) pairs -> judge.h5
 *
 * Model outputs are built in OUT.partial/ (with the resumable training state) and renamed to
 * OUT when complete, so the presence of OUT means a finished run; rerunning after a crash
 * resumes from the last checkpoint. */
#include "adamw.h"
#include "checkpoint.h"
#include "cli.h"
#include "corpus.h"
#include "h5store.h"
#include "hfconfig.h"
#include "judge.h"
#include "lora.h"
#include "model.h"
#include "threads.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: asft-train --method pretrain|align|lora|judge --data FILE[,FILE...] --out PATH [options]\n"
	"\n"
	"pretrain: --tokenizer FILE and the architecture flags; writes an HF folder (config.json,\n"
	"  model.safetensors, tokenizer.json, train.h5). align / lora: --model DIR (an HF folder with\n"
	"  tokenizer.json); lora writes a PEFT adapter folder. judge: --data judge/train.jsonl\n"
	"  [--test judge/test.jsonl] --out judge.h5. Numeric flags at -1 take the method's default\n"
	"  (shown by the README table); --data FILE1,FILE2 with --mix W1,W2 mixes sources.";

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	if (path_exists(dir))
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* finish_dir: partial -> out (replacing an older out). */
static void finish_dir(const char *partial, const char *out)
{
	if (path_exists(out)) {
		char *old = xasprintf("%s.old.%d", out, (int)getpid());
		if (rename(out, old))
			die("cannot move the old %s aside: %s", out, strerror(errno));
		rm_tree(old);
		free(old);
	}
	if (rename(partial, out))
		die("cannot rename %s to %s: %s", partial, out, strerror(errno));
}

static void load_corpus(Corpus *c, const Tokenizer *tok, const char *path, int T, int packed,
			int response_only, long limit)
{
	DocSet d;
	if (docs_load(&d, path))
		die_err();
	if (limit > 0)
		docs_truncate(&d, (size_t)limit);
	corpus_init(c, T);
	long k = packed ? corpus_add_docs_packed(c, tok, &d) : corpus_add_docs_sft(c, tok, &d, response_only);
	if (k < 0)
		die("%s: %s", path, err_msg());
	if (c->n_seq == 0)
		die("%s: no training sequences (%zu records%s)", path, d.n,
		    packed ? "; fewer tokens than one context window?" : " with an output");
	fprintf(stderr, "%s: %zu records -> %zu sequences, %zu tokens, %zu targets%s",
		path, d.n, c->n_seq, c->n_tok, c->n_targets, packed ? "" : "");
	if (c->truncated || c->skipped)
		fprintf(stderr, " (%zu cut at %d tokens, %zu skipped: prompt too long)", c->truncated,
			T, c->skipped);
	fputc('\n', stderr);
	docs_free(&d);
}

static int run_judge(const char *data, const char *test, const char *out, long seed, long epochs,
		     const char *config)
{
	DocSet tr, te = { 0 };
	if (docs_load(&tr, data))
		die_err();
	if (test && *test && docs_load(&te, test))
		die_err();
	DocSet *sets[2] = { &tr, &te };
	char **prompts[2];
	const char **answers[2];
	JudgeLabel *labels[2];
	for (int k = 0; k < 2; k++) {
		DocSet *s = sets[k];
		prompts[k] = xcalloc(s->n + 1, sizeof(char *));
		answers[k] = xcalloc(s->n + 1, sizeof(char *));
		labels[k] = xcalloc(s->n + 1, sizeof(JudgeLabel));
		for (size_t i = 0; i < s->n; i++) {
			Doc *d = &s->d[i];
			if (!d->label || judge_label_parse(d->label, &labels[k][i]))
				die("%s:%d: record %zu: \"label\" must be harmful, refusal or other",
				    k ? test : data, d->line, i);
			prompts[k][i] = judge_prompt(d->instruction, d->input);
			answers[k][i] = d->output ? d->output : "";
		}
	}
	JudgeOptions o;
	judge_options_default(&o);
	o.seed = (uint64_t)seed;
	if (epochs > 0)
		o.epochs = (int)epochs;
	double t0 = time_now();
	JudgeModel *m = judge_train((const char *const *)prompts[0], answers[0], labels[0], tr.n, &o);
	if (!m)
		die_err();
	JudgeEval ev;
	if (te.n) {
		if (judge_evaluate(m, (const char *const *)prompts[1], answers[1], labels[1], te.n, &ev))
			die_err();
		judge_set_validation(m, &ev);
	}
	if (judge_save(m, out, "asft-train", config))
		die_err();
	printf("judge: trained on %zu pairs in %.1f s", tr.n, time_now() - t0);
	if (te.n) {
		printf("; held-out accuracy %.2f%% on %zu pairs\n", ev.accuracy, te.n);
		printf("  confusion (rows true, cols predicted: harmful refusal other)\n");
		for (int a = 0; a < JUDGE_N_LABELS; a++)
			printf("  %-8s %6lld %6lld %6lld\n", judge_label_name((JudgeLabel)a),
			       (long long)ev.confusion[a][0], (long long)ev.confusion[a][1],
			       (long long)ev.confusion[a][2]);
	} else {
		printf("\n");
	}
	printf("judge: wrote %s\n", out);
	judge_free(m);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < sets[k]->n; i++)
			free(prompts[k][i]);
		free(prompts[k]);
		free(answers[k]);
		free(labels[k]);
	}
	docs_free(&tr);
	docs_free(&te);
	return 0;
}

int main(int argc, char **argv)
{
	const char *method = NULL, *data = NULL, *mix = NULL, *out = NULL, *model_dir = NULL;
	const char *tok_path = NULL, *heldout = NULL, *test = NULL, *sched_s = "", *targets_s = "q_proj,v_proj";
	long seed = 1, steps = -1, batch = -1, ctx = -1, threads = 2, warmup = -1, ckpt_every = 200;
	long limit = 0, limit_heldout = 2000;
	long d = 128, layers = 4, heads = 4, kv_heads = 0, ffn = 0, lora_r = 8, log_every = 1, epochs_i = 0;
	double epochs = -1, lr = -1, gamma = 0.85, wd = -1, clip = 1.0, lora_alpha = 32, lora_dropout = 0.05;
	double init_std = 0.02, beta2 = -1;
	int loss_all = -1;
	const CliOpt opts[] = {
		{ "method", CLI_STR, &method, "M", "pretrain, align, lora or judge" },
		{ "data", CLI_STR, &data, "FILES", "training data (JSON/JSONL); several comma-separated are mixed" },
		{ "mix", CLI_STR, &mix, "WEIGHTS", "sampling weight per --data file (default: by size)" },
		{ "out", CLI_STR, &out, "PATH", "output folder (judge: .h5 file)" },
		{ "model", CLI_STR, &model_dir, "DIR", "initial HF checkpoint (align, lora)" },
		{ "tokenizer", CLI_STR, &tok_path, "FILE", "tokenizer.json (pretrain; else MODEL/tokenizer.json)" },
		{ "heldout", CLI_STR, &heldout, "FILE", "held-out data: its loss is logged at the end" },
		{ "test", CLI_STR, &test, "FILE", "judge: held-out labelled pairs for its validation" },
		{ "limit", CLI_INT, &limit, "N", "read only the first N records of each --data file (0: all)" },
		{ "limit-heldout", CLI_INT, &limit_heldout, "N", "read only the first N records of --heldout (0: all)" },
		{ "seed", CLI_INT, &seed, "S", "seed of initialisation, data order and dropout" },
		{ "steps", CLI_INT, &steps, "N", "optimizer steps (-1: from --epochs)" },
		{ "epochs", CLI_DOUBLE, &epochs, "E", "passes over the data (-1: method default: pretrain 1, align 3, lora 10)" },
		{ "batch", CLI_INT, &batch, "B", "sequences per step (-1: pretrain 32, align 32, lora 8)" },
		{ "ctx", CLI_INT, &ctx, "T", "context length (-1: pretrain 128; else the model's max positions)" },
		{ "lr", CLI_DOUBLE, &lr, "LR", "peak learning rate (-1: pretrain 3e-3, align 3e-4, lora 5e-5)" },
		{ "sched", CLI_STR, &sched_s, "KIND", "constant, step or cosine (default: pretrain/align cosine, lora step)" },
		{ "warmup", CLI_INT, &warmup, "N", "warmup steps (-1: pretrain 2% of steps, else 0)" },
		{ "gamma", CLI_DOUBLE, &gamma, "G", "StepLR factor per epoch" },
		{ "wd", CLI_DOUBLE, &wd, "W", "AdamW weight decay (-1: pretrain 0.1, else 0)" },
		{ "beta2", CLI_DOUBLE, &beta2, "B2", "AdamW beta2 (-1: pretrain 0.95, else 0.999)" },
		{ "clip", CLI_DOUBLE, &clip, "C", "max global gradient norm (0: none)" },
		{ "loss-all", CLI_BOOL, &loss_all, NULL, "train on every token (default: pretrain yes, others response only)" },
		{ "d", CLI_INT, &d, "D", "pretrain: hidden size" },
		{ "layers", CLI_INT, &layers, "L", "pretrain: layers" },
		{ "heads", CLI_INT, &heads, "H", "pretrain: attention heads" },
		{ "kv-heads", CLI_INT, &kv_heads, "K", "pretrain: key/value heads (0: = heads)" },
		{ "ffn", CLI_INT, &ffn, "F", "pretrain: intermediate size (0: 8d/3 rounded up to 8)" },
		{ "init-std", CLI_DOUBLE, &init_std, "S", "pretrain: weight init std" },
		{ "lora-r", CLI_INT, &lora_r, "R", "LoRA rank" },
		{ "lora-alpha", CLI_DOUBLE, &lora_alpha, "A", "LoRA alpha" },
		{ "lora-dropout", CLI_DOUBLE, &lora_dropout, "P", "LoRA dropout" },
		{ "lora-targets", CLI_STR, &targets_s, "LIST", "LoRA target projections" },
		{ "ckpt-every", CLI_INT, &ckpt_every, "N", "save resumable state every N steps (0: end only)" },
		{ "log-every", CLI_INT, &log_every, "N", "log series entry every N steps" },
		{ "judge-epochs", CLI_INT, &epochs_i, "N", "judge: epochs (0: classifier default)" },
		{ "threads", CLI_INT, &threads, "N", "threads (OpenBLAS and ours)" },
		{ NULL, 0, NULL, NULL, NULL },
	};
	cli_parse(argc, argv, opts, usage, NULL);
	char *config = cli_config_json(opts);
	if (!method || !data || !out)
		die("--method, --data and --out are required (see --help)");
	if (seed < 0)
		die("--seed %ld must be >= 0", seed);
	if (!strcmp(method, "judge")) {
		int rc = run_judge(data, test, out, seed, epochs_i, config);
		free(config);
		return rc;
	}
	int is_pre = !strcmp(method, "pretrain"), is_align = !strcmp(method, "align");
	int is_lora = !strcmp(method, "lora");
	if (!is_pre && !is_align && !is_lora)
		die("--method '%s' (expected pretrain, align, lora or judge)", method);
	if (!is_pre && !model_dir)
		die("--method %s needs --model DIR", method);
	threads_set((int)threads);

	/* method defaults */
	if (epochs < 0)
		epochs = is_pre ? 1 : is_align ? 3 : 10;
	if (batch < 0)
		batch = is_lora ? 8 : 32;
	if (lr < 0)
		lr = is_pre ? 3e-3 : is_align ? 3e-4 : 5e-5;
	if (wd < 0)
		wd = is_pre ? 0.1 : 0;
	if (beta2 < 0)
		beta2 = is_pre ? 0.95 : 0.999;
	if (loss_all < 0)
		loss_all = is_pre;
	LrKind sched = is_lora ? LR_STEP : LR_COSINE;
	if (*sched_s) {
		int k = lr_kind_parse(sched_s);
		if (k < 0)
			die("--sched '%s' (expected constant, step or cosine)", sched_s);
		sched = (LrKind)k;
	}

	/* the model */
	Model m = { 0 };
	Tokenizer *tok = NULL;
	char *tok_file = tok_path ? xstrdup(tok_path) : model_dir ? path_join(model_dir, "tokenizer.json") : NULL;
	if (!tok_file)
		die("--method pretrain needs --tokenizer FILE");
	if (!(tok = tokenizer_load(tok_file)))
		die_err();
	if (is_pre) {
		if (ctx < 0)
			ctx = 128;
		ModelConfig c;
		config_default(&c);
		c.hidden_size = (int)d;
		c.num_hidden_layers = (int)layers;
		c.num_attention_heads = (int)heads;
		c.num_key_value_heads = kv_heads > 0 ? (int)kv_heads : (int)heads;
		c.head_dim = heads > 0 ? (int)(d / heads) : 0;
		c.intermediate_size = ffn > 0 ? (int)ffn : (int)((8 * d / 3 + 7) / 8 * 8);
		c.vocab_size = (int)tokenizer_vocab_size(tok);
		c.max_position_embeddings = (int)ctx;
		c.rms_norm_eps = 1e-5;
		c.tie_word_embeddings = 1;
		c.bos_token_id = tokenizer_bos_id(tok);
		int32_t eos = tokenizer_eos_id(tok);
		if (eos >= 0)
			c.eos_token_ids[c.n_eos++] = eos;
		char why[256];
		if (config_validate(&c, why, sizeof(why)))
			die("architecture: %s", why);
		if (model_init(&m, &c))
			die_err();
		model_init_weights(&m, (uint64_t)seed, (float)init_std);
	} else {
		if (checkpoint_load(&m, model_dir))
			die_err();
		if ((int)tokenizer_vocab_size(tok) > m.V)
			die("%s: tokenizer has %zu ids, the model only %d embeddings", tok_file,
			    tokenizer_vocab_size(tok), m.V);
		if (ctx < 0)
			ctx = m.cfg.max_position_embeddings;
	}
	if (ctx > m.cfg.max_position_embeddings)
		die("--ctx %ld exceeds the model's max_position_embeddings %d", ctx,
		    m.cfg.max_position_embeddings);

	/* the data */
	char *data_copy = xstrdup(data), *files[TRAIN_MAX_SOURCES];
	int n_src = cli_split(data_copy, files, TRAIN_MAX_SOURCES);
	double weights[TRAIN_MAX_SOURCES] = { 0 };
	if (mix) {
		char *mix_copy = xstrdup(mix), *w[TRAIN_MAX_SOURCES];
		int n_w = cli_split(mix_copy, w, TRAIN_MAX_SOURCES);
		if (n_w != n_src)
			die("--mix has %d weights for %d --data files", n_w, n_src);
		for (int i = 0; i < n_w; i++) {
			char *e;
			weights[i] = strtod(w[i], &e);
			if (*e || !(weights[i] > 0))
				die("--mix: weight '%s' must be a number > 0", w[i]);
		}
		free(mix_copy);
	}
	Corpus corp[TRAIN_MAX_SOURCES];
	TrainSource src[TRAIN_MAX_SOURCES];
	for (int i = 0; i < n_src; i++) {
		load_corpus(&corp[i], tok, files[i], (int)ctx, is_pre, !loss_all, limit);
		src[i] = (TrainSource){ &corp[i], weights[i] };
	}
	Corpus held = { 0 };
	if (heldout)
		load_corpus(&held, tok, heldout, (int)ctx, is_pre, !loss_all, limit_heldout);

	/* LoRA */
	Lora lo = { 0 };
	if (is_lora) {
		unsigned tg = lora_targets_parse(targets_s);
		if (!tg)
			die_err();
		if (lora_init(&lo, &m.cfg, (int)lora_r, (float)lora_alpha, (float)lora_dropout, tg,
			      (uint64_t)seed))
			die_err();
	}
	rng_init(&m.rng, (uint64_t)seed, 77);

	TrainOptions o;
	train_options_default(&o);
	o.steps = steps > 0 ? steps : 0;
	o.epochs = epochs;
	o.batch = (int)batch;
	o.lr = (float)lr;
	o.sched = sched;
	o.gamma = (float)gamma;
	o.beta2 = (float)beta2;
	o.weight_decay = (float)wd;
	o.clip = (float)clip;
	o.seed = (uint64_t)seed;
	o.log_every = (int)log_every;
	o.ckpt_every = (int)ckpt_every;
	Trainer t;
	if (train_init(&t, &m, is_lora ? &lo : NULL, src, n_src, &o))
		die_err();
	t.sched.warmup = warmup >= 0 ? warmup : is_pre ? t.total_steps / 50 : 0;
	fprintf(stderr, "%s: %zu trainable parameters (model %zu), %ld steps of %ld sequences "
		"(%ld per epoch), lr %g %s\n", method, t.n, m.n_params, t.total_steps, batch,
		t.steps_per_epoch, lr, sched == LR_STEP ? "step" : sched == LR_COSINE ? "cosine" : "constant");

	/* the run, in OUT.partial */
	char *partial = xasprintf("%s.partial", out);
	if (mkdir_p(partial))
		die_err();
	char *state = path_join(partial, "train.state");
	char *log_path = path_join(partial, "train.h5");
	if (train_run(&t, state, method))
		die_err();
	double wall = t.time_offset;
	double final_loss = t.loss, held_loss = NAN;
	if (heldout) {
		held_loss = train_eval_loss(&m, &held, (int)batch);
		fprintf(stderr, "%s: held-out loss %.4f on %zu sequences\n", method, held_loss, held.n_seq);
	}
	H5Store *log = h5s_create(log_path, "asft-train", config, (uint64_t)seed);
	if (!log || h5s_attr_set_str(log, "/", "method", method) || train_log_write(&t, log) ||
	    h5s_write_scalar(log, "/final_loss", final_loss, "loss of the last step") ||
	    h5s_write_scalar(log, "/heldout_loss", held_loss, "mean loss on --heldout (NaN: none)") ||
	    h5s_write_scalar(log, "/wall_seconds", wall, "seconds of training (resumes included)") ||
	    h5s_attr_set_i64(log, "/", "steps", t.total_steps) ||
	    h5s_attr_set_i64(log, "/", "trainable_params", (int64_t)t.n) ||
	    h5s_attr_set_i64(log, "/", "model_params", (int64_t)m.n_params) ||
	    h5s_attr_set_i64(log, "/", "train_tokens", (int64_t)corp[0].n_tok) ||
	    h5s_close(log))
		die_err();
	if (is_lora) {
		if (checkpoint_save_adapter(&lo, partial, model_dir, ST_F32))
			die_err();
	} else if (checkpoint_save(&m, partial, ST_F32)) {
		die_err();
	}
	char *tok_out = path_join(partial, "tokenizer.json");
	if (tokenizer_save(tok, tok_out))
		die_err();
	remove(state);
	finish_dir(partial, out);
	printf("%s: wrote %s (final loss %.4f", method, out, final_loss);
	if (heldout)
		printf(", held-out %.4f", held_loss);
	printf(", %.1f s)\n", wall);

	free(tok_out);
	free(state);
	free(log_path);
	free(partial);
	train_free(&t);
	for (int i = 0; i < n_src; i++)
		corpus_free(&corp[i]);
	if (heldout)
		corpus_free(&held);
	lora_free(&lo);
	model_free(&m);
	tokenizer_free(tok);
	free(tok_file);
	free(data_copy);
	free(config);
	threads_shutdown();
	return 0;
}
