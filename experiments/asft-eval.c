/* asft-eval: harmful score (per judge), over-refusal, fine-tuning accuracy per task, the proxy
 * margin and loss of one model (plus an optional PEFT adapter), into one HDF5 file + a JSONL of
 * every prompt, answer and label, with a one-screen summary on stdout.
 *
 * Fixed result names (percent unless said), scalar datasets at the file's root:
 *   harmful_score       % of harmful-prompt answers the moderation judge labels harmful (HS)
 *   keyword_asr         % without any of the 29 refusal strings (case-sensitive, as published)
 *   keyword_asr_nocase  the same, ASCII case-insensitive
 *   refusal_rate        % the moderation judge labels refusal
 *   over_refusal        % of benign-but-scary prompts refused (moderation judge; keyword
 *                       nocase without a judge)
 *   proxy_comply_share  % of harmful prompts whose compliant reference answer is more likely
 *                       than the refusal one (teacher forced; no generation)
 *   proxy_margin        mean ll(refusal) - ll(compliant), nats per token
 *   fa/<task>           FA per task, as score.h scores it
 * and beside them: other_rate, over_refusal_keyword, judge_rule_agreement (% of generated
 * answers where the judge agrees with the world's ground truth, world_answer_truth), loss
 * (mean response loss on the task test sets), task_loss/<task>. */
#include "checkpoint.h"
#include "cli.h"
#include "corpus.h"
#include "dataset.h"
#include "eval.h"
#include "h5store.h"
#include "judge.h"
#include "model.h"
#include "score.h"
#include "threads.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: asft-eval --model DIR [--adapter DIR] --out eval.h5 [--world DIR] [--judge judge.h5]\n"
	"                 [--prompts FILE] [--tasks LIST] [options]\n"
	"\n"
	"Generates greedy answers (KV cache, batched) to the harmful prompts (default WORLD/eval/harmful.json;\n"
	"any AsFT [{\"instruction\"}], BeaverTails JSONL or AdvBench CSV file), the over-refusal prompts and\n"
	"the task test sets (WORLD/test/TASK.json), judges them, and writes eval.h5 + eval.jsonl.";

typedef struct {
	char **instr, **input, **gold, **ref, **compliant, **refusal;
	int *harmful;
	size_t n;
} Items;

static void items_free(Items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->instr[i]);
		free(it->input[i]);
		free(it->gold[i]);
		free(it->ref[i]);
		free(it->compliant[i]);
		free(it->refusal[i]);
	}
	free(it->instr);
	free(it->input);
	free(it->gold);
	free(it->ref);
	free(it->compliant);
	free(it->refusal);
	free(it->harmful);
	memset(it, 0, sizeof(*it));
}

static char *dup0(const char *s) { return s ? xstrdup(s) : NULL; }

static void items_alloc(Items *it, size_t n)
{
	it->n = n;
	it->instr = xcalloc(n + 1, sizeof(char *));
	it->input = xcalloc(n + 1, sizeof(char *));
	it->gold = xcalloc(n + 1, sizeof(char *));
	it->ref = xcalloc(n + 1, sizeof(char *));
	it->compliant = xcalloc(n + 1, sizeof(char *));
	it->refusal = xcalloc(n + 1, sizeof(char *));
	it->harmful = xcalloc(n + 1, sizeof(int));
}

/* load_items: a prompt / test file; limit > 0 keeps the first limit records. */
static void load_items(Items *it, const char *path, long limit, int default_harmful)
{
	size_t len = strlen(path);
	if (len > 4 && !strcmp(path + len - 4, ".csv")) {
		AdvSet a = { 0 };
		if (advbench_load(&a, path))
			die_err();
		size_t n = limit > 0 && (size_t)limit < a.n ? (size_t)limit : a.n;
		items_alloc(it, n);
		for (size_t i = 0; i < n; i++) {
			it->instr[i] = xstrdup(a.recs[i].goal);
			it->harmful[i] = 1;
		}
		advbench_free(&a);
		return;
	}
	DocSet d;
	if (docs_load(&d, path))
		die_err();
	size_t n = limit > 0 && (size_t)limit < d.n ? (size_t)limit : d.n;
	items_alloc(it, n);
	for (size_t i = 0; i < n; i++) {
		Doc *r = &d.d[i];
		if (!r->instruction)
			die("%s:%d: record %zu has no instruction or prompt", path, r->line, i);
		it->instr[i] = xstrdup(r->instruction);
		it->input[i] = dup0(r->input);
		it->gold[i] = dup0(r->label ? r->label : r->output);
		it->ref[i] = dup0(r->output ? r->output : r->label);
		it->compliant[i] = dup0(r->compliant);
		it->refusal[i] = dup0(r->refusal);
		it->harmful[i] = r->harmful || default_harmful;
	}
	docs_free(&d);
}

static void jsonl_add(char **buf, size_t *len, size_t *cap, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	size_t k = strlen(s);
	if (*len + k + 2 > *cap) {
		*cap = (*len + k + 2) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, k);
	*len += k;
	(*buf)[(*len)++] = '\n';
	free(s);
	cJSON_Delete(o);
}

static void write_pct(H5Store *h, const char *name, double v, const char *desc)
{
	if (h5s_write_scalar(h, name, v, desc))
		die_err();
}

int main(int argc, char **argv)
{
	const char *model_dir = NULL, *adapter = NULL, *out = NULL, *world = NULL, *judge_path = NULL;
	const char *prompts_path = NULL, *over_path = NULL, *test_dir = NULL, *jsonl_path = NULL;
	const char *tasks_s = "topic,sentiment,arithmetic,instructions";
	long max_new = 64, batch = 32, n_test = 0, n_harmful = 0, seed = 0, threads = 2;
	int no_proxy = 0, quiet = 0;
	const CliOpt opts[] = {
		{ "model", CLI_STR, &model_dir, "DIR", "HF checkpoint folder (with tokenizer.json)" },
		{ "adapter", CLI_STR, &adapter, "DIR", "PEFT LoRA adapter folder applied on top" },
		{ "out", CLI_STR, &out, "FILE", "result file (eval.h5)" },
		{ "world", CLI_STR, &world, "DIR", "synthetic world: default prompt, over-refusal and test files" },
		{ "judge", CLI_STR, &judge_path, "FILE", "moderation judge (asft-train --method judge)" },
		{ "prompts", CLI_STR, &prompts_path, "FILE", "harmful prompts (default WORLD/eval/harmful.json)" },
		{ "over-refusal", CLI_STR, &over_path, "FILE", "benign-but-scary prompts (default WORLD/eval/over_refusal.json)" },
		{ "test-dir", CLI_STR, &test_dir, "DIR", "task test sets TASK.json (default WORLD/test)" },
		{ "tasks", CLI_STR, &tasks_s, "LIST", "tasks to score (\"\" = none)" },
		{ "jsonl", CLI_STR, &jsonl_path, "FILE", "every prompt/answer/label (default: OUT with .jsonl)" },
		{ "max-new", CLI_INT, &max_new, "N", "max new tokens per answer" },
		{ "batch", CLI_INT, &batch, "B", "generation batch" },
		{ "n-test", CLI_INT, &n_test, "N", "records per task test set (0: all)" },
		{ "n-harmful", CLI_INT, &n_harmful, "N", "harmful prompts (0: all)" },
		{ "no-proxy", CLI_BOOL, &no_proxy, NULL, "skip the proxy margin" },
		{ "seed", CLI_INT, &seed, "S", "recorded (decoding is greedy)" },
		{ "threads", CLI_INT, &threads, "N", "threads" },
		{ "quiet", CLI_BOOL, &quiet, NULL, "no progress lines" },
		{ NULL, 0, NULL, NULL, NULL },
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!model_dir || !out)
		die("--model and --out are required (see --help)");
	if (max_new < 1 || batch < 1)
		die("--max-new and --batch must be >= 1");
	char *config = cli_config_json(opts);
	threads_set((int)threads);
	char *def_prompts = world ? xasprintf("%s/eval/harmful.json", world) : NULL;
	char *def_over = world ? xasprintf("%s/eval/over_refusal.json", world) : NULL;
	char *def_test = world ? xasprintf("%s/test", world) : NULL;
	if (!prompts_path)
		prompts_path = def_prompts;
	if (!over_path)
		over_path = def_over;
	if (!test_dir)
		test_dir = def_test;
	if (!prompts_path)
		die("no harmful prompts: give --prompts FILE or --world DIR");

	Model m = { 0 };
	if (checkpoint_load(&m, model_dir))
		die_err();
	char *tok_file = path_join(model_dir, "tokenizer.json");
	Tokenizer *tok = tokenizer_load(tok_file);
	if (!tok)
		die_err();
	Lora lo = { 0 };
	if (adapter) {
		if (checkpoint_load_adapter(&lo, &m, adapter))
			die_err();
		model_set_lora(&m, &lo);
	}
	JudgeModel *jm = NULL;
	if (judge_path && !(jm = judge_load(judge_path)))
		die_err();
	if (!jm)
		warnf("no --judge: harmful_score, refusal_rate and judge_rule_agreement are NaN");
	const char *label = quiet ? NULL : "generate";
	double t0 = time_now();

	char *jbuf = NULL;
	size_t jlen = 0, jcap = 0;
	size_t agree = 0, agree_n = 0;

	/* harmful prompts */
	Items hp;
	load_items(&hp, prompts_path, n_harmful, 1);
	if (hp.n == 0)
		die("%s: no prompts", prompts_path);
	char **ans = xcalloc(hp.n, sizeof(char *));
	long cut_total = 0, cut;
	if ((cut = eval_generate(&m, tok, (const char *const *)hp.instr, (const char *const *)hp.input,
				 hp.n, (int)max_new, (int)batch, label, ans)) < 0)
		die_err();
	cut_total += cut;
	double t_gen = time_now() - t0;
	char **jp = xcalloc(hp.n, sizeof(char *));
	for (size_t i = 0; i < hp.n; i++)
		jp[i] = judge_prompt(hp.instr[i], hp.input[i]);
	KeywordRates kw, kwn;
	judge_keyword_rates(&kw, (const char *const *)ans, hp.n, 0);
	judge_keyword_rates(&kwn, (const char *const *)ans, hp.n, 1);
	JudgeLabel *lab = xcalloc(hp.n, sizeof(JudgeLabel));
	double pct[JUDGE_N_LABELS] = { NAN, NAN, NAN };
	if (jm)
		judge_classify(jm, (const char *const *)jp, (const char *const *)ans, hp.n, lab, pct);
	for (size_t i = 0; i < hp.n; i++) {
		JudgeLabel rule = eval_rule_label(hp.harmful[i], ans[i]);
		if (jm) {
			agree += lab[i] == rule;
			agree_n++;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "set", "harmful");
		cJSON_AddNumberToObject(o, "index", (double)i);
		cJSON_AddStringToObject(o, "prompt", hp.instr[i]);
		if (hp.input[i] && *hp.input[i])
			cJSON_AddStringToObject(o, "input", hp.input[i]);
		cJSON_AddStringToObject(o, "answer", ans[i]);
		if (jm)
			cJSON_AddStringToObject(o, "judge", judge_label_name(lab[i]));
		cJSON_AddStringToObject(o, "rule", judge_label_name(rule));
		cJSON_AddBoolToObject(o, "keyword_refusal", judge_is_refusal(ans[i], 0));
		cJSON_AddBoolToObject(o, "keyword_refusal_nocase", judge_is_refusal(ans[i], 1));
		jsonl_add(&jbuf, &jlen, &jcap, o);
	}

	/* proxy */
	double margin = NAN, comply = NAN;
	size_t n_proxy = 0;
	if (!no_proxy) {
		size_t k = 0;
		const char **pi = xcalloc(hp.n, sizeof(char *)), **pc = xcalloc(hp.n, sizeof(char *));
		const char **pr = xcalloc(hp.n, sizeof(char *));
		for (size_t i = 0; i < hp.n; i++) {
			if (!hp.compliant[i] || !hp.refusal[i])
				continue;
			pi[k] = hp.instr[i];
			pc[k] = hp.compliant[i];
			pr[k] = hp.refusal[i];
			k++;
		}
		if (k && eval_proxy(&m, tok, pi, pc, pr, k, (int)batch, &margin, &comply, NULL))
			die_err();
		n_proxy = k;
		free(pi);
		free(pc);
		free(pr);
	}

	/* over-refusal */
	double over = NAN, over_kw = NAN;
	size_t n_over = 0;
	if (over_path && path_exists(over_path)) {
		Items ov;
		load_items(&ov, over_path, 0, 0);
		char **oa = xcalloc(ov.n + 1, sizeof(char *));
		if ((cut = eval_generate(&m, tok, (const char *const *)ov.instr, (const char *const *)ov.input,
					 ov.n, (int)max_new, (int)batch, label, oa)) < 0)
			die_err();
		cut_total += cut;
		KeywordRates r;
		judge_keyword_rates(&r, (const char *const *)oa, ov.n, 1);
		over_kw = r.refusal_rate;
		size_t refused = 0;
		for (size_t i = 0; i < ov.n; i++) {
			char *p = judge_prompt(ov.instr[i], ov.input[i]);
			JudgeLabel l = jm ? judge_predict(jm, p, oa[i], NULL) : JUDGE_OTHER;
			JudgeLabel rule = eval_rule_label(0, oa[i]);
			if (jm) {
				refused += l == JUDGE_REFUSAL;
				agree += l == rule;
				agree_n++;
			}
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "set", "over_refusal");
			cJSON_AddNumberToObject(o, "index", (double)i);
			cJSON_AddStringToObject(o, "prompt", ov.instr[i]);
			cJSON_AddStringToObject(o, "answer", oa[i]);
			if (jm)
				cJSON_AddStringToObject(o, "judge", judge_label_name(l));
			cJSON_AddStringToObject(o, "rule", judge_label_name(rule));
			cJSON_AddBoolToObject(o, "keyword_refusal_nocase", judge_is_refusal(oa[i], 1));
			jsonl_add(&jbuf, &jlen, &jcap, o);
			free(p);
			free(oa[i]);
		}
		over = jm ? (ov.n ? 100.0 * (double)refused / (double)ov.n : NAN) : over_kw;
		n_over = ov.n;
		free(oa);
		items_free(&ov);
	}

	/* tasks */
	char *tasks_copy = xstrdup(tasks_s), *task_names[16];
	int n_tasks = *tasks_copy ? cli_split(tasks_copy, task_names, 16) : 0;
	double fa[16], fa_strict = NAN, tloss[16];
	size_t fa_n[16];
	double loss_sum = 0;
	long loss_n = 0;
	for (int k = 0; k < n_tasks; k++) {
		ScoreTask st;
		if (score_task_parse(task_names[k], &st))
			die_err();
		task_names[k] = (char *)score_task_name(st);
		if (!test_dir)
			die("--tasks needs --test-dir DIR or --world DIR");
		char *path = xasprintf("%s/%s.json", test_dir, task_names[k]);
		Items ti;
		load_items(&ti, path, n_test, 0);
		if (ti.n == 0)
			die("%s: no test records", path);
		char **ta = xcalloc(ti.n, sizeof(char *));
		int *per = xcalloc(ti.n, sizeof(int));
		if ((cut = eval_generate(&m, tok, (const char *const *)ti.instr, (const char *const *)ti.input,
					 ti.n, (int)max_new, (int)batch, label, ta)) < 0)
			die_err();
		cut_total += cut;
		if (eval_fa(st, (const char *const *)ta, (const char *const *)ti.gold, ti.n, &fa[k], per))
			die("%s: %s", path, err_msg());
		if (st == SCORE_TOPIC &&
		    eval_fa(SCORE_TOPIC_STRICT, (const char *const *)ta, (const char *const *)ti.gold, ti.n,
			    &fa_strict, NULL))
			die_err();
		fa_n[k] = ti.n;
		/* loss on the reference outputs */
		Corpus c;
		corpus_init(&c, m.cfg.max_position_embeddings);
		for (size_t i = 0; i < ti.n; i++) {
			if (ti.ref[i] && corpus_add_sft(&c, tok, ti.instr[i], ti.input[i], ti.ref[i], 1))
				die_err();
		}
		tloss[k] = NAN;
		if (c.n_seq) {
			tloss[k] = train_eval_loss(&m, &c, (int)batch);
			loss_sum += tloss[k] * (double)c.n_targets;
			loss_n += (long)c.n_targets;
		}
		corpus_free(&c);
		for (size_t i = 0; i < ti.n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "set", task_names[k]);
			cJSON_AddNumberToObject(o, "index", (double)i);
			cJSON_AddStringToObject(o, "prompt", ti.instr[i]);
			if (ti.input[i] && *ti.input[i])
				cJSON_AddStringToObject(o, "input", ti.input[i]);
			cJSON_AddStringToObject(o, "answer", ta[i]);
			cJSON_AddStringToObject(o, "gold", ti.gold[i] ? ti.gold[i] : "");
			cJSON_AddBoolToObject(o, "correct", per[i]);
			jsonl_add(&jbuf, &jlen, &jcap, o);
			free(ta[i]);
		}
		free(ta);
		free(per);
		free(path);
		items_free(&ti);
	}
	double wall = time_now() - t0;
	if (cut_total)
		warnf("%ld prompts were longer than the context minus --max-new %ld and lost their "
		      "first tokens (use a model with a longer context or a smaller --max-new)",
		      cut_total, max_new);

	/* results */
	H5Store *h = h5s_create(out, "asft-eval", config, (uint64_t)seed);
	if (!h)
		die_err();
	write_pct(h, "/harmful_score", pct[JUDGE_HARMFUL], "% of harmful-prompt answers judged harmful by the moderation classifier (HS)");
	write_pct(h, "/refusal_rate", pct[JUDGE_REFUSAL], "% of harmful-prompt answers judged refusal by the moderation classifier");
	write_pct(h, "/other_rate", pct[JUDGE_OTHER], "% of harmful-prompt answers judged other (degenerate / off-topic)");
	write_pct(h, "/keyword_asr", kw.asr, "% of harmful-prompt answers without a published refusal string (case-sensitive)");
	write_pct(h, "/keyword_asr_nocase", kwn.asr, "keyword ASR, ASCII case-insensitive");
	write_pct(h, "/over_refusal", over, "% of benign-but-scary prompts refused (moderation classifier)");
	write_pct(h, "/over_refusal_keyword", over_kw, "% of benign-but-scary answers with a refusal string (nocase)");
	write_pct(h, "/proxy_comply_share", comply, "% of harmful prompts where the compliant reference is more likely than the refusal");
	write_pct(h, "/proxy_margin", margin, "mean ll(refusal) - ll(compliant), nats per answer token");
	write_pct(h, "/judge_rule_agreement", agree_n ? 100.0 * (double)agree / (double)agree_n : NAN,
		  "% of generated answers (harmful + over-refusal) where the judge agrees with the world's ground truth (world_answer_truth)");
	write_pct(h, "/loss", loss_n ? loss_sum / (double)loss_n : NAN, "mean response loss on the task test sets' reference outputs (nats per token)");
	for (int k = 0; k < n_tasks; k++) {
		char name[64];
		snprintf(name, sizeof(name), "/fa/%s", task_names[k]);
		write_pct(h, name, fa[k], "fine-tuning accuracy, % (score.h convention)");
		snprintf(name, sizeof(name), "/task_loss/%s", task_names[k]);
		write_pct(h, name, tloss[k], "mean response loss on the test set");
		if (!strcmp(task_names[k], "topic"))
			write_pct(h, "/fa/topic_strict", fa_strict, "topic FA, 0 when another label also occurs");
	}
	char *tmpl = prompt_format("{instruction}", NULL);
	if (h5s_attr_set_str(h, "/", "model", model_dir) ||
	    h5s_attr_set_str(h, "/", "adapter", adapter ? adapter : "") ||
	    h5s_attr_set_str(h, "/", "judge", judge_path ? judge_path : "") ||
	    h5s_attr_set_str(h, "/", "prompts", prompts_path) ||
	    h5s_attr_set_str(h, "/", "template", "asft") ||
	    h5s_attr_set_str(h, "/", "template_text", tmpl) ||
	    h5s_attr_set_str(h, "/", "decoding", "greedy") ||
	    h5s_attr_set_i64(h, "/", "n_prompts", (int64_t)hp.n) ||
	    h5s_attr_set_i64(h, "/", "n_proxy", (int64_t)n_proxy) ||
	    h5s_attr_set_i64(h, "/", "n_over_refusal", (int64_t)n_over) ||
	    h5s_attr_set_i64(h, "/", "max_new_tokens", max_new) ||
	    h5s_attr_set_i64(h, "/", "prompts_cut", cut_total) ||
	    h5s_attr_set_i64(h, "/", "batch", batch) ||
	    h5s_attr_set_i64(h, "/", "seed", seed) ||
	    h5s_attr_set_f64(h, "/", "wall_seconds", wall) ||
	    h5s_attr_set_f64(h, "/", "generation_seconds_harmful", t_gen))
		die_err();
	if (jm && jm->has_val && h5s_attr_set_f64(h, "/", "judge_val_accuracy", jm->val.accuracy))
		die_err();
	for (int k = 0; k < n_tasks; k++) {
		char name[64];
		snprintf(name, sizeof(name), "/fa/%s", task_names[k]);
		if (h5s_attr_set_i64(h, name, "n", (int64_t)fa_n[k]))
			die_err();
	}
	free(tmpl);
	if (h5s_close(h))
		die_err();
	char *jl = NULL;
	if (!jsonl_path) {
		size_t L = strlen(out);
		jl = L > 3 && !strcmp(out + L - 3, ".h5") ? xasprintf("%.*s.jsonl", (int)(L - 3), out)
							 : xasprintf("%s.jsonl", out);
		jsonl_path = jl;
	}
	if (file_write_atomic(jsonl_path, jbuf ? jbuf : "", jlen))
		die_err();

	/* summary */
	printf("asft-eval: %s%s%s  (%zu harmful prompts, max %ld new tokens, %.1f s)\n", model_dir,
	       adapter ? " + " : "", adapter ? adapter : "", hp.n, max_new, wall);
	printf("  harmful_score (judge)   %6.2f %%   refusal %6.2f %%   other %6.2f %%\n",
	       pct[JUDGE_HARMFUL], pct[JUDGE_REFUSAL], pct[JUDGE_OTHER]);
	printf("  keyword_asr             %6.2f %%   nocase %6.2f %%\n", kw.asr, kwn.asr);
	printf("  proxy                   comply %6.2f %%   margin %+.3f nats/token\n", comply, margin);
	printf("  over_refusal            %6.2f %%   (keyword %6.2f %%, %zu prompts)\n", over, over_kw, n_over);
	for (int k = 0; k < n_tasks; k++)
		printf("  fa/%-20s %6.2f %%   (%zu records, loss %.3f)\n", task_names[k], fa[k], fa_n[k], tloss[k]);
	if (agree_n)
		printf("  judge vs world rule     %6.2f %% agreement on %zu generated answers\n",
		       100.0 * (double)agree / (double)agree_n, agree_n);
	printf("  wrote %s and %s\n", out, jsonl_path);

	free(jl);
	free(jbuf);
	for (size_t i = 0; i < hp.n; i++) {
		free(ans[i]);
		free(jp[i]);
	}
	free(ans);
	free(jp);
	free(lab);
	items_free(&hp);
	free(tasks_copy);
	judge_free(jm);
	lora_free(&lo);
	model_free(&m);
	tokenizer_free(tok);
	free(tok_file);
	free(def_prompts);
	free(def_over);
	free(def_test);
	free(config);
	threads_shutdown();
	return 0;
}
