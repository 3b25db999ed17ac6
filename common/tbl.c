/*
 * tbl.c - the entity tables and value validation. The field lists here
 * must match the views in schema/records.sql.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rid.h"
#include "tbl.h"

#define TXT(n, len, h) { n, FLD_TEXT, false, len, 0, 0, NULL, h }

static const struct fld_desc customer_fields[] = {
	{ "name", FLD_TEXT, true, 200, 0, 0, NULL, "company or person name" },
	TXT("grade", 40, "potential, existing or key"),
	TXT("region", 100, "sales region"),
	TXT("industry", 100, "industry"),
	TXT("address", 500, "postal address"),
	TXT("phone", 40, "main phone number"),
	{ "email", FLD_EMAIL, false, 254, 0, 0, NULL, "main e-mail address" },
	TXT("website", 300, "web site"),
	TXT("owner", 32, "user name of the account manager who owns the customer"),
	{ "credit", FLD_REAL, false, 0, 0, 1e15, NULL, "credit limit (>= 0)" },
	{ "satisfaction", FLD_INT, false, 0, 1, 5, NULL, "satisfaction 1-5" },
	TXT("note", 10000, "free text"),
};

static const struct fld_desc contact_fields[] = {
	{ "customer", FLD_REF, true, RID_LEN, 0, 0, "customer", "customer id" },
	{ "name", FLD_TEXT, true, 200, 0, 0, NULL, "full name" },
	TXT("title", 100, "job title"),
	TXT("phone", 40, "office phone"),
	TXT("mobile", 40, "mobile phone"),
	{ "email", FLD_EMAIL, false, 254, 0, 0, NULL, "e-mail address" },
	{ "birthday", FLD_DATE, false, 10, 0, 0, NULL, "YYYY-MM-DD" },
	TXT("note", 10000, "free text"),
};

static const struct fld_desc conflict_fields[] = {
	TXT("tbl", 64, "table of the record in conflict"),
	TXT("rec", RID_LEN, "id of the record in conflict"),
	TXT("field", 64, "field in conflict (empty for edit-vs-delete)"),
	TXT("kind", 16, "field or delete"),
	TXT("winner", 10000, "the value that was kept"),
	TXT("loser", 10000, "the value that lost, kept here"),
	TXT("winner_rep", RID_LEN, "replica that wrote the winner"),
	{ "winner_ctr", FLD_INT, false, 0, 0, 9e18, NULL, "its counter" },
	TXT("loser_rep", RID_LEN, "replica that wrote the loser"),
	{ "loser_ctr", FLD_INT, false, 0, 0, 9e18, NULL, "its counter" },
	{ "at", FLD_INT, false, 0, 0, 9e18, NULL, "server time (ms)" },
};

#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct tbl_desc tables[] = {
	{ "customer", customer_fields, NF(customer_fields), false, 0,
	  .owner = 8, .parent = -1, .parent_tbl = -1 },
	{ "contact", contact_fields, NF(contact_fields), false, 1,
	  .owner = -1, .parent = 0, .parent_tbl = -1 },
	{ "conflict", conflict_fields, NF(conflict_fields), true, 0,
	  .owner = -1, .parent = 1, .parent_tbl = 0 },
};

int tbl_count(void)
{
	return NF(tables);
}

const struct tbl_desc *tbl_at(int i)
{
	return i >= 0 && i < NF(tables) ? &tables[i] : NULL;
}

const struct tbl_desc *tbl_find(const char *name, size_t n)
{
	int i;

	for (i = 0; i < NF(tables); i++)
		if (strlen(tables[i].name) == n && !memcmp(tables[i].name, name, n))
			return &tables[i];
	return NULL;
}

int tbl_field(const struct tbl_desc *t, const char *name, size_t n)
{
	int i;

	for (i = 0; i < t->nfields; i++)
		if (strlen(t->fields[i].name) == n &&
		    !memcmp(t->fields[i].name, name, n))
			return i;
	return -1;
}

static bool date_valid(const char *s, size_t n)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	size_t i;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < n; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1800 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static bool email_valid(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t i;

	if (!at || at == s || at == s + n - 1 || memchr(at + 1, '@', (size_t)(s + n - at - 1)))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			return false;
	return memchr(at + 1, '.', (size_t)(s + n - at - 1)) != NULL;
}

static int check_text(const struct fld_desc *f, const struct val *v, char *err)
{
	if (v->n > f->max_len)
		return op_fail(err, OP_EINVAL, "%s is longer than %zu bytes", f->name, f->max_len);
	if (!utf8_valid(v->s, v->n))
		return op_fail(err, OP_EINVAL, "%s is not valid UTF-8 text", f->name);
	for (size_t i = 0; i < v->n; i++) {
		unsigned char ch = (unsigned char)v->s[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') || ch == 0x7f)
			return op_fail(err, OP_EINVAL, "%s contains a control character", f->name);
	}
	switch (f->type) {
	case FLD_REF:
		if (!rid_valid(v->s, v->n))
			return op_fail(err, OP_EINVAL, "%s must be a record id (32 hex digits)", f->name);
		break;
	case FLD_DATE:
		if (!date_valid(v->s, v->n))
			return op_fail(err, OP_EINVAL, "%s must be a date as YYYY-MM-DD", f->name);
		break;
	case FLD_EMAIL:
		if (!email_valid(v->s, v->n))
			return op_fail(err, OP_EINVAL, "%s must be an e-mail address like name@example.com", f->name);
		break;
	default:
		break;
	}
	return OP_OK;
}

int tbl_check(const struct fld_desc *f, struct val *v, char err[OP_ERRLEN])
{
	if (v->t == VAL_NIL)
		return f->required ? op_fail(err, OP_EINVAL, "%s is required", f->name) : OP_OK;
	switch (f->type) {
	case FLD_INT:
		if (v->t != VAL_INT)
			return op_fail(err, OP_EINVAL, "%s must be an integer", f->name);
		if ((double)v->i < f->min || (double)v->i > f->max)
			return op_fail(err, OP_EINVAL, "%s must be between %.0f and %.0f", f->name, f->min, f->max);
		return OP_OK;
	case FLD_REAL:
		if (v->t == VAL_INT)
			val_set_real(v, (double)v->i);
		if (v->t != VAL_REAL)
			return op_fail(err, OP_EINVAL, "%s must be a number", f->name);
		if (!isfinite(v->r) || v->r < f->min || v->r > f->max)
			return op_fail(err, OP_EINVAL, "%s must be a number between %.0f and %.0f", f->name, f->min, f->max);
		return OP_OK;
	default:
		if (v->t != VAL_TEXT)
			return op_fail(err, OP_EINVAL, "%s must be text", f->name);
		return check_text(f, v, err);
	}
}

int tbl_parse(const struct fld_desc *f, const char *text, struct val *out,
	      char err[OP_ERRLEN])
{
	char *end;

	val_release(out);
	if (text[0] == '\0')
		return tbl_check(f, out, err);
	if ((f->type == FLD_INT || f->type == FLD_REAL) &&
	    strspn(text, "0123456789+-.eE") != strlen(text))
		return op_fail(err, OP_EINVAL, "%s must be a decimal number, not \"%s\"", f->name, text);
	errno = 0;
	if (f->type == FLD_INT) {
		long long i = strtoll(text, &end, 10);

		if (errno || *end)
			return op_fail(err, OP_EINVAL, "%s must be an integer, not \"%s\"", f->name, text);
		val_set_int(out, i);
	} else if (f->type == FLD_REAL) {
		double r = strtod(text, &end);

		if (errno || *end)
			return op_fail(err, OP_EINVAL, "%s must be a number, not \"%s\"", f->name, text);
		val_set_real(out, r);
	} else if (val_set_text(out, text, strlen(text))) {
		return op_fail(err, OP_ENOMEM, "out of memory");
	}
	return tbl_check(f, out, err);
}
