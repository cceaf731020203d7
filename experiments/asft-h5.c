/* asft-h5: look into asft's HDF5 result files and export datasets as TSV for gnuplot.
 *
 *   asft-h5 ls FILE                 tree of groups and datasets with shapes, types, attributes
 *   asft-h5 export FILE /dataset    TSV on stdout (0-, 1- and 2-D numeric datasets)
 *   asft-h5 attrs FILE [/path]      attributes of the root or of path, "name = value" per line
 *
 * Export layouts: a scalar prints its value; 1-D prints "index<TAB>value", or "x<TAB>value" when
 * an xcoordinates dataset of the same length sits next to the dataset (same group) or at the
 * root; 2-D prints a gnuplot matrix (one row per line, row = y, column = x), or with --xyz
 * "x<TAB>y<TAB>value" rows with a blank line after each row of the grid (gnuplot splot / pm3d),
 * x and y taken from xcoordinates / ycoordinates, or indices (with a warning when a coordinate
 * dataset is there but its length does not fit the grid).
 * NaN prints as "nan", which gnuplot treats as a missing point. It deliberately does not edit
 * files, export strings, or reshape 3-D and higher datasets. */
#include "cli.h"
#include "h5store.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
	"usage: asft-h5 ls FILE\n"
	"       asft-h5 export FILE /dataset [--xyz] [--precision N]\n"
	"       asft-h5 attrs FILE [/path]\n"
	"\n"
	"ls prints every group and dataset (shape, element type, storage) with its attributes.\n"
	"export prints a numeric dataset as TSV for gnuplot: a scalar as its value; 1-D as\n"
	"'index value' (or 'x value' with a matching xcoordinates dataset beside it or at the root);\n"
	"2-D as a gnuplot matrix (row = y, column = x), or with --xyz as 'x y value' rows with a\n"
	"blank line after each grid row, using xcoordinates / ycoordinates when present and of the\n"
	"right length (else indices). NaN prints as 'nan' (gnuplot: a missing point).\n"
	"attrs prints the attributes of the root or of /path, 'name = value' per line.";

static int opt_xyz = 0;
static long opt_precision = 9;
static long opt_width = 64;

static const CliOpt opts[] = {
	{ "xyz", CLI_BOOL, &opt_xyz, NULL, "export: 2-D as 'x y value' rows instead of a matrix" },
	{ "precision", CLI_INT, &opt_precision, "N", "export: significant digits of floats (1..17)" },
	{ "width", CLI_INT, &opt_width, "N", "ls: attribute values longer than this are cut" },
	{ NULL, 0, NULL, NULL, NULL },
};

/* ---- printing ---- */

static void put_num(double v)
{
	if (isnan(v))
		fputs("nan", stdout);
	else if (isinf(v))
		fputs(v > 0 ? "inf" : "-inf", stdout);
	else
		printf("%.*g", (int)opt_precision, v);
}

/* Numbers of one dataset: integers kept exact (i64), everything else as double. */
typedef struct {
	int is_int, ndim;
	size_t dims[H5S_MAX_DIMS], n;
	double *f;
	int64_t *i;
} Values;

static void put_val(const Values *v, size_t k)
{
	if (v->is_int)
		printf("%lld", (long long)v->i[k]);
	else
		put_num(v->f[k]);
}

static void values_load(H5Store *s, const char *path, Values *v)
{
	H5sInfo info;
	memset(v, 0, sizeof *v);
	if (h5s_info(s, path, &info) < 0)
		die_err();
	if (info.kind != H5S_KIND_DATASET)
		die("%s: %s: is a group, not a dataset", h5s_path(s), path);
	if (!info.numeric)
		die("%s: %s: elements are %s, not numbers", h5s_path(s), path, info.dtype);
	v->is_int = info.dtype[0] == 'i' || info.dtype[0] == 'u';
	void *buf;
	if (h5s_read(s, path, v->is_int ? H5S_I64 : H5S_F64, &buf, &v->ndim, v->dims) < 0)
		die_err();
	v->n = 1;
	for (int k = 0; k < v->ndim; k++)
		v->n *= v->dims[k];
	if (v->is_int)
		v->i = buf;
	else
		v->f = buf;
}

static void values_free(Values *v)
{
	free(v->f);
	free(v->i);
}

/* find_coords: "xcoordinates" (or y) beside path, else at the root; NULL if neither. The
 * dataset being exported is never its own coordinate. */
static char *find_coords(H5Store *s, const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	char *beside = xasprintf("%.*s/%s", (int)(slash - path), path, name);
	char *root = xasprintf("/%s", name);
	char *found = NULL;
	if (strcmp(beside, path) != 0 && h5s_exists(s, beside))
		found = xstrdup(beside);
	else if (strcmp(root, path) != 0 && h5s_exists(s, root))
		found = xstrdup(root);
	free(beside);
	free(root);
	return found;
}

/* load_coords: the 1-D coordinates at cpath if they hold want values, else NULL (indices are
 * used; with a warning when warn, i.e. when the axis was expected to fit). */
static double *load_coords(H5Store *s, const char *cpath, size_t want, int warn)
{
	double *c;
	int nd;
	size_t dims[H5S_MAX_DIMS];
	if (h5s_read(s, cpath, H5S_F64, (void **)&c, &nd, dims) < 0)
		die_err();
	if (nd == 1 && dims[0] == want)
		return c;
	free(c);
	if (warn)
		warnf("%s: %s is %s%zu long but the grid needs %zu; using indices", h5s_path(s),
		      cpath, nd == 1 ? "" : "not 1-D, ", nd == 1 ? dims[0] : 0, want);
	return NULL;
}

static void export_1d(H5Store *s, const char *path, const Values *v)
{
	char *cp = find_coords(s, path, "xcoordinates");
	double *x = cp ? load_coords(s, cp, v->dims[0], 0) : NULL;
	for (size_t k = 0; k < v->dims[0]; k++) {
		if (x)
			put_num(x[k]);
		else
			printf("%zu", k);
		putchar('\t');
		put_val(v, k);
		putchar('\n');
	}
	free(x);
	free(cp);
}

static void export_2d(H5Store *s, const char *path, const Values *v)
{
	size_t rows = v->dims[0], cols = v->dims[1];
	if (!opt_xyz) {
		for (size_t r = 0; r < rows; r++) {
			for (size_t c = 0; c < cols; c++) {
				if (c)
					putchar('\t');
				put_val(v, r * cols + c);
			}
			putchar('\n');
		}
		return;
	}
	char *xp = find_coords(s, path, "xcoordinates"), *yp = find_coords(s, path, "ycoordinates");
	double *x = xp ? load_coords(s, xp, cols, 1) : NULL;
	double *y = yp ? load_coords(s, yp, rows, 1) : NULL;
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < cols; c++) {
			if (x)
				put_num(x[c]);
			else
				printf("%zu", c);
			putchar('\t');
			if (y)
				put_num(y[r]);
			else
				printf("%zu", r);
			putchar('\t');
			put_val(v, r * cols + c);
			putchar('\n');
		}
		putchar('\n');
	}
	free(x);
	free(y);
	free(xp);
	free(yp);
}

static void cmd_export(H5Store *s, const char *path)
{
	if (opt_precision < 1 || opt_precision > 17)
		die("--precision must be 1..17, not %ld", opt_precision);
	if (!h5s_exists(s, path) && path[0] == '/')
		die("%s: %s: no such dataset", h5s_path(s), path);
	H5sInfo info;               /* the rank first: do not read a big 3-D tensor to refuse it */
	if (h5s_info(s, path, &info) < 0)
		die_err();
	if (info.kind == H5S_KIND_DATASET && info.ndim > 2)
		die("%s: %s: is %d-D; only 0-, 1- and 2-D datasets can be exported", h5s_path(s),
		    path, info.ndim);
	Values v;
	values_load(s, path, &v);
	if (opt_xyz && v.ndim != 2)
		die("%s: %s: --xyz needs a 2-D dataset, this one is %d-D", h5s_path(s), path, v.ndim);
	if (v.ndim == 0) {
		put_val(&v, 0);
		putchar('\n');
	} else if (v.ndim == 1) {
		export_1d(s, path, &v);
	} else {
		export_2d(s, path, &v);
	}
	values_free(&v);
}

/* put_text: value on one line (newlines, tabs and backslashes escaped), cut after width bytes
 * (at a UTF-8 character boundary) when width > 0. */
static void put_text(const char *t, long width)
{
	size_t n = strlen(t), cut = n;
	if (width > 0 && n > (size_t)width) {
		cut = (size_t)width;
		while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
			cut--;
	}
	for (size_t k = 0; k < cut; k++) {
		if (t[k] == '\n')
			fputs("\\n", stdout);
		else if (t[k] == '\t')
			fputs("\\t", stdout);
		else if (t[k] == '\\')
			fputs("\\\\", stdout);
		else
			putchar(t[k]);
	}
	if (cut < n)
		printf("... (%zu bytes)", n);
}

static void print_attrs(H5Store *s, const char *obj, int indent, long width)
{
	char **names;
	int n;
	if (h5s_attr_list(s, obj, &names, &n) < 0)
		die_err();
	for (int k = 0; k < n; k++) {
		char *text;
		if (h5s_attr_text(s, obj, names[k], &text) < 0)
			die_err();
		printf("%*s%s%s = ", indent, "", indent ? "@" : "", names[k]);
		put_text(text, width);
		putchar('\n');
		free(text);
	}
	h5s_free_list(names, n);
}

static void ls_object(H5Store *s, const char *path, int depth)
{
	H5sInfo info;
	int indent = 2 * depth;
	if (h5s_info(s, path, &info) < 0) {     /* foreign oddities: say so and go on */
		printf("%*s%s  (unreadable: %s)\n", indent, "", path, err_msg());
		return;
	}
	printf("%*s%s  ", indent, "", path);
	if (info.kind == H5S_KIND_GROUP) {
		printf("group\n");
	} else if (info.kind == H5S_KIND_OTHER) {
		printf("other\n");
	} else {
		printf("%s ", info.dtype);
		if (info.ndim == 0)
			printf("scalar");
		for (int k = 0; k < info.ndim; k++)
			printf("%s%zu", k ? " x " : "[", info.dims[k]);
		if (info.ndim)
			putchar(']');
		if (info.extendible)
			printf("  extendible");
		if (info.chunked)
			printf("  chunked%s%s", info.shuffle ? "+shuffle" : "",
			       info.deflate ? "+deflate" : "");
		putchar('\n');
	}
	print_attrs(s, path, indent + 2, opt_width);
	if (info.kind != H5S_KIND_GROUP)
		return;
	char **names;
	int n;
	if (h5s_list(s, path, &names, &n) < 0)
		die_err();
	for (int k = 0; k < n; k++) {
		char *child = xasprintf("%s%s%s", path, strcmp(path, "/") ? "/" : "", names[k]);
		ls_object(s, child, depth + 1);
		free(child);
	}
	h5s_free_list(names, n);
}

int main(int argc, char **argv)
{
	char **pos;
	int npos = cli_parse(argc, argv, opts, usage, &pos);
	if (npos < 1)
		die("missing command: ls, export or attrs (see %s --help)", asft_prog);
	const char *cmd = pos[0];
	int want_min, want_max;
	if (!strcmp(cmd, "ls"))
		want_min = want_max = 2;
	else if (!strcmp(cmd, "export"))
		want_min = want_max = 3;
	else if (!strcmp(cmd, "attrs"))
		want_min = 2, want_max = 3;
	else
		die("unknown command '%s' (expected ls, export or attrs)", cmd);
	if (npos < want_min)
		die("%s: missing %s (see %s --help)", cmd, npos < 2 ? "FILE" : "/dataset", asft_prog);
	if (npos > want_max)
		die("%s: unexpected argument '%s'", cmd, pos[want_max]);
	H5Store *s = h5s_open(pos[1], 0);
	if (!s)
		die_err();
	if (!strcmp(cmd, "ls")) {
		ls_object(s, "/", 0);
	} else if (!strcmp(cmd, "export")) {
		cmd_export(s, pos[2]);
	} else {
		const char *obj = npos > 2 ? pos[2] : "/";
		if (!h5s_exists(s, obj) && obj[0] == '/')
			die("%s: %s: no such group or dataset", pos[1], obj);
		print_attrs(s, obj, 0, 0);
	}
	h5s_close(s);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("error writing to stdout");
	return 0;
}
