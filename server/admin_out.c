/*
 * admin_out.c - what the administration subcommands share (admin_int.h):
 * their one-line messages, the audit row that goes with every change, and
 * listings built in memory (text tables or JSON) and written at once, so
 * a failure half way prints nothing on stdout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_int.h"
#include "hlc.h"
#include "json.h"
#include "users.h"
#include "val.h"

/* ---- messages ---------------------------------------------------------- */

int admin_fail(const struct admin *ad, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "outpostd %s: ", ad->a->what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int admin_db_fail(const struct admin *ad, int rc, const char *doing)
{
	if (rc == OP_ENOMEM)
		return admin_fail(ad, 1, "%s: out of memory", doing);
	return admin_fail(ad, 1, "%s: %s", doing, db_errmsg(ad->db));
}

/* ---- changes ----------------------------------------------------------- */

int admin_begin(struct admin *ad)
{
	int rc = db_begin(ad->db);

	return rc ? admin_db_fail(ad, rc, "cannot start a transaction") : 0;
}

int admin_commit(struct admin *ad, int rc, const char *action, const char *tbl,
		 const char *detail)
{
	struct audit a;

	memset(&a, 0, sizeof(a));
	a.at = hlc_wall_ms();
	snprintf(a.addr, sizeof(a.addr), "local");
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.tbl, sizeof(a.tbl), "%s", tbl);
	snprintf(a.detail, sizeof(a.detail), "%s", detail);
	if (!rc)
		rc = users_audit_add(ad->db, &a);
	if (!rc)
		rc = db_commit(ad->db); /* rolls back itself when it fails */
	else
		db_rollback(ad->db);
	return rc;
}

/* ---- listings ---------------------------------------------------------- */

void admin_addf(struct admin_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->rc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (o->rc = buf_grow(&o->b, (size_t)n))) {
		o->rc = OP_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(o->b.p + o->b.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->b.len += (size_t)n;
}

/* Characters (not bytes) in UTF-8 text s. */
static int width_of(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void admin_col(struct admin_out *o, const char *s, int width)
{
	char clean[600];
	int w;

	utf8_clean(clean, sizeof(clean), s, strlen(s));
	w = width_of(clean);
	if (width > 0) {
		admin_addf(o, "%s%*s  ", clean, w < width ? width - w : 0, "");
		return;
	}
	while (!clean[0] && !o->rc && o->b.len && o->b.p[o->b.len - 1] == ' ')
		o->b.p[--o->b.len] = '\0'; /* no trailing blanks before an empty end */
	admin_addf(o, "%s\n", clean);
}

/* A comma when the last thing written was a value. */
static void jsep(struct admin_out *o)
{
	char last;

	if (o->rc || !o->b.len)
		return;
	last = o->b.p[o->b.len - 1];
	if (last != '[' && last != '{' && last != ':')
		o->rc = buf_addc(&o->b, ',');
}

/* Text as a JSON string; bytes that are not UTF-8 become '?'. */
static void jtext(struct admin_out *o, const char *s)
{
	char clean[1200];
	size_t n = strlen(s);

	if (o->rc)
		return;
	if (utf8_valid(s, n)) {
		o->rc = json_str(&o->b, s, n);
		return;
	}
	utf8_clean(clean, sizeof(clean), s, n);
	o->rc = json_str(&o->b, clean, strlen(clean));
}

static void jkey(struct admin_out *o, const char *key)
{
	jsep(o);
	if (key && !o->rc) {
		jtext(o, key);
		if (!o->rc)
			o->rc = buf_addc(&o->b, ':');
	}
}

void admin_jopen(struct admin_out *o, const char *key, char c)
{
	jkey(o, key);
	if (!o->rc)
		o->rc = buf_addc(&o->b, c);
}

void admin_jclose(struct admin_out *o, char c)
{
	if (!o->rc)
		o->rc = buf_addc(&o->b, c);
}

void admin_jstr(struct admin_out *o, const char *key, const char *v)
{
	jkey(o, key);
	if (!v)
		admin_addf(o, "null");
	else
		jtext(o, v);
}

void admin_jnum(struct admin_out *o, const char *key, uint64_t v)
{
	jkey(o, key);
	admin_addf(o, "%llu", (unsigned long long)v);
}

void admin_jbool(struct admin_out *o, const char *key, bool v)
{
	jkey(o, key);
	admin_addf(o, "%s", v ? "true" : "false");
}

int admin_flush(const struct admin *ad, struct admin_out *o)
{
	int code = 0;

	if (o->rc)
		code = admin_fail(ad, 1, "out of memory");
	else if (o->b.len && (fwrite(o->b.p, 1, o->b.len, stdout) != o->b.len ||
			      fflush(stdout)))
		code = admin_fail(ad, 1, "cannot write the output");
	buf_release(&o->b);
	return code;
}

void admin_time(char out[32], uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, 32, "-");
}

/* ---- roles and rights, for messages ------------------------------------ */

struct names {
	char *out;
	size_t cap, len;
};

static int add_name(void *ctx, const char *name, const char *text)
{
	struct names *n = ctx;

	(void)text;
	if (n->len < n->cap)
		n->len += (size_t)snprintf(n->out + n->len, n->cap - n->len, "%s%s",
					   n->len ? ", " : "", name);
	return 0;
}

/* Exit code 0 when name exists, else 1 with a message listing them all. */
static int need(struct admin *ad, const char *what, const char *name,
		int (*exists)(struct db *, const char *, bool *),
		int (*each)(struct db *, users_pair_fn, void *))
{
	char list[400];
	struct names n = { list, sizeof(list), 0 };
	bool found;
	int rc = exists(ad->db, name, &found);

	if (rc)
		return admin_db_fail(ad, rc, "cannot read the roles and rights");
	if (found)
		return 0;
	list[0] = '\0';
	each(ad->db, add_name, &n);
	return admin_fail(ad, 1, "no %s named %s (%ss: %s)", what, name, what, list);
}

int admin_need_role(struct admin *ad, const char *role)
{
	return need(ad, "role", role, users_role_exists, users_roles_each);
}

int admin_need_right(struct admin *ad, const char *right)
{
	return need(ad, "right", right, users_right_exists, users_rights_each);
}
