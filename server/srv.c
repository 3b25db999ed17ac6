/*
 * srv.c - server sync core (see srv.h). The change log is the `seq`
 * column of the record store: each change to a record gives it the next
 * sequence number, which is also the counter of any dot the server itself
 * writes (conflict records, demo data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "log.h"
#include "rid.h"
#include "srv.h"

#define PULL_BYTES (WIRE_MAX_FRAME / 2)

struct srv {
	struct db *db;
	char replica[RID_LEN + 1];
	uint64_t seq;      /* last sequence number issued */
	struct hlc clock;
	struct buf scratch;
};

static int load_identity(struct srv *s, char *err)
{
	int rc = db_meta_get_text(s->db, "replica", s->replica, sizeof(s->replica));

	if (rc == OP_ENOTFOUND) {
		if (rid_new(s->replica) || db_meta_set_text(s->db, "replica", s->replica))
			return op_fail(err, OP_EIO, "cannot store the server's replica id");
		return OP_OK;
	}
	return rc ? op_fail(err, rc, "cannot read the server's replica id") : OP_OK;
}

int srv_open(const char *path, struct srv **out, char err[OP_ERRLEN])
{
	struct srv *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return op_fail(err, OP_ENOMEM, "out of memory");
	if ((rc = db_open(path, SCHEMA_SERVER, &s->db, err)) ||
	    (rc = load_identity(s, err)))
		goto out_free;
	if ((rc = db_max_seq(s->db, &s->seq))) {
		op_fail(err, rc, "cannot read the change log: %s", db_errmsg(s->db));
		goto out_free;
	}
	*out = s;
	return OP_OK;
out_free:
	srv_close(s);
	return rc;
}

void srv_close(struct srv *s)
{
	if (!s)
		return;
	db_close(s->db);
	buf_release(&s->scratch);
	free(s);
}

struct db *srv_db(struct srv *s)
{
	return s->db;
}

const char *srv_replica(const struct srv *s)
{
	return s->replica;
}

uint64_t srv_log_end(const struct srv *s)
{
	return s->seq;
}

int srv_begin(struct srv *s)
{
	if (db_begin(s->db))
		return OP_EIO;
	if (db_max_seq(s->db, &s->seq)) {
		db_rollback(s->db);
		return OP_EIO;
	}
	return OP_OK;
}

/* Sets the dot of a server-side write. */
static void server_dot(struct srv *s, struct rec_dot *d)
{
	memcpy(d->rep, s->replica, RID_LEN + 1);
	d->ctr = ++s->seq;
	d->hlc = hlc_now(&s->clock, hlc_wall_ms());
}

int srv_write(struct srv *s, struct rec *r)
{
	struct rec_dot d;
	int i, rc;

	server_dot(s, &d);
	for (i = 0; i < r->t->nfields; i++) {
		if (!r->f[i].set)
			continue;
		r->f[i].dot = d;
	}
	if ((rc = vv_raise(r->vv, d.rep, d.ctr)))
		return rc;
	return db_rec_save(s->db, r, d.ctr);
}

/* ---- push -------------------------------------------------------------- */

struct push_ctx {
	struct srv *s;
	uint64_t conflicts;
	struct wire_err *e;
};

static int set_text(struct rec *c, const char *field, const char *v, size_t n)
{
	int i = tbl_field(c->t, field, strlen(field));

	c->f[i].set = true;
	return val_set_text(&c->f[i].v, v, n);
}

static int set_int(struct rec *c, const char *field, uint64_t v)
{
	int i = tbl_field(c->t, field, strlen(field));

	c->f[i].set = true;
	val_set_int(&c->f[i].v, (int64_t)v);
	return OP_OK;
}

static int set_val(struct rec *c, const char *field, const struct val *v,
		   struct buf *tmp)
{
	buf_reset(tmp);
	if (val_format(v, tmp))
		return OP_ENOMEM;
	return set_text(c, field, tmp->p ? tmp->p : "", tmp->len);
}

/* Fills a conflict record from a resolved conflict. */
static int fill_conflict(struct srv *s, struct rec *c, const struct rec_conflict *k)
{
	const struct rec_field *w = k->winner;
	bool del = k->field < 0;
	const char *rep = del ? k->del->rep : k->loser->dot.rep;
	uint64_t ctr = del ? k->del->ctr : k->loser->dot.ctr;
	const char *fname = del ? "" : k->r->t->fields[k->field].name;
	int rc = 0;

	rc |= set_text(c, "tbl", k->r->t->name, strlen(k->r->t->name));
	rc |= set_text(c, "rec", k->r->id, RID_LEN);
	rc |= set_text(c, "field", fname, strlen(fname));
	rc |= set_text(c, "kind", del ? "delete" : "field", del ? 6 : 5);
	rc |= set_val(c, "winner", &w->v, &s->scratch);
	if (del)
		rc |= set_text(c, "loser", "(deleted)", 9);
	else
		rc |= set_val(c, "loser", &k->loser->v, &s->scratch);
	rc |= set_text(c, "winner_rep", w->dot.rep, RID_LEN);
	rc |= set_int(c, "winner_ctr", w->dot.ctr);
	rc |= set_text(c, "loser_rep", rep, RID_LEN);
	rc |= set_int(c, "loser_ctr", ctr);
	rc |= set_int(c, "at", hlc_wall_ms());
	return rc ? OP_ENOMEM : OP_OK;
}

static int on_conflict(void *ctx, const struct rec_conflict *k)
{
	struct push_ctx *p = ctx;
	const struct tbl_desc *t = tbl_find("conflict", 8);
	const struct rec_dot *lost = k->field < 0 ? k->del : &k->loser->dot;
	char id[RID_LEN + 1];
	struct rec *c;
	bool known;
	int rc;

	/* A delete can lose again when a record is revived a second time. */
	rc = db_conflict_exists(p->s->db, k->r->id,
				k->field < 0 ? "" : k->r->t->fields[k->field].name,
				lost->rep, lost->ctr, &known);
	if (rc || known)
		return rc;
	if (rid_new(id) || !(c = rec_new(t, id)))
		return OP_ENOMEM;
	rc = fill_conflict(p->s, c, k);
	if (!rc)
		rc = srv_write(p->s, c);
	rec_free(c);
	if (!rc)
		p->conflicts++;
	return rc;
}

static int push_fail(struct wire_err *e, int code, const char *fmt, const char *a,
		     const char *b)
{
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), fmt, a, b);
	return code == WERR_SERVER ? OP_EIO : OP_EPROTO;
}

/* A new record must be created with all its required fields. */
static int check_create(const struct rec *c, struct wire_err *e)
{
	int i;

	if (c->tomb)
		return push_fail(e, WERR_INVALID, "cannot delete %s %s: no such record",
				 c->t->name, c->id);
	for (i = 0; i < c->t->nfields; i++)
		if (c->t->fields[i].required && !c->f[i].set)
			return push_fail(e, WERR_INVALID, "new %s lacks required field %s",
					 c->t->name, c->t->fields[i].name);
	return OP_OK;
}

/* A write stamped more than this far ahead of the server is refused. */
#define MAX_CLOCK_AHEAD_MS (366ull * 24 * 3600 * 1000)

/* Refuses a change whose clock is absurdly far ahead: it would win every
 * tie for years and drag every replica's clock along. */
static int check_clock(const struct rec *c, struct wire_err *e)
{
	uint64_t limit = hlc_wall_ms() + MAX_CLOCK_AHEAD_MS;
	size_t i;

	for (i = 0; i < (size_t)c->t->nfields; i++)
		if (c->f[i].set && hlc_ms(c->f[i].dot.hlc) > limit)
			goto out_fail;
	for (i = 0; i < c->ndels; i++)
		if (hlc_ms(c->dels[i].hlc) > limit)
			goto out_fail;
	return OP_OK;
out_fail:
	return push_fail(e, WERR_INVALID, "change to %s %s is stamped more than a year in the future; "
			 "set the device's clock", c->t->name, c->id);
}

static int apply_one(struct push_ctx *p, const struct rec *c, bool *changed)
{
	struct rec *cur = NULL;
	int rc;

	if ((rc = check_clock(c, p->e)))
		return rc;
	if (c->t->server_only)
		return push_fail(p->e, WERR_INVALID, "table %s is written by the server only%s",
				 c->t->name, "");
	rc = db_rec_load(p->s->db, c->t, c->id, &cur);
	if (rc == OP_ENOTFOUND) {
		if ((rc = check_create(c, p->e)))
			return rc;
		if (!(cur = rec_new(c->t, c->id)))
			return push_fail(p->e, WERR_SERVER, "the server is out of memory%s%s", "", "");
	} else if (rc) {
		return push_fail(p->e, WERR_SERVER, "cannot read %s %s", c->t->name, c->id);
	}
	for (int i = 0; i < c->t->nfields; i++)
		if (c->f[i].set)
			hlc_observe(&p->s->clock, c->f[i].dot.hlc);
	for (size_t i = 0; i < c->ndels; i++)
		hlc_observe(&p->s->clock, c->dels[i].hlc);
	rc = rec_merge(cur, c, on_conflict, p, changed);
	if (!rc && *changed)
		rc = db_rec_save(p->s->db, cur, ++p->s->seq);
	rec_free(cur);
	if (rc && !p->e->code)
		push_fail(p->e, WERR_SERVER, "the server could not store %s %s", c->t->name, c->id);
	return rc;
}

int srv_push(struct srv *s, const char *origin, struct rec *const *changes,
	     size_t n, struct srv_push_result *res, struct wire_err *e)
{
	struct push_ctx p = { s, 0, e };
	uint64_t seq0 = s->seq;
	bool changed;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	e->code = 0;
	e->msg[0] = '\0';
	if (srv_begin(s))
		return push_fail(e, WERR_SERVER, "the database is busy%s%s", "", "");
	seq0 = s->seq;
	for (i = 0; i < n; i++) {
		if ((rc = apply_one(&p, changes[i], &changed)))
			goto out_rollback;
		if (changed)
			res->applied++;
		else
			res->dup++;
		if (vv_get(changes[i]->vv, origin) > res->upto)
			res->upto = vv_get(changes[i]->vv, origin);
	}
	if (db_commit(s->db)) {
		rc = push_fail(e, WERR_SERVER, "the server could not commit: %s", db_errmsg(s->db), "");
		goto out_rollback;
	}
	res->conflicts = p.conflicts;
	return OP_OK;
out_rollback:
	db_rollback(s->db);
	s->seq = seq0;
	return rc;
}

/* ---- pull -------------------------------------------------------------- */

struct pull_ctx {
	struct buf body;
	size_t count;
	uint64_t last;
	unsigned limit;
	bool more;
};

static int pull_one(void *ctx, const void *blob, size_t n, uint64_t seq)
{
	struct pull_ctx *p = ctx;

	if (p->count == p->limit || (p->count && p->body.len + n > PULL_BYTES)) {
		p->more = true;
		return 1; /* stop */
	}
	if (buf_add(&p->body, blob, n))
		return OP_ENOMEM;
	p->count++;
	p->last = seq;
	return OP_OK;
}

int srv_pull(struct srv *s, uint64_t cursor, unsigned limit, struct buf *out)
{
	struct pull_ctx p = { BUF_INIT, 0, cursor, limit, false };
	int rc;

	if (limit == 0 || limit > WIRE_MAX_BATCH)
		p.limit = limit = WIRE_MAX_BATCH;
	rc = db_rec_since(s->db, cursor, limit + 1, pull_one, &p);
	if (rc == 1)
		rc = OP_OK;
	if (!rc)
		rc = wire_enc_batch_head(out, p.last, p.more, p.count);
	if (!rc)
		rc = buf_add(out, p.body.p, p.body.len);
	buf_release(&p.body);
	return rc;
}
