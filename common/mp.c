/*
 * mp.c - MessagePack reader (format spec: msgpack/msgpack spec.md).
 */
#include <string.h>

#include "mp.h"

void mp_init(struct mp *m, const void *buf, size_t len)
{
	m->p = buf;
	m->end = m->p + len;
}

bool mp_done(const struct mp *m)
{
	return m->p == m->end;
}

static size_t mp_left(const struct mp *m)
{
	return (size_t)(m->end - m->p);
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

enum mp_type mp_peek(const struct mp *m)
{
	unsigned char c;

	if (m->p >= m->end)
		return MP_BAD;
	c = *m->p;
	if (c <= 0x7f || (c >= 0xcc && c <= 0xcf))
		return MP_UINT;
	if (c >= 0xe0 || (c >= 0xd0 && c <= 0xd3))
		return MP_NINT;
	if (c <= 0x8f || c == 0xde || c == 0xdf)
		return MP_MAP;
	if (c <= 0x9f || c == 0xdc || c == 0xdd)
		return MP_ARRAY;
	if (c <= 0xbf || (c >= 0xd9 && c <= 0xdb))
		return MP_STR;
	switch (c) {
	case 0xc0: return MP_NIL;
	case 0xc2: case 0xc3: return MP_BOOL;
	case 0xc4: case 0xc5: case 0xc6: return MP_BIN;
	case 0xca: case 0xcb: return MP_FLOAT;
	case 0xc1: return MP_BAD;
	default: return MP_EXT;
	}
}

int mp_nil(struct mp *m)
{
	if (mp_peek(m) != MP_NIL)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	m->p++;
	return 0;
}

int mp_bool(struct mp *m, bool *b)
{
	if (mp_peek(m) != MP_BOOL)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	*b = *m->p++ == 0xc3;
	return 0;
}

/* Reads a header byte plus n big-endian bytes of length or value. */
static int take(struct mp *m, int n, uint64_t *v)
{
	if (mp_left(m) < (size_t)n + 1)
		return MP_ETRUNC;
	*v = be(m->p + 1, n);
	m->p += n + 1;
	return 0;
}

int mp_u64(struct mp *m, uint64_t *u)
{
	unsigned char c;

	if (mp_peek(m) == MP_NINT) {
		/* Some encoders write non-negative values in signed formats. */
		struct mp save = *m;
		int64_t i;
		int rc = mp_i64(m, &i);

		if (rc || i < 0) {
			*m = save;
			return rc ? rc : MP_ETYPE;
		}
		*u = (uint64_t)i;
		return 0;
	}
	if (mp_peek(m) != MP_UINT)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	c = *m->p;
	if (c <= 0x7f) {
		*u = c;
		m->p++;
		return 0;
	}
	return take(m, 1 << (c - 0xcc), u);
}

int mp_i64(struct mp *m, int64_t *i)
{
	uint64_t u;
	unsigned char c;
	int rc, n;

	if (mp_peek(m) == MP_UINT) {
		struct mp save = *m;

		if ((rc = mp_u64(m, &u)))
			return rc;
		if (u > INT64_MAX) {
			*m = save;
			return MP_ETYPE;
		}
		*i = (int64_t)u;
		return 0;
	}
	if (mp_peek(m) != MP_NINT)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	c = *m->p;
	if (c >= 0xe0) {
		*i = (int8_t)c;
		m->p++;
		return 0;
	}
	n = 1 << (c - 0xd0);
	if ((rc = take(m, n, &u)))
		return rc;
	if (n == 8)
		*i = (int64_t)u;
	else if (u & (1ull << (n * 8 - 1)))
		*i = (int64_t)(u | (~0ull << (n * 8)));
	else
		*i = (int64_t)u;
	return 0;
}

int mp_f64(struct mp *m, double *d)
{
	uint64_t u;
	uint32_t u32;
	float f;
	int rc;

	if (mp_peek(m) != MP_FLOAT)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	if (*m->p == 0xca) {
		if ((rc = take(m, 4, &u)))
			return rc;
		u32 = (uint32_t)u;
		memcpy(&f, &u32, 4);
		*d = f;
		return 0;
	}
	if ((rc = take(m, 8, &u)))
		return rc;
	memcpy(d, &u, 8);
	return 0;
}

int mp_str(struct mp *m, const char **s, size_t *n)
{
	uint64_t len;
	unsigned char c;
	int rc;

	if (mp_peek(m) != MP_STR)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	c = *m->p;
	if (c <= 0xbf) {
		len = c & 0x1f;
		m->p++;
	} else if ((rc = take(m, 1 << (c - 0xd9), &len))) {
		return rc;
	}
	if (len > mp_left(m))
		return MP_ETRUNC;
	*s = (const char *)m->p;
	*n = (size_t)len;
	m->p += len;
	return 0;
}

/* Shared by mp_array and mp_map: fix bits, 16- and 32-bit headers. */
static int mp_count(struct mp *m, enum mp_type t, unsigned char fix16,
		    unsigned per, uint32_t *n)
{
	uint64_t v;
	unsigned char c;
	int rc;

	if (mp_peek(m) != t)
		return m->p >= m->end ? MP_ETRUNC : MP_ETYPE;
	c = *m->p;
	if (c < 0xc0) {
		v = c & 0x0f;
		m->p++;
	} else if ((rc = take(m, c == fix16 ? 2 : 4, &v))) {
		return rc;
	}
	if (v * per > mp_left(m))
		return MP_ETRUNC;
	*n = (uint32_t)v;
	return 0;
}

int mp_array(struct mp *m, uint32_t *n)
{
	return mp_count(m, MP_ARRAY, 0xdc, 1, n);
}

int mp_map(struct mp *m, uint32_t *n)
{
	return mp_count(m, MP_MAP, 0xde, 2, n);
}

/* Size of the payload after the header of a bin/ext/fixed-width object. */
static int skip_scalar(struct mp *m)
{
	static const unsigned char fixext[] = { 1, 2, 4, 8, 16 };
	unsigned char c = *m->p;
	uint64_t len;
	int rc;

	if (c == 0xc0 || c == 0xc2 || c == 0xc3 || c <= 0x7f || c >= 0xe0) {
		m->p++;
		return 0;
	}
	if (c >= 0xc4 && c <= 0xc6)
		rc = take(m, 1 << (c - 0xc4), &len);
	else if (c >= 0xc7 && c <= 0xc9)
		rc = take(m, 1 << (c - 0xc7), &len), len += 1;
	else if (c == 0xca || c == 0xcb)
		rc = take(m, 0, &len), len = c == 0xca ? 4 : 8;
	else if (c >= 0xcc && c <= 0xd3)
		rc = take(m, 0, &len), len = 1u << ((c - 0xcc) & 3);
	else if (c >= 0xd4 && c <= 0xd8)
		rc = take(m, 0, &len), len = 1u + fixext[c - 0xd4];
	else
		return MP_ETRUNC; /* 0xc1 is never used */
	if (rc)
		return rc;
	if (len > mp_left(m))
		return MP_ETRUNC;
	m->p += len;
	return 0;
}

static int skip_depth(struct mp *m, int depth)
{
	const char *s;
	size_t sn;
	uint32_t n, i;
	int rc;

	if (depth > MP_MAX_DEPTH)
		return MP_EDEPTH;
	switch (mp_peek(m)) {
	case MP_BAD:
		return MP_ETRUNC;
	case MP_STR:
		return mp_str(m, &s, &sn);
	case MP_ARRAY:
		if ((rc = mp_array(m, &n)))
			return rc;
		break;
	case MP_MAP:
		if ((rc = mp_map(m, &n)))
			return rc;
		n *= 2;
		break;
	default:
		return skip_scalar(m);
	}
	for (i = 0; i < n; i++)
		if ((rc = skip_depth(m, depth + 1)))
			return rc;
	return 0;
}

int mp_skip(struct mp *m)
{
	return skip_depth(m, 0);
}
