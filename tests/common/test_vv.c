/*
 * test_vv.c - version vectors (common/vv.c): the four answers of
 * vv_compare, including entries missing on one side and zero counters;
 * merge as a pointwise maximum; raise never lowering a counter; contains;
 * dup making an independent copy; entries iterated in replica order; and
 * vectors over many replicas.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "vv.h"

/* Replica id number n as 32 hex digits. */
static void rep(char out[VV_REPLEN + 1], unsigned n)
{
	snprintf(out, VV_REPLEN + 1, "%032x", n);
}

/* Raises replica n of v to ctr, asserting success. */
static void raise_n(struct vv *v, unsigned n, uint64_t ctr)
{
	char r[VV_REPLEN + 1];

	rep(r, n);
	cr_assert_eq(vv_raise(v, r, ctr), OP_OK);
}

static uint64_t get_n(const struct vv *v, unsigned n)
{
	char r[VV_REPLEN + 1];

	rep(r, n);
	return vv_get(v, r);
}

/* A deterministic generator so failures reproduce. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(vv, empty_vectors_are_equal)
{
	struct vv *a = vv_new(), *b = vv_new();

	cr_assert(a && b);
	cr_assert_eq(vv_size(a), 0);
	cr_assert_eq(get_n(a, 1), 0);
	cr_assert_eq(vv_compare(a, b), VV_EQUAL);
	cr_assert_eq(vv_compare(a, a), VV_EQUAL);
	vv_free(a);
	vv_free(b);
}

Test(vv, compare_equal)
{
	struct vv *a = vv_new(), *b = vv_new();

	raise_n(a, 1, 3);
	raise_n(a, 2, 7);
	raise_n(b, 2, 7);
	raise_n(b, 1, 3);
	cr_assert_eq(vv_compare(a, b), VV_EQUAL);
	cr_assert_eq(vv_compare(b, a), VV_EQUAL);
	vv_free(a);
	vv_free(b);
}

Test(vv, compare_dominates_and_dominated)
{
	struct vv *a = vv_new(), *b = vv_new();

	raise_n(a, 1, 4);
	raise_n(b, 1, 3);
	cr_assert_eq(vv_compare(a, b), VV_DOMINATES);
	cr_assert_eq(vv_compare(b, a), VV_DOMINATED);
	/* A higher counter for one replica, equal elsewhere. */
	raise_n(a, 2, 5);
	raise_n(b, 2, 5);
	cr_assert_eq(vv_compare(a, b), VV_DOMINATES);
	cr_assert_eq(vv_compare(b, a), VV_DOMINATED);
	vv_free(a);
	vv_free(b);
}

Test(vv, compare_missing_entry_counts_as_zero)
{
	struct vv *a = vv_new(), *b = vv_new(), *e = vv_new();

	raise_n(a, 1, 2);
	raise_n(a, 9, 1);
	raise_n(b, 1, 2);
	/* b lacks replica 9 altogether. */
	cr_assert_eq(vv_compare(a, b), VV_DOMINATES);
	cr_assert_eq(vv_compare(b, a), VV_DOMINATED);
	/* An entry before every entry of the other vector. */
	raise_n(b, 0, 1);
	cr_assert_eq(vv_compare(a, b), VV_CONCURRENT);
	cr_assert_eq(vv_compare(e, a), VV_DOMINATED);
	cr_assert_eq(vv_compare(a, e), VV_DOMINATES);
	vv_free(a);
	vv_free(b);
	vv_free(e);
}

Test(vv, compare_zero_entry_equals_absent)
{
	struct vv *a = vv_new(), *b = vv_new();

	raise_n(a, 5, 0);
	cr_assert_eq(vv_size(a), 1);
	cr_assert_eq(vv_compare(a, b), VV_EQUAL);
	cr_assert_eq(vv_compare(b, a), VV_EQUAL);
	raise_n(b, 3, 0);
	raise_n(b, 7, 0);
	cr_assert_eq(vv_compare(a, b), VV_EQUAL);
	raise_n(a, 1, 1);
	cr_assert_eq(vv_compare(a, b), VV_DOMINATES);
	cr_assert_eq(vv_compare(b, a), VV_DOMINATED);
	vv_free(a);
	vv_free(b);
}

Test(vv, compare_concurrent)
{
	struct vv *a = vv_new(), *b = vv_new(), *c = vv_new(), *d = vv_new();

	/* Both know both replicas, each is ahead on one. */
	raise_n(a, 1, 2);
	raise_n(a, 2, 1);
	raise_n(b, 1, 1);
	raise_n(b, 2, 2);
	cr_assert_eq(vv_compare(a, b), VV_CONCURRENT);
	cr_assert_eq(vv_compare(b, a), VV_CONCURRENT);
	/* Disjoint replicas. */
	raise_n(c, 1, 1);
	raise_n(d, 2, 1);
	cr_assert_eq(vv_compare(c, d), VV_CONCURRENT);
	cr_assert_eq(vv_compare(d, c), VV_CONCURRENT);
	vv_free(a);
	vv_free(b);
	vv_free(c);
	vv_free(d);
}

Test(vv, raise_never_lowers)
{
	struct vv *v = vv_new();

	raise_n(v, 1, 10);
	raise_n(v, 1, 3);
	cr_assert_eq(get_n(v, 1), 10);
	raise_n(v, 1, 0);
	cr_assert_eq(get_n(v, 1), 10);
	raise_n(v, 1, 11);
	cr_assert_eq(get_n(v, 1), 11);
	raise_n(v, 1, UINT64_MAX);
	cr_assert_eq(get_n(v, 1), UINT64_MAX);
	raise_n(v, 1, 12);
	cr_assert_eq(get_n(v, 1), UINT64_MAX);
	cr_assert_eq(vv_size(v), 1);
	vv_free(v);
}

Test(vv, contains)
{
	struct vv *v = vv_new();
	char r1[VV_REPLEN + 1], r2[VV_REPLEN + 1];

	rep(r1, 1);
	rep(r2, 2);
	raise_n(v, 1, 5);
	cr_assert(vv_contains(v, r1, 1));
	cr_assert(vv_contains(v, r1, 5));
	cr_assert_not(vv_contains(v, r1, 6));
	cr_assert_not(vv_contains(v, r2, 1));
	/* Counter 0 is "no write": always contained. */
	cr_assert(vv_contains(v, r2, 0));
	vv_free(v);
}

Test(vv, merge_is_pointwise_max)
{
	struct vv *a = vv_new(), *b = vv_new();

	raise_n(a, 1, 5);
	raise_n(a, 2, 1);
	raise_n(a, 4, 9);
	raise_n(b, 1, 3);
	raise_n(b, 2, 8);
	raise_n(b, 3, 2);
	cr_assert_eq(vv_merge(a, b), OP_OK);
	cr_assert_eq(vv_size(a), 4);
	cr_assert_eq(get_n(a, 1), 5);
	cr_assert_eq(get_n(a, 2), 8);
	cr_assert_eq(get_n(a, 3), 2);
	cr_assert_eq(get_n(a, 4), 9);
	/* src is untouched. */
	cr_assert_eq(vv_size(b), 3);
	cr_assert_eq(get_n(b, 1), 3);
	cr_assert_eq(vv_compare(a, b), VV_DOMINATES);
	vv_free(a);
	vv_free(b);
}

Test(vv, merge_into_empty_and_with_self)
{
	struct vv *a = vv_new(), *b = vv_new();

	raise_n(b, 7, 3);
	raise_n(b, 2, 4);
	cr_assert_eq(vv_merge(a, b), OP_OK);
	cr_assert_eq(vv_compare(a, b), VV_EQUAL);
	cr_assert_eq(vv_merge(a, a), OP_OK);
	cr_assert_eq(vv_compare(a, b), VV_EQUAL);
	cr_assert_eq(vv_size(a), 2);
	vv_free(a);
	vv_free(b);
}

Test(vv, merge_of_concurrent_dominates_both)
{
	struct vv *a = vv_new(), *b = vv_new(), *m;

	raise_n(a, 1, 2);
	raise_n(b, 2, 2);
	m = vv_dup(a);
	cr_assert_not_null(m);
	cr_assert_eq(vv_merge(m, b), OP_OK);
	cr_assert_eq(vv_compare(m, a), VV_DOMINATES);
	cr_assert_eq(vv_compare(m, b), VV_DOMINATES);
	vv_free(a);
	vv_free(b);
	vv_free(m);
}

Test(vv, dup_is_independent)
{
	struct vv *a = vv_new(), *d, *e;

	e = vv_dup(a);
	cr_assert_not_null(e);
	cr_assert_eq(vv_size(e), 0);
	raise_n(a, 1, 1);
	raise_n(a, 2, 2);
	d = vv_dup(a);
	cr_assert_not_null(d);
	cr_assert_eq(vv_compare(a, d), VV_EQUAL);
	raise_n(d, 1, 5);
	raise_n(d, 3, 1);
	cr_assert_eq(get_n(a, 1), 1);
	cr_assert_eq(get_n(a, 3), 0);
	cr_assert_eq(vv_size(a), 2);
	/* The dup can grow past its initial capacity. */
	raise_n(e, 9, 9);
	cr_assert_eq(vv_size(e), 1);
	vv_free(a);
	vv_free(d);
	vv_free(e);
}

Test(vv, free_accepts_null)
{
	vv_free(NULL);
}

Test(vv, iteration_is_sorted)
{
	static const unsigned order[] = { 50, 3, 99, 1, 42, 7, 0, 64 };
	struct vv *v = vv_new();
	const char *r, *prev = NULL;
	uint64_t ctr;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		raise_n(v, order[i], order[i] + 100);
	cr_assert_eq(vv_size(v), sizeof(order) / sizeof(order[0]));
	for (i = 0; i < vv_size(v); i++) {
		unsigned n;

		vv_at(v, i, &r, &ctr);
		cr_assert_eq(strlen(r), VV_REPLEN);
		if (prev)
			cr_assert_lt(strcmp(prev, r), 0, "entry %zu out of order", i);
		cr_assert_eq(sscanf(r, "%x", &n), 1);
		cr_assert_eq(ctr, n + 100);
		prev = r;
	}
	vv_free(v);
}

Test(vv, many_replicas)
{
	enum { N = 2000 };
	static unsigned perm[N];
	struct vv *v = vv_new(), *w;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	const char *r, *prev = NULL;
	uint64_t ctr;
	size_t i;

	for (i = 0; i < N; i++)
		perm[i] = (unsigned)i * 7919u;
	for (i = N - 1; i > 0; i--) {
		size_t j = rnd(&s) % (i + 1);
		unsigned t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < N; i++)
		raise_n(v, perm[i], perm[i] + 1);
	cr_assert_eq(vv_size(v), N);
	for (i = 0; i < N; i++)
		cr_assert_eq(get_n(v, perm[i]), perm[i] + 1);
	for (i = 0; i < N; i++) {
		vv_at(v, i, &r, &ctr);
		if (prev)
			cr_assert_lt(memcmp(prev, r, VV_REPLEN), 0);
		prev = r;
	}
	w = vv_dup(v);
	cr_assert_eq(vv_compare(v, w), VV_EQUAL);
	raise_n(w, perm[N / 2], perm[N / 2] + 2);
	cr_assert_eq(vv_compare(v, w), VV_DOMINATED);
	raise_n(v, perm[N - 1], perm[N - 1] + 5);
	cr_assert_eq(vv_compare(v, w), VV_CONCURRENT);
	cr_assert_eq(vv_merge(v, w), OP_OK);
	cr_assert_eq(vv_compare(v, w), VV_DOMINATES);
	cr_assert_eq(vv_size(v), N);
	vv_free(v);
	vv_free(w);
}
