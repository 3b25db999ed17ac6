/*
 * db.c - SQLite storage (see db.h). Statements are an enum plus an SQL
 * table, prepared on first use with SQLITE_PREPARE_PERSISTENT and reset
 * after each use; nothing here builds SQL from strings.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "wire.h"

enum stmt_id {
	S_META_GET, S_META_SET, S_META_DEL, S_REC_LOAD, S_REC_SAVE, S_MAX_SEQ,
	S_REC_SINCE, S_REC_LIST, S_REC_LIST_BY, S_REC_COUNT, S_REC_RESOLVE,
	S_CONFLICT_FIND, S_OUTBOX_ADD, S_OUTBOX_EACH, S_OUTBOX_ACK, S_OUTBOX_COUNT,
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	/* server database only */
	S_SREC_SAVE, S_SREC_LOAD, S_SREC_SCOPE, S_SREC_RESCOPE, S_SREC_CHILDREN, S_GONE_ADD,
	S_LOG_END, S_SINCE_ALL, S_SINCE_SCOPED,
	/* client replica only */
	S_REC_DROP, S_REC_EVICT, S_REC_DROP_ALL, S_REC_SWEEP, S_OUTBOX_GET, S_OUTBOX_OF, S_OUTBOX_DROP, S_REJ_ADD, S_REJ_EACH,
	S_REJ_DROP, S_REJ_DROP_ALL, S_REJ_COUNT,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
		       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_META_DEL] = "DELETE FROM meta WHERE key = ?1",
	[S_REC_LOAD] = "SELECT state FROM rec WHERE tbl = ?1 AND id = ?2",
	[S_REC_SAVE] = "INSERT INTO rec(tbl, id, seq, alive, state, data) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(tbl, id) DO UPDATE "
		       "SET seq = excluded.seq, alive = excluded.alive, "
		       "state = excluded.state, data = excluded.data",
	[S_MAX_SEQ] = "SELECT coalesce(max(seq), 0) FROM rec",
	[S_REC_SINCE] = "SELECT state, seq FROM rec WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[S_REC_LIST] = "SELECT state FROM rec WHERE tbl = ?1 AND alive = 1 "
		       "ORDER BY json_extract(data, ?2) COLLATE NOCASE, id",
	[S_REC_LIST_BY] = "SELECT state FROM rec WHERE tbl = ?1 AND alive = 1 "
			  "AND json_extract(data, ?3) = ?4 "
			  "ORDER BY json_extract(data, ?2) COLLATE NOCASE, id",
	[S_REC_COUNT] = "SELECT count(*) FROM rec WHERE tbl = ?1 AND alive = 1",
	[S_REC_RESOLVE] = "SELECT id FROM rec WHERE tbl = ?1 AND alive = 1 "
			  "AND id >= ?2 AND id < ?2 || 'g' ORDER BY id LIMIT 2",
	[S_CONFLICT_FIND] = "SELECT 1 FROM rec WHERE tbl = 'conflict' AND data ->> 'rec' = ?1 "
			    "AND data ->> 'field' = ?2 AND data ->> 'loser_rep' = ?3 "
			    "AND data ->> 'loser_ctr' = ?4 LIMIT 1",
	[S_OUTBOX_ADD] = "INSERT INTO outbox(ctr, tbl, id, change) VALUES (?1, ?2, ?3, ?4)",
	[S_OUTBOX_EACH] = "SELECT change, ctr FROM outbox WHERE ctr > ?1 ORDER BY ctr LIMIT ?2",
	[S_OUTBOX_ACK] = "DELETE FROM outbox WHERE ctr <= ?1",
	[S_OUTBOX_COUNT] = "SELECT count(*) FROM outbox",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SREC_SAVE] = "INSERT INTO rec(tbl, id, seq, alive, state, data, owner, parent) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(tbl, id) DO UPDATE "
			"SET seq = excluded.seq, alive = excluded.alive, state = excluded.state, "
			"data = excluded.data, owner = excluded.owner, parent = excluded.parent",
	[S_SREC_LOAD] = "SELECT state, owner FROM rec WHERE tbl = ?1 AND id = ?2",
	[S_SREC_SCOPE] = "SELECT owner FROM rec WHERE tbl = ?1 AND id = ?2",
	[S_SREC_RESCOPE] = "UPDATE rec SET owner = ?3, seq = ?4 WHERE tbl = ?1 AND id = ?2",
	[S_SREC_CHILDREN] = "SELECT tbl, id FROM rec WHERE parent = ?1 ORDER BY tbl, id",
	[S_GONE_ADD] = "INSERT INTO gone(seq, tbl, id, owner) VALUES (?1, ?2, ?3, ?4)",
	[S_LOG_END] = "SELECT max((SELECT coalesce(max(seq), 0) FROM rec), "
		      "(SELECT coalesce(max(seq), 0) FROM gone))",
	[S_SINCE_ALL] = "SELECT state, seq, tbl, id FROM rec WHERE seq > ?1 ORDER BY seq LIMIT ?3",
	/* Positions only (the index rec_owner covers them), sorted; the states
	 * of the few rows kept are read afterwards by primary key. */
	[S_SINCE_SCOPED] =
		"WITH o(name) AS (SELECT value FROM json_each(?2)) "
		"SELECT 0, seq, tbl, id FROM rec WHERE seq > ?1 AND owner IN o "
		"UNION ALL "
		"SELECT 1, g.seq, g.tbl, g.id FROM gone g WHERE g.seq > ?1 AND g.owner IN o "
		"AND NOT EXISTS (SELECT 1 FROM rec r WHERE r.tbl = g.tbl AND r.id = g.id "
		"AND r.owner IN o) "
		"ORDER BY 2 LIMIT ?3",
	[S_REC_DROP] = "DELETE FROM rec WHERE tbl = ?1 AND id = ?2",
	[S_REC_EVICT] = "DELETE FROM rec WHERE tbl = ?1 AND id = ?2 AND NOT EXISTS "
			"(SELECT 1 FROM outbox o WHERE o.tbl = ?1 AND o.id = ?2)",
	[S_REC_DROP_ALL] = "DELETE FROM rec",
	[S_REC_SWEEP] = "DELETE FROM rec WHERE seq <> ?1 AND NOT EXISTS "
			"(SELECT 1 FROM outbox o WHERE o.tbl = rec.tbl AND o.id = rec.id)",
	[S_OUTBOX_GET] = "SELECT change, tbl, id FROM outbox WHERE ctr = ?1",
	[S_OUTBOX_OF] = "SELECT change, ctr FROM outbox WHERE tbl = ?2 AND id = ?3 "
			"AND ctr > ?1 ORDER BY ctr",
	[S_OUTBOX_DROP] = "DELETE FROM outbox WHERE ctr = ?1",
	[S_REJ_ADD] = "INSERT OR REPLACE INTO rejected(ctr, tbl, id, change, code, reason, at) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_REJ_EACH] = "SELECT ctr, tbl, id, change, code, reason, at FROM rejected ORDER BY ctr",
	[S_REJ_DROP] = "DELETE FROM rejected WHERE ctr = ?1",
	[S_REJ_DROP_ALL] = "DELETE FROM rejected",
	[S_REJ_COUNT] = "SELECT count(*) FROM rejected",
};

struct db {
	sqlite3 *h;
	sqlite3_stmt *st[S_COUNT];
	sqlite3_stmt *ext[DB_EXT_SLOTS]; /* other storage files' statements */
	struct buf state;  /* scratch for encoding a record */
	struct buf data;
};

const char *db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

static sqlite3_stmt *stmt(struct db *db, enum stmt_id id)
{
	if (!db->st[id] &&
	    sqlite3_prepare_v3(db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
			       &db->st[id], NULL) != SQLITE_OK)
		return NULL;
	return db->st[id];
}

sqlite3_stmt *db_ext_stmt(struct db *db, int slot, const char *sql)
{
	if (slot < 0 || slot >= DB_EXT_SLOTS)
		return NULL;
	if (!db->ext[slot] &&
	    sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &db->ext[slot], NULL) != SQLITE_OK)
		return NULL;
	return db->ext[slot];
}


/* ---- open, migrate, close ---------------------------------------------- */

static int exec(struct db *db, const char *sql, char *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return OP_OK;
	op_fail(err, OP_EIO, "%s", msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return OP_EIO;
}

static int pragma_int(struct db *db, const char *sql, int *v)
{
	sqlite3_stmt *s;
	int rc = OP_EIO;

	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK)
		return OP_EIO;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = OP_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

static int set_wal(struct db *db, char *err)
{
	sqlite3_stmt *s;
	const unsigned char *mode = NULL;
	int rc = OP_EIO;

	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return op_fail(err, OP_EIO, "%s", sqlite3_errmsg(db->h));
	if (sqlite3_step(s) == SQLITE_ROW)
		mode = sqlite3_column_text(s, 0);
	if (mode && (!strcmp((const char *)mode, "wal") ||
		     !strcmp((const char *)mode, "memory")))
		rc = OP_OK;
	else
		op_fail(err, OP_EIO, "cannot switch the database to WAL mode");
	sqlite3_finalize(s);
	return rc;
}

static int migrate(struct db *db, enum schema_kind kind, char *err)
{
	const char *const *scripts;
	int have, v, i;

	if (pragma_int(db, "PRAGMA user_version", &have))
		return op_fail(err, OP_EIO, "%s", sqlite3_errmsg(db->h));
	if (have > schema_count(kind))
		return op_fail(err, OP_EVERSION,
			       "the database has schema version %d but this build knows only up to %d; upgrade Outpost",
			       have, schema_count(kind));
	for (v = have + 1; v <= schema_count(kind); v++) {
		scripts = schema_migration(kind, v);
		if (exec(db, "BEGIN IMMEDIATE", err))
			return OP_EIO;
		for (i = 0; scripts[i]; i++) {
			if (exec(db, scripts[i], err)) {
				exec(db, "ROLLBACK", NULL);
				return OP_EIO;
			}
		}
		if (exec(db, "COMMIT", err))
			return OP_EIO;
	}
	return OP_OK;
}

int db_open(const char *path, enum schema_kind kind, struct db **out,
	    char err[OP_ERRLEN])
{
	struct db *db = calloc(1, sizeof(*db));
	int rc;

	*out = NULL;
	if (!db)
		return op_fail(err, OP_ENOMEM, "out of memory");
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = op_fail(err, OP_EIO, "cannot open database %s: %s", path,
			     db->h ? sqlite3_errmsg(db->h) : "out of memory");
		goto out_close;
	}
	sqlite3_busy_timeout(db->h, 5000);
	sqlite3_extended_result_codes(db->h, 1);
	if ((rc = set_wal(db, err)) ||
	    (rc = exec(db, "PRAGMA synchronous = FULL", err)) ||
	    (kind == SCHEMA_SERVER && (rc = exec(db, "PRAGMA cache_size = -16384", err))) ||
	    (rc = migrate(db, kind, err)))
		goto out_close;
	*out = db;
	return OP_OK;
out_close:
	db_close(db);
	return rc;
}

void db_close(struct db *db)
{
	int i;

	if (!db)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	for (i = 0; i < DB_EXT_SLOTS; i++)
		sqlite3_finalize(db->ext[i]);
	sqlite3_close(db->h);
	buf_release(&db->state);
	buf_release(&db->data);
	free(db);
}

static int run(struct db *db, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(db, id);

	return s ? db_step_done(s) : OP_EIO;
}

int db_begin(struct db *db)
{
	return run(db, S_BEGIN);
}

int db_commit(struct db *db)
{
	int rc = run(db, S_COMMIT);

	if (rc && !sqlite3_get_autocommit(db->h))
		run(db, S_ROLLBACK); /* never leave a failed transaction open */
	return rc;
}

int db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return OP_OK;
	return run(db, S_ROLLBACK);
}

/* ---- meta -------------------------------------------------------------- */

static sqlite3_stmt *meta_row(struct db *db, const char *key, int *rc)
{
	sqlite3_stmt *s = stmt(db, S_META_GET);

	*rc = OP_EIO;
	if (!s || db_bind_text(s, 1, key))
		return s ? (db_done(s, 0), NULL) : NULL;
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		*rc = OP_OK;
		return s;
	case SQLITE_DONE:
		*rc = OP_ENOTFOUND;
		break;
	default:
		break;
	}
	db_done(s, 0);
	return NULL;
}

int db_meta_get_u64(struct db *db, const char *key, uint64_t *v)
{
	int rc;
	sqlite3_stmt *s = meta_row(db, key, &rc);

	if (!s)
		return rc;
	*v = (uint64_t)sqlite3_column_int64(s, 0);
	return db_done(s, OP_OK);
}

int db_meta_get_text(struct db *db, const char *key, char *buf, size_t cap)
{
	const unsigned char *t;
	size_t n;
	int rc;
	sqlite3_stmt *s = meta_row(db, key, &rc);

	if (!s)
		return rc;
	t = sqlite3_column_text(s, 0);
	n = (size_t)sqlite3_column_bytes(s, 0);
	if (!t || n >= cap)
		return db_done(s, OP_ETOOBIG);
	memcpy(buf, t, n);
	buf[n] = '\0';
	return db_done(s, OP_OK);
}

int db_meta_set_u64(struct db *db, const char *key, uint64_t v)
{
	sqlite3_stmt *s = stmt(db, S_META_SET);

	if (!s || db_bind_text(s, 1, key) || db_bind_u64(s, 2, v))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_meta_set_text(struct db *db, const char *key, const char *v)
{
	sqlite3_stmt *s = stmt(db, S_META_SET);

	if (!s || db_bind_text(s, 1, key) || db_bind_text(s, 2, v))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_meta_del(struct db *db, const char *key)
{
	sqlite3_stmt *s = stmt(db, S_META_DEL);

	if (!s || db_bind_text(s, 1, key))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

/* ---- records ----------------------------------------------------------- */

static int decode_col(sqlite3_stmt *s, int col, struct rec **out)
{
	struct wire_err e;
	int rc = wire_decode_state(sqlite3_column_blob(s, col),
				   (size_t)sqlite3_column_bytes(s, col), false, out, &e);

	if (rc == OP_OK && !*out)
		rc = OP_EPROTO;
	return rc;
}

/* Loads a record by statement id (state first, then optionally the
 * owner column into owner). */
static int load_with(struct db *db, enum stmt_id id_, const struct tbl_desc *t,
		     const char *id, struct rec **out, char *owner)
{
	sqlite3_stmt *s = stmt(db, id_);
	const unsigned char *o;
	int rc;

	*out = NULL;
	if (!s || db_bind_text(s, 1, t->name) || db_bind_text(s, 2, id))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return db_done(s, OP_ENOTFOUND);
	if (rc != SQLITE_ROW)
		return db_done(s, OP_EIO);
	if (owner) {
		owner[0] = '\0';
		if ((o = sqlite3_column_text(s, 1)) && sqlite3_column_bytes(s, 1) <= DB_OWNER_MAX)
			memcpy(owner, o, (size_t)sqlite3_column_bytes(s, 1) + 1);
	}
	return db_done(s, decode_col(s, 0, out));
}

int db_rec_load(struct db *db, const struct tbl_desc *t, const char *id,
		struct rec **out)
{
	return load_with(db, S_REC_LOAD, t, id, out, NULL);
}

int db_rec_load_owned(struct db *db, const struct tbl_desc *t, const char *id,
		      struct rec **out, char owner[DB_OWNER_MAX + 1])
{
	return load_with(db, S_SREC_LOAD, t, id, out, owner);
}

static int one_u64(struct db *db, sqlite3_stmt *s, uint64_t *v)
{
	(void)db;
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_done(s, OP_EIO);
	*v = (uint64_t)sqlite3_column_int64(s, 0);
	return db_done(s, OP_OK);
}

/* NULL binds SQL NULL. */
static int bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	return v ? db_bind_text(s, i, v) : sqlite3_bind_null(s, i);
}

static int save_with(struct db *db, enum stmt_id id, const struct rec *r,
		     uint64_t seq, const char *owner, const char *parent)
{
	sqlite3_stmt *s = stmt(db, id);

	if (!s)
		return OP_EIO;
	buf_reset(&db->state);
	buf_reset(&db->data);
	if (wire_enc_state(&db->state, r) || rec_json(r, &db->data, false))
		return OP_ENOMEM;
	if (db_bind_text(s, 1, r->t->name) || db_bind_text(s, 2, r->id) ||
	    db_bind_u64(s, 3, seq) || sqlite3_bind_int(s, 4, rec_alive(r)) ||
	    sqlite3_bind_blob(s, 5, db->state.p, (int)db->state.len, SQLITE_STATIC) ||
	    sqlite3_bind_text(s, 6, db->data.p, (int)db->data.len, SQLITE_STATIC) ||
	    (id == S_SREC_SAVE && (bind_opt(s, 7, owner) || bind_opt(s, 8, parent))))
		return db_done(s, OP_EIO);
	return db_step_done(s);
}

int db_rec_save(struct db *db, const struct rec *r, uint64_t seq)
{
	return save_with(db, S_REC_SAVE, r, seq, NULL, NULL);
}

int db_rec_save_scoped(struct db *db, const struct rec *r, uint64_t seq,
		       const char *owner, const char *parent)
{
	return save_with(db, S_SREC_SAVE, r, seq, owner, parent);
}

int db_rec_owner(struct db *db, const char *tbl, const char *id,
		 char owner[DB_OWNER_MAX + 1])
{
	sqlite3_stmt *s = stmt(db, S_SREC_SCOPE);
	const unsigned char *o;
	int step;

	owner[0] = '\0';
	if (!s || db_bind_text(s, 1, tbl) || db_bind_text(s, 2, id))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	step = sqlite3_step(s);
	if (step == SQLITE_DONE)
		return db_done(s, OP_ENOTFOUND);
	if (step != SQLITE_ROW)
		return db_done(s, OP_EIO);
	if ((o = sqlite3_column_text(s, 0)) && sqlite3_column_bytes(s, 0) <= DB_OWNER_MAX)
		memcpy(owner, o, (size_t)sqlite3_column_bytes(s, 0) + 1);
	return db_done(s, OP_OK);
}

int db_rec_rescope(struct db *db, const char *tbl, const char *id,
		   const char *owner, uint64_t seq)
{
	sqlite3_stmt *s = stmt(db, S_SREC_RESCOPE);

	if (!s || db_bind_text(s, 1, tbl) || db_bind_text(s, 2, id) ||
	    bind_opt(s, 3, owner) || db_bind_u64(s, 4, seq))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_rec_children(struct db *db, const char *parent, db_ref_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, S_SREC_CHILDREN);
	int rc, step;

	if (!s || db_bind_text(s, 1, parent))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		const char *i = (const char *)sqlite3_column_text(s, 1);

		if (t && i && (rc = fn(ctx, t, i)))
			return db_done(s, rc);
	}
	return db_done(s, step == SQLITE_DONE ? OP_OK : OP_EIO);
}

int db_gone_add(struct db *db, uint64_t seq, const char *tbl, const char *id,
		const char *owner)
{
	sqlite3_stmt *s = stmt(db, S_GONE_ADD);

	if (!s || db_bind_u64(s, 1, seq) || db_bind_text(s, 2, tbl) || db_bind_text(s, 3, id) ||
	    db_bind_text(s, 4, owner))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_log_end(struct db *db, uint64_t *seq)
{
	sqlite3_stmt *s = stmt(db, S_LOG_END);

	return s ? one_u64(db, s, seq) : OP_EIO;
}

/* Hands fn the state of tbl/id (a row of the scoped log) at seq. */
static int scoped_state(struct db *db, uint64_t seq, const char *t, const char *i,
			db_scoped_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, S_REC_LOAD);
	int rc;

	if (!s || db_bind_text(s, 1, t) || db_bind_text(s, 2, i))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_done(s, OP_EIO);
	rc = fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), seq, t, i);
	return db_done(s, rc);
}

int db_rec_since_scoped(struct db *db, uint64_t cursor, const char *owners,
			unsigned limit, db_scoped_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, owners ? S_SINCE_SCOPED : S_SINCE_ALL);
	int rc, step;

	if (!s || db_bind_u64(s, 1, cursor) || (owners && db_bind_text(s, 2, owners)) ||
	    db_bind_u64(s, 3, limit))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 2);
		const char *i = (const char *)sqlite3_column_text(s, 3);
		uint64_t seq = (uint64_t)sqlite3_column_int64(s, 1);

		if (!owners)
			rc = fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
				seq, t ? t : "", i ? i : "");
		else if (sqlite3_column_int(s, 0))
			rc = fn(ctx, NULL, 0, seq, t ? t : "", i ? i : "");
		else
			rc = scoped_state(db, seq, t ? t : "", i ? i : "", fn, ctx);
		if (rc)
			return db_done(s, rc);
	}
	return db_done(s, step == SQLITE_DONE ? OP_OK : OP_EIO);
}

static int drop_with(struct db *db, enum stmt_id id_, const char *tbl, const char *id)
{
	sqlite3_stmt *s = stmt(db, id_);

	if (!s || db_bind_text(s, 1, tbl) || db_bind_text(s, 2, id))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_max_seq(struct db *db, uint64_t *seq)
{
	sqlite3_stmt *s = stmt(db, S_MAX_SEQ);

	return s ? one_u64(db, s, seq) : OP_EIO;
}

/* Steps a bound statement whose rows are (blob, position) through fn. */
static int blob_rows(sqlite3_stmt *s, db_blob_fn fn, void *ctx)
{
	int rc, step;

	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
			(uint64_t)sqlite3_column_int64(s, 1));
		if (rc)
			return db_done(s, rc);
	}
	return db_done(s, step == SQLITE_DONE ? OP_OK : OP_EIO);
}

/* Runs a range scan whose rows are (blob, position) after `after`. */
static int each_blob(struct db *db, enum stmt_id id, uint64_t after,
		     unsigned limit, db_blob_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, id);

	if (!s || db_bind_u64(s, 1, after) || db_bind_u64(s, 2, limit))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return blob_rows(s, fn, ctx);
}

int db_rec_since(struct db *db, uint64_t cursor, unsigned limit,
		 db_blob_fn fn, void *ctx)
{
	return each_blob(db, S_REC_SINCE, cursor, limit, fn, ctx);
}

/* "$.name" for json_extract, from a field name. */
static void json_path(char *out, size_t cap, const char *field)
{
	size_t n = strlen(field);

	if (n + 3 > cap)
		n = cap - 3;
	out[0] = '$';
	out[1] = '.';
	memcpy(out + 2, field, n);
	out[n + 2] = '\0';
}

int db_rec_list(struct db *db, const struct tbl_desc *t, int field,
		const char *value, db_rec_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, field >= 0 ? S_REC_LIST_BY : S_REC_LIST);
	char order[80], by[80];
	struct rec *r;
	int rc = OP_OK, step;

	if (!s)
		return OP_EIO;
	json_path(order, sizeof(order), t->fields[t->label].name);
	if (db_bind_text(s, 1, t->name) || db_bind_text(s, 2, order))
		return db_done(s, OP_EIO);
	if (field >= 0) {
		json_path(by, sizeof(by), t->fields[field].name);
		if (db_bind_text(s, 3, by) || db_bind_text(s, 4, value))
			return db_done(s, OP_EIO);
	}
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = decode_col(s, 0, &r)))
			break;
		rc = fn(ctx, r);
		rec_free(r);
	}
	if (!rc && step != SQLITE_DONE)
		rc = OP_EIO;
	return db_done(s, rc);
}

int db_conflict_exists(struct db *db, const char *id, const char *field,
		       const char *rep, uint64_t ctr, bool *found)
{
	sqlite3_stmt *s = stmt(db, S_CONFLICT_FIND);
	int step;

	if (!s || db_bind_text(s, 1, id) || db_bind_text(s, 2, field) || db_bind_text(s, 3, rep) ||
	    db_bind_u64(s, 4, ctr))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	step = sqlite3_step(s);
	*found = step == SQLITE_ROW;
	return db_done(s, step == SQLITE_ROW || step == SQLITE_DONE ? OP_OK : OP_EIO);
}

int db_rec_count(struct db *db, const struct tbl_desc *t, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, S_REC_COUNT);

	if (!s || db_bind_text(s, 1, t->name))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return one_u64(db, s, n);
}

int db_rec_resolve(struct db *db, const struct tbl_desc *t, const char *prefix,
		   char out[RID_LEN + 1])
{
	sqlite3_stmt *s = stmt(db, S_REC_RESOLVE);
	const unsigned char *id;
	size_t n = strlen(prefix);
	int found = 0, step;

	if (n < 4 || n > RID_LEN || !s)
		return s ? OP_ENOTFOUND : OP_EIO;
	if (db_bind_text(s, 1, t->name) || db_bind_text(s, 2, prefix))
		return db_done(s, OP_EIO);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_text(s, 0);
		if (!id || sqlite3_column_bytes(s, 0) != RID_LEN)
			continue;
		if (found++ == 0)
			memcpy(out, id, RID_LEN + 1);
	}
	if (step != SQLITE_DONE)
		return db_done(s, OP_EIO);
	return db_done(s, found == 1 ? OP_OK : found ? OP_EINVAL : OP_ENOTFOUND);
}

/* ---- outbox ------------------------------------------------------------ */

int db_outbox_add(struct db *db, uint64_t ctr, const struct rec *r,
		  const void *change, size_t n)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_ADD);

	if (!s || db_bind_u64(s, 1, ctr) || db_bind_text(s, 2, r->t->name) ||
	    db_bind_text(s, 3, r->id) ||
	    sqlite3_bind_blob(s, 4, change, (int)n, SQLITE_STATIC))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_outbox_each(struct db *db, uint64_t after, unsigned limit,
		   db_blob_fn fn, void *ctx)
{
	return each_blob(db, S_OUTBOX_EACH, after, limit, fn, ctx);
}

int db_rec_drop(struct db *db, const char *tbl, const char *id)
{
	return drop_with(db, S_REC_DROP, tbl, id);
}

int db_rec_evict(struct db *db, const char *tbl, const char *id)
{
	return drop_with(db, S_REC_EVICT, tbl, id);
}

int db_rec_drop_all(struct db *db)
{
	return run(db, S_REC_DROP_ALL);
}

int db_rec_sweep(struct db *db, uint64_t mark, uint64_t *dropped)
{
	sqlite3_stmt *s = stmt(db, S_REC_SWEEP);
	int rc;

	if (!s || db_bind_u64(s, 1, mark))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	rc = db_step_done(s);
	*dropped = (uint64_t)sqlite3_changes(db->h);
	return rc;
}

int db_outbox_get(struct db *db, uint64_t ctr, struct buf *change,
		  char tbl[DB_TBL_MAX + 1], char id[RID_LEN + 1])
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_GET);
	const unsigned char *t, *i;
	int step;

	if (!s || db_bind_u64(s, 1, ctr))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	step = sqlite3_step(s);
	if (step == SQLITE_DONE)
		return db_done(s, OP_ENOTFOUND);
	if (step != SQLITE_ROW)
		return db_done(s, OP_EIO);
	t = sqlite3_column_text(s, 1);
	i = sqlite3_column_text(s, 2);
	if (!t || !i || sqlite3_column_bytes(s, 1) > DB_TBL_MAX ||
	    sqlite3_column_bytes(s, 2) != RID_LEN)
		return db_done(s, OP_EIO);
	memcpy(tbl, t, (size_t)sqlite3_column_bytes(s, 1) + 1);
	memcpy(id, i, RID_LEN + 1);
	buf_reset(change);
	if (buf_add(change, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0)))
		return db_done(s, OP_ENOMEM);
	return db_done(s, OP_OK);
}

int db_outbox_of(struct db *db, const char *tbl, const char *id, uint64_t after,
		 db_blob_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_OF);

	if (!s || db_bind_u64(s, 1, after) || db_bind_text(s, 2, tbl) || db_bind_text(s, 3, id))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return blob_rows(s, fn, ctx);
}

int db_outbox_drop(struct db *db, uint64_t ctr)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_DROP);

	if (!s || db_bind_u64(s, 1, ctr))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_rejected_add(struct db *db, const struct db_rejected *r)
{
	sqlite3_stmt *s = stmt(db, S_REJ_ADD);

	if (!s || db_bind_u64(s, 1, r->ctr) || db_bind_text(s, 2, r->tbl) ||
	    db_bind_text(s, 3, r->id) ||
	    sqlite3_bind_blob(s, 4, r->change, (int)r->n, SQLITE_STATIC) ||
	    db_bind_u64(s, 5, r->code) || db_bind_text(s, 6, r->reason) || db_bind_u64(s, 7, r->at))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_rejected_each(struct db *db, db_rejected_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, S_REJ_EACH);
	struct db_rejected r;
	int rc, step;

	if (!s)
		return OP_EIO;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 1);
		const char *i = (const char *)sqlite3_column_text(s, 2);
		const char *why = (const char *)sqlite3_column_text(s, 5);

		r.ctr = (uint64_t)sqlite3_column_int64(s, 0);
		r.tbl = t ? t : "";
		r.id = i ? i : "";
		r.change = sqlite3_column_blob(s, 3);
		r.n = (size_t)sqlite3_column_bytes(s, 3);
		r.code = (uint64_t)sqlite3_column_int64(s, 4);
		r.reason = why ? why : "";
		r.at = (uint64_t)sqlite3_column_int64(s, 6);
		if ((rc = fn(ctx, &r)))
			return db_done(s, rc);
	}
	return db_done(s, step == SQLITE_DONE ? OP_OK : OP_EIO);
}

int db_rejected_drop(struct db *db, uint64_t ctr, bool all, bool *found)
{
	sqlite3_stmt *s = stmt(db, all ? S_REJ_DROP_ALL : S_REJ_DROP);
	int rc;

	if (!s || (!all && db_bind_u64(s, 1, ctr)))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	rc = db_step_done(s);
	*found = sqlite3_changes(db->h) > 0;
	return rc;
}

int db_rejected_count(struct db *db, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, S_REJ_COUNT);

	return s ? one_u64(db, s, n) : OP_EIO;
}

int db_outbox_ack(struct db *db, uint64_t upto)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_ACK);

	if (!s || db_bind_u64(s, 1, upto))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int db_outbox_count(struct db *db, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_COUNT);

	return s ? one_u64(db, s, n) : OP_EIO;
}
