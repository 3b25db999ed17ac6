/*
 * rec.c - record state and the conflict-resolving merge (see rec.h for
 * the rules). The merge is commutative, associative and idempotent, so
 * replicas that have seen the same writes hold the same record whatever
 * the order in which they saw them.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "rec.h"

struct rec *rec_new(const struct tbl_desc *t, const char *id)
{
	struct rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->t = t;
	memcpy(r->id, id, RID_LEN);
	r->id[RID_LEN] = '\0';
	r->vv = vv_new();
	if (!r->vv) {
		free(r);
		return NULL;
	}
	return r;
}

struct rec *rec_dup(const struct rec *src)
{
	struct rec *r = rec_new(src->t, src->id);
	int i;

	if (!r)
		return NULL;
	vv_free(r->vv);
	r->vv = vv_dup(src->vv);
	if (!r->vv || (src->tomb && !(r->tomb = vv_dup(src->tomb))))
		goto out_free;
	if (src->ndels && !(r->dels = malloc(src->ndels * sizeof(*r->dels))))
		goto out_free;
	if (src->ndels)
		memcpy(r->dels, src->dels, src->ndels * sizeof(*r->dels));
	r->ndels = src->ndels;
	for (i = 0; i < src->t->nfields; i++) {
		r->f[i].set = src->f[i].set;
		r->f[i].dot = src->f[i].dot;
		if (val_copy(&r->f[i].v, &src->f[i].v))
			goto out_free;
	}
	return r;
out_free:
	rec_free(r);
	return NULL;
}

void rec_free(struct rec *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < TBL_MAX_FIELDS; i++)
		val_release(&r->f[i].v);
	vv_free(r->vv);
	vv_free(r->tomb);
	free(r->dels);
	free(r);
}

int rec_dot_cmp(const struct rec_dot *a, const struct rec_dot *b)
{
	int c;

	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	c = memcmp(a->rep, b->rep, VV_REPLEN);
	if (c)
		return c;
	if (a->ctr != b->ctr)
		return a->ctr < b->ctr ? -1 : 1;
	return 0;
}

static bool dot_same(const struct rec_dot *a, const struct rec_dot *b)
{
	return a->ctr == b->ctr && !memcmp(a->rep, b->rep, VV_REPLEN);
}

int rec_set(struct rec *r, int i, const struct val *v, const struct rec_dot *d)
{
	if (val_copy(&r->f[i].v, v))
		return OP_ENOMEM;
	r->f[i].set = true;
	r->f[i].dot = *d;
	return vv_raise(r->vv, d->rep, d->ctr);
}

int rec_delete(struct rec *r, const struct rec_dot *d)
{
	if (vv_raise(r->vv, d->rep, d->ctr))
		return OP_ENOMEM;
	if (!r->tomb) {
		r->tomb = vv_dup(r->vv);
		if (!r->tomb)
			return OP_ENOMEM;
	} else if (vv_merge(r->tomb, r->vv)) {
		return OP_ENOMEM;
	}
	return rec_add_del(r, d);
}

static int dot_order(const struct rec_dot *a, const struct rec_dot *b)
{
	int c = memcmp(a->rep, b->rep, VV_REPLEN);

	if (c)
		return c;
	return a->ctr < b->ctr ? -1 : a->ctr > b->ctr;
}

static bool has_del(const struct rec *r, const struct rec_dot *d)
{
	size_t i;

	for (i = 0; i < r->ndels; i++)
		if (dot_same(&r->dels[i], d))
			return true;
	return false;
}

int rec_add_del(struct rec *r, const struct rec_dot *d)
{
	struct rec_dot *p;
	size_t i;

	if (has_del(r, d))
		return OP_OK;
	p = realloc(r->dels, (r->ndels + 1) * sizeof(*p));
	if (!p)
		return OP_ENOMEM;
	r->dels = p;
	for (i = r->ndels; i > 0 && dot_order(&p[i - 1], d) > 0; i--)
		p[i] = p[i - 1];
	p[i] = *d;
	r->ndels++;
	return OP_OK;
}

/* The first field whose write the deleters had not seen, or -1. */
static int rec_survivor(const struct rec *r)
{
	int i;

	for (i = 0; i < r->t->nfields; i++)
		if (r->f[i].set && !vv_contains(r->tomb, r->f[i].dot.rep, r->f[i].dot.ctr))
			return i;
	return -1;
}

bool rec_alive(const struct rec *r)
{
	return !r->tomb || rec_survivor(r) >= 0;
}

static int take_field(struct rec_field *dst, const struct rec_field *src)
{
	if (val_copy(&dst->v, &src->v))
		return OP_ENOMEM;
	dst->set = true;
	dst->dot = src->dot;
	return OP_OK;
}

/* Merges one field; see rec.h for the rule. */
static int merge_field(struct rec *l, const struct rec *r, int i,
		       rec_conflict_fn cb, void *ctx, bool *changed)
{
	struct rec_field *a = &l->f[i];
	const struct rec_field *b = &r->f[i];
	const struct rec_field *win, *lose;
	struct rec_field loser_copy = { 0 };
	struct rec_conflict c;
	bool r_saw_a, l_saw_b;
	int rc;

	if (!b->set || (a->set && dot_same(&a->dot, &b->dot)))
		return OP_OK;
	if (!a->set) {
		*changed = true;
		return take_field(a, b);
	}
	r_saw_a = vv_contains(r->vv, a->dot.rep, a->dot.ctr);
	l_saw_b = vv_contains(l->vv, b->dot.rep, b->dot.ctr);
	if (r_saw_a != l_saw_b) {
		if (!r_saw_a)
			return OP_OK;
		*changed = true;
		return take_field(a, b);
	}
	win = rec_dot_cmp(&b->dot, &a->dot) > 0 ? b : a;
	lose = win == b ? a : b;
	if (!r_saw_a && cb) {
		/* a is about to be overwritten: keep a copy of the loser. */
		loser_copy.set = true;
		loser_copy.dot = lose->dot;
		if (val_copy(&loser_copy.v, &lose->v))
			return OP_ENOMEM;
	}
	if (win == b) {
		*changed = true;
		if ((rc = take_field(a, b)))
			goto out_release;
	}
	rc = OP_OK;
	if (!r_saw_a && cb) {
		c.r = l;
		c.field = i;
		c.winner = a;
		c.loser = &loser_copy;
		c.del = NULL;
		rc = cb(ctx, &c);
	}
out_release:
	val_release(&loser_copy.v);
	return rc;
}

/* Unions the tombstones; *grew tells whether local's tombstone grew. */
static int merge_tomb(struct rec *l, const struct rec *r, bool *grew)
{
	enum vv_order o;
	size_t i;

	*grew = false;
	if (!r->tomb)
		return OP_OK;
	for (i = 0; i < r->ndels; i++) {
		size_t had = l->ndels;

		if (rec_add_del(l, &r->dels[i]))
			return OP_ENOMEM;
		*grew |= l->ndels > had;
	}
	if (!l->tomb) {
		*grew = true;
		return (l->tomb = vv_dup(r->tomb)) ? OP_OK : OP_ENOMEM;
	}
	o = vv_compare(l->tomb, r->tomb);
	if (o == VV_EQUAL || o == VV_DOMINATES)
		return OP_OK;
	*grew = true;
	return vv_merge(l->tomb, r->tomb);
}

/* Reports each delete that this merge made lose (see rec.h). */
static int report_dels(struct rec *l, int survivor, const struct rec_dot *before,
		       size_t nbefore, bool was_alive, rec_conflict_fn cb, void *ctx)
{
	struct rec_conflict c;
	size_t i, k;
	int rc;

	for (i = 0; i < l->ndels; i++) {
		for (k = 0; was_alive && k < nbefore; k++)
			if (dot_same(&before[k], &l->dels[i]))
				break;
		if (was_alive && k < nbefore)
			continue;
		c.r = l;
		c.field = -1;
		c.winner = &l->f[survivor];
		c.loser = NULL;
		c.del = &l->dels[i];
		if ((rc = cb(ctx, &c)))
			return rc;
	}
	return OP_OK;
}

int rec_merge(struct rec *l, const struct rec *r, rec_conflict_fn cb,
	      void *ctx, bool *changed)
{
	bool was_alive = rec_alive(l);
	bool dummy = false, grew;
	struct rec_dot *before = NULL;
	size_t nbefore = l->ndels;
	enum vv_order o;
	int i, rc, s;

	if (!changed)
		changed = &dummy;
	*changed = false;
	if (cb && nbefore) {
		if (!(before = malloc(nbefore * sizeof(*before))))
			return OP_ENOMEM;
		memcpy(before, l->dels, nbefore * sizeof(*before));
	}
	for (i = 0, rc = 0; i < l->t->nfields && !rc; i++)
		rc = merge_field(l, r, i, cb, ctx, changed);
	if (!rc)
		rc = merge_tomb(l, r, &grew);
	if (rc)
		goto out_free;
	o = vv_compare(l->vv, r->vv);
	if (grew || o == VV_DOMINATED || o == VV_CONCURRENT)
		*changed = true;
	if ((rc = vv_merge(l->vv, r->vv)))
		goto out_free;
	if (cb && l->tomb && (s = rec_survivor(l)) >= 0)
		rc = report_dels(l, s, before, nbefore, was_alive, cb, ctx);
out_free:
	free(before);
	return rc;
}

int rec_json(const struct rec *r, struct buf *b, bool with_all)
{
	const char *sep = "";
	int i, rc = buf_addc(b, '{');

	if (with_all) {
		rc = rc ? rc : buf_adds(b, "\"id\":");
		rc = rc ? rc : json_str(b, r->id, RID_LEN);
		sep = ",";
	}
	for (i = 0; i < r->t->nfields && !rc; i++) {
		const struct fld_desc *f = &r->t->fields[i];

		if (!with_all && (!r->f[i].set || r->f[i].v.t == VAL_NIL))
			continue;
		rc = buf_adds(b, sep);
		rc = rc ? rc : json_str(b, f->name, strlen(f->name));
		rc = rc ? rc : buf_addc(b, ':');
		rc = rc ? rc : json_val(b, &r->f[i].v);
		sep = ",";
	}
	return rc ? rc : buf_addc(b, '}');
}
