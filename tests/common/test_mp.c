/*
 * test_mp.c - the bounded MessagePack reader (common/mp.c): every type
 * decoded from hand-written bytes (each integer width with sign extension,
 * float 32/64, str 8/16/32, array and map 16/32); every proper prefix of
 * every encoding reported as MP_ETRUNC; hostile lengths and counts
 * rejected against the bytes actually present; a type mismatch consuming
 * nothing; mp_skip over every kind, its depth limit, and the never-used
 * byte 0xc1.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mp.h"

/* One encoded object and how to read it. */
enum rd { R_NIL, R_BOOL, R_U64, R_I64, R_F64, R_STR, R_ARRAY, R_MAP, R_SKIP };

struct sample {
	const char *name;
	const unsigned char *p;
	size_t n;
	enum rd rd;
};

#define S(name, rd, bytes) \
	{ name, (const unsigned char *)(bytes), sizeof(bytes) - 1, rd }

/* Scalars and containers whose whole encoding is given (containers hold
 * their elements, so a prefix lacks either header or element bytes). */
static const struct sample samples[] = {
	S("nil", R_NIL, "\xc0"),
	S("true", R_BOOL, "\xc3"),
	S("fixint", R_U64, "\x05"),
	S("uint8", R_U64, "\xcc\xff"),
	S("uint16", R_U64, "\xcd\x12\x34"),
	S("uint32", R_U64, "\xce\x12\x34\x56\x78"),
	S("uint64", R_U64, "\xcf\x01\x02\x03\x04\x05\x06\x07\x08"),
	S("negfixint", R_I64, "\xe0"),
	S("int8", R_I64, "\xd0\x80"),
	S("int16", R_I64, "\xd1\x80\x00"),
	S("int32", R_I64, "\xd2\x80\x00\x00\x00"),
	S("int64", R_I64, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"),
	S("float32", R_F64, "\xca\x3f\xc0\x00\x00"),
	S("float64", R_F64, "\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18"),
	S("fixstr", R_STR, "\xa3\x61\x62\x63"),
	S("str8", R_STR, "\xd9\x03\x61\x62\x63"),
	S("str16", R_STR, "\xda\x00\x03\x61\x62\x63"),
	S("str32", R_STR, "\xdb\x00\x00\x00\x03\x61\x62\x63"),
	S("fixarray", R_ARRAY, "\x93\x01\x02\x03"),
	S("array16", R_ARRAY, "\xdc\x00\x03\x01\x02\x03"),
	S("array32", R_ARRAY, "\xdd\x00\x00\x00\x03\x01\x02\x03"),
	S("fixmap", R_MAP, "\x82\x01\x02\x03\x04"),
	S("map16", R_MAP, "\xde\x00\x02\x01\x02\x03\x04"),
	S("map32", R_MAP, "\xdf\x00\x00\x00\x02\x01\x02\x03\x04"),
	S("bin8", R_SKIP, "\xc4\x02\xff\x00"),
	S("bin16", R_SKIP, "\xc5\x00\x02\xff\x00"),
	S("bin32", R_SKIP, "\xc6\x00\x00\x00\x02\xff\x00"),
	S("fixext1", R_SKIP, "\xd4\x01\x09"),
	S("fixext2", R_SKIP, "\xd5\x01\x09\x09"),
	S("fixext4", R_SKIP, "\xd6\x01\x09\x09\x09\x09"),
	S("fixext8", R_SKIP, "\xd7\x01\x09\x09\x09\x09\x09\x09\x09\x09"),
	S("fixext16", R_SKIP, "\xd8\x01\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09"),
	S("ext8", R_SKIP, "\xc7\x02\x01\x09\x09"),
	S("ext16", R_SKIP, "\xc8\x00\x02\x01\x09\x09"),
	S("ext32", R_SKIP, "\xc9\x00\x00\x00\x02\x01\x09\x09"),
	S("nested", R_SKIP, "\x92\x81\xa1\x6b\x91\xc0\xa2\x78\x79"),
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

/* Reads one object of s's kind from m; returns the reader's result. */
static int read_one(struct mp *m, enum rd rd)
{
	bool b;
	uint64_t u;
	int64_t i;
	double d;
	const char *s;
	size_t n;
	uint32_t cnt;

	switch (rd) {
	case R_NIL: return mp_nil(m);
	case R_BOOL: return mp_bool(m, &b);
	case R_U64: return mp_u64(m, &u);
	case R_I64: return mp_i64(m, &i);
	case R_F64: return mp_f64(m, &d);
	case R_STR: return mp_str(m, &s, &n);
	case R_ARRAY: return mp_array(m, &cnt);
	case R_MAP: return mp_map(m, &cnt);
	default: return mp_skip(m);
	}
}

static int64_t i64_of(const unsigned char *p, size_t n)
{
	struct mp m;
	int64_t v = 0;

	mp_init(&m, p, n);
	cr_assert_eq(mp_i64(&m, &v), 0);
	cr_assert(mp_done(&m));
	return v;
}

static uint64_t u64_of(const unsigned char *p, size_t n)
{
	struct mp m;
	uint64_t v = 0;

	mp_init(&m, p, n);
	cr_assert_eq(mp_u64(&m, &v), 0);
	cr_assert(mp_done(&m));
	return v;
}

#define I64(...) i64_of((const unsigned char[]){ __VA_ARGS__ }, \
			sizeof((const unsigned char[]){ __VA_ARGS__ }))
#define U64(...) u64_of((const unsigned char[]){ __VA_ARGS__ }, \
			sizeof((const unsigned char[]){ __VA_ARGS__ }))

Test(mp, peek_types)
{
	static const struct { unsigned char c; enum mp_type t; } cases[] = {
		{ 0x00, MP_UINT }, { 0x7f, MP_UINT }, { 0xcc, MP_UINT }, { 0xcf, MP_UINT },
		{ 0xe0, MP_NINT }, { 0xff, MP_NINT }, { 0xd0, MP_NINT }, { 0xd3, MP_NINT },
		{ 0x80, MP_MAP }, { 0x8f, MP_MAP }, { 0xde, MP_MAP }, { 0xdf, MP_MAP },
		{ 0x90, MP_ARRAY }, { 0x9f, MP_ARRAY }, { 0xdc, MP_ARRAY }, { 0xdd, MP_ARRAY },
		{ 0xa0, MP_STR }, { 0xbf, MP_STR }, { 0xd9, MP_STR }, { 0xdb, MP_STR },
		{ 0xc0, MP_NIL }, { 0xc2, MP_BOOL }, { 0xc3, MP_BOOL },
		{ 0xc4, MP_BIN }, { 0xc6, MP_BIN }, { 0xca, MP_FLOAT }, { 0xcb, MP_FLOAT },
		{ 0xc7, MP_EXT }, { 0xc9, MP_EXT }, { 0xd4, MP_EXT }, { 0xd8, MP_EXT },
		{ 0xc1, MP_BAD },
	};
	struct mp m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mp_init(&m, &cases[i].c, 1);
		cr_assert_eq(mp_peek(&m), cases[i].t, "byte 0x%02x", cases[i].c);
	}
	mp_init(&m, "", 0);
	cr_assert_eq(mp_peek(&m), MP_BAD);
	cr_assert(mp_done(&m));
}

Test(mp, nil_and_bool)
{
	static const unsigned char in[] = { 0xc0, 0xc2, 0xc3 };
	struct mp m;
	bool b = true;

	mp_init(&m, in, sizeof(in));
	cr_assert_eq(mp_nil(&m), 0);
	cr_assert_eq(mp_bool(&m, &b), 0);
	cr_assert_not(b);
	cr_assert_eq(mp_bool(&m, &b), 0);
	cr_assert(b);
	cr_assert(mp_done(&m));
}

Test(mp, unsigned_widths)
{
	cr_assert_eq(U64(0x00), 0);
	cr_assert_eq(U64(0x7f), 127);
	cr_assert_eq(U64(0xcc, 0x80), 128);
	cr_assert_eq(U64(0xcc, 0xff), 255);
	cr_assert_eq(U64(0xcd, 0x12, 0x34), 0x1234);
	cr_assert_eq(U64(0xcd, 0xff, 0xff), 65535);
	cr_assert_eq(U64(0xce, 0x12, 0x34, 0x56, 0x78), 0x12345678);
	cr_assert_eq(U64(0xce, 0xff, 0xff, 0xff, 0xff), 0xffffffffull);
	cr_assert_eq(U64(0xcf, 1, 2, 3, 4, 5, 6, 7, 8), 0x0102030405060708ull);
	cr_assert_eq(U64(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), UINT64_MAX);
	/* Unsigned encodings read as signed, within range. */
	cr_assert_eq(I64(0xcc, 0xff), 255);
	cr_assert_eq(I64(0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), INT64_MAX);
}

Test(mp, signed_widths_sign_extend)
{
	cr_assert_eq(I64(0xff), -1);
	cr_assert_eq(I64(0xe0), -32);
	cr_assert_eq(I64(0xd0, 0x80), -128);
	cr_assert_eq(I64(0xd0, 0xff), -1);
	cr_assert_eq(I64(0xd0, 0x7f), 127);
	cr_assert_eq(I64(0xd1, 0x80, 0x00), -32768);
	cr_assert_eq(I64(0xd1, 0xff, 0xfe), -2);
	cr_assert_eq(I64(0xd1, 0x7f, 0xff), 32767);
	cr_assert_eq(I64(0xd2, 0x80, 0, 0, 0), INT32_MIN);
	cr_assert_eq(I64(0xd2, 0xff, 0xff, 0xff, 0xfd), -3);
	cr_assert_eq(I64(0xd2, 0x7f, 0xff, 0xff, 0xff), INT32_MAX);
	cr_assert_eq(I64(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), INT64_MIN);
	cr_assert_eq(I64(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb), -5);
	cr_assert_eq(I64(0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), INT64_MAX);
}

Test(mp, type_mismatch_consumes_nothing)
{
	static const unsigned char big[] = { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char neg[] = { 0xd0, 0x80 };
	static const unsigned char str[] = { 0xa1, 'x' };
	struct mp m;
	uint64_t u;
	int64_t i;
	uint32_t n;
	bool b;

	/* 2^63 does not fit in int64_t. */
	mp_init(&m, big, sizeof(big));
	cr_assert_eq(mp_i64(&m, &i), MP_ETYPE);
	cr_assert_eq(m.p, big);
	cr_assert_eq(mp_u64(&m, &u), 0);
	cr_assert_eq(u, 1ull << 63);
	/* Negative numbers are not unsigned. */
	mp_init(&m, neg, sizeof(neg));
	cr_assert_eq(mp_u64(&m, &u), MP_ETYPE);
	cr_assert_eq(m.p, neg);
	mp_init(&m, str, sizeof(str));
	cr_assert_eq(mp_nil(&m), MP_ETYPE);
	cr_assert_eq(mp_bool(&m, &b), MP_ETYPE);
	cr_assert_eq(mp_array(&m, &n), MP_ETYPE);
	cr_assert_eq(mp_map(&m, &n), MP_ETYPE);
	cr_assert_eq(m.p, str);
}

Test(mp, floats)
{
	static const unsigned char f32[] = { 0xca, 0x3f, 0xc0, 0, 0 };
	static const unsigned char f64[] = { 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18 };
	static const unsigned char ninf[] = { 0xca, 0xff, 0x80, 0, 0 };
	static const unsigned char nan64[] = { 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0 };
	static const unsigned char one[] = { 0x01 };
	struct mp m;
	double d;

	mp_init(&m, f32, sizeof(f32));
	cr_assert_eq(mp_f64(&m, &d), 0);
	cr_assert_eq(d, 1.5);
	cr_assert(mp_done(&m));
	mp_init(&m, f64, sizeof(f64));
	cr_assert_eq(mp_f64(&m, &d), 0);
	cr_assert_eq(d, 3.141592653589793);
	mp_init(&m, ninf, sizeof(ninf));
	cr_assert_eq(mp_f64(&m, &d), 0);
	cr_assert(isinf(d) && d < 0);
	mp_init(&m, nan64, sizeof(nan64));
	cr_assert_eq(mp_f64(&m, &d), 0);
	cr_assert(isnan(d));
	/* Integers are not floats. */
	mp_init(&m, one, sizeof(one));
	cr_assert_eq(mp_f64(&m, &d), MP_ETYPE);
}

static void check_str(const unsigned char *in, size_t len, size_t want)
{
	struct mp m;
	const char *s;
	size_t n;
	size_t i;

	mp_init(&m, in, len);
	cr_assert_eq(mp_str(&m, &s, &n), 0);
	cr_assert_eq(n, want);
	for (i = 0; i < n; i++)
		cr_assert_eq(s[i], (char)('a' + i % 26));
	cr_assert(mp_done(&m));
}

Test(mp, strings_all_widths)
{
	static unsigned char in[5 + 70000];
	size_t i;

	for (i = 0; i < 70000; i++)
		in[5 + i] = (unsigned char)('a' + i % 26);
	/* fixstr: 0 and 31 bytes. */
	in[4] = 0xa0;
	check_str(in + 4, 1, 0);
	in[4] = 0xbf;
	check_str(in + 4, 32, 31);
	/* str8: 200 bytes. */
	in[3] = 0xd9;
	in[4] = 200;
	check_str(in + 3, 202, 200);
	/* str16: 300 bytes. */
	in[2] = 0xda;
	in[3] = 0x01;
	in[4] = 0x2c;
	check_str(in + 2, 303, 300);
	/* str32: 70000 bytes. */
	in[0] = 0xdb;
	in[1] = 0;
	in[2] = 0x01;
	in[3] = 0x11;
	in[4] = 0x70;
	check_str(in, 70005, 70000);
}

Test(mp, arrays_and_maps_all_widths)
{
	static const unsigned char fa[] = { 0x92, 1, 2 };
	static const unsigned char a16[] = { 0xdc, 0, 2, 1, 2 };
	static const unsigned char a32[] = { 0xdd, 0, 0, 0, 2, 1, 2 };
	static const unsigned char fm[] = { 0x81, 1, 2 };
	static const unsigned char m16[] = { 0xde, 0, 1, 1, 2 };
	static const unsigned char m32[] = { 0xdf, 0, 0, 0, 1, 1, 2 };
	static const unsigned char empty[] = { 0x90, 0x80, 0xdc, 0, 0, 0xdf, 0, 0, 0, 0 };
	struct mp m;
	uint32_t n;
	uint64_t u;

	mp_init(&m, fa, sizeof(fa));
	cr_assert_eq(mp_array(&m, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(mp_u64(&m, &u), 0);
	cr_assert_eq(u, 1);
	mp_init(&m, a16, sizeof(a16));
	cr_assert_eq(mp_array(&m, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(m.p, a16 + 3);
	mp_init(&m, a32, sizeof(a32));
	cr_assert_eq(mp_array(&m, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(m.p, a32 + 5);
	mp_init(&m, fm, sizeof(fm));
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 1);
	mp_init(&m, m16, sizeof(m16));
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(m.p, m16 + 3);
	mp_init(&m, m32, sizeof(m32));
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(m.p, m32 + 5);
	mp_init(&m, empty, sizeof(empty));
	cr_assert_eq(mp_array(&m, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(mp_array(&m, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert(mp_done(&m));
}

Test(mp, every_sample_reads_and_skips_whole)
{
	struct mp m;
	size_t i;

	for (i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];

		mp_init(&m, s->p, s->n);
		cr_assert_eq(mp_skip(&m), 0, "%s", s->name);
		cr_assert(mp_done(&m), "%s: skip left bytes", s->name);
		if (s->rd == R_SKIP || s->rd == R_ARRAY || s->rd == R_MAP)
			continue;
		mp_init(&m, s->p, s->n);
		cr_assert_eq(read_one(&m, s->rd), 0, "%s", s->name);
		cr_assert(mp_done(&m), "%s: read left bytes", s->name);
	}
}

Test(mp, every_proper_prefix_is_truncated)
{
	struct mp m;
	size_t i, len;

	for (i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];

		for (len = 0; len < s->n; len++) {
			const unsigned char *p = s->p;
			unsigned char copy[32];

			/* A copy of exactly len bytes, so a read past it is caught
			 * by ASan rather than landing in the rest of the sample. */
			cr_assert_leq(len, sizeof(copy));
			memcpy(copy, p, len);
			mp_init(&m, copy, len);
			cr_assert_eq(mp_skip(&m), MP_ETRUNC, "%s cut at %zu (skip)", s->name, len);
			mp_init(&m, copy, len);
			if (s->rd != R_SKIP && s->rd != R_ARRAY && s->rd != R_MAP)
				cr_assert_eq(read_one(&m, s->rd), MP_ETRUNC,
					     "%s cut at %zu (read)", s->name, len);
		}
	}
}

Test(mp, container_header_prefixes_are_truncated)
{
	/* Headers cut short, and counts above the bytes left. */
	static const struct sample cut[] = {
		S("array16", R_ARRAY, "\xdc\x00"),
		S("array32", R_ARRAY, "\xdd\x00\x00\x00"),
		S("map16", R_MAP, "\xde\x00"),
		S("map32", R_MAP, "\xdf\x00\x00"),
		S("fixarray short", R_ARRAY, "\x93\x01\x02"),
		S("fixmap short", R_MAP, "\x82\x01\x02\x03"),
		S("str8 short", R_STR, "\xd9\x05\x61"),
		S("str16 header", R_STR, "\xda\x00"),
		S("str32 header", R_STR, "\xdb\x00\x00\x00"),
	};
	struct mp m;
	size_t i;

	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		mp_init(&m, cut[i].p, cut[i].n);
		cr_assert_eq(read_one(&m, cut[i].rd), MP_ETRUNC, "%s", cut[i].name);
	}
	/* Every reader on empty input. */
	for (i = R_NIL; i <= R_SKIP; i++) {
		mp_init(&m, "", 0);
		cr_assert_eq(read_one(&m, (enum rd)i), MP_ETRUNC, "reader %zu", i);
	}
}

Test(mp, hostile_counts_rejected)
{
	static const unsigned char a32[10] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0 };
	static const unsigned char m32[10] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0 };
	static const unsigned char s32[10] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e' };
	static const unsigned char b32[10] = { 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5 };
	static const unsigned char e32[10] = { 0xc9, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5 };
	static const unsigned char m16[10] = { 0xde, 0x00, 0x03, 1, 2, 3, 4, 5, 0xc0, 0xc0 };
	/* A map of 3 pairs needs at least 6 bytes; 5 fit. */
	static const unsigned char m_exact[8] = { 0xde, 0x00, 0x03, 1, 2, 3, 4, 5 };
	static const unsigned char a_exact[5] = { 0xdc, 0x00, 0x02, 0xc0, 0xc0 };
	struct mp m;
	uint32_t n = 12345;
	const char *s;
	size_t sn;

	mp_init(&m, a32, sizeof(a32));
	cr_assert_eq(mp_array(&m, &n), MP_ETRUNC);
	cr_assert_eq(n, 12345, "count must not be returned");
	mp_init(&m, a32, sizeof(a32));
	cr_assert_eq(mp_skip(&m), MP_ETRUNC);
	mp_init(&m, m32, sizeof(m32));
	cr_assert_eq(mp_map(&m, &n), MP_ETRUNC);
	mp_init(&m, m32, sizeof(m32));
	cr_assert_eq(mp_skip(&m), MP_ETRUNC);
	mp_init(&m, s32, sizeof(s32));
	cr_assert_eq(mp_str(&m, &s, &sn), MP_ETRUNC);
	mp_init(&m, b32, sizeof(b32));
	cr_assert_eq(mp_skip(&m), MP_ETRUNC);
	mp_init(&m, e32, sizeof(e32));
	cr_assert_eq(mp_skip(&m), MP_ETRUNC);
	/* Counts that fit pass the header check; the elements decide. */
	mp_init(&m, m16, sizeof(m16));
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 3);
	mp_init(&m, m_exact, sizeof(m_exact));
	cr_assert_eq(mp_map(&m, &n), MP_ETRUNC);
	mp_init(&m, a_exact, sizeof(a_exact));
	cr_assert_eq(mp_array(&m, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(mp_skip(&m), 0);
	cr_assert_eq(mp_skip(&m), 0);
	cr_assert(mp_done(&m));
}

Test(mp, hostile_nested_counts_rejected)
{
	/* Each inner array claims 2^32-1 elements; the outer claims 15. */
	static const unsigned char in[] = {
		0x9f, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xdd, 0xff, 0xff, 0xff, 0xff,
		0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0,
	};
	struct mp m;

	mp_init(&m, in, sizeof(in));
	cr_assert_eq(mp_skip(&m), MP_ETRUNC);
}

/* Writes depth nested one-element arrays around nil into out. */
static size_t nest(unsigned char *out, size_t depth, unsigned char hdr)
{
	size_t i, n = 0;

	for (i = 0; i < depth; i++) {
		out[n++] = hdr;
		if (hdr == 0x81)
			out[n++] = 0x01; /* the map's key */
	}
	out[n++] = 0xc0;
	return n;
}

Test(mp, skip_depth_limit)
{
	static unsigned char in[2 * 100000 + 1];
	struct mp m;
	size_t n;

	/* The innermost nil sits at depth MP_MAX_DEPTH: accepted. */
	n = nest(in, MP_MAX_DEPTH, 0x91);
	mp_init(&m, in, n);
	cr_assert_eq(mp_skip(&m), 0);
	cr_assert(mp_done(&m));
	/* One more level: refused. */
	n = nest(in, MP_MAX_DEPTH + 1, 0x91);
	mp_init(&m, in, n);
	cr_assert_eq(mp_skip(&m), MP_EDEPTH);
	n = nest(in, MP_MAX_DEPTH, 0x81);
	mp_init(&m, in, n);
	cr_assert_eq(mp_skip(&m), 0);
	n = nest(in, MP_MAX_DEPTH + 1, 0x81);
	mp_init(&m, in, n);
	cr_assert_eq(mp_skip(&m), MP_EDEPTH);
	/* Hostile depth does not exhaust the stack. */
	n = nest(in, 100000, 0x91);
	mp_init(&m, in, n);
	cr_assert_eq(mp_skip(&m), MP_EDEPTH);
	n = nest(in, 100000, 0x81);
	mp_init(&m, in, n);
	cr_assert_eq(mp_skip(&m), MP_EDEPTH);
}

Test(mp, c1_is_rejected)
{
	static const unsigned char c1[] = { 0xc1 };
	static const unsigned char in_array[] = { 0x92, 0x01, 0xc1 };
	static const unsigned char in_map[] = { 0x81, 0xc1, 0x01 };
	struct mp m;
	uint64_t u;
	int64_t i;
	double d;
	const char *s;
	size_t n;
	uint32_t cnt;
	bool b;

	mp_init(&m, c1, 1);
	cr_assert_eq(mp_peek(&m), MP_BAD);
	cr_assert_neq(mp_skip(&m), 0);
	cr_assert_neq(mp_nil(&m), 0);
	cr_assert_neq(mp_bool(&m, &b), 0);
	cr_assert_neq(mp_u64(&m, &u), 0);
	cr_assert_neq(mp_i64(&m, &i), 0);
	cr_assert_neq(mp_f64(&m, &d), 0);
	cr_assert_neq(mp_str(&m, &s, &n), 0);
	cr_assert_neq(mp_array(&m, &cnt), 0);
	cr_assert_neq(mp_map(&m, &cnt), 0);
	cr_assert_eq(m.p, c1, "nothing consumed");
	mp_init(&m, in_array, sizeof(in_array));
	cr_assert_neq(mp_skip(&m), 0);
	mp_init(&m, in_map, sizeof(in_map));
	cr_assert_neq(mp_skip(&m), 0);
}

Test(mp, sequence_of_objects)
{
	static const unsigned char in[] = {
		0x83, 0xa1, 't', 0xa4, 'p', 'u', 'l', 'l', 0xa1, 'n', 0xd0, 0xfe,
		0xa1, 'f', 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,
	};
	struct mp m;
	uint32_t n;
	const char *s;
	size_t sn;
	int64_t i;
	double d;

	mp_init(&m, in, sizeof(in));
	cr_assert_eq(mp_map(&m, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(mp_str(&m, &s, &sn), 0);
	cr_assert_eq(sn, 1);
	cr_assert_eq(s[0], 't');
	cr_assert_eq(mp_str(&m, &s, &sn), 0);
	cr_assert_eq(sn, 4);
	cr_assert_eq(memcmp(s, "pull", 4), 0);
	cr_assert_eq(mp_skip(&m), 0);
	cr_assert_eq(mp_i64(&m, &i), 0);
	cr_assert_eq(i, -2);
	cr_assert_eq(mp_skip(&m), 0);
	cr_assert_eq(mp_f64(&m, &d), 0);
	cr_assert_eq(d, 1.0);
	cr_assert(mp_done(&m));
	cr_assert_eq(mp_skip(&m), MP_ETRUNC);
}

Test(mp, u64_accepts_non_negative_signed_formats)
{
	static const unsigned char i8[] = { 0xd0, 0x05 };
	static const unsigned char i64[] = { 0xd3, 0, 0, 0, 0, 0, 0, 0x01, 0x00 };
	static const unsigned char neg[] = { 0xff };
	struct mp m;
	uint64_t u;

	mp_init(&m, i8, sizeof(i8));
	cr_assert_eq(mp_u64(&m, &u), 0);
	cr_assert_eq(u, 5);
	cr_assert(mp_done(&m));
	mp_init(&m, i64, sizeof(i64));
	cr_assert_eq(mp_u64(&m, &u), 0);
	cr_assert_eq(u, 256);
	mp_init(&m, neg, sizeof(neg));
	cr_assert_eq(mp_u64(&m, &u), MP_ETYPE);
	cr_assert_eq(m.p, neg);
}
