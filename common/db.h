/*
 * db.h - storage: the one module that talks to SQLite, for the server
 * database and the client replica alike. Records are stored whole (their
 * sync state, in the wire's encoding) with a JSON copy of their values for
 * the SQL views; the outbox and key/value metadata live beside them.
 * Every statement is prepared once per connection and bound by parameter.
 *
 * A struct db belongs to one thread (the event loop or the CLI).
 */
#ifndef OP_DB_H
#define OP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rec.h"
#include "schema.h"

struct db; /* opaque */

/*
 * Opens (creating if needed) the database at path, switches it to WAL
 * with full fsync on commit, and applies the forward migrations of kind.
 * *out is owned by the caller: db_close() it. Returns OP_OK, OP_EIO or
 * OP_EVERSION (the file is newer than this build) with err filled.
 */
int db_open(const char *path, enum schema_kind kind, struct db **out,
	    char err[OP_ERRLEN]);
/* Accepts NULL; finalizes statements and closes. */
void db_close(struct db *db);
/* The last SQLite error text (borrowed). */
const char *db_errmsg(struct db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Transactions do not nest. A failed
 * COMMIT rolls the transaction back. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Metadata. A missing key gives OP_ENOTFOUND. */
int db_meta_get_u64(struct db *db, const char *key, uint64_t *v);
int db_meta_set_u64(struct db *db, const char *key, uint64_t v);
int db_meta_get_text(struct db *db, const char *key, char *buf, size_t cap);
int db_meta_set_text(struct db *db, const char *key, const char *v);
int db_meta_del(struct db *db, const char *key);

/* Loads a record; *out is owned by the caller. OP_ENOTFOUND if absent. */
int db_rec_load(struct db *db, const struct tbl_desc *t, const char *id,
		struct rec **out);
/* Stores r whole, with change-log position seq (0 on clients). */
int db_rec_save(struct db *db, const struct rec *r, uint64_t seq);
/* Highest seq in the change log (0 when empty). */
int db_max_seq(struct db *db, uint64_t *seq);

/*
 * Callback for stored blobs (record states with their seq, outbox changes
 * with their counter): blob is borrowed for the call. A non-zero return
 * stops the scan and is returned by it.
 */
typedef int (*db_blob_fn)(void *ctx, const void *blob, size_t n, uint64_t pos);
/* States with seq > cursor in seq order, at most limit of them. */
int db_rec_since(struct db *db, uint64_t cursor, unsigned limit,
		 db_blob_fn fn, void *ctx);

/* Callback for records: r is borrowed for the call. */
typedef int (*db_rec_fn)(void *ctx, const struct rec *r);
/*
 * Live records of t ordered by their label field; with field >= 0, only
 * those whose field equals the text value.
 */
int db_rec_list(struct db *db, const struct tbl_desc *t, int field,
		const char *value, db_rec_fn fn, void *ctx);
/*
 * True in *found when a conflict record exists for record id, field (""
 * for a delete) and losing write (rep, ctr).
 */
int db_conflict_exists(struct db *db, const char *id, const char *field,
		       const char *rep, uint64_t ctr, bool *found);
/* Count of live records of t. */
int db_rec_count(struct db *db, const struct tbl_desc *t, uint64_t *n);
/*
 * Resolves an id or a unique prefix of one (at least 4 digits) among live
 * records of t into out. OP_ENOTFOUND, or OP_EINVAL when ambiguous.
 */
int db_rec_resolve(struct db *db, const struct tbl_desc *t, const char *prefix,
		   char out[RID_LEN + 1]);

/* Outbox of unacknowledged local changes, keyed by dot counter. */
int db_outbox_add(struct db *db, uint64_t ctr, const struct rec *r,
		  const void *change, size_t n);
/* Changes with counter > after in counter order, at most limit of them. */
int db_outbox_each(struct db *db, uint64_t after, unsigned limit,
		   db_blob_fn fn, void *ctx);
/* Drops every change with counter <= upto. */
int db_outbox_ack(struct db *db, uint64_t upto);
int db_outbox_count(struct db *db, uint64_t *n);

#endif
