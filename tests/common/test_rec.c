/*
 * test_rec.c - record state and the conflict-resolving merge
 * (common/rec.c): concurrent edits of different fields both survive; a
 * field edited concurrently gets the same winner, by (time, replica,
 * counter), whatever the merge order, and the conflict is reported once
 * with winner and loser; a causally later write wins without a conflict
 * even with an older clock; merging is idempotent, commutative and
 * associative (checked on random histories of three replicas by
 * comparing encoded states); deletes, edits concurrent with a delete
 * (record kept, field -1 reported once per losing delete), deletes that saw
 * every edit; and rec_json.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "hlc.h"
#include "rec.h"
#include "tbl.h"
#include "wire.h"

#define REP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define REP_C "cccccccccccccccccccccccccccccccc"
#define ID_1 "0123456789abcdef0123456789abcdef"

/* Customer field indexes (see tbl.c). */
#define F_NAME 0
#define F_GRADE 1
#define F_REGION 2
#define F_CREDIT 9
#define F_SAT 10
#define F_NOTE 11

/* ---- helpers ---------------------------------------------------------- */

static const struct tbl_desc *customer(void)
{
	return tbl_find("customer", 8);
}

static struct rec *new_rec(void)
{
	struct rec *r = rec_new(customer(), ID_1);

	cr_assert_not_null(r);
	return r;
}

static struct rec_dot dot(const char *rep, uint64_t ctr, uint64_t hlc)
{
	struct rec_dot d;

	memcpy(d.rep, rep, VV_REPLEN + 1);
	d.ctr = ctr;
	d.hlc = hlc;
	return d;
}

/* Writes text into field i with dot (rep, ctr, hlc). */
static void put(struct rec *r, int i, const char *text, const char *rep,
		uint64_t ctr, uint64_t hlc)
{
	struct rec_dot d = dot(rep, ctr, hlc);
	struct val v = VAL_INIT;

	cr_assert_eq(val_set_text(&v, text, strlen(text)), OP_OK);
	cr_assert_eq(rec_set(r, i, &v, &d), OP_OK);
	val_release(&v);
}

static void del(struct rec *r, const char *rep, uint64_t ctr, uint64_t hlc)
{
	struct rec_dot d = dot(rep, ctr, hlc);

	cr_assert_eq(rec_delete(r, &d), OP_OK);
}

/* What the conflict callback heard. */
struct clog {
	int n;
	int field;
	char winner[64], loser[64];
	struct rec_dot wdot, ldot, del;
	int ndel;   /* field -1 reports */
	int abort;  /* returned from the callback */
};

static void text_of(char out[64], const struct rec_field *f)
{
	if (!f || f->v.t != VAL_TEXT)
		snprintf(out, 64, "%s", f ? "(non-text)" : "(none)");
	else
		snprintf(out, 64, "%s", f->v.s);
}

static int on_conflict(void *ctx, const struct rec_conflict *c)
{
	struct clog *l = ctx;

	l->n++;
	l->field = c->field;
	text_of(l->winner, c->winner);
	text_of(l->loser, c->loser);
	l->wdot = c->winner->dot;
	if (c->loser)
		l->ldot = c->loser->dot;
	if (c->field < 0) {
		cr_assert_null(c->loser);
		cr_assert_not_null(c->del);
		l->del = *c->del;
		l->ndel++;
	} else {
		cr_assert_null(c->del);
		cr_assert_not_null(c->loser);
	}
	return l->abort;
}

/* Merges src into dst, asserting success; returns changed. */
static bool merge(struct rec *dst, const struct rec *src, struct clog *l)
{
	bool changed = false;

	cr_assert_eq(rec_merge(dst, src, l ? on_conflict : NULL, l, &changed), OP_OK);
	return changed;
}

/* A new record holding everything src holds. */
static struct rec *copy(const struct rec *src)
{
	struct rec *r = new_rec();

	merge(r, src, NULL);
	return r;
}

static void encode(const struct rec *r, struct buf *b)
{
	buf_reset(b);
	cr_assert_eq(wire_enc_state(b, r), OP_OK);
}

static bool same_state(const struct rec *a, const struct rec *b)
{
	struct buf ea = BUF_INIT, eb = BUF_INIT;
	bool same;

	encode(a, &ea);
	encode(b, &eb);
	same = ea.len == eb.len && !memcmp(ea.p, eb.p, ea.len);
	buf_release(&ea);
	buf_release(&eb);
	return same;
}

static const char *text(const struct rec *r, int i)
{
	cr_assert(r->f[i].set, "field %d unset", i);
	cr_assert_eq(r->f[i].v.t, VAL_TEXT);
	return r->f[i].v.s;
}

/* ---- basics ----------------------------------------------------------- */

Test(rec, new_set_free)
{
	struct rec *r = new_rec();
	int i;

	cr_assert_str_eq(r->id, ID_1);
	cr_assert(rec_alive(r));
	for (i = 0; i < TBL_MAX_FIELDS; i++)
		cr_assert_not(r->f[i].set);
	put(r, F_NAME, "Acme", REP_A, 1, 10);
	put(r, F_NAME, "Acme Ltd", REP_A, 2, 11);
	cr_assert_str_eq(text(r, F_NAME), "Acme Ltd");
	cr_assert_eq(r->f[F_NAME].dot.ctr, 2);
	cr_assert_eq(vv_get(r->vv, REP_A), 2);
	rec_free(r);
	rec_free(NULL);
}

Test(rec, dot_order)
{
	struct rec_dot a = dot(REP_A, 5, 100), b = dot(REP_B, 1, 100);
	struct rec_dot c = dot(REP_A, 1, 101), d = dot(REP_A, 6, 100);

	/* Time first, then replica, then counter. */
	cr_assert_lt(rec_dot_cmp(&a, &b), 0);
	cr_assert_gt(rec_dot_cmp(&b, &a), 0);
	cr_assert_gt(rec_dot_cmp(&c, &b), 0);
	cr_assert_lt(rec_dot_cmp(&a, &d), 0);
	cr_assert_eq(rec_dot_cmp(&a, &a), 0);
}

/* ---- field merges ----------------------------------------------------- */

Test(rec, concurrent_edits_of_different_fields_both_survive)
{
	struct rec *a = new_rec(), *b;
	struct clog la = { 0 }, lb = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	b = copy(a);
	put(a, F_GRADE, "key", REP_A, 2, 20);
	put(b, F_REGION, "north", REP_B, 1, 15);
	cr_assert(merge(a, b, &la));
	cr_assert(merge(b, a, &lb));
	cr_assert_eq(la.n, 0);
	cr_assert_eq(lb.n, 0);
	cr_assert_str_eq(text(a, F_NAME), "Acme");
	cr_assert_str_eq(text(a, F_GRADE), "key");
	cr_assert_str_eq(text(a, F_REGION), "north");
	cr_assert(same_state(a, b));
	cr_assert_eq(vv_get(a->vv, REP_A), 2);
	cr_assert_eq(vv_get(a->vv, REP_B), 1);
	rec_free(a);
	rec_free(b);
}

Test(rec, concurrent_edits_of_one_field_pick_one_winner)
{
	struct rec *a = new_rec(), *b, *a0, *b0;
	struct clog la = { 0 }, lb = { 0 }, l0 = { 0 };

	put(a, F_NAME, "base", REP_A, 1, 10);
	b = copy(a);
	put(a, F_NAME, "from A", REP_A, 2, 200);
	put(b, F_NAME, "from B", REP_B, 1, 100);
	a0 = copy(a);
	b0 = copy(b);
	/* A keeps its own, later value and reports the conflict once. */
	cr_assert(merge(a, b, &la));
	cr_assert_str_eq(text(a, F_NAME), "from A");
	cr_assert_eq(la.n, 1);
	cr_assert_eq(la.field, F_NAME);
	cr_assert_str_eq(la.winner, "from A");
	cr_assert_str_eq(la.loser, "from B");
	cr_assert_str_eq(la.wdot.rep, REP_A);
	cr_assert_eq(la.wdot.ctr, 2);
	cr_assert_str_eq(la.ldot.rep, REP_B);
	cr_assert_eq(la.ldot.ctr, 1);
	/* B takes A's resolved state: already resolved, no new report. */
	cr_assert(merge(b, a, &lb));
	cr_assert_str_eq(text(b, F_NAME), "from A");
	cr_assert_eq(lb.n, 0);
	cr_assert(same_state(a, b));
	/* B merging A's unresolved state resolves it the same way, once. */
	cr_assert(merge(b0, a0, &l0));
	cr_assert_eq(l0.n, 1);
	cr_assert_eq(l0.field, F_NAME);
	cr_assert_str_eq(l0.winner, "from A");
	cr_assert_str_eq(l0.loser, "from B");
	cr_assert(same_state(a, b0));
	/* Nothing new on later merges. */
	cr_assert_not(merge(a, b, &la));
	cr_assert_not(merge(b, a, &lb));
	cr_assert_not(merge(b0, a0, &l0));
	cr_assert_not(merge(b0, b, &l0));
	cr_assert_not(merge(a, b0, &la));
	cr_assert_eq(la.n, 1);
	cr_assert_eq(lb.n, 0);
	cr_assert_eq(l0.n, 1);
	rec_free(a);
	rec_free(b);
	rec_free(a0);
	rec_free(b0);
}

Test(rec, equal_times_break_ties_by_replica)
{
	struct rec *a = new_rec(), *b = new_rec(), *m1, *m2;
	struct clog l = { 0 };

	put(a, F_NAME, "from A", REP_A, 7, 500);
	put(b, F_NAME, "from B", REP_B, 3, 500);
	m1 = copy(a);
	merge(m1, b, &l);
	m2 = copy(b);
	merge(m2, a, &l);
	cr_assert_str_eq(text(m1, F_NAME), "from B");
	cr_assert_str_eq(text(m2, F_NAME), "from B");
	cr_assert(same_state(m1, m2));
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.winner, "from B");
	cr_assert_str_eq(l.loser, "from A");
	rec_free(a);
	rec_free(b);
	rec_free(m1);
	rec_free(m2);
}

Test(rec, three_way_conflict_same_winner_in_every_order)
{
	static const int perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct rec *w[3] = { new_rec(), new_rec(), new_rec() }, *ref = NULL;
	int p, i;

	put(w[0], F_NAME, "A", REP_A, 1, 300);
	put(w[1], F_NAME, "B", REP_B, 1, 900);
	put(w[2], F_NAME, "C", REP_C, 1, 600);
	for (p = 0; p < 6; p++) {
		struct rec *m = new_rec();
		struct clog l = { 0 };

		for (i = 0; i < 3; i++)
			merge(m, w[perm[p][i]], &l);
		cr_assert_str_eq(text(m, F_NAME), "B", "order %d", p);
		/* The first write is taken, each later one conflicts. */
		cr_assert_eq(l.n, 2, "order %d", p);
		if (ref)
			cr_assert(same_state(m, ref), "order %d", p);
		if (!ref)
			ref = m;
		else
			rec_free(m);
	}
	for (i = 0; i < 3; i++)
		rec_free(w[i]);
	rec_free(ref);
}

Test(rec, causally_later_write_wins_without_conflict)
{
	struct rec *a = new_rec(), *b;
	struct clog la = { 0 }, lb = { 0 };

	put(a, F_NAME, "first", REP_A, 1, 1000);
	b = copy(a);
	/* B saw A's write; its clock is behind, which must not matter. */
	put(b, F_NAME, "second", REP_B, 1, 10);
	cr_assert(merge(a, b, &la));
	cr_assert_str_eq(text(a, F_NAME), "second");
	cr_assert_eq(la.n, 0);
	cr_assert_not(merge(b, a, &lb));
	cr_assert_str_eq(text(b, F_NAME), "second");
	cr_assert_eq(lb.n, 0);
	cr_assert(same_state(a, b));
	rec_free(a);
	rec_free(b);
}

Test(rec, older_remote_write_is_ignored)
{
	struct rec *a = new_rec(), *old;

	put(a, F_NAME, "first", REP_A, 1, 10);
	old = copy(a);
	put(a, F_NAME, "second", REP_A, 2, 20);
	cr_assert_not(merge(a, old, NULL));
	cr_assert_str_eq(text(a, F_NAME), "second");
	rec_free(a);
	rec_free(old);
}

Test(rec, merge_is_idempotent)
{
	struct rec *a = new_rec(), *b = new_rec(), *snap, *self;
	struct clog l = { 0 };
	struct buf before = BUF_INIT, after = BUF_INIT;

	put(a, F_NAME, "A", REP_A, 1, 10);
	put(a, F_GRADE, "g", REP_A, 2, 11);
	put(b, F_NAME, "B", REP_B, 1, 12);
	del(b, REP_B, 2, 13);
	cr_assert(merge(a, b, &l));
	cr_assert_gt(l.n, 0);
	l.n = 0;
	encode(a, &before);
	cr_assert_not(merge(a, b, &l));
	cr_assert_eq(l.n, 0);
	encode(a, &after);
	cr_assert_eq(before.len, after.len);
	cr_assert_eq(memcmp(before.p, after.p, before.len), 0);
	/* Merging a state into an identical one changes nothing either. */
	snap = copy(a);
	cr_assert_not(merge(a, snap, &l));
	cr_assert_eq(l.n, 0);
	cr_assert(same_state(a, snap));
	self = copy(a);
	cr_assert_not(merge(self, self, &l));
	cr_assert(same_state(self, a));
	/* And an empty state adds nothing. */
	rec_free(snap);
	snap = new_rec();
	cr_assert_not(merge(a, snap, &l));
	cr_assert_eq(l.n, 0);
	rec_free(a);
	rec_free(b);
	rec_free(snap);
	rec_free(self);
	buf_release(&before);
	buf_release(&after);
}

Test(rec, callback_abort_is_returned)
{
	struct rec *a = new_rec(), *b = new_rec();
	struct clog l = { 0 };

	put(a, F_NAME, "A", REP_A, 1, 10);
	put(b, F_NAME, "B", REP_B, 1, 20);
	l.abort = OP_EIO;
	cr_assert_eq(rec_merge(a, b, on_conflict, &l, NULL), OP_EIO);
	cr_assert_eq(l.n, 1);
	rec_free(a);
	rec_free(b);
}

/* ---- deletes ---------------------------------------------------------- */

Test(rec, delete_then_merge)
{
	struct rec *a = new_rec(), *b;
	struct clog l = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	put(a, F_GRADE, "key", REP_A, 2, 11);
	b = copy(a);
	del(a, REP_A, 3, 12);
	cr_assert_not(rec_alive(a));
	cr_assert_not_null(a->tomb);
	cr_assert_eq(a->ndels, 1);
	cr_assert(rec_alive(b));
	cr_assert(merge(b, a, &l));
	cr_assert_not(rec_alive(b));
	cr_assert_eq(l.n, 0);
	cr_assert(same_state(a, b));
	/* The values stay in the state (they sync), the record is dead. */
	cr_assert_str_eq(text(b, F_NAME), "Acme");
	cr_assert_not(merge(a, b, &l));
	cr_assert_not(merge(b, a, &l));
	cr_assert_eq(l.n, 0);
	rec_free(a);
	rec_free(b);
}

Test(rec, edit_concurrent_with_delete_keeps_record)
{
	struct rec *a = new_rec(), *b, *a2;
	struct clog la = { 0 }, lb = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	b = copy(a);
	del(a, REP_A, 2, 20);
	put(b, F_GRADE, "key", REP_B, 1, 15);
	a2 = copy(a);
	/* At A: the dead record comes back, the delete lost. */
	cr_assert(merge(a, b, &la));
	cr_assert(rec_alive(a));
	cr_assert_eq(la.n, 1);
	cr_assert_eq(la.ndel, 1);
	cr_assert_eq(la.field, -1);
	cr_assert_str_eq(la.winner, "key");
	cr_assert_str_eq(la.del.rep, REP_A);
	cr_assert_eq(la.del.ctr, 2);
	/* At B: the delete arrives and loses. */
	cr_assert(merge(b, a2, &lb));
	cr_assert(rec_alive(b));
	cr_assert_eq(lb.n, 1);
	cr_assert_eq(lb.field, -1);
	cr_assert_str_eq(lb.winner, "key");
	cr_assert_str_eq(lb.del.rep, REP_A);
	cr_assert(same_state(a, b));
	/* Reported once: further merges stay quiet. */
	merge(a, b, &la);
	merge(b, a, &lb);
	merge(a, a2, &la);
	merge(b, a2, &lb);
	cr_assert_eq(la.n, 1);
	cr_assert_eq(lb.n, 1);
	rec_free(a);
	rec_free(a2);
	rec_free(b);
}

Test(rec, two_losing_deletes_reported_once_each)
{
	struct rec *a = new_rec(), *b, *c, *m;
	struct clog l = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	b = copy(a);
	c = copy(a);
	del(a, REP_A, 2, 20);
	del(c, REP_C, 1, 21);
	put(b, F_GRADE, "key", REP_B, 1, 15);
	/* B hears of both deletes at once. */
	m = copy(a);
	merge(m, c, NULL);
	cr_assert_not(rec_alive(m));
	cr_assert_eq(m->ndels, 2);
	merge(b, m, &l);
	cr_assert(rec_alive(b));
	cr_assert_eq(l.ndel, 2);
	/* A dead copy holding both deletes hears of the edit: both lose. */
	l = (struct clog){ 0 };
	rec_free(a);
	a = copy(m);
	merge(a, b, &l);
	cr_assert(rec_alive(a));
	cr_assert_eq(l.ndel, 2);
	merge(a, c, &l);
	merge(a, m, &l);
	cr_assert_eq(l.ndel, 2);
	cr_assert(same_state(a, b));
	rec_free(a);
	rec_free(b);
	rec_free(c);
	rec_free(m);
}

Test(rec, delete_after_later_edit_reported_at_the_merge_it_starts_losing)
{
	struct rec *a = new_rec(), *b, *c;
	struct clog l = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	b = copy(a);
	c = copy(a);
	put(b, F_GRADE, "key", REP_B, 1, 15);
	del(c, REP_C, 1, 21);
	/* A learns of B's edit first... */
	merge(a, b, &l);
	cr_assert_eq(l.n, 0);
	/* ...then of C's delete, which did not see the edit: it loses now. */
	merge(a, c, &l);
	cr_assert(rec_alive(a));
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.field, -1);
	cr_assert_str_eq(l.del.rep, REP_C);
	merge(a, c, &l);
	cr_assert_eq(l.n, 1);
	rec_free(a);
	rec_free(b);
	rec_free(c);
}

Test(rec, delete_that_saw_every_edit_kills_the_record)
{
	struct rec *a = new_rec(), *b;
	struct clog la = { 0 }, lb = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	b = copy(a);
	put(b, F_GRADE, "key", REP_B, 1, 15);
	merge(a, b, &la);
	cr_assert(rec_alive(a));
	del(a, REP_A, 2, 20);
	cr_assert_not(rec_alive(a));
	cr_assert(merge(b, a, &lb));
	cr_assert_not(rec_alive(b));
	cr_assert_eq(la.n, 0);
	cr_assert_eq(lb.n, 0);
	cr_assert(same_state(a, b));
	rec_free(a);
	rec_free(b);
}

Test(rec, concurrent_deletes_union)
{
	struct rec *a = new_rec(), *b, *m1, *m2;

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	b = copy(a);
	del(a, REP_A, 2, 20);
	del(b, REP_B, 1, 20);
	m1 = copy(a);
	merge(m1, b, NULL);
	m2 = copy(b);
	merge(m2, a, NULL);
	cr_assert_not(rec_alive(m1));
	cr_assert_eq(m1->ndels, 2);
	cr_assert(same_state(m1, m2));
	cr_assert(vv_contains(m1->tomb, REP_A, 2));
	cr_assert(vv_contains(m1->tomb, REP_B, 1));
	rec_free(a);
	rec_free(b);
	rec_free(m1);
	rec_free(m2);
}

Test(rec, write_after_delete_revives)
{
	struct rec *a = new_rec(), *b;
	struct clog l = { 0 };

	put(a, F_NAME, "Acme", REP_A, 1, 10);
	del(a, REP_A, 2, 20);
	b = copy(a);
	cr_assert_not(rec_alive(b));
	/* A write that saw the delete: the record lives again. */
	put(b, F_NAME, "Acme again", REP_B, 1, 30);
	cr_assert(rec_alive(b));
	merge(a, b, &l);
	cr_assert(rec_alive(a));
	cr_assert_str_eq(text(a, F_NAME), "Acme again");
	rec_free(a);
	rec_free(b);
}

/* ---- algebra on random histories -------------------------------------- */

struct replica {
	const char *rep;
	uint64_t ctr;
	struct hlc clk;
	struct rec *r;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The highest time in r, so a replica that merges r writes after it. */
static uint64_t max_hlc(const struct rec *r)
{
	uint64_t m = 0;
	size_t i;
	int f;

	for (f = 0; f < r->t->nfields; f++)
		if (r->f[f].set && r->f[f].dot.hlc > m)
			m = r->f[f].dot.hlc;
	for (i = 0; i < r->ndels; i++)
		if (r->dels[i].hlc > m)
			m = r->dels[i].hlc;
	return m;
}

static void random_write(struct replica *p, uint64_t *s, uint64_t now)
{
	static const int fields[] = { F_NAME, F_GRADE, F_REGION, F_CREDIT, F_SAT, F_NOTE };
	struct rec_dot d;
	struct val v = VAL_INIT;
	char t[16];
	int f = fields[rnd(s) % 6];

	memcpy(d.rep, p->rep, VV_REPLEN + 1);
	d.ctr = ++p->ctr;
	/* Clocks disagree by up to a second either way. */
	d.hlc = hlc_now(&p->clk, now + rnd(s) % 2000);
	switch (rnd(s) % 4) {
	case 0:
		val_set_int(&v, (int64_t)(rnd(s) % 5));
		break;
	case 1:
		val_set_real(&v, (double)(rnd(s) % 100) / 4);
		break;
	case 2:
		break; /* nil: a cleared field */
	default:
		snprintf(t, sizeof(t), "v%u", (unsigned)(rnd(s) % 1000));
		cr_assert_eq(val_set_text(&v, t, strlen(t)), OP_OK);
	}
	if (rnd(s) % 4 == 0) {
		cr_assert_eq(rec_delete(p->r, &d), OP_OK);
	} else {
		cr_assert_eq(rec_set(p->r, f, &v, &d), OP_OK);
	}
	val_release(&v);
}

/* Three replicas write, delete and sync at random. */
static void random_history(struct replica p[3], uint64_t *s)
{
	static const char *const reps[3] = { REP_A, REP_B, REP_C };
	uint64_t now = 1000000;
	int i, step, nsteps = 5 + (int)(rnd(s) % 40);

	for (i = 0; i < 3; i++) {
		p[i].rep = reps[i];
		p[i].ctr = rnd(s) % 3;
		p[i].clk.last = 0;
		p[i].r = new_rec();
	}
	for (step = 0; step < nsteps; step++) {
		struct replica *x = &p[rnd(s) % 3];
		struct replica *y = &p[rnd(s) % 3];

		now += rnd(s) % 3;
		if (rnd(s) % 3 == 0 && x != y) {
			hlc_observe(&x->clk, max_hlc(y->r));
			merge(x->r, y->r, NULL);
		} else {
			random_write(x, s, now);
		}
	}
}

static void dump(const char *what, const struct rec *r)
{
	struct buf b = BUF_INIT;
	size_t i;

	encode(r, &b);
	fprintf(stderr, "%s:", what);
	for (i = 0; i < b.len; i++)
		fprintf(stderr, " %02x", (unsigned char)b.p[i]);
	fprintf(stderr, "\n");
	buf_release(&b);
}

static void check_algebra(struct replica p[3], int trial)
{
	static const int perm[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct rec *ref = new_rec(), *m, *bc, *ab;
	int k, i;

	for (i = 0; i < 3; i++)
		merge(ref, p[i].r, NULL);
	/* Every order of merging gives the same state. */
	for (k = 1; k < 6; k++) {
		m = new_rec();
		for (i = 0; i < 3; i++)
			merge(m, p[perm[k][i]].r, NULL);
		if (!same_state(m, ref)) {
			dump("ref", ref);
			dump("got", m);
		}
		cr_assert(same_state(m, ref), "trial %d: order %d differs", trial, k);
		cr_assert_eq(rec_alive(m), rec_alive(ref));
		rec_free(m);
	}
	/* Associativity: a + (b + c) == (a + b) + c. */
	bc = copy(p[1].r);
	merge(bc, p[2].r, NULL);
	m = copy(p[0].r);
	merge(m, bc, NULL);
	cr_assert(same_state(m, ref), "trial %d: a+(b+c) differs", trial);
	rec_free(m);
	ab = copy(p[0].r);
	merge(ab, p[1].r, NULL);
	/* Commutativity of two: (a + b) == (b + a). */
	m = copy(p[1].r);
	merge(m, p[0].r, NULL);
	cr_assert(same_state(m, ab), "trial %d: a+b != b+a", trial);
	rec_free(m);
	merge(ab, p[2].r, NULL);
	cr_assert(same_state(ab, ref), "trial %d: (a+b)+c differs", trial);
	/* Idempotence: the result absorbs every input, and itself. */
	for (i = 0; i < 3; i++)
		cr_assert_not(merge(ref, p[i].r, NULL), "trial %d: input %d changed the join", trial, i);
	cr_assert_not(merge(ab, ref, NULL));
	cr_assert(same_state(ab, ref));
	/* Merging into a replica in place gives the same too. */
	merge(p[2].r, p[0].r, NULL);
	merge(p[2].r, p[1].r, NULL);
	cr_assert(same_state(p[2].r, ref), "trial %d: in-place merge differs", trial);
	rec_free(bc);
	rec_free(ab);
	rec_free(ref);
}

Test(rec, merge_is_commutative_associative_idempotent)
{
	struct replica p[3];
	uint64_t s = 0x5eed0f0e7a11ull;
	int trial, i;

	for (trial = 0; trial < 2000; trial++) {
		random_history(p, &s);
		check_algebra(p, trial);
		for (i = 0; i < 3; i++)
			rec_free(p[i].r);
	}
}

Test(rec, conflicts_reported_once_per_replica_on_random_histories)
{
	struct replica p[3];
	uint64_t s = 42;
	int trial, i;

	/* Merging any state again after a full sync reports nothing. */
	for (trial = 0; trial < 300; trial++) {
		struct rec *all;
		struct clog l = { 0 };

		random_history(p, &s);
		all = new_rec();
		for (i = 0; i < 3; i++)
			merge(all, p[i].r, NULL);
		for (i = 0; i < 3; i++)
			merge(all, p[i].r, &l);
		merge(all, all, &l);
		cr_assert_eq(l.n, 0, "trial %d", trial);
		rec_free(all);
		for (i = 0; i < 3; i++)
			rec_free(p[i].r);
	}
}

/* ---- rec_json --------------------------------------------------------- */

Test(rec, json_set_fields_only)
{
	struct rec *r = new_rec();
	struct rec_dot d = dot(REP_A, 1, 1);
	struct val v = VAL_INIT;
	struct buf b = BUF_INIT;

	put(r, F_NAME, "Acme \"Q\"\n\\", REP_A, 1, 1);
	val_set_real(&v, 1.5);
	cr_assert_eq(rec_set(r, F_CREDIT, &v, &d), OP_OK);
	val_set_int(&v, 4);
	cr_assert_eq(rec_set(r, F_SAT, &v, &d), OP_OK);
	val_release(&v);
	/* A cleared field is left out. */
	cr_assert_eq(rec_set(r, F_GRADE, &v, &d), OP_OK);
	cr_assert_eq(rec_json(r, &b, false), OP_OK);
	cr_assert_str_eq(b.p, "{\"name\":\"Acme \\\"Q\\\"\\n\\\\\",\"credit\":1.5,\"satisfaction\":4}");
	rec_free(r);
	buf_release(&b);
}

Test(rec, json_with_all)
{
	struct rec *r = new_rec();
	struct buf b = BUF_INIT;

	put(r, F_NAME, "caf\xc3\xa9", REP_A, 1, 1);
	put(r, F_NOTE, "tab\there", REP_A, 1, 1);
	cr_assert_eq(rec_json(r, &b, true), OP_OK);
	cr_assert_str_eq(b.p, "{\"id\":\"" ID_1 "\",\"name\":\"caf\xc3\xa9\","
			 "\"grade\":null,\"region\":null,\"industry\":null,"
			 "\"address\":null,\"phone\":null,\"email\":null,"
			 "\"website\":null,\"owner\":null,\"credit\":null,"
			 "\"satisfaction\":null,\"note\":\"tab\\there\"}");
	rec_free(r);
	buf_release(&b);
}

Test(rec, json_empty_record)
{
	struct rec *r = new_rec();
	struct buf b = BUF_INIT;

	cr_assert_eq(rec_json(r, &b, false), OP_OK);
	cr_assert_str_eq(b.p, "{}");
	rec_free(r);
	buf_release(&b);
}
