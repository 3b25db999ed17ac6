/*
 * test_tbl.c - table descriptions and value validation (common/tbl.c):
 * lookups by name; tbl_check and tbl_parse for every field type (text
 * length and UTF-8, integer range, reals coerced from integers with NaN
 * and infinities refused, record references, dates with leap years,
 * e-mail addresses); required fields; and the value helpers of val.c
 * that validation relies on.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "tbl.h"
#include "val.h"

/* ---- helpers ---------------------------------------------------------- */

static const struct fld_desc *field(const char *tbl, const char *name)
{
	const struct tbl_desc *t = tbl_find(tbl, strlen(tbl));
	int i;

	cr_assert_not_null(t, "no table %s", tbl);
	i = tbl_field(t, name, strlen(name));
	cr_assert_geq(i, 0, "no field %s.%s", tbl, name);
	return &t->fields[i];
}

/* tbl_parse of text into field tbl.name; returns the result code. */
static int parse(const char *tbl, const char *name, const char *text,
		 struct val *out)
{
	char err[OP_ERRLEN] = "";
	int rc = tbl_parse(field(tbl, name), text, out, err);

	if (rc)
		cr_assert_neq(err[0], '\0', "%s.%s \"%s\": no message", tbl, name, text);
	return rc;
}

static void parse_ok(const char *tbl, const char *name, const char *text)
{
	struct val v = VAL_INIT;
	int rc = parse(tbl, name, text, &v);

	cr_assert_eq(rc, OP_OK, "%s.%s should accept \"%s\"", tbl, name, text);
	val_release(&v);
}

static void parse_bad(const char *tbl, const char *name, const char *text)
{
	struct val v = VAL_INIT;
	int rc = parse(tbl, name, text, &v);

	cr_assert_eq(rc, OP_EINVAL, "%s.%s should refuse \"%s\"", tbl, name, text);
	val_release(&v);
}

static int check_text(const char *tbl, const char *name, const char *s, size_t n)
{
	char err[OP_ERRLEN] = "";
	struct val v = VAL_INIT;
	int rc;

	cr_assert_eq(val_set_text(&v, s, n), OP_OK);
	rc = tbl_check(field(tbl, name), &v, err);
	if (rc)
		cr_assert_neq(err[0], '\0');
	val_release(&v);
	return rc;
}

static int check_int(const char *tbl, const char *name, int64_t i)
{
	char err[OP_ERRLEN];
	struct val v = VAL_INIT;

	val_set_int(&v, i);
	return tbl_check(field(tbl, name), &v, err);
}

static int check_real(const char *tbl, const char *name, double r)
{
	char err[OP_ERRLEN];
	struct val v = VAL_INIT;

	val_set_real(&v, r);
	return tbl_check(field(tbl, name), &v, err);
}

/* ---- lookups ---------------------------------------------------------- */

Test(tbl, tables_and_fields)
{
	const struct tbl_desc *t;
	int i;

	cr_assert_eq(tbl_count(), 3);
	for (i = 0; i < tbl_count(); i++) {
		t = tbl_at(i);
		cr_assert_not_null(t);
		cr_assert_eq(tbl_find(t->name, strlen(t->name)), t);
		cr_assert_leq(t->nfields, TBL_MAX_FIELDS);
		cr_assert(t->label >= 0 && t->label < t->nfields);
	}
	cr_assert_null(tbl_at(-1));
	cr_assert_null(tbl_at(tbl_count()));
	cr_assert_null(tbl_find("custom", 6));
	cr_assert_null(tbl_find("customers", 9));
	cr_assert_null(tbl_find("Customer", 8));
	/* The length decides, not a NUL. */
	cr_assert_not_null(tbl_find("customerXYZ", 8));
	t = tbl_find("customer", 8);
	cr_assert_eq(tbl_field(t, "name", 4), 0);
	cr_assert_eq(tbl_field(t, "note", 4), t->nfields - 1);
	cr_assert_eq(tbl_field(t, "nam", 3), -1);
	cr_assert_eq(tbl_field(t, "names", 5), -1);
	cr_assert_eq(tbl_field(t, "", 0), -1);
	cr_assert(tbl_find("conflict", 8)->server_only);
	cr_assert_not(t->server_only);
}

/* ---- text ------------------------------------------------------------- */

Test(tbl, text_length)
{
	static char s[202];

	memset(s, 'x', sizeof(s));
	cr_assert_eq(check_text("customer", "name", s, 200), OP_OK);
	cr_assert_eq(check_text("customer", "name", s, 201), OP_EINVAL);
	cr_assert_eq(check_text("customer", "phone", s, 40), OP_OK);
	cr_assert_eq(check_text("customer", "phone", s, 41), OP_EINVAL);
	cr_assert_eq(check_text("customer", "grade", "", 0), OP_OK);
	/* The limit counts bytes, not characters. */
	{
		char e[41];
		int i;

		for (i = 0; i < 20; i++)
			memcpy(e + 2 * i, "\xc3\xa9", 2);
		cr_assert_eq(check_text("customer", "phone", e, 40), OP_OK);
		e[40] = 'x';
		cr_assert_eq(check_text("customer", "phone", e, 41), OP_EINVAL);
	}
}

Test(tbl, text_must_be_utf8_text)
{
	char err[OP_ERRLEN];
	struct val v = VAL_INIT;

	cr_assert_eq(check_text("customer", "note", "caf\xc3\xa9", 5), OP_OK);
	cr_assert_eq(check_text("customer", "note", "\xf0\x9f\x98\x80", 4), OP_OK);
	cr_assert_eq(check_text("customer", "note", "caf\xe9", 4), OP_EINVAL);
	cr_assert_eq(check_text("customer", "note", "a\0b", 3), OP_EINVAL);
	cr_assert_eq(check_text("customer", "note", "\xed\xbf\xbf", 3), OP_EINVAL);
	cr_assert_eq(check_text("customer", "note", "\xf4\x90\x80\x80", 4), OP_EINVAL);
	cr_assert_eq(check_text("customer", "note", "\xe0\x80\xaf", 3), OP_EINVAL);
	val_set_int(&v, 5);
	cr_assert_eq(tbl_check(field("customer", "note"), &v, err), OP_EINVAL);
	val_set_real(&v, 5);
	cr_assert_eq(tbl_check(field("customer", "note"), &v, err), OP_EINVAL);
}

Test(tbl, parse_text)
{
	struct val v = VAL_INIT;

	cr_assert_eq(parse("customer", "region", "north", &v), OP_OK);
	cr_assert_eq(v.t, VAL_TEXT);
	cr_assert_str_eq(v.s, "north");
	cr_assert_eq(v.n, 5);
	/* "" clears an optional field. */
	cr_assert_eq(parse("customer", "region", "", &v), OP_OK);
	cr_assert_eq(v.t, VAL_NIL);
	val_release(&v);
}

/* ---- required ---------------------------------------------------------- */

Test(tbl, required_fields)
{
	char err[OP_ERRLEN] = "";
	struct val v = VAL_INIT;

	cr_assert(field("customer", "name")->required);
	cr_assert(field("contact", "customer")->required);
	cr_assert(field("contact", "name")->required);
	cr_assert_not(field("customer", "email")->required);
	cr_assert_eq(tbl_check(field("customer", "name"), &v, err), OP_EINVAL);
	cr_assert_neq(strstr(err, "required"), NULL, "%s", err);
	cr_assert_eq(tbl_check(field("contact", "customer"), &v, err), OP_EINVAL);
	cr_assert_eq(tbl_check(field("customer", "grade"), &v, err), OP_OK);
	cr_assert_eq(tbl_check(field("customer", "satisfaction"), &v, err), OP_OK);
	parse_bad("customer", "name", "");
	parse_bad("contact", "name", "");
	parse_ok("customer", "email", "");
	parse_ok("contact", "birthday", "");
	parse_ok("customer", "credit", "");
	/* An empty string is a value, and a valid name here. */
	cr_assert_eq(check_text("customer", "name", "", 0), OP_OK);
}

/* ---- integers --------------------------------------------------------- */

Test(tbl, int_range)
{
	char err[OP_ERRLEN];
	struct val v = VAL_INIT;

	cr_assert_eq(check_int("customer", "satisfaction", 1), OP_OK);
	cr_assert_eq(check_int("customer", "satisfaction", 5), OP_OK);
	cr_assert_eq(check_int("customer", "satisfaction", 0), OP_EINVAL);
	cr_assert_eq(check_int("customer", "satisfaction", 6), OP_EINVAL);
	cr_assert_eq(check_int("customer", "satisfaction", -3), OP_EINVAL);
	cr_assert_eq(check_int("customer", "satisfaction", INT64_MIN), OP_EINVAL);
	cr_assert_eq(check_int("customer", "satisfaction", INT64_MAX), OP_EINVAL);
	cr_assert_eq(check_int("conflict", "at", 0), OP_OK);
	cr_assert_eq(check_int("conflict", "at", 1700000000000), OP_OK);
	cr_assert_eq(check_int("conflict", "at", -1), OP_EINVAL);
	/* A real or text is not an integer, even a whole one. */
	val_set_real(&v, 3.0);
	cr_assert_eq(tbl_check(field("customer", "satisfaction"), &v, err), OP_EINVAL);
	cr_assert_eq(val_set_text(&v, "3", 1), OP_OK);
	cr_assert_eq(tbl_check(field("customer", "satisfaction"), &v, err), OP_EINVAL);
	val_release(&v);
}

Test(tbl, parse_int)
{
	struct val v = VAL_INIT;

	cr_assert_eq(parse("customer", "satisfaction", "3", &v), OP_OK);
	cr_assert_eq(v.t, VAL_INT);
	cr_assert_eq(v.i, 3);
	parse_ok("customer", "satisfaction", "5");
	parse_bad("customer", "satisfaction", "6");
	parse_bad("customer", "satisfaction", "0");
	parse_bad("customer", "satisfaction", "3.5");
	parse_bad("customer", "satisfaction", "3x");
	parse_bad("customer", "satisfaction", "three");
	parse_bad("customer", "satisfaction", "99999999999999999999");
	parse_bad("conflict", "at", "-99999999999999999999");
	parse_ok("conflict", "at", "1700000000000");
	val_release(&v);
}

/* ---- reals ------------------------------------------------------------ */

Test(tbl, real_range_and_coercion)
{
	char err[OP_ERRLEN];
	struct val v = VAL_INIT;

	cr_assert_eq(check_real("customer", "credit", 0), OP_OK);
	cr_assert_eq(check_real("customer", "credit", 2500.5), OP_OK);
	cr_assert_eq(check_real("customer", "credit", 1e15), OP_OK);
	cr_assert_eq(check_real("customer", "credit", 1.0000001e15), OP_EINVAL);
	cr_assert_eq(check_real("customer", "credit", -0.01), OP_EINVAL);
	/* An integer for a real field becomes a real. */
	val_set_int(&v, 100);
	cr_assert_eq(tbl_check(field("customer", "credit"), &v, err), OP_OK);
	cr_assert_eq(v.t, VAL_REAL);
	cr_assert_eq(v.r, 100.0);
	val_set_int(&v, -1);
	cr_assert_eq(tbl_check(field("customer", "credit"), &v, err), OP_EINVAL);
	cr_assert_eq(val_set_text(&v, "100", 3), OP_OK);
	cr_assert_eq(tbl_check(field("customer", "credit"), &v, err), OP_EINVAL);
	val_release(&v);
}

Test(tbl, real_nan_and_infinity_refused)
{
	cr_assert_eq(check_real("customer", "credit", NAN), OP_EINVAL);
	cr_assert_eq(check_real("customer", "credit", -NAN), OP_EINVAL);
	cr_assert_eq(check_real("customer", "credit", INFINITY), OP_EINVAL);
	cr_assert_eq(check_real("customer", "credit", -INFINITY), OP_EINVAL);
	parse_bad("customer", "credit", "nan");
	parse_bad("customer", "credit", "NaN");
	parse_bad("customer", "credit", "inf");
	parse_bad("customer", "credit", "infinity");
	parse_bad("customer", "credit", "1e400");
}

Test(tbl, parse_real)
{
	struct val v = VAL_INIT;

	cr_assert_eq(parse("customer", "credit", "1.5", &v), OP_OK);
	cr_assert_eq(v.t, VAL_REAL);
	cr_assert_eq(v.r, 1.5);
	cr_assert_eq(parse("customer", "credit", "2000", &v), OP_OK);
	cr_assert_eq(v.t, VAL_REAL);
	cr_assert_eq(v.r, 2000.0);
	parse_ok("customer", "credit", "1e3");
	parse_bad("customer", "credit", "1.5x");
	parse_bad("customer", "credit", "abc");
	parse_bad("customer", "credit", "-5");
	val_release(&v);
}

/* ---- references ------------------------------------------------------- */

Test(tbl, refs)
{
	const struct fld_desc *f = field("contact", "customer");

	cr_assert_eq(f->type, FLD_REF);
	cr_assert_str_eq(f->ref, "customer");
	parse_ok("contact", "customer", "0123456789abcdef0123456789abcdef");
	parse_ok("contact", "customer", "ffffffffffffffffffffffffffffffff");
	parse_bad("contact", "customer", "0123456789ABCDEF0123456789ABCDEF");
	parse_bad("contact", "customer", "0123456789abcdef0123456789abcde");
	parse_bad("contact", "customer", "0123456789abcdef0123456789abcdef0");
	parse_bad("contact", "customer", "0123456789abcdef0123456789abcdeg");
	parse_bad("contact", "customer", "0123456789abcdef 123456789abcdef");
	parse_bad("contact", "customer", "acme");
	cr_assert_eq(check_text("contact", "customer", "0123456789abcdef\0" "123456789abcdef", 32),
		     OP_EINVAL);
}

/* ---- dates ------------------------------------------------------------ */

Test(tbl, dates)
{
	parse_ok("contact", "birthday", "1990-01-01");
	parse_ok("contact", "birthday", "2023-12-31");
	parse_ok("contact", "birthday", "2023-01-31");
	parse_ok("contact", "birthday", "2023-04-30");
	parse_ok("contact", "birthday", "1800-01-01");
	parse_bad("contact", "birthday", "1799-12-31");
	parse_bad("contact", "birthday", "2023-04-31");
	parse_bad("contact", "birthday", "2023-06-31");
	parse_bad("contact", "birthday", "2023-01-32");
	parse_bad("contact", "birthday", "2023-13-01");
	parse_bad("contact", "birthday", "2023-00-10");
	parse_bad("contact", "birthday", "2023-01-00");
	parse_bad("contact", "birthday", "2023-1-01");
	parse_bad("contact", "birthday", "2023-01-1");
	parse_bad("contact", "birthday", "2023/01/01");
	parse_bad("contact", "birthday", "20230101");
	parse_bad("contact", "birthday", "2023-01-01T00");
	parse_bad("contact", "birthday", "2023-0a-01");
	parse_bad("contact", "birthday", "+023-01-01");
	parse_bad("contact", "birthday", " 2023-01-01");
	parse_bad("contact", "birthday", "yesterday");
}

Test(tbl, dates_feb_29)
{
	/* Divisible by 4: leap. */
	parse_ok("contact", "birthday", "2024-02-29");
	parse_ok("contact", "birthday", "1996-02-29");
	/* Not divisible by 4: not leap. */
	parse_bad("contact", "birthday", "2023-02-29");
	parse_bad("contact", "birthday", "2025-02-29");
	/* Centuries are not leap unless divisible by 400. */
	parse_bad("contact", "birthday", "1900-02-29");
	parse_bad("contact", "birthday", "2100-02-29");
	parse_ok("contact", "birthday", "2000-02-29");
	parse_ok("contact", "birthday", "2400-02-29");
	/* Feb 28 always, Feb 30 never. */
	parse_ok("contact", "birthday", "2023-02-28");
	parse_bad("contact", "birthday", "2024-02-30");
}

/* ---- e-mail addresses ------------------------------------------------- */

Test(tbl, emails)
{
	static char longmail[300];

	parse_ok("customer", "email", "ann@example.com");
	parse_ok("customer", "email", "a.b+tag@mail.example.co.uk");
	parse_ok("contact", "email", "x@y.z");
	parse_bad("customer", "email", "example.com");
	parse_bad("customer", "email", "@example.com");
	parse_bad("customer", "email", "ann@");
	parse_bad("customer", "email", "ann@localhost");
	parse_bad("customer", "email", "ann@@example.com");
	parse_bad("customer", "email", "ann@b@example.com");
	parse_bad("customer", "email", "ann smith@example.com");
	parse_bad("customer", "email", "ann@example.com ");
	parse_bad("customer", "email", "ann@exa\tmple.com");
	parse_bad("customer", "email", "ann\n@example.com");
	/* At most 254 bytes. */
	memset(longmail, 'a', 254);
	memcpy(longmail + 254 - 12, "@example.com", 12);
	longmail[254] = '\0';
	parse_ok("customer", "email", longmail);
	memset(longmail, 'a', 255);
	memcpy(longmail + 255 - 12, "@example.com", 12);
	longmail[255] = '\0';
	parse_bad("customer", "email", longmail);
}

/* ---- values ----------------------------------------------------------- */

Test(tbl, values_copy_compare_format)
{
	struct val a = VAL_INIT, b = VAL_INIT;
	struct buf out = BUF_INIT;

	cr_assert(val_equal(&a, &b));
	cr_assert_eq(val_set_text(&a, "x\0y", 3), OP_OK);
	cr_assert_eq(val_copy(&b, &a), OP_OK);
	cr_assert(val_equal(&a, &b));
	cr_assert_neq(a.s, b.s, "a copy owns its text");
	cr_assert_eq(b.n, 3);
	cr_assert_eq(val_copy(&b, &b), OP_OK);
	cr_assert(val_equal(&a, &b));
	val_set_int(&b, 7);
	cr_assert_not(val_equal(&a, &b));
	val_set_real(&a, 7.0);
	cr_assert_not(val_equal(&a, &b), "int 7 and real 7 differ");
	val_set_real(&b, NAN);
	val_set_real(&a, NAN);
	cr_assert(val_equal(&a, &b));
	val_set_int(&a, -42);
	cr_assert_eq(val_format(&a, &out), OP_OK);
	val_set_real(&a, 0.1);
	cr_assert_eq(val_format(&a, &out), OP_OK);
	val_release(&a);
	cr_assert_eq(val_format(&a, &out), OP_OK);
	cr_assert_str_eq(out.p, "-420.10000000000000001");
	val_release(&a);
	val_release(&b);
	buf_release(&out);
}

Test(tbl, utf8_validation)
{
	cr_assert(utf8_valid("", 0));
	cr_assert(utf8_valid("plain", 5));
	cr_assert(utf8_valid("\xc2\x80", 2));
	cr_assert(utf8_valid("\xdf\xbf", 2));
	cr_assert(utf8_valid("\xe0\xa0\x80", 3));
	cr_assert(utf8_valid("\xef\xbf\xbf", 3));
	cr_assert(utf8_valid("\xf0\x90\x80\x80", 4));
	cr_assert(utf8_valid("\xf4\x8f\xbf\xbf", 4));
	cr_assert_not(utf8_valid("\x80", 1));
	cr_assert_not(utf8_valid("\xc1\xbf", 2));
	cr_assert_not(utf8_valid("\xc2", 1));
	cr_assert_not(utf8_valid("\xc2\x41", 2));
	cr_assert_not(utf8_valid("\xe0\x9f\xbf", 3));
	cr_assert_not(utf8_valid("\xed\xa0\x80", 3));
	cr_assert_not(utf8_valid("\xf0\x8f\xbf\xbf", 4));
	cr_assert_not(utf8_valid("\xf4\x90\x80\x80", 4));
	cr_assert_not(utf8_valid("\xf8\x88\x80\x80\x80", 5));
	cr_assert_not(utf8_valid("\xff", 1));
	cr_assert_not(utf8_valid("a\0", 2));
	/* Only n bytes are looked at. */
	cr_assert(utf8_valid("ab\xff", 2));
}

/* The scope of every table is well formed: an owner field holds a user
 * name (text), a parent is a reference (or names its table in another
 * field), and each table has one or the other or neither, never both. */
Test(tbl, scope_fields_are_consistent)
{
	int i;

	for (i = 0; tbl_at(i); i++) {
		const struct tbl_desc *t = tbl_at(i);

		cr_assert(t->owner < 0 || t->parent < 0, "%s has an owner and a parent", t->name);
		if (t->owner >= 0) {
			cr_assert_lt(t->owner, t->nfields);
			cr_assert_str_eq(t->fields[t->owner].name, "owner", "%s", t->name);
			cr_assert_eq(t->fields[t->owner].type, FLD_TEXT);
			cr_assert_leq(t->fields[t->owner].max_len, 32, "owner longer than a user name");
		}
		if (t->parent >= 0) {
			cr_assert_lt(t->parent, t->nfields);
			if (t->parent_tbl < 0) {
				cr_assert_eq(t->fields[t->parent].type, FLD_REF, "%s", t->name);
				cr_assert_not_null(tbl_find(t->fields[t->parent].ref,
							    strlen(t->fields[t->parent].ref)));
			} else {
				cr_assert_lt(t->parent_tbl, t->nfields);
				cr_assert_eq(t->fields[t->parent_tbl].type, FLD_TEXT);
			}
		} else {
			cr_assert_lt(t->parent_tbl, 0, "%s: parent_tbl without parent", t->name);
		}
	}
	cr_assert_geq(tbl_find("customer", 8)->owner, 0);
	cr_assert_geq(tbl_find("contact", 7)->parent, 0);
	cr_assert_geq(tbl_find("conflict", 8)->parent, 0);
}
