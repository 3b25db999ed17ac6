/*
 * sync.c - client sync state machine (see sync.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "log.h"
#include "schema.h"
#include "sync.h"
#include "wire.h"

#define AGENT "outpost/0.1.0"

enum sync_state { SS_WELCOME, SS_ACK, SS_BATCH, SS_DONE, SS_FAILED };

struct sync {
	struct oc *c;
	enum sync_state st;
	uint64_t batch_n;       /* number of the push in flight */
	uint64_t sent_upto;     /* highest counter sent */
	uint64_t max_batch;
	uint64_t max_frame;
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

static int failf(struct sync *s, int rc, const char *fmt, const char *a)
	__attribute__((format(printf, 3, 0)));
static int failf(struct sync *s, int rc, const char *fmt, const char *a)
{
	snprintf(s->err, sizeof(s->err), fmt, a);
	s->st = SS_FAILED;
	return rc;
}

int sync_start(struct sync *s, struct buf *out)
{
	db_outbox_count(oc_db(s->c), &s->stats.pending);
	db_meta_get_u64(oc_db(s->c), "cursor", &s->stats.cursor);
	if (wire_enc_hello(out, oc_replica(s->c), AGENT))
		return failf(s, OP_ENOMEM, "out of memory%s", "");
	s->st = SS_WELCOME;
	return SYNC_CONTINUE;
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
		return failf(s, OP_ENOMEM, "out of memory%s", "");
	s->sent_upto = p.last;
	s->stats.pushed += p.count;
	s->st = SS_ACK;
	return SYNC_CONTINUE;
}

static int on_ack(struct sync *s, const struct wire_msg *m, struct buf *out)
{
	if (m->n != s->batch_n || m->upto > s->sent_upto)
		return failf(s, OP_EPROTO, "the server acknowledged changes that were not sent%s", "");
	if (db_outbox_ack(oc_db(s->c), m->upto))
		return failf(s, OP_EIO, "cannot update the outbox: %s", db_errmsg(oc_db(s->c)));
	s->stats.acked += m->applied + m->dup;
	s->stats.dup += m->dup;
	s->stats.conflicts += m->conflicts;
	return push_next(s, out);
}

/* ---- pull -------------------------------------------------------------- */

static int pull_next(struct sync *s, struct buf *out)
{
	if (wire_enc_pull(out, s->stats.cursor, s->max_batch))
		return failf(s, OP_ENOMEM, "out of memory%s", "");
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

static int merge_one(struct oc *c, const struct rec *remote)
{
	struct db *db = oc_db(c);
	struct rec *local = NULL;
	bool changed = true;
	int rc = db_rec_load(db, remote->t, remote->id, &local);

	if (rc == OP_ENOTFOUND) {
		rc = db_rec_save(db, remote, 0);
	} else if (!rc) {
		rc = rec_merge(local, remote, NULL, NULL, &changed);
		if (!rc && changed)
			rc = db_rec_save(db, local, 0);
	}
	observe_rec(c, remote);
	rec_free(local);
	return rc;
}

static int apply_batch(struct sync *s, const struct wire_msg *m)
{
	struct db *db = oc_db(s->c);
	size_t i;
	int rc;

	if (db_begin(db))
		return OP_EIO;
	for (i = 0, rc = 0; i < m->nrecs && !rc; i++)
		rc = merge_one(s->c, m->recs[i]);
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
		return failf(s, OP_EPROTO, "the server's cursor went backwards%s", "");
	if (apply_batch(s, m))
		return failf(s, OP_EIO, "cannot store pulled records: %s", db_errmsg(oc_db(s->c)));
	s->stats.pulled += m->nrecs;
	s->stats.cursor = m->cursor;
	if (m->more)
		return pull_next(s, out);
	s->st = SS_DONE;
	return SYNC_DONE;
}

/* ---- dispatch ---------------------------------------------------------- */

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
			     "was restored from an older copy; nothing was exchanged and local changes are kept%s", "");
	if (known[0] && schema == SCHEMA_VERSION)
		return OP_OK;
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
	return db_commit(db);
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
	return push_next(s, out);
}

int sync_on_message(struct sync *s, const void *msg, size_t len, struct buf *out)
{
	struct wire_msg m;
	struct wire_err e;
	char why[OP_ERRLEN + 64];
	int rc;

	if (s->st == SS_DONE || s->st == SS_FAILED)
		return failf(s, OP_ESTATE, "message after the end of the sync%s", "");
	if (wire_decode(msg, len, NULL, false, &m, &e))
		return failf(s, OP_EPROTO, "the server sent a bad message: %s", e.msg);
	if (m.type == WIRE_ERROR) {
		snprintf(why, sizeof(why), "the server refused the sync: %s (code %llu)",
			 m.msg, (unsigned long long)m.code);
		rc = failf(s, m.code == WERR_VERSION ? OP_EVERSION : OP_EPROTO, "%s", why);
	} else if (s->st == SS_WELCOME && m.type == WIRE_WELCOME) {
		rc = on_welcome(s, &m, out);
	} else if (s->st == SS_ACK && m.type == WIRE_ACK) {
		rc = on_ack(s, &m, out);
	} else if (s->st == SS_BATCH && m.type == WIRE_BATCH) {
		rc = on_batch(s, &m, out);
	} else {
		rc = failf(s, OP_EPROTO, "the server sent an unexpected message%s", "");
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
