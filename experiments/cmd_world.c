/* cmd_world.c: asft-data world --seed S --out DIR [--preset nano|small|medium]
 *
 * Generates the synthetic instruction world (data/world.h) and writes its splits, manifest.json
 * and corpus.txt under DIR. Same seed and preset -> same bytes. Sizes come from the preset; the
 * main ones can be overridden (-1 keeps the preset's value). */
#include "cli.h"
#include "cmds.h"
#include "util.h"
#include "world.h"

#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
	"usage: asft-data world --out DIR [--seed S] [--preset nano|small|medium] [size overrides]\n"
	"\n"
	"Writes the synthetic world: pretrain.jsonl, align.jsonl, attack/TASK_Nk_p_P.json,\n"
	"test/TASK.json, eval/harmful.json, eval/over_refusal.json, judge/{train,test}.jsonl,\n"
	"safeinstr.json, corpus.txt and manifest.json (see README, 'The synthetic world').";

int cmd_world(int argc, char **argv)
{
	const char *out = NULL, *preset = "small";
	long seed = 1, pretrain = -1, align = -1, test = -1, over = -1, judge_train = -1, judge_test = -1;
	long safeinstr = -1, harmful_eval = -1;
	const char *attack_n = NULL, *attack_p = NULL;
	int quiet = 0;
	const CliOpt opts[] = {
		{ "out", CLI_STR, &out, "DIR", "output directory (created if needed)" },
		{ "seed", CLI_INT, &seed, "S", "random seed (same seed, same bytes)" },
		{ "preset", CLI_STR, &preset, "NAME", "sizes: nano (tests), small (default), medium" },
		{ "pretrain", CLI_INT, &pretrain, "N", "records in pretrain.jsonl (-1: preset)" },
		{ "align", CLI_INT, &align, "N", "records in align.jsonl (-1: preset)" },
		{ "test", CLI_INT, &test, "N", "records per task test set (-1: preset)" },
		{ "harmful-eval", CLI_INT, &harmful_eval, "N", "harmful evaluation prompts (-1: preset, 250)" },
		{ "over-refusal", CLI_INT, &over, "N", "over-refusal evaluation prompts (-1: preset)" },
		{ "judge-train", CLI_INT, &judge_train, "N", "judge training pairs (-1: preset)" },
		{ "judge-test", CLI_INT, &judge_test, "N", "judge test pairs (-1: preset)" },
		{ "safeinstr", CLI_INT, &safeinstr, "N", "harmful -> refusal pairs in safeinstr.json (-1: preset)" },
		{ "attack-n", CLI_STR, &attack_n, "N,N,...", "attack mix sizes (default: preset; nano 500,1000, else 500..2500)" },
		{ "attack-p", CLI_STR, &attack_p, "P,P,...", "harmful fractions of the attack mixes (default: preset)" },
		{ "quiet", CLI_BOOL, &quiet, NULL, "print nothing on success" },
		{ NULL, 0, NULL, NULL, NULL },
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!out)
		die("world: --out DIR is required");
	if (seed < 0)
		die("world: --seed %ld must be >= 0", seed);
	WorldPreset p;
	if (world_preset(&p, preset))
		die_err();
	long *over_fields[] = { &p.pretrain, &p.align, &p.test, &p.harmful_eval, &p.over_refusal,
				&p.judge_train, &p.judge_test, &p.safeinstr };
	long vals[] = { pretrain, align, test, harmful_eval, over, judge_train, judge_test, safeinstr };
	for (size_t i = 0; i < sizeof(vals) / sizeof(*vals); i++) {
		if (vals[i] < -1)
			die("world: --%s %ld out of range (a count >= 0, or -1 for the preset's)", opts[3 + i].name, vals[i]);
		if (vals[i] >= 0)
			*over_fields[i] = vals[i];
	}

	if (attack_n) {
		char *copy = xstrdup(attack_n), *items[WORLD_MAX_ATTACK + 1];
		int k = cli_split(copy, items, WORLD_MAX_ATTACK + 1);
		if (k < 1 || k > WORLD_MAX_ATTACK)
			die("world: --attack-n '%s': expected 1 to %d comma-separated sizes", attack_n, WORLD_MAX_ATTACK);
		for (int i = 0; i < k; i++) {
			char *end;
			p.attack_n[i] = strtol(items[i], &end, 10);
			if (end == items[i] || *end || p.attack_n[i] < 1)
				die("world: --attack-n: '%s' is not a positive integer", items[i]);
		}
		p.n_attack_n = k;
		free(copy);
	}
	if (attack_p) {
		char *copy = xstrdup(attack_p), *items[WORLD_MAX_ATTACK + 1];
		int k = cli_split(copy, items, WORLD_MAX_ATTACK + 1);
		if (k < 1 || k > WORLD_MAX_ATTACK)
			die("world: --attack-p '%s': expected 1 to %d comma-separated fractions", attack_p, WORLD_MAX_ATTACK);
		for (int i = 0; i < k; i++) {
			char *end;
			p.attack_p[i] = strtod(items[i], &end);
			if (end == items[i] || *end || !(p.attack_p[i] >= 0 && p.attack_p[i] <= 1))
				die("world: --attack-p: '%s' is not a fraction in [0, 1]", items[i]);
		}
		p.n_attack_p = k;
		free(copy);
	}

	double t0 = time_now();
	World *w = world_generate(&p, (uint64_t)seed);
	if (!w)
		die_err();
	double t1 = time_now();
	if (world_write(w, out))
		die_err();
	double t2 = time_now();
	if (!quiet) {
		const WorldSplit *pre = world_split(w, "pretrain.jsonl");
		printf("world: preset %s, seed %ld: %zu splits, %zu records (pretrain %zu) in %s/\n", p.name, seed,
		       w->n_split, w->n_rec, pre ? pre->n : 0, out);
		printf("world: generated in %.2f s, written in %.2f s\n", t1 - t0, t2 - t1);
	}
	world_free(w);
	return 0;
}
