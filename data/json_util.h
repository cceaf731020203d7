/* json_util.h: small helpers the JSON readers (dataset.c, hfconfig.c) share for their error
 * messages: the name of a value's type, the line of a byte offset and a duplicated key.
 * Not here: parsing (cJSON) or reporting (err_set, util.h). */
#ifndef ASFT_JSON_UTIL_H
#define ASFT_JSON_UTIL_H

#include <stddef.h>

#include <cJSON.h>

/* json_type_name: "null", "a boolean", "a number", "a string", "a list", "an object", or
 * "an invalid value"; for "expected X, got Y" messages. Static string. */
const char *json_type_name(const cJSON *j);

/* text_line_of: 1-based line number of byte offset off in text (counts '\n' before off). */
int text_line_of(const char *text, size_t off);

/* json_dup_key: a key present twice among obj's members (Python's json keeps the last, cJSON
 * the first, so readers refuse to guess), or NULL. The result points into obj. */
const char *json_dup_key(const cJSON *obj);

#endif
