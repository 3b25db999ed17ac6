/*
 * test_converge.c - property test of the sync engine. For many seeds, 3 to
 * 5 replicas (real client replicas in SQLite files) make random creates,
 * edits and deletes of customers and contacts while offline, and sync
 * with one server (a real server database) in random order, some syncs
 * cut off midway. The client's sync state machine and the server's
 * session exchange real encoded messages in process, without sockets, so
 * hundreds of runs fit in seconds. Afterwards:
 *   - every replica holds exactly the server's records, state for state;
 *   - every write a person made is in the data, or kept as a conflict
 *     loser, or was overwritten by someone who had seen it, or deleted by
 *     someone who had seen it; every delete either won or is a conflict.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authfix.h"
#include "harness.h"
#include "prop.h"
#include "log.h"
#include "oc.h"
#include "sess.h"
#include "srv.h"
#include "sync.h"
#include "wire.h"

#define MAX_REPLICAS 5
#define MAX_WRITES 4096
#define MAX_RECS 512

struct write {
	int rep;                /* replica index */
	char dot_rep[RID_LEN + 1];
	uint64_t ctr;
	const struct tbl_desc *t;
	char id[RID_LEN + 1];
	int field;              /* -1: a delete */
	struct vv *ctx;         /* what the writer had seen, own write included */
};

struct world {
	unsigned long long rng;
	char dir[256];
	struct srv *srv;
	struct oc *oc[MAX_REPLICAS];
	int n;
	struct write w[MAX_WRITES];
	int nw;
	char ids[MAX_RECS][RID_LEN + 1];   /* every record ever created */
	const struct tbl_desc *idt[MAX_RECS];
	int nids;
};

static unsigned rnd(struct world *w, unsigned n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (unsigned)(w->rng % n);
}

static void world_open(struct world *w, unsigned seed)
{
	char path[320], err[OP_ERRLEN];
	int i;

	memset(w, 0, sizeof(*w));
	w->rng = 0x9e3779b97f4a7c15ull ^ ((unsigned long long)seed * 0x100000001b3ull);
	rnd(w, 2);
	prop_dir(w->dir);
	snprintf(path, sizeof(path), "%s/server.db", w->dir);
	cr_assert_eq(srv_open(path, &w->srv, err), 0, "%s", err);
	w->n = 3 + (int)rnd(w, 3);
	af_user(srv_db(w->srv), "admin", "admin", NULL);
	for (i = 0; i < w->n; i++) {
		snprintf(path, sizeof(path), "%s/r%d", w->dir, i);
		cr_assert_eq(oc_open(path, true, &w->oc[i], err), 0, "%s", err);
		af_login(srv_db(w->srv), w->oc[i], "admin");
	}
}

static void world_close(struct world *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		oc_close(w->oc[i]);
	for (i = 0; i < w->nw; i++)
		vv_free(w->w[i].ctx);
	srv_close(w->srv);
	prop_rmdir(w->dir);
}

/* ---- local writes ------------------------------------------------------ */

/* Notes the writes of the change just made on replica r to record id. */
static void track(struct world *w, int r, const struct tbl_desc *t,
		  const char *id, const int *fields, int nf)
{
	struct rec *rec;
	uint64_t ctr;
	int i, k = nf ? nf : 1;

	cr_assert_eq(db_meta_get_u64(oc_db(w->oc[r]), "ctr", &ctr), 0);
	cr_assert_eq(db_rec_load(oc_db(w->oc[r]), t, id, &rec), 0);
	for (i = 0; i < k; i++) {
		struct write *x = &w->w[w->nw++];

		cr_assert(w->nw < MAX_WRITES);
		x->rep = r;
		memcpy(x->dot_rep, oc_replica(w->oc[r]), RID_LEN + 1);
		x->ctr = ctr;
		x->t = t;
		memcpy(x->id, id, RID_LEN + 1);
		x->field = nf ? fields[i] : -1;
		x->ctx = vv_dup(rec->vv);
	}
	rec_free(rec);
}

/* A random live record of t on replica r, or false. */
static bool pick_live(struct world *w, int r, const struct tbl_desc *t, char id[RID_LEN + 1])
{
	int tries, k;
	struct rec *rec;

	for (tries = 0; tries < 20 && w->nids; tries++) {
		k = (int)rnd(w, (unsigned)w->nids);
		if (w->idt[k] != t || db_rec_load(oc_db(w->oc[r]), t, w->ids[k], &rec))
			continue;
		if (rec_alive(rec)) {
			memcpy(id, rec->id, RID_LEN + 1);
			rec_free(rec);
			return true;
		}
		rec_free(rec);
	}
	return false;
}

static void text(struct world *w, int r, struct val *v)
{
	char s[48];

	snprintf(s, sizeof(s), "r%d-%u", r, rnd(w, 1000000));
	cr_assert_eq(val_set_text(v, s, strlen(s)), 0);
}

static void op_create(struct world *w, int r, const struct tbl_desc *t)
{
	struct val v[2] = { VAL_INIT, VAL_INIT };
	char err[OP_ERRLEN], id[RID_LEN + 1], cust[RID_LEN + 1];
	int idx[2], nf = 0;

	if (w->nids >= MAX_RECS)
		return;
	if (!strcmp(t->name, "contact")) {
		if (!pick_live(w, r, tbl_find("customer", 8), cust))
			return;
		idx[nf] = tbl_field(t, "customer", 8);
		cr_assert_eq(val_set_text(&v[nf++], cust, RID_LEN), 0);
	}
	idx[nf] = tbl_field(t, "name", 4);
	text(w, r, &v[nf++]);
	cr_assert_eq(oc_put(w->oc[r], t, NULL, idx, v, nf, id, err), 0, "%s", err);
	track(w, r, t, id, idx, nf);
	memcpy(w->ids[w->nids], id, RID_LEN + 1);
	w->idt[w->nids++] = t;
	val_release(&v[0]);
	val_release(&v[1]);
}

static void op_edit(struct world *w, int r, const struct tbl_desc *t)
{
	static const char *const fields[] = { "name", "phone", "note", "email" };
	struct val v[2] = { VAL_INIT, VAL_INIT };
	char err[OP_ERRLEN], id[RID_LEN + 1], mail[64];
	int idx[2], nf = 1 + (int)rnd(w, 2), i;

	if (!pick_live(w, r, t, id))
		return;
	for (i = 0; i < nf; i++) {
		const char *f = fields[rnd(w, 4)];

		idx[i] = tbl_field(t, f, strlen(f));
		if (i == 1 && idx[1] == idx[0])
			nf = 1;
	}
	for (i = 0; i < nf; i++) {
		if (!strcmp(t->fields[idx[i]].name, "email")) {
			snprintf(mail, sizeof(mail), "r%d-%u@x.example", r, rnd(w, 100000));
			cr_assert_eq(val_set_text(&v[i], mail, strlen(mail)), 0);
		} else if (!strcmp(t->fields[idx[i]].name, "note") && rnd(w, 5) == 0) {
			val_release(&v[i]); /* clearing a field is a write too */
		} else {
			text(w, r, &v[i]);
		}
	}
	cr_assert_eq(oc_put(w->oc[r], t, id, idx, v, nf, NULL, err), 0, "%s", err);
	track(w, r, t, id, idx, nf);
	val_release(&v[0]);
	val_release(&v[1]);
}

static void op_delete(struct world *w, int r, const struct tbl_desc *t)
{
	char err[OP_ERRLEN], id[RID_LEN + 1];

	if (!pick_live(w, r, t, id))
		return;
	cr_assert_eq(oc_delete(w->oc[r], t, id, NULL, err), 0, "%s", err);
	track(w, r, t, id, NULL, 0);
}

static void random_op(struct world *w, int r)
{
	const struct tbl_desc *t = rnd(w, 3) ? tbl_find("customer", 8) : tbl_find("contact", 7);
	unsigned k = rnd(w, 10);

	if (k < 3)
		op_create(w, r, t);
	else if (k < 9)
		op_edit(w, r, t);
	else
		op_delete(w, r, t);
}

/* ---- sync -------------------------------------------------------------- */

/*
 * Syncs replica r with the server in process. With cut > 0 the
 * connection drops after that many server replies.
 */
static void do_sync(struct world *w, int r, int cut)
{
	char who[16];

	snprintf(who, sizeof(who), "%d", r);
	prop_sync(w->srv, w->oc[r], cut, NULL, who);
}

/* ---- checks ------------------------------------------------------------ */

struct cmp_ctx {
	struct world *w;
	int r;
	unsigned long n;
};

static int cmp_one(void *ctx, const void *blob, size_t n, uint64_t seq)
{
	struct cmp_ctx *c = ctx;
	struct rec *srec, *crec;
	struct wire_err e;
	struct buf b = BUF_INIT;

	(void)seq;
	cr_assert_eq(wire_decode_state(blob, n, true, &srec, &e), 0, "%s", e.msg);
	cr_assert_eq(db_rec_load(oc_db(c->w->oc[c->r]), srec->t, srec->id, &crec), 0,
		     "replica %d lacks %s %s", c->r, srec->t->name, srec->id);
	cr_assert_eq(wire_enc_state(&b, crec), 0);
	cr_assert(b.len == n && !memcmp(b.p, blob, n),
		  "replica %d differs from the server on %s %s", c->r, srec->t->name, srec->id);
	buf_release(&b);
	rec_free(srec);
	rec_free(crec);
	c->n++;
	return 0;
}

static void check_converged(struct world *w)
{
	uint64_t ns, nc;
	int r, i;

	for (r = 0; r < w->n; r++) {
		struct cmp_ctx c = { w, r, 0 };

		cr_assert_eq(db_rec_since(srv_db(w->srv), 0, 1u << 30, cmp_one, &c), 0);
		for (i = 0; tbl_at(i); i++) {
			cr_assert_eq(db_rec_count(srv_db(w->srv), tbl_at(i), &ns), 0);
			cr_assert_eq(db_rec_count(oc_db(w->oc[r]), tbl_at(i), &nc), 0);
			cr_assert_eq(ns, nc, "replica %d has %llu %ss, the server %llu", r,
				     (unsigned long long)nc, tbl_at(i)->name, (unsigned long long)ns);
		}
		cr_assert_eq(db_outbox_count(oc_db(w->oc[r]), &nc), 0);
		cr_assert_eq(nc, 0, "replica %d still has %llu changes pending", r,
			     (unsigned long long)nc);
	}
}

struct find_conflict {
	const struct write *x;
	bool found;
};

static bool text_is(const struct rec *r, const char *field, const char *want)
{
	const struct val *v = &r->f[tbl_field(r->t, field, strlen(field))].v;

	return v->t == VAL_TEXT && v->n == strlen(want) && !memcmp(v->s, want, v->n);
}

static int match_conflict(void *ctx, const struct rec *c)
{
	struct find_conflict *f = ctx;
	const struct write *x = f->x;
	const struct val *ctr = &c->f[tbl_field(c->t, "loser_ctr", 9)].v;

	if (text_is(c, "rec", x->id) && text_is(c, "loser_rep", x->dot_rep) &&
	    ctr->t == VAL_INT && (uint64_t)ctr->i == x->ctr &&
	    text_is(c, "field", x->field < 0 ? "" : x->t->fields[x->field].name))
		f->found = true;
	return 0;
}

static bool in_conflicts(struct world *w, const struct write *x)
{
	struct find_conflict f = { x, false };

	db_rec_list(srv_db(w->srv), tbl_find("conflict", 8), -1, NULL, match_conflict, &f);
	return f.found;
}

/* True when some accounted-for write on the same field had seen x. */
static bool superseded(struct world *w, const struct write *x, const struct rec *r)
{
	const struct rec_field *f = &r->f[x->field];
	int i;

	for (i = 0; i < w->nw; i++) {
		const struct write *y = &w->w[i];

		if (y == x || y->field != x->field || strcmp(y->id, x->id))
			continue;
		if (!vv_contains(y->ctx, x->dot_rep, x->ctr))
			continue;
		if ((!strcmp(f->dot.rep, y->dot_rep) && f->dot.ctr == y->ctr) ||
		    in_conflicts(w, y))
			return true;
	}
	return false;
}

static int dump_conflict(void *ctx, const struct rec *c)
{
	struct buf b = BUF_INIT;

	(void)ctx;
	rec_json(c, &b, true);
	fprintf(stderr, "  conflict %s\n", b.p);
	buf_release(&b);
	return 0;
}

static void dump(struct world *w, const struct rec *r)
{
	struct buf b = BUF_INIT;
	int i;

	rec_json(r, &b, true);
	fprintf(stderr, "record %s alive=%d deletes=%zu\n", b.p, rec_alive(r), r->ndels);
	for (i = 0; i < w->nw; i++)
		if (!strcmp(w->w[i].id, r->id))
			fprintf(stderr, "  write %d: %s:%llu field %d\n", i, w->w[i].dot_rep,
				(unsigned long long)w->w[i].ctr, w->w[i].field);
	for (i = 0; i < r->t->nfields; i++)
		if (r->f[i].set)
			fprintf(stderr, "  field %d dot %s:%llu\n", i, r->f[i].dot.rep,
				(unsigned long long)r->f[i].dot.ctr);
	db_rec_list(srv_db(w->srv), tbl_find("conflict", 8), -1, NULL, dump_conflict, NULL);
	buf_release(&b);
}

static void check_nothing_lost(struct world *w)
{
	struct rec *r;
	int i;

	for (i = 0; i < w->nw; i++) {
		const struct write *x = &w->w[i];
		bool ok;

		cr_assert_eq(db_rec_load(srv_db(w->srv), x->t, x->id, &r), 0,
			     "the server lacks %s %s", x->t->name, x->id);
		if (x->field < 0) {
			ok = !rec_alive(r) || in_conflicts(w, x);
		} else {
			const struct rec_field *f = &r->f[x->field];

			ok = (f->set && !strcmp(f->dot.rep, x->dot_rep) && f->dot.ctr == x->ctr) ||
			     in_conflicts(w, x) || superseded(w, x, r) ||
			     (!rec_alive(r) && vv_contains(r->tomb, x->dot_rep, x->ctr));
		}
		if (!ok)
			dump(w, r);
		cr_assert(ok, "write %d (replica %d %s, counter %llu, %s %s field %d) is lost",
			  i, x->rep, x->dot_rep, (unsigned long long)x->ctr, x->t->name, x->id, x->field);
		rec_free(r);
	}
}

/* ---- the property ------------------------------------------------------ */

struct totals {
	unsigned long writes, conflicts, cut_syncs;
};

static int count_rec(void *ctx, const struct rec *r)
{
	(void)r;
	(*(unsigned long *)ctx)++;
	return 0;
}

static void run_seed(unsigned seed, struct totals *tot)
{
	struct world *w = calloc(1, sizeof(*w));
	int step, r, steps;

	cr_assert(w);
	log_set_level(LOG_WARN);
	world_open(w, seed);
	steps = 80 + (int)rnd(w, 160);
	for (step = 0; step < steps; step++) {
		r = (int)rnd(w, (unsigned)w->n);
		if (rnd(w, 4) == 0) {
			int cut = rnd(w, 5) == 0 ? 1 + (int)rnd(w, 4) : 0;

			tot->cut_syncs += cut > 0;
			do_sync(w, r, cut);
		} else
			random_op(w, r);
	}
	/* Everyone pushes, then everyone pulls what the others pushed. */
	for (step = 0; step < 2; step++)
		for (r = 0; r < w->n; r++)
			do_sync(w, (r * 7 + step) % w->n, 0);
	check_converged(w);
	check_nothing_lost(w);
	tot->writes += (unsigned long)w->nw;
	db_rec_list(srv_db(w->srv), tbl_find("conflict", 8), -1, NULL, count_rec,
		    &tot->conflicts);
	world_close(w);
	free(w);
}

#define SEEDS_PER_TEST 100

/* Runs a block of seeds; the block must have met conflicts and cut syncs,
 * or the property was not really exercised. */
static void run_seeds(unsigned first)
{
	struct totals tot = { 0, 0, 0 };
	unsigned s;

	for (s = first; s < first + SEEDS_PER_TEST; s++)
		run_seed(s, &tot);
	cr_log_info("seeds %u-%u: %lu writes, %lu conflicts, %lu cut syncs", first,
		    first + SEEDS_PER_TEST - 1, tot.writes, tot.conflicts, tot.cut_syncs);
	cr_assert_gt(tot.conflicts, 10);
	cr_assert_gt(tot.cut_syncs, 10);
}

Test(converge, seeds_1_to_100, .timeout = 900) { run_seeds(1); }
Test(converge, seeds_101_to_200, .timeout = 900) { run_seeds(101); }
Test(converge, seeds_201_to_300, .timeout = 900) { run_seeds(201); }
Test(converge, seeds_301_to_400, .timeout = 900) { run_seeds(301); }
