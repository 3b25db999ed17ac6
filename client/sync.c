/*
 * sync.c - client sync state machine (see sync.h). Besides the outbox and
 * the cursor it keeps, in the replica's metadata: "scope" (the digest of
 * what the server lets this user see, from welcome) and "rescope" (the
 * mark of a full re-pull in progress after the scope changed: records
 * not received again are dropped at its end; "last_mark" the last mark
 * used).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "log.h"
#include "schema.h"
#include "secret.h"
#include "sync.h"
#include "wire.h"

#define AGENT "outpost/0.1.0"

enum sync_state { SS_WELCOME, SS_ACK, SS_BATCH, SS_TOKEN, SS_BYE, SS_DONE, SS_FAILED };

struct sync {
	struct oc *c;
	enum sync_state st;
	uint64_t batch_n;       /* number of the push in flight */
	uint64_t sent_upto;     /* highest counter sent */
	uint64_t max_batch;
	uint64_t max_frame;
	uint64_t mark;          /* rescope in progress: seq given to pulled records */
	bool logout;            /* after welcome: log out instead of syncing */
	char user[WIRE_NAME_MAX + 1];
	struct sync_stats stats;
	char err[OP_ERRLEN];
};

struct sync *sync_new(struct oc *c)
{
	struct sync *s = calloc(1, sizeof(*s));

	if (s)
		s->c = c;
	return s;
}

void sync_free(struct sync *s)
{
	free(s);
}

const struct sync_stats *sync_stats(const struct sync *s)
{
	return &s->stats;
}

const char *sync_error(const struct sync *s)
{
	return s->err;
}

static int failf(struct sync *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int failf(struct sync *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->st = SS_FAILED;
	return rc;
}

int sync_start(struct sync *s, struct buf *out)
{
	char token[WIRE_TOKEN_HEX + 1];
	int rc;

	db_outbox_count(oc_db(s->c), &s->stats.pending);
	db_meta_get_u64(oc_db(s->c), "cursor", &s->stats.cursor);
	db_meta_get_u64(oc_db(s->c), "rescope", &s->mark);
	if (oc_token(s->c, token))
		return failf(s, OP_EDENIED, "not logged in: run outpost login --user NAME");
	rc = wire_enc_hello(out, oc_replica(s->c), AGENT, token);
	secret_wipe(token, sizeof(token));
	if (rc)
		return failf(s, OP_ENOMEM, "out of memory");
	s->st = SS_WELCOME;
	return SYNC_CONTINUE;
}

int sync_start_logout(struct sync *s, struct buf *out)
{
	s->logout = true;
	return sync_start(s, out);
}

int sync_start_login(struct sync *s, const char *user, const char *password,
		     struct buf *out)
{
	if (wire_enc_login(out, user, password, oc_login_replica(s->c), AGENT))
		return failf(s, OP_ENOMEM, "out of memory");
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->st = SS_TOKEN;
	return SYNC_CONTINUE;
}

static int on_token(struct sync *s, const struct wire_msg *m)
{
	if (strcmp(m->user, s->user))
		return failf(s, OP_EPROTO, "the server issued a token for another user");
	int rc = oc_store_login(s->c, m->token, m->user, m->role, m->expires);

	if (rc == OP_ESTATE)
		return failf(s, rc, "a change was written on this device during the login; "
			     "sync it as its author first");
	if (rc)
		return failf(s, OP_EIO, "cannot store the token: %s", db_errmsg(oc_db(s->c)));
	s->st = SS_DONE;
	return SYNC_DONE;
}

/* The server revoked the token: forget it here too. */
static int on_bye(struct sync *s)
{
	if (oc_forget_token(s->c))
		return failf(s, OP_EIO, "cannot forget the token: %s", db_errmsg(oc_db(s->c)));
	s->st = SS_DONE;
	return SYNC_DONE;
}

/* ---- push -------------------------------------------------------------- */

struct push_ctx {
	struct buf body;
	size_t count;
	uint64_t last;
	size_t max_bytes;
};

static int push_one(void *ctx, const void *change, size_t n, uint64_t ctr)
{
	struct push_ctx *p = ctx;

	if (p->count && p->body.len + n > p->max_bytes)
		return 1; /* the frame is full */
	if (buf_add(&p->body, change, n))
		return OP_ENOMEM;
	p->count++;
	p->last = ctr;
	return OP_OK;
}

static int pull_next(struct sync *s, struct buf *out);

/* Sends the next outbox batch, or starts pulling when nothing is left. */
static int push_next(struct sync *s, struct buf *out)
{
	struct push_ctx p = { BUF_INIT, 0, 0, s->max_frame / 2 };
	int rc = db_outbox_each(oc_db(s->c), s->sent_upto, (unsigned)s->max_batch,
				push_one, &p);

	if (rc < 0) {
		buf_release(&p.body);
		return failf(s, rc, "cannot read the outbox: %s", db_errmsg(oc_db(s->c)));
	}
	if (p.count == 0) {
		buf_release(&p.body);
		return pull_next(s, out);
	}
	rc = wire_enc_push_head(out, ++s->batch_n, p.count);
	if (!rc)
		rc = buf_add(out, p.body.p, p.body.len);
	buf_release(&p.body);
	if (rc)
		return failf(s, OP_ENOMEM, "out of memory");
	s->sent_upto = p.last;
	s->stats.pushed += p.count;
	s->st = SS_ACK;
	return SYNC_CONTINUE;
}

struct restore {
	struct rec *r;
	const char *origin;
};

/* Merges one still-unsent outbox change into the restored record. */
static int reapply(void *ctx, const void *change, size_t n, uint64_t ctr)
{
	struct restore *x = ctx;
	struct wire_err e;
	struct rec *c = NULL;
	bool changed;
	int rc;

	(void)ctr;
	if (wire_decode_change(change, n, x->origin, &c, &e))
		return OP_EPROTO;
	if (!x->r && !(x->r = rec_new(c->t, c->id)))
		rc = OP_ENOMEM;
	else
		rc = rec_merge(x->r, c, NULL, NULL, &changed);
	rec_free(c);
	return rc;
}

/*
 * A refused change leaves the outbox for the rejected list, and the local
 * record becomes the server's (as the user may see it) plus the changes
 * still waiting to be sent.
 */
static int on_refused(struct sync *s, const struct wire_reject *j)
{
	struct db *db = oc_db(s->c);
	struct db_rejected r = { 0 };
	struct buf change = BUF_INIT;
	char tbl[DB_TBL_MAX + 1], id[RID_LEN + 1];
	struct restore x = { NULL, oc_replica(s->c) };
	int rc = db_outbox_get(db, j->ctr, &change, tbl, id);

	if (rc) {
		buf_release(&change);
		return rc == OP_ENOTFOUND ? OP_OK : rc; /* not ours, or handled */
	}
	r.ctr = j->ctr;
	r.tbl = tbl;
	r.id = id;
	r.change = change.p;
	r.n = change.len;
	r.code = j->code;
	r.reason = j->msg;
	r.at = hlc_wall_ms();
	if (j->state && !(x.r = rec_dup(j->state)))
		rc = OP_ENOMEM;
	if (!rc)
		rc = db_rejected_add(db, &r);
	if (!rc)
		rc = db_outbox_drop(db, j->ctr);
	if (!rc)
		rc = db_outbox_of(db, tbl, id, j->ctr, reapply, &x);
	if (!rc)
		rc = x.r ? db_rec_save(db, x.r, s->mark) : db_rec_drop(db, tbl, id);
	if (!rc)
		log_debug("the server refused change %llu to %s %s: %s",
			 (unsigned long long)j->ctr, tbl, id, j->msg);
	rec_free(x.r);
	buf_release(&change);
	return rc;
}

static int apply_ack(struct sync *s, const struct wire_msg *m)
{
	struct db *db = oc_db(s->c);
	size_t i;
	int rc;

	if (db_begin(db))
		return OP_EIO;
	for (i = 0, rc = 0; i < m->nrejected && !rc; i++)
		rc = on_refused(s, &m->rejected[i]);
	if (!rc)
		rc = db_outbox_ack(db, m->upto);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

static int on_ack(struct sync *s, const struct wire_msg *m, struct buf *out)
{
	if (m->n != s->batch_n || m->upto > s->sent_upto)
		return failf(s, OP_EPROTO, "the server acknowledged changes that were not sent");
	if (apply_ack(s, m))
		return failf(s, OP_EIO, "cannot update the outbox: %s", db_errmsg(oc_db(s->c)));
	s->stats.acked += m->applied + m->dup;
	s->stats.dup += m->dup;
	s->stats.conflicts += m->conflicts;
	s->stats.rejected += m->nrejected;
	/* Handling may have stopped short of what was sent: send the rest. */
	s->sent_upto = m->upto;
	return push_next(s, out);
}

/* ---- pull -------------------------------------------------------------- */

static int pull_next(struct sync *s, struct buf *out)
{
	if (wire_enc_pull(out, s->stats.cursor, s->max_batch))
		return failf(s, OP_ENOMEM, "out of memory");
	s->st = SS_BATCH;
	return SYNC_CONTINUE;
}

static void observe_rec(struct oc *c, const struct rec *r)
{
	int i;

	for (i = 0; i < r->t->nfields; i++)
		if (r->f[i].set)
			oc_observe(c, r->f[i].dot.hlc);
	for (i = 0; i < (int)r->ndels; i++)
		oc_observe(c, r->dels[i].hlc);
}

/* Merges a pulled record; during a rescope every record received is
 * stored with the mark, changed or not, so the sweep keeps it. */
static int merge_one(struct oc *c, const struct rec *remote, uint64_t mark)
{
	struct db *db = oc_db(c);
	struct rec *local = NULL;
	bool changed = true;
	int rc = db_rec_load(db, remote->t, remote->id, &local);

	if (rc == OP_ENOTFOUND) {
		rc = db_rec_save(db, remote, mark);
	} else if (!rc) {
		rc = rec_merge(local, remote, NULL, NULL, &changed);
		if (!rc && (changed || mark))
			rc = db_rec_save(db, local, mark);
	}
	observe_rec(c, remote);
	rec_free(local);
	return rc;
}

/* The re-pull after a scope change is complete: drop what it did not
 * bring (records outside the new scope), unless changes to them wait. */
static int end_rescope(struct sync *s)
{
	uint64_t dropped = 0;
	int rc = db_rec_sweep(oc_db(s->c), s->mark, &dropped);

	if (!rc)
		rc = db_meta_del(oc_db(s->c), "rescope");
	if (!rc && dropped)
		log_info("dropped %llu record(s) no longer in this user's scope",
			 (unsigned long long)dropped);
	s->stats.gone += dropped;
	s->mark = 0;
	return rc;
}

static int apply_batch(struct sync *s, const struct wire_msg *m)
{
	struct db *db = oc_db(s->c);
	size_t i;
	int rc;

	if (db_begin(db))
		return OP_EIO;
	for (i = 0, rc = 0; i < m->ngone && !rc; i++)
		rc = db_rec_evict(db, m->gone[i].t->name, m->gone[i].id);
	for (i = 0; i < m->nrecs && !rc; i++)
		rc = merge_one(s->c, m->recs[i], s->mark);
	if (!rc && !m->more && s->mark)
		rc = end_rescope(s);
	if (!rc)
		rc = db_meta_set_u64(db, "cursor", m->cursor);
	if (!rc)
		rc = oc_save_clock(s->c);
	if (!rc && !m->more)
		rc = db_meta_set_u64(db, "last_sync", hlc_wall_ms());
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

static int on_batch(struct sync *s, const struct wire_msg *m, struct buf *out)
{
	if (m->cursor < s->stats.cursor)
		return failf(s, OP_EPROTO, "the server's cursor went backwards");
	if (apply_batch(s, m))
		return failf(s, OP_EIO, "cannot store pulled records: %s", db_errmsg(oc_db(s->c)));
	s->stats.pulled += m->nrecs;
	s->stats.gone += m->ngone;
	s->stats.cursor = m->cursor;
	if (m->more)
		return pull_next(s, out);
	s->st = SS_DONE;
	return SYNC_DONE;
}

/* ---- dispatch ---------------------------------------------------------- */

/*
 * What the user may see changed (another team, a right withdrawn or
 * granted): pull everything again and drop, at the end, what did not
 * come. The mark survives an interrupted sync, so the drop still happens.
 */
static int check_scope(struct sync *s, const struct wire_msg *m)
{
	struct db *db = oc_db(s->c);
	char scope[WIRE_SCOPE_HEX + 1] = "";
	uint64_t last = 0;

	db_meta_get_text(db, "scope", scope, sizeof(scope));
	if (!strcmp(scope, m->scope))
		return db_meta_set_text(db, "role", m->role); /* a role can change alone */
	if (db_begin(db))
		return OP_EIO;
	if (scope[0] || s->stats.cursor) {
		log_info("pulling everything again: what this user may see changed");
		/* A mark no record holds yet: records hold 0 or an older mark. */
		db_meta_get_u64(db, "last_mark", &last);
		s->mark = last + 1;
		if (db_meta_set_u64(db, "last_mark", s->mark) ||
		    db_meta_set_u64(db, "rescope", s->mark) || db_meta_set_u64(db, "cursor", 0))
			goto out_fail;
		s->stats.cursor = 0;
	}
	if (db_meta_set_text(db, "scope", m->scope) || db_meta_set_text(db, "role", m->role))
		goto out_fail;
	return db_commit(db);
out_fail:
	db_rollback(db);
	return OP_EIO;
}

/*
 * Refuses a server whose database is not the one this replica synced with
 * (another server id: a new database; a change log shorter than our
 * cursor: a database restored from an older copy). Syncing with it would
 * silently lose what the old one had acknowledged; local changes stay in
 * the outbox. Pulls everything again (harmless: the merge is idempotent)
 * when this build knows a newer schema than the cursor was pulled with,
 * since records of then-unknown tables were skipped.
 */
static int check_origin(struct sync *s, const struct wire_msg *m)
{
	struct db *db = oc_db(s->c);
	char known[RID_LEN + 1] = "";
	uint64_t schema = 0;

	db_meta_get_text(db, "server_replica", known, sizeof(known));
	db_meta_get_u64(db, "cursor_schema", &schema);
	if (known[0] && strcmp(known, m->replica))
		return failf(s, OP_ESTATE, "the server's database is not the one this replica synced with "
			     "(server id %s); nothing was exchanged and local changes are kept", m->replica);
	if (s->stats.cursor > m->log_end)
		return failf(s, OP_ESTATE, "the server's change log is behind this replica: its database "
			     "was restored from an older copy; nothing was exchanged and local changes are kept");
	if (known[0] && schema == SCHEMA_VERSION)
		return check_scope(s, m);
	if (known[0])
		log_info("pulling everything again: the schema changed");
	s->stats.cursor = 0;
	if (db_begin(db))
		return OP_EIO;
	if (db_meta_set_u64(db, "cursor", 0) ||
	    db_meta_set_text(db, "server_replica", m->replica) ||
	    db_meta_set_u64(db, "cursor_schema", SCHEMA_VERSION)) {
		db_rollback(db);
		return OP_EIO;
	}
	return db_commit(db) ? OP_EIO : check_scope(s, m);
}

static int on_welcome(struct sync *s, const struct wire_msg *m, struct buf *out)
{
	char msg[OP_ERRLEN];
	int rc;

	if (m->proto != WIRE_PROTO || m->min_schema > SCHEMA_VERSION) {
		snprintf(msg, sizeof(msg),
			 "the server needs a newer client (protocol %llu, schema %llu or later); upgrade outpost",
			 (unsigned long long)m->proto, (unsigned long long)m->min_schema);
		return failf(s, OP_EVERSION, "%s", msg);
	}
	if ((rc = check_origin(s, m)))
		return s->st == SS_FAILED ? rc :
			failf(s, OP_EIO, "cannot update the replica: %s", db_errmsg(oc_db(s->c)));
	s->max_batch = m->max_batch && m->max_batch < WIRE_MAX_BATCH ? m->max_batch : WIRE_MAX_BATCH;
	s->max_frame = m->max_frame && m->max_frame < WIRE_MAX_FRAME ? m->max_frame : WIRE_MAX_FRAME;
	if (s->logout) {
		if (wire_enc_logout(out))
			return failf(s, OP_ENOMEM, "out of memory");
		s->st = SS_BYE;
		return SYNC_CONTINUE;
	}
	return push_next(s, out);
}

int sync_on_message(struct sync *s, const void *msg, size_t len, struct buf *out)
{
	struct wire_msg m;
	struct wire_err e;
	char why[OP_ERRLEN + 64];
	int rc;

	if (s->st == SS_DONE || s->st == SS_FAILED)
		return failf(s, OP_ESTATE, "message after the end of the sync");
	if (wire_decode(msg, len, NULL, false, &m, &e))
		return failf(s, OP_EPROTO, "the server sent a bad message: %s", e.msg);
	if (m.type == WIRE_ERROR) {
		snprintf(why, sizeof(why), "%s%s (code %llu)",
			 s->st == SS_TOKEN ? "" : "the server refused the sync: ",
			 m.msg, (unsigned long long)m.code);
		rc = failf(s, m.code == WERR_VERSION ? OP_EVERSION :
			   m.code == WERR_AUTH ? OP_EDENIED : OP_EPROTO, "%s", why);
	} else if (s->st == SS_WELCOME && m.type == WIRE_WELCOME) {
		rc = on_welcome(s, &m, out);
	} else if (s->st == SS_ACK && m.type == WIRE_ACK) {
		rc = on_ack(s, &m, out);
	} else if (s->st == SS_BATCH && m.type == WIRE_BATCH) {
		rc = on_batch(s, &m, out);
	} else if (s->st == SS_TOKEN && m.type == WIRE_TOKEN) {
		rc = on_token(s, &m);
	} else if (s->st == SS_BYE && m.type == WIRE_BYE) {
		rc = on_bye(s);
	} else {
		rc = failf(s, OP_EPROTO, "the server sent an unexpected message");
	}
	wire_msg_release(&m);
	return rc;
}

void sync_finish(struct sync *s, const char *error)
{
	struct db *db = oc_db(s->c);

	if (db_meta_set_text(db, "last_error", error ? error : ""))
		log_warn("cannot record the sync outcome: %s", db_errmsg(db));
}
