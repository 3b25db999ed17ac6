/*
 * out.c - record output (see out.h). Text tables show the id and a few
 * columns chosen per table; `show` and JSON show every field.
 */
#include <string.h>

#include "json.h"
#include "out.h"

/* Columns of the text list, after the id. */
static const char *const *list_cols(const struct tbl_desc *t)
{
	static const char *const customer[] = { "name", "grade", "region", "phone", "owner", NULL };
	static const char *const contact[] = { "name", "title", "mobile", "email", NULL };
	static const char *const conflict[] = { "tbl", "field", "winner", "loser", NULL };
	static const char *const none[] = { NULL };

	if (!strcmp(t->name, "customer"))
		return customer;
	if (!strcmp(t->name, "contact"))
		return contact;
	if (!strcmp(t->name, "conflict"))
		return conflict;
	return none;
}

/* Values come from other replicas: control bytes never reach the terminal. */
static void put_cell(FILE *f, const struct val *v, int width)
{
	struct buf b = BUF_INIT;
	char cell[64];
	size_t i;

	val_format(v, &b);
	for (i = 0; i < b.len; i++)
		if (b.p[i] == '\n' || b.p[i] == '\t' || b.p[i] == '\r')
			b.p[i] = ' ';
	utf8_clean(cell, (size_t)width + 1 < sizeof(cell) ? (size_t)width + 1 : sizeof(cell),
		   b.p ? b.p : "", b.len);
	fprintf(f, "  %-*s", width, cell);
	buf_release(&b);
}

/* Prints a value line by line, each line cleaned, continuations indented. */
static void put_lines(FILE *f, const char *s, size_t n)
{
	char line[1024];
	const char *nl;

	for (;;) {
		nl = memchr(s, '\n', n);
		utf8_clean(line, sizeof(line), s, nl ? (size_t)(nl - s) : n);
		fputs(line, f);
		if (!nl)
			break;
		fprintf(f, "\n%-13s ", "");
		n -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	fputc('\n', f);
}

static int col_width(const char *name)
{
	if (!strcmp(name, "name") || !strcmp(name, "email"))
		return 28;
	return !strcmp(name, "phone") || !strcmp(name, "mobile") ? 17 : 14;
}

void out_begin(struct out *o, FILE *f, bool json, const struct tbl_desc *t)
{
	const char *const *c;

	o->f = f;
	o->json = json;
	o->t = t;
	o->count = 0;
	if (json) {
		fputc('[', f);
		return;
	}
	fprintf(f, "%-32s", "id");
	for (c = list_cols(t); *c; c++)
		fprintf(f, "  %-*s", col_width(*c), *c);
	fputc('\n', f);
}

int out_rec(void *ctx, const struct rec *r)
{
	struct out *o = ctx;
	const char *const *c;
	struct buf b = BUF_INIT;

	if (o->json) {
		if (o->count)
			fputc(',', o->f);
		rec_json(r, &b, true);
		fwrite(b.p, 1, b.len, o->f);
		buf_release(&b);
	} else {
		fprintf(o->f, "%-32s", r->id);
		for (c = list_cols(o->t); *c; c++)
			put_cell(o->f, &r->f[tbl_field(r->t, *c, strlen(*c))].v, col_width(*c));
		fputc('\n', o->f);
	}
	o->count++;
	return 0;
}

void out_end(struct out *o)
{
	if (o->json)
		fputs("]\n", o->f);
	else if (o->count == 0)
		fprintf(o->f, "(no %ss)\n", o->t->name);
}

void out_show(FILE *f, bool json, const struct rec *r)
{
	struct buf b = BUF_INIT;
	int i;

	if (json) {
		rec_json(r, &b, true);
		fprintf(f, "%s\n", b.p);
		buf_release(&b);
		return;
	}
	fprintf(f, "%-13s %s\n", "id:", r->id);
	for (i = 0; i < r->t->nfields; i++) {
		buf_reset(&b);
		val_format(&r->f[i].v, &b);
		fprintf(f, "%-13s ", r->t->fields[i].name);
		put_lines(f, b.p ? b.p : "", b.len);
	}
	buf_release(&b);
}
