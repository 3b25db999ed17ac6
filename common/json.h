/*
 * json.h - writing JSON text (the CLI's --json output and the `data`
 * column behind the entity views). Writing only: Outpost never parses JSON.
 */
#ifndef OP_JSON_H
#define OP_JSON_H

#include <stddef.h>

#include "buf.h"
#include "val.h"

/* Appends s[0..n) as a quoted, escaped JSON string. */
int json_str(struct buf *b, const char *s, size_t n);
/* Appends a value: null, a number or a string. */
int json_val(struct buf *b, const struct val *v);

#endif
