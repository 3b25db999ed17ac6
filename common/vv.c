/*
 * vv.c - version vectors as a sorted array of (replica, counter). Vectors
 * are per record and small (one entry per replica that wrote the record),
 * so a sorted array with binary search beats any hash table here.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "vv.h"

struct vv_ent {
	char rep[VV_REPLEN + 1];
	uint64_t ctr;
};

struct vv {
	struct vv_ent *e;
	size_t n;
	size_t cap;
};

struct vv *vv_new(void)
{
	return calloc(1, sizeof(struct vv));
}

struct vv *vv_dup(const struct vv *v)
{
	struct vv *d = vv_new();

	if (!d || v->n == 0)
		return d;
	d->e = malloc(v->n * sizeof(*d->e));
	if (!d->e) {
		free(d);
		return NULL;
	}
	memcpy(d->e, v->e, v->n * sizeof(*d->e));
	d->n = d->cap = v->n;
	return d;
}

void vv_free(struct vv *v)
{
	if (!v)
		return;
	free(v->e);
	free(v);
}

/* Index of rep, or the insertion point with *found false. */
static size_t vv_find(const struct vv *v, const char *rep, bool *found)
{
	size_t lo = 0, hi = v->n;
	int c;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		c = memcmp(v->e[mid].rep, rep, VV_REPLEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

uint64_t vv_get(const struct vv *v, const char *rep)
{
	bool found;
	size_t i = vv_find(v, rep, &found);

	return found ? v->e[i].ctr : 0;
}

int vv_raise(struct vv *v, const char *rep, uint64_t ctr)
{
	bool found;
	size_t i = vv_find(v, rep, &found);

	if (found) {
		if (v->e[i].ctr < ctr)
			v->e[i].ctr = ctr;
		return OP_OK;
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		struct vv_ent *e = realloc(v->e, cap * sizeof(*e));

		if (!e)
			return OP_ENOMEM;
		v->e = e;
		v->cap = cap;
	}
	memmove(v->e + i + 1, v->e + i, (v->n - i) * sizeof(*v->e));
	memcpy(v->e[i].rep, rep, VV_REPLEN);
	v->e[i].rep[VV_REPLEN] = '\0';
	v->e[i].ctr = ctr;
	v->n++;
	return OP_OK;
}

bool vv_contains(const struct vv *v, const char *rep, uint64_t ctr)
{
	return vv_get(v, rep) >= ctr;
}

enum vv_order vv_compare(const struct vv *a, const struct vv *b)
{
	bool a_more = false, b_more = false;
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		int c;

		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = memcmp(a->e[i].rep, b->e[j].rep, VV_REPLEN);
		if (c < 0) {
			a_more |= a->e[i++].ctr > 0;
		} else if (c > 0) {
			b_more |= b->e[j++].ctr > 0;
		} else {
			a_more |= a->e[i].ctr > b->e[j].ctr;
			b_more |= b->e[j].ctr > a->e[i].ctr;
			i++;
			j++;
		}
	}
	if (a_more && b_more)
		return VV_CONCURRENT;
	if (a_more)
		return VV_DOMINATES;
	return b_more ? VV_DOMINATED : VV_EQUAL;
}

int vv_merge(struct vv *dst, const struct vv *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (vv_raise(dst, src->e[i].rep, src->e[i].ctr))
			return OP_ENOMEM;
	return OP_OK;
}

size_t vv_size(const struct vv *v)
{
	return v->n;
}

void vv_at(const struct vv *v, size_t i, const char **rep, uint64_t *ctr)
{
	*rep = v->e[i].rep;
	*ctr = v->e[i].ctr;
}
