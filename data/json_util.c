/* json_util.c: type names, line numbers and duplicate keys for JSON error messages (see
 * json_util.h). */
#include "json_util.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *json_type_name(const cJSON *j)
{
	if (cJSON_IsNull(j)) return "null";
	if (cJSON_IsBool(j)) return "a boolean";
	if (cJSON_IsNumber(j)) return "a number";
	if (cJSON_IsString(j)) return "a string";
	if (cJSON_IsArray(j)) return "a list";
	if (cJSON_IsObject(j)) return "an object";
	return "an invalid value";
}

int text_line_of(const char *text, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *json_dup_key(const cJSON *obj)
{
	int n = cJSON_GetArraySize(obj), i = 0;
	const char *dup = NULL;
	if (n < 2)
		return NULL;
	const char **names = xmalloc((size_t)n * sizeof *names);
	for (const cJSON *c = obj->child; c; c = c->next)
		names[i++] = c->string ? c->string : "";
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	for (i = 1; i < n && !dup; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dup = names[i];
	free(names);
	return dup;
}
