/*
 * val.c - field values: lifecycle, comparison, formatting, UTF-8 checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "val.h"

void val_release(struct val *v)
{
	if (v->t == VAL_TEXT)
		free(v->s);
	v->t = VAL_NIL;
	v->s = NULL;
	v->n = 0;
	v->i = 0;
	v->r = 0;
}

void val_set_int(struct val *v, int64_t i)
{
	val_release(v);
	v->t = VAL_INT;
	v->i = i;
}

void val_set_real(struct val *v, double r)
{
	val_release(v);
	v->t = VAL_REAL;
	v->r = r;
}

int val_set_text(struct val *v, const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return OP_ENOMEM;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	val_release(v);
	v->t = VAL_TEXT;
	v->s = p;
	v->n = n;
	return OP_OK;
}

int val_copy(struct val *dst, const struct val *src)
{
	if (dst == src)
		return OP_OK;
	switch (src->t) {
	case VAL_TEXT:
		return val_set_text(dst, src->s, src->n);
	case VAL_INT:
		val_set_int(dst, src->i);
		return OP_OK;
	case VAL_REAL:
		val_set_real(dst, src->r);
		return OP_OK;
	default:
		val_release(dst);
		return OP_OK;
	}
}

bool val_equal(const struct val *a, const struct val *b)
{
	if (a->t != b->t)
		return false;
	switch (a->t) {
	case VAL_TEXT:
		return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
	case VAL_INT:
		return a->i == b->i;
	case VAL_REAL:
		return a->r == b->r || (isnan(a->r) && isnan(b->r));
	default:
		return true;
	}
}

int val_format(const struct val *v, struct buf *out)
{
	switch (v->t) {
	case VAL_TEXT:
		return buf_add(out, v->s, v->n);
	case VAL_INT:
		return buf_addf(out, "%lld", (long long)v->i);
	case VAL_REAL:
		return buf_addf(out, "%.17g", v->r);
	default:
		return OP_OK;
	}
}

/* Length of the UTF-8 sequence that starts with byte c, 0 if invalid. */
static int utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static bool utf8_seq_ok(const unsigned char *p, int len)
{
	unsigned cp;
	int i;

	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return false;
	if (len == 3) {
		cp = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
		return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
	}
	if (len == 4) {
		cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
		     ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
		return cp >= 0x10000 && cp <= 0x10ffff;
	}
	return true;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int len;

	while (i < n) {
		if (p[i] == 0)
			return false;
		len = utf8_seq_len(p[i]);
		if (len == 0 || i + (size_t)len > n || !utf8_seq_ok(p + i, len))
			return false;
		i += (size_t)len;
	}
	return true;
}

void utf8_clean(char *out, size_t cap, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	int len;

	while (i < n && o + 5 <= cap) {
		len = utf8_seq_len(p[i]);
		if (!len || i + (size_t)len > n || p[i] < 0x20 || p[i] == 0x7f ||
		    !utf8_seq_ok(p + i, len)) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, (size_t)len);
		o += (size_t)len;
		i += (size_t)len;
	}
	if (cap)
		out[o] = '\0';
}
