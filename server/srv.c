/*
 * srv.c - server sync core (see srv.h). The change log is the `seq`
 * column of the record store: each change to a record gives it the next
 * sequence number, which is also the counter of any dot the server itself
 * writes (conflict records, demo data).
 */
#include <stdarg.h>
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
	struct gate *gate;
	struct worker *worker;  /* borrowed */
	uint64_t next_id;
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
	if (!(s->gate = gate_new())) {
		rc = op_fail(err, OP_ENOMEM, "out of memory");
		goto out_free;
	}
	if ((rc = db_open(path, SCHEMA_SERVER, &s->db, err)) ||
	    (rc = load_identity(s, err)))
		goto out_free;
	if ((rc = db_log_end(s->db, &s->seq))) {
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
	gate_free(s->gate);
	buf_release(&s->scratch);
	free(s);
}

struct gate *srv_gate(struct srv *s)
{
	return s->gate;
}

void srv_set_worker(struct srv *s, struct worker *w)
{
	s->worker = w;
}

struct worker *srv_worker(struct srv *s)
{
	return s->worker;
}

uint64_t srv_next_id(struct srv *s)
{
	return ++s->next_id;
}

struct db *srv_db(struct srv *s)
{
	return s->db;
}

const char *srv_replica(const struct srv *s)
{
	return s->replica;
}

uint64_t srv_log_end(struct srv *s)
{
	/* Another process (outpostd demo, an import) may have written. */
	if (db_log_end(s->db, &s->seq))
		log_warn("cannot read the end of the change log: %s", db_errmsg(s->db));
	return s->seq;
}

int srv_begin(struct srv *s)
{
	if (db_begin(s->db))
		return OP_EIO;
	if (db_log_end(s->db, &s->seq)) {
		db_rollback(s->db);
		return OP_EIO;
	}
	return OP_OK;
}

/* Sets the dot of a server-side write. */
static void server_dot(struct srv *s, struct rec_dot *d)
{
	memcpy(d->rep, s->replica, RID_LEN + 1);
	d->ctr = s->seq + 1; /* the log position store() gives the record */
	d->hlc = hlc_now(&s->clock, hlc_wall_ms());
}

/* ---- scope ------------------------------------------------------------- */

/* Where a record belongs: its owner ("" for none) and parent ("" for
 * none), as the server stores them beside the record. */
struct scope {
	char owner[DB_OWNER_MAX + 1];
	char parent[RID_LEN + 1];
};

/* The text of field i of r if it is set to text of at most max bytes. */
static const char *field_text(const struct rec *r, int i, size_t max)
{
	const struct rec_field *f;

	if (i < 0)
		return NULL;
	f = &r->f[i];
	if (!f->set || f->v.t != VAL_TEXT || f->v.n == 0 || f->v.n > max)
		return NULL;
	return f->v.s;
}

/* The table a record's parent lives in. */
static const char *parent_table(const struct rec *r)
{
	const char *t = field_text(r, r->t->parent_tbl, DB_TBL_MAX);

	return r->t->parent_tbl >= 0 ? t : r->t->fields[r->t->parent].ref;
}

/* Computes the scope of r from its values (a parent's owner is read from
 * the database). */
static int scope_of(struct srv *s, const struct rec *r, struct scope *sc)
{
	const char *v;
	int rc;

	memset(sc, 0, sizeof(*sc));
	if ((v = field_text(r, r->t->owner, DB_OWNER_MAX)))
		snprintf(sc->owner, sizeof(sc->owner), "%s", v);
	if (r->t->parent < 0 || !(v = field_text(r, r->t->parent, RID_LEN)))
		return OP_OK;
	snprintf(sc->parent, sizeof(sc->parent), "%s", v);
	if (!parent_table(r))
		return OP_OK;
	rc = db_rec_owner(s->db, parent_table(r), sc->parent, sc->owner);
	return rc == OP_ENOTFOUND ? OP_OK : rc;
}

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

struct child {
	char tbl[DB_TBL_MAX + 1];
	char id[RID_LEN + 1];
};

struct children {
	struct child *v;
	size_t n;
};

static int add_child(void *ctx, const char *tbl, const char *id)
{
	struct children *c = ctx;
	void *p = realloc(c->v, (c->n + 1) * sizeof(*c->v));

	if (!p)
		return OP_ENOMEM;
	c->v = p;
	snprintf(c->v[c->n].tbl, sizeof(c->v[0].tbl), "%s", tbl);
	snprintf(c->v[c->n].id, sizeof(c->v[0].id), "%s", id);
	c->n++;
	return OP_OK;
}

/* Whether child (of a table with a parent) hangs off record id of table
 * ptbl: a parent id alone may name records of several tables. */
static int hangs_off(struct srv *s, const struct child *c, const char *ptbl,
		     bool *yes)
{
	const struct tbl_desc *t = tbl_find(c->tbl, strlen(c->tbl));
	struct rec *r = NULL;
	const char *pt;
	int rc;

	*yes = false;
	if (!t || t->parent < 0)
		return OP_OK;
	if ((rc = db_rec_load(s->db, t, c->id, &r)))
		return rc == OP_ENOTFOUND ? OP_OK : rc;
	pt = parent_table(r);
	*yes = pt && !strcmp(pt, ptbl);
	rec_free(r);
	return OP_OK;
}

/*
 * Moves the records hanging off record id of table ptbl (and theirs,
 * depth levels down) to owner: each gets a new place in the change log,
 * and devices that lose them are told by an eviction entry.
 */
static int move_children(struct srv *s, const char *ptbl, const char *id,
			 const char *owner, int depth)
{
	struct children c = { NULL, 0 };
	char old[DB_OWNER_MAX + 1];
	bool mine;
	size_t i;
	int rc;

	if (depth == 0)
		return OP_OK;
	if ((rc = db_rec_children(s->db, id, add_child, &c)))
		goto out;
	for (i = 0; i < c.n && !rc; i++) {
		if ((rc = hangs_off(s, &c.v[i], ptbl, &mine)) || !mine)
			continue;
		if ((rc = db_rec_owner(s->db, c.v[i].tbl, c.v[i].id, old)))
			break;
		if (!strcmp(old, owner))
			continue;
		rc = db_rec_rescope(s->db, c.v[i].tbl, c.v[i].id, opt(owner), ++s->seq);
		if (!rc && old[0])
			rc = db_gone_add(s->db, ++s->seq, c.v[i].tbl, c.v[i].id, old);
		if (!rc)
			rc = move_children(s, c.v[i].tbl, c.v[i].id, owner, depth - 1);
	}
out:
	free(c.v);
	return rc;
}

/*
 * Stores r at the next log position with its scope. When its owner
 * changed from `was` (NULL: a new record), the old owner's devices get an
 * eviction entry (after it in the log) and the records hanging off it
 * follow. *out (may be NULL) receives the record's scope.
 */
static int store(struct srv *s, const struct rec *r, const char *was, struct scope *out)
{
	struct scope tmp, *sc = out ? out : &tmp;
	int rc;

	if ((rc = scope_of(s, r, sc)))
		return rc;
	if ((rc = db_rec_save_scoped(s->db, r, ++s->seq, opt(sc->owner), opt(sc->parent))))
		return rc;
	if (was && was[0] && strcmp(was, sc->owner) &&
	    (rc = db_gone_add(s->db, ++s->seq, r->t->name, r->id, was)))
		return rc;
	/* Records created before their parent reached the server take its owner. */
	if ((was && strcmp(was, sc->owner)) || (!was && sc->owner[0]))
		rc = move_children(s, r->t->name, r->id, sc->owner, 3);
	return rc;
}

/* The stored owner of an existing record ("" for none). */
static int stored_owner(struct srv *s, const struct rec *r, char owner[DB_OWNER_MAX + 1])
{
	int rc = db_rec_owner(s->db, r->t->name, r->id, owner);

	return rc == OP_ENOTFOUND ? OP_OK : rc;
}

int srv_write(struct srv *s, struct rec *r)
{
	char was[DB_OWNER_MAX + 1];
	struct rec_dot d;
	int i, rc;

	if ((rc = stored_owner(s, r, was)))
		return rc;
	server_dot(s, &d);
	for (i = 0; i < r->t->nfields; i++) {
		if (!r->f[i].set)
			continue;
		r->f[i].dot = d;
	}
	if ((rc = vv_raise(r->vv, d.rep, d.ctr)))
		return rc;
	return store(s, r, was, NULL);
}


/* ---- push -------------------------------------------------------------- */

/* Refusals are sent back with the record's state; past this many bytes
 * the rest of the push waits for the next one (its ack covers less). */
#define REJECT_BYTES (WIRE_MAX_FRAME / 2)

struct push_ctx {
	struct srv *s;
	const struct srv_actor *who;
	struct srv_push_result *res;
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
		p->res->conflicts++;
	return rc;
}

/* Notes why a change is refused; returns 1 (refused, not a failure). */
static int refuse(struct wire_err *why, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct wire_err *why, int code, const char *fmt, ...)
{
	va_list ap;

	why->code = code;
	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	return 1;
}

/* A new record must be created with all its required fields. */
static int check_create(const struct rec *c, struct wire_err *why)
{
	int i;

	if (c->tomb)
		return refuse(why, WERR_INVALID, "cannot delete %s %s: no such record",
			      c->t->name, c->id);
	for (i = 0; i < c->t->nfields; i++)
		if (c->t->fields[i].required && !c->f[i].set)
			return refuse(why, WERR_INVALID, "new %s lacks required field %s",
				      c->t->name, c->t->fields[i].name);
	return OP_OK;
}

/* A write stamped more than this far ahead of the server is refused. */
#define MAX_CLOCK_AHEAD_MS (366ull * 24 * 3600 * 1000)

/* Refuses a change whose clock is absurdly far ahead: it would win every
 * tie for years and drag every replica's clock along. */
static int check_clock(const struct rec *c, struct wire_err *why)
{
	uint64_t limit = hlc_wall_ms() + MAX_CLOCK_AHEAD_MS;
	size_t i;

	for (i = 0; i < (size_t)c->t->nfields; i++)
		if (c->f[i].set && hlc_ms(c->f[i].dot.hlc) > limit)
			goto out_refuse;
	for (i = 0; i < c->ndels; i++)
		if (hlc_ms(c->dels[i].hlc) > limit)
			goto out_refuse;
	return OP_OK;
out_refuse:
	return refuse(why, WERR_INVALID, "change to %s %s is stamped more than a year in the "
		      "future; set the device's clock", c->t->name, c->id);
}

/*
 * Every write reaches a device through the server, so a change cannot
 * have seen another replica's write that the server does not hold. A
 * vector claiming more would let the change silently win over writes its
 * author never saw.
 */
static int check_vv(const struct rec *c, const struct rec *cur, const char *origin,
		    struct wire_err *why)
{
	const char *rep;
	uint64_t ctr;
	size_t i;

	for (i = 0; i < vv_size(c->vv); i++) {
		vv_at(c->vv, i, &rep, &ctr);
		if (strcmp(rep, origin) && ctr > (cur ? vv_get(cur->vv, rep) : 0))
			return refuse(why, WERR_INVALID, "change to %s %s claims to have seen "
				      "writes the server never had (forged version vector)",
				      c->t->name, c->id);
	}
	return OP_OK;
}

/* Whether the sender may make change c to cur (NULL: a new record) whose
 * stored owner is was; `after` is where the record would belong. */
static int check_rights(struct push_ctx *p, const struct rec *c, const struct rec *cur,
			const char *was, const struct scope *after, struct wire_err *why)
{
	const struct access *a = p->who->acc;

	if (c->t->server_only)
		return refuse(why, WERR_DENIED, "table %s is written by the server only",
			      c->t->name);
	if (cur && !access_may_read(a, opt(was)))
		return refuse(why, WERR_DENIED, "%s %s is not in your scope", c->t->name, c->id);
	if (cur && !access_may_write(a, opt(was)))
		return refuse(why, WERR_DENIED, "you may read but not change %s %s",
			      c->t->name, c->id);
	if (c->tomb && !access_has(a, AR_DELETE))
		return refuse(why, WERR_DENIED, "you have no right to delete (%s %s)",
			      c->t->name, c->id);
	if (!(a->rights & (AR_WRITE_OWN | AR_WRITE_TEAM | AR_WRITE_ALL)))
		return refuse(why, WERR_DENIED, "your role (%s) may not change records (%s %s)",
			      a->role, c->t->name, c->id);
	if (!access_may_write(a, opt(after->owner)) && after->owner[0])
		return refuse(why, WERR_DENIED, "%s %s would belong to %s, whose records you may "
			      "not write", c->t->name, c->id, after->owner);
	if (!access_may_write(a, opt(after->owner)))
		return refuse(why, WERR_DENIED, "%s %s would have no owner; set one you may write for",
			      c->t->name, c->id);
	if (cur && strcmp(was, after->owner) && !access_has(a, AR_TRANSFER))
		return refuse(why, WERR_DENIED, "giving %s %s to another owner needs the "
			      "transfer right", c->t->name, c->id);
	return OP_OK;
}

/* Where c would put the record: its own owner/parent fields where it
 * sets them, the stored ones otherwise. */
static int scope_after(struct srv *s, const struct rec *c, const struct rec *cur,
		       const char *was, struct scope *after)
{
	const struct rec *from = cur;
	bool sets = false;

	if (c->t->owner >= 0)
		sets = c->f[c->t->owner].set;
	if (c->t->parent >= 0)
		sets = sets || c->f[c->t->parent].set ||
		       (c->t->parent_tbl >= 0 && c->f[c->t->parent_tbl].set);
	if (sets || !cur)
		from = c;
	if (from == cur) {
		memset(after, 0, sizeof(*after));
		snprintf(after->owner, sizeof(after->owner), "%s", was);
		return OP_OK;
	}
	return scope_of(s, from, after);
}

/* The audit row of an applied change: what kind, which fields. */
static int audit_change(struct push_ctx *p, const struct rec *c, bool created,
			const char *was, const char *now)
{
	char detail[512] = "", *d = detail;
	const char *action = c->tomb ? "delete" : created ? "create" : "edit";
	int i;

	if (!created && !c->tomb && strcmp(was, now)) {
		action = "transfer";
		d += snprintf(d, 128, "owner %s -> %s; ", was[0] ? was : "(none)",
			      now[0] ? now : "(none)");
	}
	for (i = 0; !c->tomb && i < c->t->nfields; i++)
		if (c->f[i].set && (size_t)(d - detail) + 40 < sizeof(detail))
			d += snprintf(d, 40, "%s%s", d > detail && d[-1] != ' ' ? "," : "",
				      c->t->fields[i].name);
	return gate_audit(p->s->db, p->who->acc->user, p->who->replica, p->who->addr,
			  action, c->t->name, c->id, detail);
}

static void observe(struct srv *s, const struct rec *c)
{
	int i;

	for (i = 0; i < c->t->nfields; i++)
		if (c->f[i].set)
			hlc_observe(&s->clock, c->f[i].dot.hlc);
	for (size_t k = 0; k < c->ndels; k++)
		hlc_observe(&s->clock, c->dels[k].hlc);
}

/*
 * Checks and applies one change. Returns OP_OK (*changed says whether it
 * changed anything), 1 when the change is refused (*why says why), or an
 * error that fails the whole push.
 */
static int apply_one(struct push_ctx *p, const struct rec *c,
		     const struct wire_err *inv, bool *changed, struct wire_err *why)
{
	struct rec *cur = NULL;
	char was[DB_OWNER_MAX + 1] = "";
	struct scope after;
	bool created;
	int rc;

	*changed = false;
	if (inv && inv->code)
		return refuse(why, (int)inv->code, "%s", inv->msg);
	if ((rc = check_clock(c, why)))
		return rc;
	rc = db_rec_load_owned(p->s->db, c->t, c->id, &cur, was);
	if (rc && rc != OP_ENOTFOUND)
		return OP_EIO;
	created = rc == OP_ENOTFOUND;
	rc = created ? check_create(c, why) : OP_OK;
	if (!rc)
		rc = check_vv(c, cur, p->who->replica, why);
	if (!rc)
		rc = scope_after(p->s, c, cur, was, &after);
	if (!rc)
		rc = check_rights(p, c, cur, was, &after, why);
	if (rc)
		goto out;
	if (created && !(cur = rec_new(c->t, c->id))) {
		rc = OP_ENOMEM;
		goto out;
	}
	observe(p->s, c);
	rc = rec_merge(cur, c, on_conflict, p, changed);
	if (!rc && *changed)
		rc = store(p->s, cur, created ? NULL : was, &after);
	if (!rc && *changed)
		rc = audit_change(p, c, created, was, after.owner);
out:
	rec_free(cur);
	return rc;
}

/* Appends the refusal of change c to the ack: the record as the sender
 * may see it now, so the device can put its copy right. */
static int add_refusal(struct push_ctx *p, const struct rec *c, const struct wire_err *why)
{
	char owner[DB_OWNER_MAX + 1] = "";
	struct rec *cur = NULL;
	int rc = db_rec_load_owned(p->s->db, c->t, c->id, &cur, owner);

	if (rc && rc != OP_ENOTFOUND)
		return OP_EIO;
	if (cur && !access_may_read(p->who->acc, opt(owner))) {
		rec_free(cur);
		cur = NULL;
	}
	rc = wire_enc_reject(&p->res->rejects, vv_get(c->vv, p->who->replica), why->code,
			     why->msg, cur);
	if (!rc)
		rc = gate_audit(p->s->db, p->who->acc->user, p->who->replica, p->who->addr,
				"refused", c->t->name, c->id, why->msg);
	p->res->nrejected++;
	rec_free(cur);
	return rc;
}

void srv_push_release(struct srv_push_result *res)
{
	buf_release(&res->rejects);
}

int srv_push(struct srv *s, const struct srv_actor *who, struct rec *const *changes,
	     const struct wire_err *invalid, size_t n, struct srv_push_result *res,
	     struct wire_err *e)
{
	struct push_ctx p = { s, who, res };
	struct wire_err why;
	uint64_t seq0;
	bool changed;
	size_t i;
	int rc = OP_OK;

	memset(res, 0, sizeof(*res));
	e->code = 0;
	e->msg[0] = '\0';
	if (srv_begin(s))
		return refuse(e, WERR_SERVER, "the database is busy") ? OP_EIO : 0;
	seq0 = s->seq;
	for (i = 0; i < n && res->rejects.len < REJECT_BYTES; i++) {
		rc = apply_one(&p, changes[i], invalid ? &invalid[i] : NULL, &changed, &why);
		if (rc == 1)
			rc = add_refusal(&p, changes[i], &why);
		else if (!rc && changed)
			res->applied++;
		else if (!rc)
			res->dup++;
		if (rc)
			goto out_rollback;
		if (vv_get(changes[i]->vv, who->replica) > res->upto)
			res->upto = vv_get(changes[i]->vv, who->replica);
	}
	if (db_commit(s->db)) {
		rc = OP_EIO;
		goto out_rollback;
	}
	return OP_OK;
out_rollback:
	db_rollback(s->db);
	s->seq = seq0;
	srv_push_release(res);
	memset(res, 0, sizeof(*res));
	log_error("push from %s: cannot store the changes: %s", who->replica, db_errmsg(s->db));
	refuse(e, WERR_SERVER, "the server could not store the changes; try again later");
	return rc == 1 ? OP_EIO : rc;
}

/* ---- pull -------------------------------------------------------------- */

struct pull_ctx {
	struct buf body;
	size_t count;
	struct wire_gone *gone;
	size_t ngone;
	uint64_t last;
	unsigned limit;
	bool more;
};

static int pull_one(void *ctx, const void *blob, size_t n, uint64_t seq,
		    const char *tbl, const char *id)
{
	struct pull_ctx *p = ctx;
	const struct tbl_desc *t;

	if (p->count + p->ngone == p->limit ||
	    (p->count && p->body.len + n > PULL_BYTES)) {
		p->more = true;
		return 1; /* stop */
	}
	p->last = seq;
	if (blob) {
		p->count++;
		return buf_add(&p->body, blob, n);
	}
	if ((t = tbl_find(tbl, strlen(tbl))) && rid_valid(id, strlen(id))) {
		p->gone[p->ngone].t = t;
		memcpy(p->gone[p->ngone].id, id, RID_LEN + 1);
		p->ngone++;
	}
	return OP_OK;
}

int srv_pull(struct srv *s, const struct access *acc, uint64_t cursor,
	     unsigned limit, struct buf *out)
{
	struct pull_ctx p = { BUF_INIT, 0, NULL, 0, cursor, limit, false };
	int rc;

	if (limit == 0 || limit > WIRE_MAX_BATCH)
		p.limit = limit = WIRE_MAX_BATCH;
	if (!(p.gone = calloc(limit, sizeof(*p.gone))))
		return OP_ENOMEM;
	rc = db_rec_since_scoped(s->db, cursor, access_reads_all(acc) ? NULL :
				 (const char *)acc->read_json.p, limit + 1, pull_one, &p);
	if (rc == 1)
		rc = OP_OK;
	if (!rc)
		rc = wire_enc_batch_head(out, p.last, p.more, p.gone, p.ngone, p.count);
	if (!rc)
		rc = buf_add(out, p.body.p, p.body.len);
	buf_release(&p.body);
	free(p.gone);
	return rc;
}
