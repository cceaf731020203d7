/* cli.c: see cli.h. Deliberately small: long options only, no abbreviations, no getopt. */
#include "cli.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Memory the parser hands out (config strings, the positional array) lives as long as the tool;
 * it is recorded here and freed at exit so leak checkers stay quiet. */
static void **owned;
static int n_owned;
static char **positional;

static void free_owned(void)
{
	for (int i = 0; i < n_owned; i++)
		free(owned[i]);
	free(owned);
	free(positional);
	owned = NULL, n_owned = 0, positional = NULL;
}

static void register_cleanup(void)
{
	static int done;
	if (!done)
		atexit(free_owned);
	done = 1;
}

static void *own(void *p)
{
	register_cleanup();
	owned = xrealloc(owned, (size_t)(n_owned + 1) * sizeof *owned);
	owned[n_owned++] = p;
	return p;
}

static noreturn void usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", asft_prog);
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, " (see %s --help)\n", asft_prog);
	exit(2);
}

static const CliOpt *find_opt(const CliOpt *opts, const char *name, size_t len)
{
	for (const CliOpt *o = opts; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/* Parses text into the option's variable; 0 ok, -1 if malformed. */
static int set_value(const CliOpt *o, const char *text)
{
	char *end;
	switch (o->type) {
	case CLI_STR:
		*(const char **)o->ptr = text;
		return 0;
	case CLI_INT: {
		errno = 0;
		long v = strtol(text, &end, 0);
		if (errno || end == text || *end)
			return -1;
		*(long *)o->ptr = v;
		return 0;
	}
	case CLI_DOUBLE: {
		errno = 0;
		double v = strtod(text, &end);
		if (errno || end == text || *end || !isfinite(v))
			return -1;
		*(double *)o->ptr = v;
		return 0;
	}
	case CLI_BOOL:
		if (!strcmp(text, "1") || !strcmp(text, "true") || !strcmp(text, "yes"))
			*(int *)o->ptr = 1;
		else if (!strcmp(text, "0") || !strcmp(text, "false") || !strcmp(text, "no"))
			*(int *)o->ptr = 0;
		else
			return -1;
		return 0;
	}
	return -1;
}

static const char *type_word(CliType t)
{
	switch (t) {
	case CLI_STR: return "a string";
	case CLI_INT: return "an integer";
	case CLI_DOUBLE: return "a number";
	case CLI_BOOL: return "true or false";
	}
	return "?";
}

static void print_default(const CliOpt *o, char *buf, size_t n)
{
	switch (o->type) {
	case CLI_STR: {
		const char *s = *(const char **)o->ptr;
		snprintf(buf, n, "%s", s ? s : "none");
		break;
	}
	case CLI_INT: snprintf(buf, n, "%ld", *(long *)o->ptr); break;
	case CLI_DOUBLE: snprintf(buf, n, "%g", *(double *)o->ptr); break;
	case CLI_BOOL: snprintf(buf, n, "%s", *(int *)o->ptr ? "on" : "off"); break;
	}
}

static noreturn void print_help(const CliOpt *opts, const char *usage)
{
	printf("%s\n\nOptions (defaults in brackets):\n", usage);
	for (const CliOpt *o = opts; o->name; o++) {
		char flag[64], def[256];
		if (o->type == CLI_BOOL)
			snprintf(flag, sizeof flag, "--[no-]%s", o->name);
		else
			snprintf(flag, sizeof flag, "--%s %s", o->name, o->metavar ? o->metavar : "X");
		print_default(o, def, sizeof def);
		printf("  %-24s %s [%s]\n", flag, o->help, def);
	}
	printf("  %-24s %s\n", "--config FILE.json", "read options from a JSON object keyed by long flag names; flags override it");
	printf("  %-24s %s\n", "--help", "show this help");
	printf("  %-24s %s\n", "--version", "print version and git revision");
	exit(0);
}

/* Applies one config-file key; strings are duplicated (they live as long as the tool). */
static void apply_config_item(const CliOpt *opts, const char *path, const cJSON *it)
{
	const CliOpt *o = find_opt(opts, it->string, strlen(it->string));
	char buf[64];
	if (!o) {
		fprintf(stderr, "%s: %s: unknown key \"%s\" (keys are the tool's long flag names)\n",
			asft_prog, path, it->string);
		exit(2);
	}
	if (o->type == CLI_STR && cJSON_IsString(it)) {
		*(const char **)o->ptr = own(xstrdup(it->valuestring));
		return;
	}
	if (o->type == CLI_STR && cJSON_IsArray(it)) {
		size_t len = 1;
		const cJSON *e;
		cJSON_ArrayForEach(e, it) {
			if (!cJSON_IsString(e))
				goto bad;
			len += strlen(e->valuestring) + 1;
		}
		char *s = own(xcalloc(len, 1));
		cJSON_ArrayForEach(e, it) {
			if (*s)
				strcat(s, ",");
			strcat(s, e->valuestring);
		}
		*(const char **)o->ptr = s;
		return;
	}
	if (o->type == CLI_BOOL && cJSON_IsBool(it)) {
		*(int *)o->ptr = cJSON_IsTrue(it);
		return;
	}
	if ((o->type == CLI_INT || o->type == CLI_DOUBLE) && cJSON_IsNumber(it)) {
		if (o->type == CLI_INT) {
			if (it->valuedouble != floor(it->valuedouble) || fabs(it->valuedouble) > 9e15)
				goto bad;
			*(long *)o->ptr = (long)it->valuedouble;
		} else {
			*(double *)o->ptr = it->valuedouble;
		}
		return;
	}
	if (cJSON_IsString(it) && o->type != CLI_STR && set_value(o, it->valuestring) == 0)
		return;
bad:
	snprintf(buf, sizeof buf, "%s", type_word(o->type));
	fprintf(stderr, "%s: %s: key \"%s\" must be %s\n", asft_prog, path, it->string, buf);
	exit(2);
}

static void load_config(const CliOpt *opts, const char *path)
{
	char *text = file_read_all(path, NULL);
	if (!text)
		die_err();
	cJSON *root = cJSON_Parse(text);
	if (!root)
		die("%s: not valid JSON near '%.32s'", path, cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
	if (!cJSON_IsObject(root))
		die("%s: expected a JSON object of option names to values", path);
	const cJSON *it;
	cJSON_ArrayForEach(it, root)
		apply_config_item(opts, path, it);
	cJSON_Delete(root);
	free(text);
}

int cli_parse(int argc, char **argv, const CliOpt *opts, const char *usage, char ***pos)
{
	int npos = 0;
	const char *slash = strrchr(argv[0], '/');
	asft_prog = slash ? slash + 1 : argv[0];
	register_cleanup();
	free(positional);
	positional = xcalloc((size_t)argc + 1, sizeof *positional);

	/* The config file first, wherever --config stands, so that flags override it. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc)
				usage_error("--config needs a FILE.json%s%s", "", "");
			load_config(opts, argv[i + 1]);
			i++;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			load_config(opts, argv[i] + 9);
		}
	}
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "--")) {
			while (++i < argc)
				positional[npos++] = argv[i];
			break;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
			positional[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--help"))
			print_help(opts, usage);
		if (!strcmp(a, "--version")) {
			printf("%s %s (git %s)\n", asft_prog, ASFT_VERSION, asft_git_rev);
			exit(0);
		}
		if (!strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--config=", 9))
			continue;
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const CliOpt *o = find_opt(opts, name, len);
		if (!o && len > 3 && !strncmp(name, "no-", 3) && !eq) {
			o = find_opt(opts, name + 3, len - 3);
			if (o && o->type == CLI_BOOL) {
				*(int *)o->ptr = 0;
				continue;
			}
			o = NULL;
		}
		if (!o)
			usage_error("unknown option '%s'%s", a, "");
		const char *val;
		if (eq) {
			val = eq + 1;
		} else if (o->type == CLI_BOOL) {
			val = "1";
		} else {
			if (i + 1 >= argc)
				usage_error("option '%s' needs a value%s", a, "");
			val = argv[++i];
		}
		if (set_value(o, val) != 0) {
			fprintf(stderr, "%s: option --%s: '%s' is not %s (see %s --help)\n", asft_prog,
				o->name, val, type_word(o->type), asft_prog);
			exit(2);
		}
	}
	if (npos > 0 && !pos)
		usage_error("unexpected argument '%s'%s", positional[0], "");
	if (pos)
		*pos = positional;
	return npos;
}

char *cli_config_json(const CliOpt *opts)
{
	cJSON *root = cJSON_CreateObject();
	for (const CliOpt *o = opts; o->name; o++) {
		switch (o->type) {
		case CLI_STR: {
			const char *s = *(const char **)o->ptr;
			if (s)
				cJSON_AddStringToObject(root, o->name, s);
			else
				cJSON_AddNullToObject(root, o->name);
			break;
		}
		case CLI_INT: cJSON_AddNumberToObject(root, o->name, (double)*(long *)o->ptr); break;
		case CLI_DOUBLE: cJSON_AddNumberToObject(root, o->name, *(double *)o->ptr); break;
		case CLI_BOOL: cJSON_AddBoolToObject(root, o->name, *(int *)o->ptr); break;
		}
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

int cli_split(char *s, char **items, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		items[n++] = t;
	return n;
}
