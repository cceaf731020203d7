/* asft-data: the synthetic instruction world and its tokenizer.
 *
 *   asft-data world --seed S --out DIR [--preset nano|small|medium]   (experiments/cmd_world.c)
 *   asft-data tokenizer --corpus FILE... --vocab N --out tokenizer.json (experiments/cmd_tokenizer.c)
 *
 * This file only dispatches; each subcommand parses its own flags with cli.h. */
#include "cmds.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: asft-data COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  world       generate the synthetic instruction world (JSONL splits + manifest.json)\n"
	"  tokenizer   train a byte-level BPE tokenizer and write tokenizer.json\n"
	"\n"
	"`asft-data COMMAND --help` lists each command's options.";

int main(int argc, char **argv)
{
	asft_prog = "asft-data";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		puts(usage);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "world"))
		return cmd_world(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tokenizer"))
		return cmd_tokenizer(argc - 1, argv + 1);
	fprintf(stderr, "asft-data: unknown command '%s' (expected world or tokenizer)\n", argv[1]);
	return 2;
}
