/*
 * out.h - printing records for people and scripts: aligned text tables,
 * "field: value" pages, and JSON (an array for lists, an object for one
 * record, keys = "id" plus the table's field names).
 */
#ifndef OP_OUT_H
#define OP_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "rec.h"

struct out {
	FILE *f;
	bool json;
	const struct tbl_desc *t;
	unsigned long count;
};

/* Starts a list of records of t on f. */
void out_begin(struct out *o, FILE *f, bool json, const struct tbl_desc *t);
/* A db_rec_fn: prints one record of the list (ctx is the struct out). */
int out_rec(void *ctx, const struct rec *r);
/* Ends the list ("]" in JSON, nothing or a note in text). */
void out_end(struct out *o);
/* Prints one whole record. */
void out_show(FILE *f, bool json, const struct rec *r);

#endif
