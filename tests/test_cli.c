/* test_cli.c: the shared option parser: defaults, flags, --config files, precedence, errors. */
#include "cli.h"
#include "harness.h"
#include "util.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *model, *mods;
static long steps;
static double lr;
static int verbose;

static const CliOpt opts[] = {
	{"model", CLI_STR, &model, "DIR", "model folder"},
	{"steps", CLI_INT, &steps, "N", "steps"},
	{"lr", CLI_DOUBLE, &lr, "X", "learning rate"},
	{"verbose", CLI_BOOL, &verbose, NULL, "chatty"},
	{"modules", CLI_STR, &mods, "LIST", "modules"},
	{NULL, 0, NULL, NULL, NULL},
};

static void reset(void)
{
	model = "m0", mods = NULL, steps = 10, lr = 0.5, verbose = 0;
}

static int parse(char **pos_out, const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *argv[8] = {"asft-test", a1, a2, a3, a4, NULL};
	int argc = 1;
	while (argc < 5 && argv[argc])
		argc++;
	char **pos;
	int n = cli_parse(argc, (char **)argv, opts, "usage: asft-test", &pos);
	if (n > 0 && pos_out)
		*pos_out = pos[0];
	return n;
}

/* Runs parse in a child and returns its exit status (errors must exit 2, --help 0). */
static int parse_status(const char *a1, const char *a2)
{
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		parse(NULL, a1, a2, NULL, NULL);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	char *pos = NULL;
	reset();
	CHECK_INT(parse(&pos, "--steps", "7", "--lr=0.25", "file.txt"), 1);
	CHECK_INT(steps, 7);
	CHECK_CLOSE(lr, 0.25, 0, 0);
	CHECK_STR(pos, "file.txt");
	CHECK_STR(model, "m0");                         /* default untouched */
	CHECK_STR(asft_prog, "asft-test");

	reset();
	parse(NULL, "--verbose", "--no-verbose", NULL, NULL);
	CHECK_INT(verbose, 0);

	/* --config: keys are flag names; flags given on the command line win wherever they stand. */
	char path[] = "/tmp/asft-cli-XXXXXX.json";
	int fd = mkstemps(path, 5);
	const char *js = "{\"model\": \"from-file\", \"steps\": 3, \"lr\": 1e-4, \"verbose\": true,"
			 " \"modules\": [\"q_proj\", \"v_proj\"]}";
	CHECK(write(fd, js, strlen(js)) == (ssize_t)strlen(js));
	close(fd);
	reset();
	parse(NULL, "--steps", "99", "--config", path);
	CHECK_STR(model, "from-file");
	CHECK_INT(steps, 99);
	CHECK_CLOSE(lr, 1e-4, 0, 1e-12);
	CHECK_INT(verbose, 1);
	CHECK_STR(mods, "q_proj,v_proj");

	char *json = cli_config_json(opts);
	CHECK_STR(json, "{\"model\":\"from-file\",\"steps\":99,\"lr\":0.0001,\"verbose\":true,"
			"\"modules\":\"q_proj,v_proj\"}");
	free(json);

	char list[] = "a,b,,c", *items[4];
	CHECK_INT(cli_split(list, items, 4), 3);
	CHECK_STR(items[2], "c");

	CHECK_INT(parse_status("--help", NULL), 0);
	CHECK_INT(parse_status("--bogus", NULL), 2);
	CHECK_INT(parse_status("--steps", "ten"), 2);
	CHECK_INT(parse_status("--steps", NULL), 2);
	CHECK_INT(parse_status("--lr", "nan"), 2);
	CHECK_INT(parse_status("--config", "/nonexistent.json"), 1);

	/* A config key that is not a flag, and a wrong type, are errors. */
	FILE *f = fopen(path, "w");
	fputs("{\"stepz\": 3}", f);
	fclose(f);
	CHECK_INT(parse_status("--config", path), 2);
	f = fopen(path, "w");
	fputs("{\"steps\": 2.5}", f);
	fclose(f);
	CHECK_INT(parse_status("--config", path), 2);
	f = fopen(path, "w");
	fputs("[1, 2]", f);
	fclose(f);
	CHECK_INT(parse_status("--config", path), 1);
	unlink(path);
	return test_summary();
}
