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
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_COUNT
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

#define done db_done
#define step_done db_step_done
#define bind_text db_bind_text
#define bind_u64 db_bind_u64

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

	return s ? step_done(s) : OP_EIO;
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
	if (!s || bind_text(s, 1, key))
		return s ? (done(s, 0), NULL) : NULL;
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
	done(s, 0);
	return NULL;
}

int db_meta_get_u64(struct db *db, const char *key, uint64_t *v)
{
	int rc;
	sqlite3_stmt *s = meta_row(db, key, &rc);

	if (!s)
		return rc;
	*v = (uint64_t)sqlite3_column_int64(s, 0);
	return done(s, OP_OK);
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
		return done(s, OP_ETOOBIG);
	memcpy(buf, t, n);
	buf[n] = '\0';
	return done(s, OP_OK);
}

int db_meta_set_u64(struct db *db, const char *key, uint64_t v)
{
	sqlite3_stmt *s = stmt(db, S_META_SET);

	if (!s || bind_text(s, 1, key) || bind_u64(s, 2, v))
		return s ? done(s, OP_EIO) : OP_EIO;
	return step_done(s);
}

int db_meta_set_text(struct db *db, const char *key, const char *v)
{
	sqlite3_stmt *s = stmt(db, S_META_SET);

	if (!s || bind_text(s, 1, key) || bind_text(s, 2, v))
		return s ? done(s, OP_EIO) : OP_EIO;
	return step_done(s);
}

int db_meta_del(struct db *db, const char *key)
{
	sqlite3_stmt *s = stmt(db, S_META_DEL);

	if (!s || bind_text(s, 1, key))
		return s ? done(s, OP_EIO) : OP_EIO;
	return step_done(s);
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

int db_rec_load(struct db *db, const struct tbl_desc *t, const char *id,
		struct rec **out)
{
	sqlite3_stmt *s = stmt(db, S_REC_LOAD);
	int rc;

	*out = NULL;
	if (!s || bind_text(s, 1, t->name) || bind_text(s, 2, id))
		return s ? done(s, OP_EIO) : OP_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return done(s, OP_ENOTFOUND);
	if (rc != SQLITE_ROW)
		return done(s, OP_EIO);
	return done(s, decode_col(s, 0, out));
}

int db_rec_save(struct db *db, const struct rec *r, uint64_t seq)
{
	sqlite3_stmt *s = stmt(db, S_REC_SAVE);

	if (!s)
		return OP_EIO;
	buf_reset(&db->state);
	buf_reset(&db->data);
	if (wire_enc_state(&db->state, r) || rec_json(r, &db->data, false))
		return OP_ENOMEM;
	if (bind_text(s, 1, r->t->name) || bind_text(s, 2, r->id) ||
	    bind_u64(s, 3, seq) || sqlite3_bind_int(s, 4, rec_alive(r)) ||
	    sqlite3_bind_blob(s, 5, db->state.p, (int)db->state.len, SQLITE_STATIC) ||
	    sqlite3_bind_text(s, 6, db->data.p, (int)db->data.len, SQLITE_STATIC))
		return done(s, OP_EIO);
	return step_done(s);
}

static int one_u64(struct db *db, sqlite3_stmt *s, uint64_t *v)
{
	(void)db;
	if (sqlite3_step(s) != SQLITE_ROW)
		return done(s, OP_EIO);
	*v = (uint64_t)sqlite3_column_int64(s, 0);
	return done(s, OP_OK);
}

int db_max_seq(struct db *db, uint64_t *seq)
{
	sqlite3_stmt *s = stmt(db, S_MAX_SEQ);

	return s ? one_u64(db, s, seq) : OP_EIO;
}

/* Runs a range scan whose rows are (blob, position) after `after`. */
static int each_blob(struct db *db, enum stmt_id id, uint64_t after,
		     unsigned limit, db_blob_fn fn, void *ctx)
{
	sqlite3_stmt *s = stmt(db, id);
	int rc, step;

	if (!s || bind_u64(s, 1, after) || bind_u64(s, 2, limit))
		return s ? done(s, OP_EIO) : OP_EIO;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
			(uint64_t)sqlite3_column_int64(s, 1));
		if (rc)
			return done(s, rc);
	}
	return done(s, step == SQLITE_DONE ? OP_OK : OP_EIO);
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
	if (bind_text(s, 1, t->name) || bind_text(s, 2, order))
		return done(s, OP_EIO);
	if (field >= 0) {
		json_path(by, sizeof(by), t->fields[field].name);
		if (bind_text(s, 3, by) || bind_text(s, 4, value))
			return done(s, OP_EIO);
	}
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = decode_col(s, 0, &r)))
			break;
		rc = fn(ctx, r);
		rec_free(r);
	}
	if (!rc && step != SQLITE_DONE)
		rc = OP_EIO;
	return done(s, rc);
}

int db_conflict_exists(struct db *db, const char *id, const char *field,
		       const char *rep, uint64_t ctr, bool *found)
{
	sqlite3_stmt *s = stmt(db, S_CONFLICT_FIND);
	int step;

	if (!s || bind_text(s, 1, id) || bind_text(s, 2, field) || bind_text(s, 3, rep) ||
	    bind_u64(s, 4, ctr))
		return s ? done(s, OP_EIO) : OP_EIO;
	step = sqlite3_step(s);
	*found = step == SQLITE_ROW;
	return done(s, step == SQLITE_ROW || step == SQLITE_DONE ? OP_OK : OP_EIO);
}

int db_rec_count(struct db *db, const struct tbl_desc *t, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, S_REC_COUNT);

	if (!s || bind_text(s, 1, t->name))
		return s ? done(s, OP_EIO) : OP_EIO;
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
	if (bind_text(s, 1, t->name) || bind_text(s, 2, prefix))
		return done(s, OP_EIO);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_text(s, 0);
		if (!id || sqlite3_column_bytes(s, 0) != RID_LEN)
			continue;
		if (found++ == 0)
			memcpy(out, id, RID_LEN + 1);
	}
	if (step != SQLITE_DONE)
		return done(s, OP_EIO);
	return done(s, found == 1 ? OP_OK : found ? OP_EINVAL : OP_ENOTFOUND);
}

/* ---- outbox ------------------------------------------------------------ */

int db_outbox_add(struct db *db, uint64_t ctr, const struct rec *r,
		  const void *change, size_t n)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_ADD);

	if (!s || bind_u64(s, 1, ctr) || bind_text(s, 2, r->t->name) ||
	    bind_text(s, 3, r->id) ||
	    sqlite3_bind_blob(s, 4, change, (int)n, SQLITE_STATIC))
		return s ? done(s, OP_EIO) : OP_EIO;
	return step_done(s);
}

int db_outbox_each(struct db *db, uint64_t after, unsigned limit,
		   db_blob_fn fn, void *ctx)
{
	return each_blob(db, S_OUTBOX_EACH, after, limit, fn, ctx);
}

int db_outbox_ack(struct db *db, uint64_t upto)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_ACK);

	if (!s || bind_u64(s, 1, upto))
		return s ? done(s, OP_EIO) : OP_EIO;
	return step_done(s);
}

int db_outbox_count(struct db *db, uint64_t *n)
{
	sqlite3_stmt *s = stmt(db, S_OUTBOX_COUNT);

	return s ? one_u64(db, s, n) : OP_EIO;
}
