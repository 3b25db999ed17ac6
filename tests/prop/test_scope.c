/*
 * test_scope.c - property test of partial replication and per-change
 * refusals. For many seeds, 5 to 7 real client replicas, each logged in
 * as one of six users (admin; sue, a supervisor; ann and bob, managers on
 * sue's team; carl, a manager with no team; eve, an executive), make
 * random creates, edits, deletes and transfers of customers and contacts
 * while offline, and sync with one server in random order, some syncs cut
 * off midway, exactly as test_converge.c does (the client's sync state
 * machine and the server's session exchange real messages in process).
 * Afterwards:
 *   - every replica holds exactly the server's records its user may read,
 *     state for state, and nothing else; no outbox is left;
 *   - every write is in the data, a conflict loser, overwritten or
 *     deleted by someone who had seen it, or refused and kept in its
 *     replica's rejected list with a reason;
 *   - the writes the rules refuse whatever the timing (eve's, a manager
 *     giving a customer away, sue writing for carl) were refused and left
 *     no trace on the server; the writes the rules allow to records whose
 *     owner never changed were not refused;
 *   - the owner the server stores beside each record (which decides who
 *     may read it) is the customer's owner field, for contacts and
 *     conflict records their customer's or record's.
 * A write to a record transferred while the write was offline may be
 * refused or not, depending on the order things reached the server; the
 * test accepts either there.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "authfix.h"
#include "harness.h"
#include "prop.h"
#include "log.h"
#include "oc.h"
#include "sess.h"
#include "srv.h"
#include "sync.h"
#include "wire.h"

#define MAX_REPLICAS 7
#define MAX_WRITES 4096
#define MAX_RECS 512

enum who { U_ADMIN, U_SUE, U_ANN, U_BOB, U_CARL, U_EVE, U_COUNT };

static const struct {
	const char *name, *role, *sup;
} users[U_COUNT] = {
	{ "admin", "admin", NULL }, { "sue", "supervisor", NULL },
	{ "ann", "manager", "sue" }, { "bob", "manager", "sue" },
	{ "carl", "manager", NULL }, { "eve", "executive", NULL },
};

/* Owners a customer is given (by a create or a transfer). */
static const char *const owners[] = { "ann", "bob", "carl", "sue" };

enum wkind { W_CREATE, W_EDIT, W_DELETE, W_TRANSFER };

struct write {
	int rep;                /* replica index */
	int user;
	enum wkind kind;
	int k;                  /* the record, in world.recs */
	char dot_rep[RID_LEN + 1];
	uint64_t ctr;
	int field;              /* -1: a delete */
	bool must_refuse;       /* the rules refuse it whatever the timing */
	char to[DB_OWNER_MAX + 1]; /* a transfer's new owner ("": none) */
	struct vv *ctx;         /* what the writer had seen, own write included */
};

/* Every record ever created on some replica. */
struct known {
	char id[RID_LEN + 1];
	const struct tbl_desc *t;
	int parent;                   /* a contact's customer, else -1 */
	int create_w;                 /* its creation's first write */
	char owner[DB_OWNER_MAX + 1]; /* a customer's owner at creation */
};

/* One change a replica holds in its rejected list. */
struct rejected {
	uint64_t ctr, code;
	char tbl[DB_TBL_MAX + 1];
	char id[RID_LEN + 1];
	bool has_reason, matched;
};

struct totals {
	unsigned long writes, refused, must_refuse, must_apply, by_chance, eve,
		      transfers, drops, conflicts, cut_syncs, syncs;
};

struct world {
	unsigned long long rng;
	char dir[256];
	struct srv *srv;
	struct oc *oc[MAX_REPLICAS];
	int user[MAX_REPLICAS];
	int n;
	struct write w[MAX_WRITES];
	int nw;
	struct known recs[MAX_RECS];
	int nrec;
	struct rejected *rej[MAX_REPLICAS];
	size_t nrej[MAX_REPLICAS];
	struct totals *tot;
};

static unsigned rnd(struct world *w, unsigned n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (unsigned)(w->rng % n);
}

static const struct tbl_desc *customer_t(void)
{
	return tbl_find("customer", 8);
}

static const struct tbl_desc *contact_t(void)
{
	return tbl_find("contact", 7);
}

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

/* The text of field name of r ("" when unset or not text). */
static void field_str(const struct rec *r, const char *name, char *out, size_t cap)
{
	const struct rec_field *f = &r->f[tbl_field(r->t, name, strlen(name))];

	snprintf(out, cap, "%.*s", f->set && f->v.t == VAL_TEXT ? (int)f->v.n : 0,
		 f->set && f->v.t == VAL_TEXT ? f->v.s : "");
}

/* ---- the rules, written out from the design (not from access.c) -------- */

static bool is_manager(int u)
{
	return u == U_ANN || u == U_BOB || u == U_CARL;
}

/* Read scope of the default roles: admin and executive read everything;
 * a supervisor her own and her team's (ann, bob); a manager his own.
 * Records without an owner are read by admin and eve alone. */
static bool rule_may_read(int u, const char *owner)
{
	if (u == U_ADMIN || u == U_EVE)
		return true;
	if (!owner[0])
		return false;
	if (u == U_SUE)
		return !strcmp(owner, "sue") || !strcmp(owner, "ann") || !strcmp(owner, "bob");
	return !strcmp(owner, users[u].name);
}

/* Write scope: the read scope, except that an executive writes nothing. */
static bool rule_may_write(int u, const char *owner)
{
	return u != U_EVE && rule_may_read(u, owner);
}

static bool rule_may_transfer(int u)
{
	return u == U_ADMIN || u == U_SUE;
}

/* ---- the world --------------------------------------------------------- */

/* Temporary directory on tmpfs when there is one: fsyncs are free there. */
/* Who uses each replica: at least one device each of ann, bob, carl and
 * sue, the rest drawn with admin and eve likelier (two devices of one
 * user happen too), in random order. */
static void pick_users(struct world *w)
{
	static const int extra[] = { U_ADMIN, U_ADMIN, U_EVE, U_EVE, U_ANN, U_BOB, U_CARL, U_SUE };
	int i, j, t;

	w->user[0] = U_ANN;
	w->user[1] = U_BOB;
	w->user[2] = U_CARL;
	w->user[3] = U_SUE;
	for (i = 4; i < w->n; i++)
		w->user[i] = extra[rnd(w, sizeof(extra) / sizeof(extra[0]))];
	for (i = w->n - 1; i > 0; i--) {
		j = (int)rnd(w, (unsigned)i + 1);
		t = w->user[i];
		w->user[i] = w->user[j];
		w->user[j] = t;
	}
}

static void world_open(struct world *w, unsigned seed, struct totals *tot)
{
	char path[320], err[OP_ERRLEN];
	int i;

	memset(w, 0, sizeof(*w));
	w->tot = tot;
	w->rng = 0x9e3779b97f4a7c15ull ^ ((unsigned long long)seed * 0x100000001b3ull);
	rnd(w, 2);
	prop_dir(w->dir);
	snprintf(path, sizeof(path), "%s/server.db", w->dir);
	cr_assert_eq(srv_open(path, &w->srv, err), 0, "%s", err);
	for (i = 0; i < U_COUNT; i++) /* sue comes before her team */
		af_user(srv_db(w->srv), users[i].name, users[i].role, users[i].sup);
	w->n = 5 + (int)rnd(w, 3);
	pick_users(w);
	for (i = 0; i < w->n; i++) {
		snprintf(path, sizeof(path), "%s/r%d", w->dir, i);
		cr_assert_eq(oc_open(path, true, &w->oc[i], err), 0, "%s", err);
		af_login(srv_db(w->srv), w->oc[i], users[w->user[i]].name);
	}
}

static void world_close(struct world *w)
{
	int i;

	for (i = 0; i < w->n; i++) {
		oc_close(w->oc[i]);
		free(w->rej[i]);
	}
	for (i = 0; i < w->nw; i++)
		vv_free(w->w[i].ctx);
	srv_close(w->srv);
	prop_rmdir(w->dir);
}

/* ---- local writes ------------------------------------------------------ */

static void add_write(struct world *w, int r, int k, enum wkind kind, int field,
		      uint64_t ctr, const struct vv *ctx, bool must_refuse)
{
	struct write *x = &w->w[w->nw++];

	cr_assert(w->nw < MAX_WRITES);
	x->rep = r;
	x->user = w->user[r];
	x->kind = kind;
	x->k = k;
	memcpy(x->dot_rep, oc_replica(w->oc[r]), RID_LEN + 1);
	x->ctr = ctr;
	x->field = field;
	x->must_refuse = must_refuse;
	x->ctx = vv_dup(ctx);
	cr_assert(x->ctx);
}

/* Notes the writes of the change just made on replica r to record k. */
static void track(struct world *w, int r, int k, enum wkind kind, const int *fields,
		  int nf, bool must_refuse)
{
	struct rec *rec;
	uint64_t ctr;
	int i;

	must_refuse = must_refuse || w->user[r] == U_EVE;
	cr_assert_eq(db_meta_get_u64(oc_db(w->oc[r]), "ctr", &ctr), 0);
	cr_assert_eq(db_rec_load(oc_db(w->oc[r]), w->recs[k].t, w->recs[k].id, &rec), 0);
	for (i = 0; i < (nf ? nf : 1); i++)
		add_write(w, r, k, kind, nf ? fields[i] : -1, ctr, rec->vv, must_refuse);
	rec_free(rec);
}

static int new_known(struct world *w, const struct tbl_desc *t, const char *id,
		     int parent, const char *owner)
{
	struct known *kn = &w->recs[w->nrec];

	memcpy(kn->id, id, RID_LEN + 1);
	kn->t = t;
	kn->parent = parent;
	kn->create_w = w->nw;
	snprintf(kn->owner, sizeof(kn->owner), "%s", owner);
	return w->nrec++;
}

static int find_known(struct world *w, const char *id)
{
	int k;

	for (k = 0; k < w->nrec; k++)
		if (!strcmp(w->recs[k].id, id))
			return k;
	cr_assert_fail("record %s was never created", id);
	return -1;
}

/* A random live record of t on replica r (its index), or -1. */
static int pick_live(struct world *w, int r, const struct tbl_desc *t)
{
	int tries, k;
	struct rec *rec;
	bool alive;

	for (tries = 0; tries < 20 && w->nrec; tries++) {
		k = (int)rnd(w, (unsigned)w->nrec);
		if (w->recs[k].t != t ||
		    db_rec_load(oc_db(w->oc[r]), t, w->recs[k].id, &rec))
			continue;
		alive = rec_alive(rec);
		rec_free(rec);
		if (alive)
			return k;
	}
	return -1;
}

static void text(struct world *w, int r, struct val *v)
{
	char s[48];

	snprintf(s, sizeof(s), "r%d-%u", r, rnd(w, 1000000));
	cr_assert_eq(val_set_text(v, s, strlen(s)), 0);
}

/* The owner of a new customer: the manager himself; for the others one
 * of the four account holders (admin now and then none at all). */
static const char *new_owner(struct world *w, int u)
{
	if (is_manager(u))
		return users[u].name;
	if (u == U_ADMIN && rnd(w, 10) == 0)
		return "";
	return owners[rnd(w, 4)];
}

static void op_create_customer(struct world *w, int r)
{
	const struct tbl_desc *t = customer_t();
	struct val v[2] = { VAL_INIT, VAL_INIT };
	char err[OP_ERRLEN], id[RID_LEN + 1];
	const char *owner = new_owner(w, w->user[r]);
	int idx[2], nf = 0, k;

	if (w->nrec >= MAX_RECS)
		return;
	idx[nf] = tbl_field(t, "name", 4);
	text(w, r, &v[nf++]);
	if (owner[0]) {
		idx[nf] = t->owner;
		cr_assert_eq(val_set_text(&v[nf++], owner, strlen(owner)), 0);
	}
	cr_assert_eq(oc_put(w->oc[r], t, NULL, idx, v, nf, id, err), 0, "%s", err);
	k = new_known(w, t, id, -1, owner);
	track(w, r, k, W_CREATE, idx, nf,
	      w->user[r] == U_SUE && !rule_may_write(U_SUE, owner));
	val_release(&v[0]);
	val_release(&v[1]);
}

static void op_create_contact(struct world *w, int r)
{
	const struct tbl_desc *t = contact_t();
	struct val v[2] = { VAL_INIT, VAL_INIT };
	char err[OP_ERRLEN], id[RID_LEN + 1];
	int idx[2], parent, k;

	if (w->nrec >= MAX_RECS || (parent = pick_live(w, r, customer_t())) < 0)
		return;
	idx[0] = tbl_field(t, "customer", 8);
	cr_assert_eq(val_set_text(&v[0], w->recs[parent].id, RID_LEN), 0);
	idx[1] = tbl_field(t, "name", 4);
	text(w, r, &v[1]);
	cr_assert_eq(oc_put(w->oc[r], t, NULL, idx, v, 2, id, err), 0, "%s", err);
	k = new_known(w, t, id, parent, "");
	track(w, r, k, W_CREATE, idx, 2, false);
	val_release(&v[0]);
	val_release(&v[1]);
}

static void op_edit(struct world *w, int r, const struct tbl_desc *t)
{
	static const char *const fields[] = { "name", "phone", "note", "email", "title" };
	struct val v[2] = { VAL_INIT, VAL_INIT };
	char err[OP_ERRLEN], mail[64];
	int idx[2], nf = 1 + (int)rnd(w, 2), i, k = pick_live(w, r, t);
	const char *f;

	if (k < 0)
		return;
	for (i = 0; i < nf; i++) {
		do /* "title" is a contact's only */
			f = fields[rnd(w, 5)];
		while ((idx[i] = tbl_field(t, f, strlen(f))) < 0);
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
	cr_assert_eq(oc_put(w->oc[r], t, w->recs[k].id, idx, v, nf, NULL, err), 0, "%s", err);
	track(w, r, k, W_EDIT, idx, nf, false);
	val_release(&v[0]);
	val_release(&v[1]);
}

struct ids {
	char id[MAX_RECS][RID_LEN + 1];
	int n;
};

static int collect(void *ctx, const struct rec *r)
{
	struct ids *l = ctx;

	cr_assert(l->n < MAX_RECS);
	memcpy(l->id[l->n++], r->id, RID_LEN + 1);
	return 0;
}

/* Notes the delete of contact id that oc_delete() made on replica r as
 * part of deleting its customer: its dot is the newest delete of r. */
static void track_cascaded(struct world *w, int r, const char *id)
{
	struct rec *rec;
	uint64_t ctr = 0;
	size_t i;

	cr_assert_eq(db_rec_load(oc_db(w->oc[r]), contact_t(), id, &rec), 0);
	cr_assert(!rec_alive(rec));
	for (i = 0; i < rec->ndels; i++)
		if (!strcmp(rec->dels[i].rep, oc_replica(w->oc[r])) && rec->dels[i].ctr > ctr)
			ctr = rec->dels[i].ctr;
	cr_assert_gt(ctr, 0);
	add_write(w, r, find_known(w, id), W_DELETE, -1, ctr, rec->vv, w->user[r] == U_EVE);
	rec_free(rec);
}

static void op_delete(struct world *w, int r, const struct tbl_desc *t)
{
	char err[OP_ERRLEN];
	struct ids *deps;
	int i, k = pick_live(w, r, t);

	if (k < 0)
		return;
	cr_assert(deps = calloc(1, sizeof(*deps)));
	if (t == customer_t())
		cr_assert_eq(db_rec_list(oc_db(w->oc[r]), contact_t(),
					 tbl_field(contact_t(), "customer", 8), w->recs[k].id,
					 collect, deps), 0);
	cr_assert_eq(oc_delete(w->oc[r], t, w->recs[k].id, NULL, err), 0, "%s", err);
	for (i = 0; i < deps->n; i++)
		track_cascaded(w, r, deps->id[i]);
	track(w, r, k, W_DELETE, NULL, 0, false);
	free(deps);
}

/* The owner of live customer k on replica r as the replica has it. */
static void local_owner(struct world *w, int r, int k, char owner[DB_OWNER_MAX + 1])
{
	struct rec *rec;

	cr_assert_eq(db_rec_load(oc_db(w->oc[r]), customer_t(), w->recs[k].id, &rec), 0);
	field_str(rec, "owner", owner, DB_OWNER_MAX + 1);
	rec_free(rec);
}

/* Gives a customer to another owner: sue's and admin's daily work; a
 * manager trying it, or sue giving one to carl, must be refused. */
static void op_transfer(struct world *w, int r)
{
	const struct tbl_desc *t = customer_t();
	struct val v = VAL_INIT;
	char err[OP_ERRLEN], was[DB_OWNER_MAX + 1];
	const char *to;
	int u = w->user[r], k = pick_live(w, r, t), idx = t->owner;

	if (k < 0)
		return;
	local_owner(w, r, k, was);
	do {
		to = u == U_ADMIN && was[0] && rnd(w, 8) == 0 ? "" : owners[rnd(w, 4)];
	} while (!strcmp(to, was) || (is_manager(u) && !strcmp(to, users[u].name)));
	if (to[0])
		cr_assert_eq(val_set_text(&v, to, strlen(to)), 0);
	cr_assert_eq(oc_put(w->oc[r], t, w->recs[k].id, &idx, &v, 1, NULL, err), 0, "%s", err);
	track(w, r, k, W_TRANSFER, &idx, 1,
	      !rule_may_transfer(u) || !rule_may_write(u, to));
	snprintf(w->w[w->nw - 1].to, sizeof(w->w[0].to), "%s", to);
	val_release(&v);
}

static void random_op(struct world *w, int r)
{
	const struct tbl_desc *t = rnd(w, 3) ? customer_t() : contact_t();
	int u = w->user[r];
	unsigned k = rnd(w, 20);

	if (k < 4)
		op_create_customer(w, r);
	else if (k < 7)
		op_create_contact(w, r);
	else if (k < 14)
		op_edit(w, r, t);
	else if (k < 16)
		op_delete(w, r, rnd(w, 4) ? contact_t() : customer_t());
	else if (k < 19 && (u == U_SUE || u == U_ADMIN || u == U_EVE))
		op_transfer(w, r);
	else if (k == 19 && (u == U_EVE || (is_manager(u) && rnd(w, 2) == 0)))
		op_transfer(w, r);
	else
		op_edit(w, r, t);
}

/* ---- sync -------------------------------------------------------------- */

/*
 * Syncs replica r with the server in process. With cut > 0 the
 * connection drops after that many server replies. *st receives the
 * client's counts.
 */
static void do_sync(struct world *w, int r, int cut, struct sync_stats *st)
{
	char who[64];

	snprintf(who, sizeof(who), "%d (%s)", r, users[w->user[r]].name);
	prop_sync(w->srv, w->oc[r], cut, st, who);
	w->tot->drops += st->gone;
	w->tot->syncs++;
}

/* Everyone syncs, in a random order each round, until a whole round
 * moves nothing (at least two rounds: pushes, then the others' pulls). */
static void final_syncs(struct world *w)
{
	struct sync_stats st;
	int round, i, j, t, order[MAX_REPLICAS];
	bool moved = true;

	for (round = 0; round < 6 && (moved || round < 2); round++) {
		moved = false;
		for (i = 0; i < w->n; i++)
			order[i] = i;
		for (i = w->n - 1; i > 0; i--) {
			j = (int)rnd(w, (unsigned)i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < w->n; i++) {
			do_sync(w, order[i], 0, &st);
			moved = moved || st.pushed || st.pulled || st.gone;
		}
	}
	cr_assert(!moved, "the replicas still exchange changes after %d rounds", round);
}

/* ---- checks: scoped convergence ---------------------------------------- */

struct scope_ctx {
	struct world *w;
	int r;
	struct access acc;
	uint64_t live[8];      /* live records in scope, by table */
};

static int tbl_index(const struct tbl_desc *t)
{
	int i;

	for (i = 0; tbl_at(i); i++)
		if (tbl_at(i) == t)
			return i;
	cr_assert_fail("unknown table");
	return -1;
}

static int check_one(void *ctx, const void *blob, size_t n, uint64_t seq)
{
	struct scope_ctx *c = ctx;
	struct db *cdb = oc_db(c->w->oc[c->r]);
	int u = c->w->user[c->r];
	char owner[DB_OWNER_MAX + 1];
	struct rec *srec, *crec;
	struct wire_err e;
	struct buf b = BUF_INIT;
	bool may;

	(void)seq;
	cr_assert_eq(wire_decode_state(blob, n, true, &srec, &e), 0, "%s", e.msg);
	cr_assert_eq(db_rec_owner(srv_db(c->w->srv), srec->t->name, srec->id, owner), 0);
	may = access_may_read(&c->acc, opt(owner));
	cr_assert_eq(may, rule_may_read(u, owner), "access_may_read(%s, \"%s\") is %d",
		     users[u].name, owner, may);
	if (!may) {
		cr_assert_eq(db_rec_load(cdb, srec->t, srec->id, &crec), OP_ENOTFOUND,
			     "replica %d (%s) holds %s %s of \"%s\"", c->r, users[u].name,
			     srec->t->name, srec->id, owner);
		rec_free(srec);
		return 0;
	}
	cr_assert_eq(db_rec_load(cdb, srec->t, srec->id, &crec), 0,
		     "replica %d (%s) lacks %s %s of \"%s\"", c->r, users[u].name,
		     srec->t->name, srec->id, owner);
	cr_assert_eq(wire_enc_state(&b, crec), 0);
	cr_assert(b.len == n && !memcmp(b.p, blob, n),
		  "replica %d (%s) differs from the server on %s %s", c->r, users[u].name,
		  srec->t->name, srec->id);
	c->live[tbl_index(srec->t)] += rec_alive(srec);
	buf_release(&b);
	rec_free(srec);
	rec_free(crec);
	return 0;
}

/*
 * The owner the server stores beside a record is the one the design
 * gives it: a customer's owner field; for a contact its customer's, for
 * a conflict record its record's (so the scope checks below do not
 * merely trust the column they read).
 */
static int check_owner(void *ctx, const void *blob, size_t n, uint64_t seq)
{
	struct db *db = ctx;
	char owner[DB_OWNER_MAX + 1], want[DB_OWNER_MAX + 1] = "", tbl[64], id[RID_LEN + 1];
	struct rec *r;
	struct wire_err e;
	int rc = OP_OK;

	(void)seq;
	cr_assert_eq(wire_decode_state(blob, n, true, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(db_rec_owner(db, r->t->name, r->id, owner), 0);
	if (r->t == customer_t()) {
		field_str(r, "owner", want, sizeof(want));
	} else if (r->t == contact_t()) {
		field_str(r, "customer", id, sizeof(id));
		rc = db_rec_owner(db, "customer", id, want);
	} else {
		field_str(r, "tbl", tbl, sizeof(tbl));
		field_str(r, "rec", id, sizeof(id));
		rc = db_rec_owner(db, tbl, id, want);
	}
	cr_assert(rc == OP_OK || rc == OP_ENOTFOUND);
	cr_assert_str_eq(owner, want, "the server stores %s %s as owned by \"%s\", not \"%s\"",
			 r->t->name, r->id, owner, want);
	rec_free(r);
	return 0;
}

static void check_scoped(struct world *w)
{
	struct rec *rec;
	uint64_t n;
	int r, i, k;

	cr_assert_eq(db_rec_since(srv_db(w->srv), 0, 1u << 30, check_owner, srv_db(w->srv)), 0);
	for (r = 0; r < w->n; r++) {
		struct scope_ctx c;
		struct db *cdb = oc_db(w->oc[r]);

		memset(&c, 0, sizeof(c));
		c.w = w;
		c.r = r;
		cr_assert_eq(access_load(srv_db(w->srv), users[w->user[r]].name, &c.acc), 0);
		cr_assert_eq(db_rec_since(srv_db(w->srv), 0, 1u << 30, check_one, &c), 0);
		for (i = 0; tbl_at(i); i++) {
			cr_assert_eq(db_rec_count(cdb, tbl_at(i), &n), 0);
			cr_assert_eq(n, c.live[i], "replica %d (%s) has %llu %ss, its scope %llu", r,
				     users[w->user[r]].name, (unsigned long long)n, tbl_at(i)->name,
				     (unsigned long long)c.live[i]);
		}
		/* No record the server lacks, live or deleted. */
		for (k = 0; k < w->nrec; k++) {
			if (db_rec_load(cdb, w->recs[k].t, w->recs[k].id, &rec))
				continue;
			rec_free(rec);
			cr_assert_eq(db_rec_load(srv_db(w->srv), w->recs[k].t, w->recs[k].id, &rec), 0,
				     "replica %d (%s) holds %s %s, which the server lacks", r,
				     users[w->user[r]].name, w->recs[k].t->name, w->recs[k].id);
			rec_free(rec);
		}
		cr_assert_eq(db_outbox_count(cdb, &n), 0);
		cr_assert_eq(n, 0, "replica %d still has %llu changes pending", r,
			     (unsigned long long)n);
		access_release(&c.acc);
	}
}

/* ---- checks: every write accounted for --------------------------------- */

struct rej_ctx {
	struct world *w;
	int r;
};

static int add_rejected(void *ctx, const struct db_rejected *j)
{
	struct world *w = ((struct rej_ctx *)ctx)->w;
	int r = ((struct rej_ctx *)ctx)->r;
	struct rejected *x;

	cr_assert(x = realloc(w->rej[r], (w->nrej[r] + 1) * sizeof(*x)));
	w->rej[r] = x;
	x = &x[w->nrej[r]++];
	memset(x, 0, sizeof(*x));
	x->ctr = j->ctr;
	x->code = j->code;
	snprintf(x->tbl, sizeof(x->tbl), "%s", j->tbl);
	snprintf(x->id, sizeof(x->id), "%s", j->id);
	x->has_reason = j->reason && j->reason[0];
	return 0;
}

static void load_rejected(struct world *w)
{
	int r;

	for (r = 0; r < w->n; r++) {
		struct rej_ctx c = { w, r };

		cr_assert_eq(db_rejected_each(oc_db(w->oc[r]), add_rejected, &c), 0);
		w->tot->refused += w->nrej[r];
	}
}

/* The rejected-list entry of write x, or NULL. */
static struct rejected *refusal_of(struct world *w, const struct write *x)
{
	size_t i;

	for (i = 0; i < w->nrej[x->rep]; i++) {
		struct rejected *j = &w->rej[x->rep][i];

		if (j->ctr != x->ctr)
			continue;
		cr_assert(!strcmp(j->tbl, w->recs[x->k].t->name) && !strcmp(j->id, w->recs[x->k].id),
			  "replica %d's refused change %llu is about %s %s, not %s %s", x->rep,
			  (unsigned long long)x->ctr, j->tbl, j->id, w->recs[x->k].t->name,
			  w->recs[x->k].id);
		return j;
	}
	return NULL;
}

static bool in_conflicts(struct world *w, const struct write *x)
{
	bool found = false;

	cr_assert_eq(db_conflict_exists(srv_db(w->srv), w->recs[x->k].id,
					x->field < 0 ? "" : w->recs[x->k].t->fields[x->field].name,
					x->dot_rep, x->ctr, &found), 0);
	return found;
}

/* True when some write on the same field that had seen x is in the data
 * or kept as a conflict loser. */
static bool superseded(struct world *w, const struct write *x, const struct rec *r)
{
	const struct rec_field *f = &r->f[x->field];
	int i;

	for (i = 0; i < w->nw; i++) {
		const struct write *y = &w->w[i];

		if (y == x || y->field != x->field || y->k != x->k)
			continue;
		if (!vv_contains(y->ctx, x->dot_rep, x->ctr))
			continue;
		if ((!strcmp(f->dot.rep, y->dot_rep) && f->dot.ctr == y->ctr) ||
		    in_conflicts(w, y))
			return true;
	}
	return false;
}

static void dump(struct world *w, const struct rec *r, int k)
{
	struct buf b = BUF_INIT;
	int i;

	rec_json(r, &b, true);
	fprintf(stderr, "record %s alive=%d deletes=%zu\n", b.p, rec_alive(r), r->ndels);
	for (i = 0; i < w->nw; i++)
		if (w->w[i].k == k || (w->recs[w->w[i].k].parent == k))
			fprintf(stderr, "  write %d: %s %s:%llu kind %d %s field %d%s%s\n", i,
				users[w->w[i].user].name, w->w[i].dot_rep,
				(unsigned long long)w->w[i].ctr, w->w[i].kind, w->recs[w->w[i].k].id,
				w->w[i].field, w->w[i].must_refuse ? " must-refuse" : "",
				refusal_of(w, &w->w[i]) ? " refused" : "");
	for (i = 0; i < r->t->nfields; i++)
		if (r->f[i].set)
			fprintf(stderr, "  field %d dot %s:%llu\n", i, r->f[i].dot.rep,
				(unsigned long long)r->f[i].dot.ctr);
	buf_release(&b);
}

/* Write x is on the server: in the data, a conflict loser, overwritten by
 * someone who had seen it, or under a delete that had seen it. */
static bool kept(struct world *w, const struct write *x, const struct rec *r)
{
	const struct rec_field *f;

	if (x->field < 0)
		return !rec_alive(r) || in_conflicts(w, x);
	f = &r->f[x->field];
	return (f->set && !strcmp(f->dot.rep, x->dot_rep) && f->dot.ctr == x->ctr) ||
	       in_conflicts(w, x) || superseded(w, x, r) ||
	       (!rec_alive(r) && vv_contains(r->tomb, x->dot_rep, x->ctr));
}

/* Write x left no trace on the server. */
static bool absent(struct world *w, const struct write *x)
{
	struct rec *r;
	bool none = true;
	size_t i;
	int rc = db_rec_load(srv_db(w->srv), w->recs[x->k].t, w->recs[x->k].id, &r);

	if (rc == OP_ENOTFOUND)
		return true;
	cr_assert_eq(rc, 0);
	if (x->field >= 0)
		none = !(r->f[x->field].set && !strcmp(r->f[x->field].dot.rep, x->dot_rep) &&
			 r->f[x->field].dot.ctr == x->ctr);
	for (i = 0; x->field < 0 && i < r->ndels; i++)
		none = none && !(!strcmp(r->dels[i].rep, x->dot_rep) && r->dels[i].ctr == x->ctr);
	none = none && !in_conflicts(w, x) && x->kind != W_CREATE;
	rec_free(r);
	return none;
}

/* Per record: whether its creation reached the server, and how many
 * transfers of it (of its customer, for a contact) were not refused. */
struct fate {
	bool born;
	int moves;
};

static void record_fates(struct world *w, struct fate *fate)
{
	int i, k;

	for (k = 0; k < w->nrec; k++)
		fate[k].born = !refusal_of(w, &w->w[w->recs[k].create_w]);
	for (i = 0; i < w->nw; i++)
		if (w->w[i].kind == W_TRANSFER && !refusal_of(w, &w->w[i]))
			fate[w->w[i].k].moves++;
}

/*
 * Whether the rules allow x whatever the timing: its record (and a
 * contact's customer) reached the server and no other write changed the
 * owner, which x's user may write (and, for a transfer, give away to a
 * new owner x's user may write too).
 */
static bool must_apply(struct world *w, const struct write *x, const struct fate *fate)
{
	const struct known *kn = &w->recs[x->k];
	int cust = kn->parent >= 0 ? kn->parent : x->k;
	int moves = fate[cust].moves;

	/* x's own record need not be born when x is its creation. */
	if (x->must_refuse || (x->kind != W_CREATE && !fate[x->k].born) ||
	    (cust != x->k && !fate[cust].born))
		return false;
	if (x->kind == W_TRANSFER && !refusal_of(w, x))
		moves--; /* x itself */
	if (moves || !rule_may_write(x->user, w->recs[cust].owner))
		return false;
	return x->kind != W_TRANSFER ||
	       (rule_may_transfer(x->user) && rule_may_write(x->user, x->to));
}

/* Checks the fate of write x_i (fate: of the records, as above). */
static void check_write(struct world *w, int x_i, const struct fate *fate)
{
	const struct write *x = &w->w[x_i];
	const struct known *kn = &w->recs[x->k];
	struct rejected *j = refusal_of(w, x);
	bool must = must_apply(w, x, fate);
	struct rec *r;

	w->tot->must_refuse += x->must_refuse;
	w->tot->must_apply += must;
	w->tot->by_chance += j && !x->must_refuse;
	w->tot->eve += x->user == U_EVE;
	w->tot->transfers += x->kind == W_TRANSFER && !j;
	if (j) {
		j->matched = true;
		cr_assert(j->code == WERR_DENIED || j->code == WERR_INVALID,
			  "write %d refused with code %llu", x_i, (unsigned long long)j->code);
		cr_assert(j->has_reason, "write %d refused without a reason", x_i);
	}
	if (x->must_refuse) {
		cr_assert(j, "write %d (%s on replica %d, %s %s field %d, kind %d) should "
			  "have been refused", x_i, users[x->user].name, x->rep, kn->t->name,
			  kn->id, x->field, x->kind);
		cr_assert(absent(w, x), "write %d (%s, %s %s field %d) was refused but is "
			  "on the server", x_i, users[x->user].name, kn->t->name, kn->id, x->field);
		return;
	}
	if (j) {
		/* Refused, perhaps after a cut sync had applied it: fine
		 * unless the rules allow it whatever the timing. */
		if (must && !db_rec_load(srv_db(w->srv), kn->t, kn->id, &r)) {
			dump(w, r, x->k);
			rec_free(r);
		}
		cr_assert(!must, "write %d (%s on replica %d, %s %s field %d, kind %d) "
			  "was refused, though the rules allow it", x_i, users[x->user].name,
			  x->rep, kn->t->name, kn->id, x->field, x->kind);
		return;
	}
	cr_assert_eq(db_rec_load(srv_db(w->srv), kn->t, kn->id, &r), 0,
		     "the server lacks %s %s", kn->t->name, kn->id);
	if (!kept(w, x, r))
		dump(w, r, x->k);
	cr_assert(kept(w, x, r), "write %d (%s on replica %d %s, counter %llu, %s %s "
		  "field %d) is lost", x_i, users[x->user].name, x->rep, x->dot_rep,
		  (unsigned long long)x->ctr, kn->t->name, kn->id, x->field);
	rec_free(r);
}

static void check_writes(struct world *w)
{
	struct fate *fate = calloc((size_t)w->nrec + 1, sizeof(*fate));
	size_t i;
	int r, x_i;

	cr_assert(fate);
	load_rejected(w);
	record_fates(w, fate);
	for (x_i = 0; x_i < w->nw; x_i++)
		check_write(w, x_i, fate);
	/* Every refusal is of a write some person made. */
	for (r = 0; r < w->n; r++)
		for (i = 0; i < w->nrej[r]; i++)
			cr_assert(w->rej[r][i].matched, "replica %d refused change %llu, which "
				  "no write made", r, (unsigned long long)w->rej[r][i].ctr);
	free(fate);
}

/* ---- the property ------------------------------------------------------ */

static int count_rec(void *ctx, const struct rec *r)
{
	(void)r;
	(*(unsigned long *)ctx)++;
	return 0;
}

static void run_seed(unsigned seed, struct totals *tot)
{
	struct world *w = calloc(1, sizeof(*w));
	struct sync_stats st;
	int step, r, steps;

	cr_assert(w);
	log_set_level(LOG_WARN);
	world_open(w, seed, tot);
	steps = 100 + (int)rnd(w, 120);
	for (step = 0; step < steps; step++) {
		r = (int)rnd(w, (unsigned)w->n);
		if (rnd(w, 4) == 0) {
			int cut = rnd(w, 5) == 0 ? 1 + (int)rnd(w, 4) : 0;

			tot->cut_syncs += cut > 0;
			do_sync(w, r, cut, &st);
		} else {
			random_op(w, r);
		}
	}
	final_syncs(w);
	check_scoped(w);
	check_writes(w);
	tot->writes += (unsigned long)w->nw;
	db_rec_list(srv_db(w->srv), tbl_find("conflict", 8), -1, NULL, count_rec,
		    &tot->conflicts);
	world_close(w);
	free(w);
}

#define SEEDS_PER_TEST 60

/* Runs a block of seeds; the block must have met transfers, refusals,
 * drops, conflicts and cut syncs, or the property was not exercised. */
static void run_seeds(unsigned first)
{
	struct totals tot;
	unsigned s;

	memset(&tot, 0, sizeof(tot));
	for (s = first; s < first + SEEDS_PER_TEST; s++)
		run_seed(s, &tot);
	cr_log_info("seeds %u-%u: %lu writes (%lu by eve), %lu must be refused, %lu refused "
		    "by the timing, %lu must apply; %lu changes in rejected lists, %lu "
		    "transfers, %lu drops, %lu conflicts, %lu syncs (%lu cut)", first,
		    first + SEEDS_PER_TEST - 1, tot.writes, tot.eve, tot.must_refuse,
		    tot.by_chance, tot.must_apply, tot.refused, tot.transfers, tot.drops,
		    tot.conflicts, tot.syncs, tot.cut_syncs);
	cr_assert_gt(tot.transfers, 50);
	cr_assert_gt(tot.refused, 50);
	cr_assert_gt(tot.must_refuse, 50);
	cr_assert_gt(tot.by_chance, 5);
	cr_assert_gt(tot.must_apply, 500);
	cr_assert_gt(tot.drops, 50);
	cr_assert_gt(tot.conflicts, 10);
	cr_assert_gt(tot.cut_syncs, 10);
}

/* The default roles' scopes as the design states them, checked on the
 * server's own access_may_read/write (the property test compares the
 * two on every record too). */
Test(scope, default_rules)
{
	struct world *w = calloc(1, sizeof(*w));
	struct access a;
	char path[320], err[OP_ERRLEN];
	int u, o;

	cr_assert(w);
	memset(&a, 0, sizeof(a));
	prop_dir(w->dir);
	snprintf(path, sizeof(path), "%s/server.db", w->dir);
	cr_assert_eq(srv_open(path, &w->srv, err), 0, "%s", err);
	for (u = 0; u < U_COUNT; u++)
		af_user(srv_db(w->srv), users[u].name, users[u].role, users[u].sup);
	cr_assert_eq(access_load(srv_db(w->srv), "sue", &a), 0);
	cr_assert(access_may_read(&a, "ann") && access_may_write(&a, "bob"));
	cr_assert(access_may_read(&a, "sue") && !access_may_read(&a, "carl"));
	cr_assert(!access_may_read(&a, NULL) && !access_may_write(&a, "carl"));
	cr_assert(access_has(&a, AR_TRANSFER) && access_has(&a, AR_DELETE));
	cr_assert_eq(access_load(srv_db(w->srv), "carl", &a), 0);
	cr_assert(access_may_read(&a, "carl") && !access_may_read(&a, "ann"));
	cr_assert(!access_has(&a, AR_TRANSFER) && access_has(&a, AR_DELETE));
	cr_assert_eq(access_load(srv_db(w->srv), "eve", &a), 0);
	cr_assert(access_may_read(&a, NULL) && access_may_read(&a, "carl"));
	cr_assert(!access_may_write(&a, "carl") && !access_may_write(&a, NULL));
	cr_assert_eq(access_load(srv_db(w->srv), "admin", &a), 0);
	cr_assert(access_may_write(&a, NULL) && access_has(&a, AR_TRANSFER));
	for (u = 0; u < U_COUNT; u++) {
		cr_assert_eq(access_load(srv_db(w->srv), users[u].name, &a), 0);
		for (o = -1; o < U_COUNT; o++) {
			const char *owner = o < 0 ? "" : users[o].name;

			cr_assert_eq(access_may_read(&a, opt(owner)), rule_may_read(u, owner),
				     "read %s/%s", users[u].name, owner);
			cr_assert_eq(access_may_write(&a, opt(owner)), rule_may_write(u, owner),
				     "write %s/%s", users[u].name, owner);
		}
	}
	access_release(&a);
	w->n = 0;
	world_close(w);
	free(w);
}

Test(scope, seeds_1_to_60, .timeout = 900) { run_seeds(1); }
Test(scope, seeds_61_to_120, .timeout = 900) { run_seeds(61); }
Test(scope, seeds_121_to_180, .timeout = 900) { run_seeds(121); }
Test(scope, seeds_181_to_240, .timeout = 900) { run_seeds(181); }
