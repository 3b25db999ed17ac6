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

static void put_cell(FILE *f, const struct val *v, int width)
{
	struct buf b = BUF_INIT;
	size_t i, n;

	val_format(v, &b);
	n = b.len;
	for (i = 0; i < n; i++)
		if (b.p[i] == '\n' || b.p[i] == '\t' || b.p[i] == '\r')
			b.p[i] = ' ';
	if ((int)n > width)
		n = (size_t)width;
	fprintf(f, "  %-*.*s", width, (int)n, b.p ? b.p : "");
	buf_release(&b);
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
		fprintf(f, "%-13s %s\n", r->t->fields[i].name, b.p ? b.p : "");
	}
	buf_release(&b);
}
